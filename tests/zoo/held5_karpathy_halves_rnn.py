"""A min-char-rnn (built-in ``karpathy`` layout: column vectors, one example at a time,
x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)) whose author processes the
sequence in two halves with one helper, as for a long text read in chunks: the second
half starts from the first half's last state, and the backward runs the second half first
and hands its dhprev on to the first half; the two halves' gradients are summed.

    hs[t] = tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)      (hs[-1] = the half's hprev)

Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "halves_not_chained": "truncated_bptt",               # the first half's backward starts from dhnext = 0
    "second_half_starts_from_h0": "forward_mistake",      # both halves start from h0; backward consistent
    "halves_sum_assigned": "carry_overwrites",            # total[k] = g[k] in the loop over halves (= for +=)
    "dhraw_1_minus_h": "derivative_miswritten",           # (1 - hs[t]) * dh for (1 - hs[t] * hs[t]) * dh
    "dhnext_Whh_untransposed": "weight_transposed",       # np.dot(Whh, dhraw)
    "dbh_from_dh": "derivative_missing",                  # dbh += dh (tanh' left out of the bias only)
    "dWhh_with_hs_t": "wrong_time",                       # np.dot(dhraw, hs[t].T)
    "tanh_grad_again_on_dhnext": "derivative_twice",      # dhnext = Whh.T @ dhraw * (1 - hs[t-1]**2): applied again next step
    "dbh_subtracted": "wrong_sign",                       # dbh -= dhraw (the SGD update's sign)
    "first_half_skips_step_0": "loop_skips_step",         # for t in reversed(range(1, len(xs))) in the helper, first half only
    "dhnext_from_dWhh": "gradient_for_weight",            # np.dot(dWhh.T, dhraw)
    "clip_each_half_at_0_05": "gradient_clipped",         # np.clip(dparam, -0.05, 0.05, out=dparam) on each half's gradients
    "halves_averaged": "reduction_scaled",                # (g1 + g2) / 2 for the weights: averaged over the two halves
                                                          # where they add up (labelled "unknown", a wrong constant, when
                                                          # written; held21 labels the same mistake reduction_scaled)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "halves_not_chained": "",
    "second_half_starts_from_h0": "",
    "halves_sum_assigned": "",
    "dhraw_1_minus_h": "",
    "dhnext_Whh_untransposed": "",
    "dbh_from_dh": "",
    "dWhh_with_hs_t": "",
    "tanh_grad_again_on_dhnext": "",
    "dbh_subtracted": "",
    "first_half_skips_step_0": "",
    "dhnext_from_dWhh": "",
    "clip_each_half_at_0_05": "",
    "halves_averaged": "",
}


def run_half(inputs, hprev, Wxh, Whh, bh):
    xs, hs = {}, {-1: np.copy(hprev)}
    for t in range(len(inputs)):
        xs[t] = inputs[t]
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
    return xs, hs


def half_backward(dhs, xs, hs, Wxh, Whh, dhnext, bug=None, first=False):
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros((Whh.shape[0], 1), dtype=dhs.dtype)
    dxs = np.zeros((len(xs), Wxh.shape[1], 1), dtype=dhs.dtype)   # a half may be empty (T = 1)
    start = 1 if bug == "first_half_skips_step_0" and first else 0
    for t in reversed(range(start, len(xs))):
        dh = dhs[t] + dhnext
        if bug == "dhraw_1_minus_h":
            dhraw = (1 - hs[t]) * dh
        else:
            dhraw = (1 - hs[t] * hs[t]) * dh
        if bug == "dbh_from_dh":
            dbh += dh
        elif bug == "dbh_subtracted":
            dbh -= dhraw
        else:
            dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t if bug == "dWhh_with_hs_t" else t - 1].T)
        dxs[t] = np.dot(Wxh.T, dhraw)
        if bug == "dhnext_Whh_untransposed":
            dhnext = np.dot(Whh, dhraw)
        elif bug == "dhnext_from_dWhh":
            dhnext = np.dot(dWhh.T, dhraw)
        elif bug == "tanh_grad_again_on_dhnext":
            dhnext = np.dot(Whh.T, dhraw) * (1 - hs[t - 1] ** 2)
        else:
            dhnext = np.dot(Whh.T, dhraw)
    if bug == "clip_each_half_at_0_05":
        for dparam in [dWxh, dWhh, dbh]:
            np.clip(dparam, -0.05, 0.05, out=dparam)
    return {"dWxh": dWxh, "dWhh": dWhh, "dbh": dbh}, dxs, dhnext


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        mid = len(x) // 2
        first = run_half(x[:mid], h0, Wxh, Whh, bh)
        h_mid = h0 if bug == "second_half_starts_from_h0" else first[1][mid - 1]
        second = run_half(x[mid:], h_mid, Wxh, Whh, bh)
        hs = [first[1][t] for t in range(mid)] + [second[1][t] for t in range(len(x) - mid)]
        return np.array(hs), (mid, first, second, Wxh, Whh)

    def backward(dhs, cache):
        mid, (xs1, hs1), (xs2, hs2), Wxh, Whh = cache
        g2, dx2, dh_mid = half_backward(dhs[mid:], xs2, hs2, Wxh, Whh, np.zeros_like(hs1[-1]), bug)
        carry = np.zeros_like(dh_mid) if bug in ("halves_not_chained", "second_half_starts_from_h0") else dh_mid
        g1, dx1, dh0 = half_backward(dhs[:mid], xs1, hs1, Wxh, Whh, carry, bug, first=True)
        if bug == "second_half_starts_from_h0":
            dh0 = dh0 + dh_mid
        total = {k: np.zeros_like(v) for k, v in g1.items()}
        for g in (g2, g1):
            for k in total:
                if bug == "halves_sum_assigned":
                    total[k] = g[k]
                else:
                    total[k] += g[k]
        if bug == "halves_averaged":
            total = {k: (g1[k] + g2[k]) / 2 for k in total}
        return np.concatenate([dx1, dx2]), dh0, total["dWxh"], total["dWhh"], total["dbh"]

    return forward, backward, {"cell": "rnn", "layout": "karpathy"}

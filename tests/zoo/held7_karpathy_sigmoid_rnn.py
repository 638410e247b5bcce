"""min-char-rnn with a logistic sigmoid in place of tanh: the built-in ``karpathy`` layout
(column vectors, one example at a time, x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H),
bh (H, 1)) and the original's dictionaries keyed by t (xs, ps, hs with hs[-1] = the initial
state), activation="sigmoid":

    ps[t] = Wxh @ xs[t] + Whh @ hs[t - 1] + bh      hs[t] = sigmoid(ps[t])

Seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dsig_from_tanh": "derivative_wrong_function",        # (1 - hs[t] * hs[t]) kept from the tanh original
    "dsig_missing_parens": "derivative_miswritten",       # hs[t] * 1 - hs[t]
    "dsig_at_preactivation": "derivative_wrong_point",    # ps[t] * (1 - ps[t])
    "Whh_untransposed": "weight_transposed",              # dhnext = np.dot(Whh, dhraw)
    "dWhh_outer_flipped": "gradient_transposed",          # dWhh += np.dot(hs[t - 1], dhraw.T)
    "dWhh_with_current_h": "wrong_time",                  # dWhh += np.dot(dhraw, hs[t].T)
    "dhnext_not_added": "carry_dropped",                  # dh = dhs[t]
    "dhraw_no_dsig": "derivative_missing",                # dhraw = dh
    "dWxh_dsig_twice": "derivative_twice",                # dWxh += np.dot(dhraw * dsig, xs[t].T)
    "clip_params": "gradient_clipped",                    # np.clip(dparam, -1, 1, out=dparam)
    "loop_skips_first": "loop_skips_step",                # for t in reversed(range(1, len(xs)))
    "dh_over_T": "reduction_scaled",                      # dh = dhs[t] / len(xs) + dhnext
    "forward_no_bias": "forward_mistake",                 # ps[t] without bh; dbh stays zero (consistent)
    "loop_forward_in_time": "loop_direction",             # for t in range(len(xs))
    "tanh_grad_and_no_carry": "unknown",                  # both dsig_from_tanh and dhnext_not_added
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dsig_from_tanh": "",
    "dsig_missing_parens": "",
    "dsig_at_preactivation": "",
    "Whh_untransposed": "",
    "dWhh_outer_flipped": "",
    "dWhh_with_current_h": "",
    "dhnext_not_added": "",
    "dhraw_no_dsig": "",
    "dWxh_dsig_twice": "",
    "clip_params": "",
    "loop_skips_first": "",
    "dh_over_T": "",
    "forward_no_bias": "",
    "loop_forward_in_time": "",
    "tanh_grad_and_no_carry": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        xs, ps, hs = {}, {}, {}
        hs[-1] = np.copy(h0)
        for t in range(len(x)):
            xs[t] = x[t]
            ps[t] = np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1])
            if bug != "forward_no_bias":
                ps[t] = ps[t] + bh
            hs[t] = sigmoid(ps[t])
        return np.array([hs[t] for t in range(len(x))]), (xs, ps, hs, Wxh, Whh, bh)

    def backward(dhs, cache):
        xs, ps, hs, Wxh, Whh, bh = cache
        dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
        dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dhs.dtype)
        dhnext = np.zeros_like(hs[0])
        if bug == "loop_forward_in_time":
            order = range(len(xs))
        elif bug == "loop_skips_first":
            order = reversed(range(1, len(xs)))
        else:
            order = reversed(range(len(xs)))
        for t in order:
            if bug in ("dhnext_not_added", "tanh_grad_and_no_carry"):
                dh = dhs[t]
            elif bug == "dh_over_T":
                dh = dhs[t] / len(xs) + dhnext
            else:
                dh = dhs[t] + dhnext
            if bug in ("dsig_from_tanh", "tanh_grad_and_no_carry"):
                dsig = 1 - hs[t] * hs[t]
            elif bug == "dsig_missing_parens":
                dsig = hs[t] * 1 - hs[t]
            elif bug == "dsig_at_preactivation":
                dsig = ps[t] * (1 - ps[t])
            else:
                dsig = hs[t] * (1 - hs[t])
            dhraw = dh if bug == "dhraw_no_dsig" else dsig * dh
            if bug != "forward_no_bias":
                dbh += dhraw
            if bug == "dWxh_dsig_twice":
                dWxh += np.dot(dhraw * dsig, xs[t].T)
            else:
                dWxh += np.dot(dhraw, xs[t].T)
            if bug == "dWhh_outer_flipped":
                dWhh += np.dot(hs[t - 1], dhraw.T)
            elif bug == "dWhh_with_current_h":
                dWhh += np.dot(dhraw, hs[t].T)
            else:
                dWhh += np.dot(dhraw, hs[t - 1].T)
            dxs[t] = np.dot(Wxh.T, dhraw)
            dhnext = np.dot(Whh, dhraw) if bug == "Whh_untransposed" else np.dot(Whh.T, dhraw)
        if bug == "clip_params":
            for dparam in [dWxh, dWhh, dbh]:
                np.clip(dparam, -1, 1, out=dparam)
        return dxs, dhnext, dWxh, dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

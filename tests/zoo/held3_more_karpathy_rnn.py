"""Fresh mistakes in a vanilla RNN on the built-in ``karpathy`` layout (min-char-rnn): column
vectors, one example at a time, x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1),

    hs[t] = tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)

with the dicts xs, hs (hs[-1] = hprev) and np.dot as in the original. Third held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dhraw_tanh_applied_again": "derivative_wrong_point",  # (1 - np.tanh(hs[t]) ** 2): hs[t] is already a tanh
    "carry_statement_without_effect": "carry_dropped",    # dh = dhs[t]; dh + dhnext (the sum thrown away)
    "forward_bias_inside_Whh_product": "forward_mistake",  # np.dot(Whh, hs[t - 1] + bh); backward consistent
    "dWhh_outer_reversed": "gradient_transposed",         # np.dot(hs[t - 1], dhraw.T): dWhh comes out transposed
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dhraw_tanh_applied_again": "",
    "carry_statement_without_effect": "",
    "forward_bias_inside_Whh_product": "",
    "dWhh_outer_reversed": "",
}


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    inside = bug == "forward_bias_inside_Whh_product"

    def forward(x, h0, Wxh, Whh, bh):
        xs, hs = {}, {-1: np.copy(h0)}
        for t in range(len(x)):
            xs[t] = x[t]
            if inside:
                hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1] + bh))
            else:
                hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        return np.array([hs[t] for t in range(len(x))]), (xs, hs, Wxh, Whh, bh)

    def backward(dhs, cache):
        xs, hs, Wxh, Whh, bh = cache
        dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
        dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dhs.dtype)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(xs))):
            if bug == "carry_statement_without_effect":
                dh = dhs[t]
                dh + dhnext
            else:
                dh = dhs[t] + dhnext
            if bug == "dhraw_tanh_applied_again":
                dhraw = (1 - np.tanh(hs[t]) ** 2) * dh
            else:
                dhraw = (1 - hs[t] * hs[t]) * dh
            if inside:
                dbh += np.dot(Whh.T, dhraw)
                dWhh += np.dot(dhraw, (hs[t - 1] + bh).T)
            else:
                dbh += dhraw
                dWhh += np.dot(hs[t - 1], dhraw.T) if bug == "dWhh_outer_reversed" else np.dot(dhraw, hs[t - 1].T)
            dWxh += np.dot(dhraw, xs[t].T)
            dxs[t] = np.dot(Wxh.T, dhraw)
            dhnext = np.dot(Whh.T, dhraw)
        return dxs, dhnext, dWxh, dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy"}

"""Fresh mistakes in a min-char-rnn-style RNN (built-in layout ``karpathy``): one example at a
time, column vectors x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1), with
states kept in dicts keyed by t (hs[-1] = hprev) as in the original. Second held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dx_via_dWxh": "gradient_for_weight",                # dx[t] = dWxh.T @ dhraw
    "dbh_assigned": "carry_overwrites",                  # dbh = dhraw (= for +=)
    "dhraw_sigmoid_grad": "derivative_wrong_function",   # hs[t] * (1 - hs[t]) * dh
    "forward_bias_outside_tanh": "forward_mistake",      # h = tanh(Wxh x + Whh h) + bh, backward consistent
}

TOUCHES = {bug: "" for bug in BUGS}                       # an RNN: no gates (blind_index.touched_gates)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    outside = bug == "forward_bias_outside_tanh"

    def forward(x, h0, Wxh, Whh, bh):
        xs, hs, ts = {}, {-1: np.copy(h0)}, {}
        for t in range(len(x)):
            xs[t] = x[t]
            if outside:
                ts[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1])
                hs[t] = ts[t] + bh
            else:
                hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
                ts[t] = hs[t]
        h = np.stack([hs[t] for t in range(len(x))])
        return h, (xs, hs, ts, Wxh, Whh, bh)

    def backward(dhs, cache):
        xs, hs, ts, Wxh, Whh, bh = cache
        dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
        dx = np.zeros((len(xs),) + xs[0].shape, dtype=dhs.dtype)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(len(xs))):
            dh = dhs[t] + dhnext
            if bug == "dhraw_sigmoid_grad":
                dhraw = ts[t] * (1 - ts[t]) * dh
            else:
                dhraw = (1 - ts[t] * ts[t]) * dh
            if bug == "dbh_assigned":
                dbh = dhraw
            else:
                dbh += dh if outside else dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dx[t] = (dWxh if bug == "dx_via_dWxh" else Wxh).T @ dhraw
            dhnext = Whh.T @ dhraw
        return dx, dhnext, dWxh, dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "tanh"}

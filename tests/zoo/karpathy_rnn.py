"""A min-char-rnn style RNN: column vectors, one example at a time.

    h_t = tanh(Wxh @ x_t + Whh @ h_{t-1} + bh)     x_t (D, 1), h_t (H, 1)

``bug`` plants one classic mistake (see BUGS); None is the correct code. One example
at a time, the bias cannot be averaged over a batch; it can over the sequence (bh / T).
"""

from functools import partial

import numpy as np

BUGS = {
    "carry_T": "weight_transposed",            # dhnext = Whh @ dhraw
    "act_preact": "derivative_wrong_point",
    "act_prev": "derivative_wrong_point",
    "carry_dropped": "carry_dropped",
    "pair_x_prev": "wrong_time",
    "pair_h_next": "wrong_time",
    "skip_first": "loop_skips_step",
    "skip_last": "loop_skips_step",
    "bias_mean_T": "reduction_scaled",               # dbh / T
    "bias_sign": "wrong_sign",
}


def forward(xs, h0, Wxh, Whh, bh):
    """xs (T, D, 1), h0 (H, 1) -> hs (T, H, 1), cache."""
    T = xs.shape[0]
    hs, ps = {-1: h0}, {}
    for t in range(T):
        ps[t] = Wxh @ xs[t] + Whh @ hs[t - 1] + bh
        hs[t] = np.tanh(ps[t])
    return np.array([hs[t] for t in range(T)]), (xs, hs, ps, Wxh, Whh, bh)


def backward(dhs, cache, bug=None):
    """dhs (T, H, 1) -> dxs (T, D, 1), dh0 (H, 1), dWxh, dWhh, dbh."""
    xs, hs, ps, Wxh, Whh, bh = cache
    T = xs.shape[0]
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dxs = np.zeros_like(xs)
    dhnext = np.zeros_like(hs[-1])
    ts = {"skip_first": range(T - 1, 0, -1), "skip_last": range(T - 2, -1, -1)}.get(bug, reversed(range(T)))
    for t in ts:
        dh = dhs[t] if bug == "carry_dropped" else dhs[t] + dhnext
        y = {"act_preact": ps[t], "act_prev": hs[t - 1]}.get(bug, hs[t])
        dhraw = (1 - y * y) * dh
        if bug == "bias_sign":
            dbh -= dhraw
        else:
            dbh += dhraw
        x_prev = xs[t - 1] if t > 0 else np.zeros_like(xs[0])
        dWxh += dhraw @ (x_prev if bug == "pair_x_prev" else xs[t]).T
        dWhh += dhraw @ (hs[t] if bug == "pair_h_next" else hs[t - 1]).T
        dxs[t] = Wxh.T @ dhraw
        dhnext = (Whh if bug == "carry_T" else Whh.T) @ dhraw
    if bug == "bias_mean_T":
        dbh /= T
    return dxs, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return forward, partial(backward, bug=bug), {"cell": "rnn", "layout": "karpathy"}

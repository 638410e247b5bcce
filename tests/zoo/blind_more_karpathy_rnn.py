"""More mistakes in a min-char-rnn style RNN, written fresh: column vectors, one example at
a time, x (T, D, 1), h0 (H, 1); Wxh (H, D), Whh (H, H), bh (H, 1).

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "dhraw_one_minus_h": "derivative_miswritten",     # (1 - hs[t]) * dh
    "dhraw_is_dh": "derivative_missing",              # dhraw = dh
    "dh_scaled_in_place_too": "derivative_twice",     # dh *= 1 - h^2, then dhraw = (1 - h^2) * dh
    "dhnext_from_dWhh": "gradient_for_weight",        # dhnext = dWhh.T @ dhraw
    "dWhh_assigned": "carry_overwrites",              # dWhh = dhraw @ hs[t-1].T
    "dh_minus_dhnext": "wrong_sign",                  # dh = dhs[t] - dhnext
    "dh_is_dhnext": "term_dropped",                   # dh = dhnext: the step's own dhs[t] left out
    "relu_cell": "forward_mistake",                   # ReLU forward, backward consistent
    "dWxh_over_T": "reduction_scaled",                # dWxh / T
    "hs_array_wraps": "wrong_time",  # (relabelled 2026-12-07 from unknown: one mistake) hs as an array: hs[t - 1] at t = 0 is the last h
}
TOUCHES = {b: "" for b in BUGS}


def forward(xs, hprev, Wxh, Whh, bh, bug=None):
    """xs (T, D, 1), hprev (H, 1) -> hs (T, H, 1), cache."""
    hs = {-1: np.copy(hprev)}
    for t in range(len(xs)):
        pre = np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh
        hs[t] = np.maximum(pre, 0) if bug == "relu_cell" else np.tanh(pre)
    return np.array([hs[t] for t in range(len(xs))]), (xs, hs, Wxh, Whh, bh)


def backward(dhs, cache, bug=None):
    """dhs (T, H, 1) -> dxs (T, D, 1), dhprev (H, 1), dWxh, dWhh, dbh."""
    xs, hs, Wxh, Whh, bh = cache
    T = len(xs)
    if bug == "hs_array_wraps":
        hs = np.array([hs[t] for t in range(T)])
        hs_prev = {t: hs[t - 1] for t in range(T)}
    else:
        hs_prev = {t: hs[t - 1] for t in range(T)}
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dxs = np.zeros_like(xs)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(T)):
        if bug == "dh_minus_dhnext":
            dh = dhs[t] - dhnext
        elif bug == "dh_is_dhnext":
            dh = dhnext
        else:
            dh = dhs[t] + dhnext
        if bug == "dhraw_one_minus_h":
            dhraw = (1 - hs[t]) * dh
        elif bug == "dhraw_is_dh":
            dhraw = dh
        elif bug == "dh_scaled_in_place_too":
            dh *= 1 - hs[t] * hs[t]
            dhraw = (1 - hs[t] * hs[t]) * dh
        elif bug == "relu_cell":
            dhraw = (hs[t] > 0) * dh
        else:
            dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        if bug == "dWhh_assigned":
            dWhh = np.dot(dhraw, hs_prev[t].T)
        else:
            dWhh += np.dot(dhraw, hs_prev[t].T)
        dxs[t] = np.dot(Wxh.T, dhraw)
        dhnext = np.dot((dWhh if bug == "dhnext_from_dWhh" else Whh).T, dhraw)
    if bug == "dWxh_over_T":
        dWxh /= T
    return dxs, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), partial(backward, bug=bug), {"cell": "rnn", "layout": "karpathy"}

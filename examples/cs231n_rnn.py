"""A vanilla RNN in the cs231n convention, checked with:

    gradharness check examples.cs231n_rnn:rnn_forward examples.cs231n_rnn:rnn_backward --layout cs231n

x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,); h (N, T, H).
"""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h ** 2)            # tanh' at the output
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h, caches, prev_h = np.zeros((N, T, h0.shape[1])), [], h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward(dh, cache):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]))
    dWx, dWh, db = 0, 0, 0
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, cache[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


def rnn_backward_seed003(dh, cache):
    """The bug of seed 003: the carry multiplies by Wh instead of Wh.T (the shapes still fit)."""
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]))
    dWx, dWh, db = 0, 0, 0
    dprev_h = np.zeros((N, H))
    for t in reversed(range(T)):
        x, prev_h, Wx, Wh, next_h = cache[t]
        da = (dh[:, t] + dprev_h) * (1 - next_h ** 2)
        dx[:, t], dprev_h = da @ Wx.T, da @ Wh        # <- should be da @ Wh.T
        dWx, dWh, db = dWx + x.T @ da, dWh + prev_h.T @ da, db + da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db

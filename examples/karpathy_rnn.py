"""min-char-rnn style: column vectors, one example at a time. Checked with:

    gradharness check examples.karpathy_rnn:forward examples.karpathy_rnn:backward --layout karpathy

x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1); h (T, H, 1).
"""

import numpy as np


def forward(xs, hprev, Wxh, Whh, bh):
    hs = {-1: hprev}
    for t in range(len(xs)):
        hs[t] = np.tanh(Wxh @ xs[t] + Whh @ hs[t - 1] + bh)
    return np.stack([hs[t] for t in range(len(xs))]), (xs, hs, Wxh, Whh)


def backward(dhs, cache):
    xs, hs, Wxh, Whh = cache
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros((Whh.shape[0], 1))
    dxs, dhnext = np.zeros_like(xs), np.zeros_like(hs[0])
    for t in reversed(range(len(xs))):
        dhraw = (1 - hs[t] * hs[t]) * (dhs[t] + dhnext)
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t - 1].T
        dxs[t] = Wxh.T @ dhraw
        dhnext = Whh.T @ dhraw
    return dxs, dhnext, dWxh, dWhh, dbh

"""min-char-rnn as an np.matrix port with a sigmoid cell (karpathy layout): one example at a
time, every x_t and h_t an (n, 1) column np.matrix, ``*`` the matrix product, np.multiply the
elementwise one, dicts keyed by t with hs[-1] the initial state, arrays back with ``.A``.

    h_t = sigmoid(Wxh * x_t + Whh * h_(t-1) + bh)     x_t (D, 1), h_t (H, 1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

mat = np.asmatrix

BUGS = {
    "dsig_dot_product": "derivative_miswritten",     # h.T * (1 - h): a (1, 1) matrix for np.multiply(h, 1 - h)
    "dsig_one_minus_h": "derivative_miswritten",     # np.multiply(dh, 1 - hs[t])
    "dsig_tanh_form": "derivative_wrong_function",   # 1 - h^2, tanh's derivative
    "dsig_at_preact": "derivative_wrong_point",      # s(1 - s) with s the pre-activation
    "dsig_twice": "derivative_twice",                # dh multiplied by h(1 - h) before the carry and again
    "Whh_no_T": "weight_transposed",                 # dhnext = Whh * dhraw
    "dWhh_outer_flipped": "gradient_transposed",     # dWhh += hs[t - 1] * dhraw.T
    "dWxh_x_prev": "wrong_time",                     # xs[t - 1] in dWxh
    "dhnext_not_added": "carry_dropped",             # dh = dhs[t]
    "dbh_assigned": "carry_overwrites",              # dbh = dhraw
    "skip_last_step": "loop_skips_step",             # range(len(xs) - 2, -1, -1)
    "bptt_truncated": "truncated_bptt",            # the carry stops after 2 steps back
    "clip_inside": "gradient_clipped",               # np.clip(dhnext, -0.05, 0.05) each step
    "dWhh_with_h_t": "wrong_time",                   # dWhh += dhraw * hs[t].T for hs[t - 1]
    "dx_sign": "wrong_sign",                         # dxs[t] = -(Wxh.T * dhraw)
}
TOUCHES = {b: "" for b in BUGS}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(inputs, hprev, Wxh, Whh, bh):
    """inputs (T, D, 1), hprev (H, 1) -> hs (T, H, 1) ndarray, cache."""
    Wxh, Whh, bh = mat(Wxh), mat(Whh), mat(bh)
    xs, hs, zs = {}, {}, {}
    hs[-1] = mat(np.copy(hprev))
    for t in range(len(inputs)):
        xs[t] = mat(inputs[t])
        zs[t] = Wxh * xs[t] + Whh * hs[t - 1] + bh
        hs[t] = sigmoid(zs[t])
    out = np.array([hs[t].A for t in range(len(inputs))])
    return out, (xs, hs, zs, Wxh, Whh, bh)


def backward(dhs, cache, bug=None):
    """dhs (T, H, 1) -> dxs (T, D, 1), dh0 (H, 1), dWxh, dWhh, dbh (ndarrays)."""
    xs, hs, zs, Wxh, Whh, bh = cache
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dhs.dtype)
    dhnext = mat(np.zeros_like(hs[-1]))
    last = len(xs) - 2 if bug == "skip_last_step" else len(xs) - 1
    for t in range(last, -1, -1):
        if bug == "dhnext_not_added":
            dh = mat(dhs[t])
        else:
            dh = mat(dhs[t]) + dhnext
        h = hs[t]
        if bug == "dsig_dot_product":
            dhraw = np.multiply(h.T * (1 - h), dh)
        elif bug == "dsig_one_minus_h":
            dhraw = np.multiply(1 - h, dh)
        elif bug == "dsig_tanh_form":
            dhraw = np.multiply(1 - np.multiply(h, h), dh)
        elif bug == "dsig_at_preact":
            dhraw = np.multiply(np.multiply(zs[t], 1 - zs[t]), dh)
        elif bug == "dsig_twice":
            dh = np.multiply(np.multiply(h, 1 - h), dh)
            dhraw = np.multiply(np.multiply(h, 1 - h), dh)
        else:
            dhraw = np.multiply(np.multiply(h, 1 - h), dh)
        if bug == "dbh_assigned":
            dbh = dhraw
        else:
            dbh += dhraw
        dWxh += dhraw * (xs[t - 1] if bug == "dWxh_x_prev" and t > 0 else xs[t]).T
        if bug == "dWhh_outer_flipped":
            dWhh += hs[t - 1] * dhraw.T
        else:
            dWhh += dhraw * (hs[t] if bug == "dWhh_with_h_t" else hs[t - 1]).T
        dxs[t] = (-(Wxh.T * dhraw) if bug == "dx_sign" else Wxh.T * dhraw).A
        dhnext = (Whh if bug == "Whh_no_T" else Whh.T) * dhraw
        if bug == "bptt_truncated" and t <= len(xs) - 3:
            dhnext = mat(np.zeros_like(dhnext))
        if bug == "clip_inside":
            dhnext = np.clip(dhnext, -0.05, 0.05)
    return dxs, dhnext.A, dWxh.A, dWhh.A, np.asarray(dbh)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return forward, partial(backward, bug=bug), {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

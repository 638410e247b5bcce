"""A ReLU RNN in min-char-rnn's shape (one example at a time, column vectors: karpathy
layout), but with no NumPy inside: vectors are flat Python lists, and matvec / outer /
vadd / madd are hand-written helpers; transposes are ``list(zip(*W))``.

    a_t = Wxh x_t + Whh h_(t-1) + bh        h_t = max(0, a_t)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

BUGS = {
    "dhnext_zip_forgotten": "weight_transposed",      # matvec(Whh, dhraw)
    "outer_args_swapped": "gradient_transposed",      # outer(hs[t - 1], dhraw) for dWhh
    "mask_from_prev_h": "wrong_time",                 # relu mask read off h_(t-1)
    "mask_missing": "derivative_missing",             # dhraw = dh
    "mask_is_h": "derivative_miswritten",             # dh * h for dh * (a > 0)
    "sigmoid_derivative": "derivative_wrong_function",  # dh * h * (1 - h)
    "dhnext_not_added": "carry_dropped",              # dh = dhs[t]
    "dhs_dropped": "term_dropped",                    # dh = dhnext
    "zeros_aliased_dWhh": "unknown",                  # [[0.0] * H] * H: every row the same list
    "dbh_assigned": "carry_overwrites",               # dbh = dhraw
    "loop_forward": "loop_direction",                 # for t in range(T)
    "dWhh_h_t": "wrong_time",                         # outer(dhraw, hs[t])
    "dx_from_dWxh": "gradient_for_weight",            # matvec(zip(*dWxh), dhraw)
    "clip_dhnext": "gradient_clipped",                # dhnext clipped to [-0.1, 0.1] inside the loop
    "leaky_forward": "forward_mistake",               # max(0.01 a, a); the backward's mask 0.01
}
TOUCHES = {b: "" for b in BUGS}


def matvec(W, v):
    return [sum(w * x for w, x in zip(row, v)) for row in W]


def outer(a, b):
    return [[ai * bj for bj in b] for ai in a]


def vadd(a, b):
    return [x + y for x, y in zip(a, b)]


def madd(A, B):
    return [vadd(ra, rb) for ra, rb in zip(A, B)]


def col(v):
    return [[e] for e in v]


def forward(xs, hprev, Wxh, Whh, bh, bug=None):
    X = [[r[0] for r in xt] for xt in xs.tolist()]
    Wx, Wh, b = Wxh.tolist(), Whh.tolist(), [r[0] for r in bh.tolist()]
    hs, as_ = {-1: [r[0] for r in hprev.tolist()]}, {}
    for t in range(len(X)):
        as_[t] = vadd(vadd(matvec(Wx, X[t]), matvec(Wh, hs[t - 1])), b)
        if bug == "leaky_forward":
            hs[t] = [max(0.01 * a, a) for a in as_[t]]
        else:
            hs[t] = [max(0.0, a) for a in as_[t]]
    h = np.array([col(hs[t]) for t in range(len(X))], dtype=xs.dtype)
    return h, (X, hs, as_, Wx, Wh, xs.dtype)


def backward(dhs, cache, bug=None):
    X, hs, as_, Wx, Wh, dtype = cache
    dH = [[r[0] for r in d] for d in dhs.tolist()]
    T, D, H = len(X), len(X[0]), len(Wh)
    dWxh = [[0.0] * D for _ in range(H)]
    dWhh = [[0.0] * H] * H if bug == "zeros_aliased_dWhh" else [[0.0] * H for _ in range(H)]
    dbh, dhnext, dxs = [0.0] * H, [0.0] * H, [None] * T
    WxT, WhT = list(zip(*Wx)), list(zip(*Wh))
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        if bug == "dhnext_not_added":
            dh = list(dH[t])
        elif bug == "dhs_dropped":
            dh = list(dhnext)
        else:
            dh = vadd(dH[t], dhnext)
        if bug == "mask_from_prev_h":
            dhraw = [d if h > 0 else 0.0 for d, h in zip(dh, hs[t - 1])]
        elif bug == "mask_missing":
            dhraw = dh
        elif bug == "mask_is_h":
            dhraw = [d * h for d, h in zip(dh, hs[t])]
        elif bug == "sigmoid_derivative":
            dhraw = [d * h * (1 - h) for d, h in zip(dh, hs[t])]
        elif bug == "leaky_forward":
            dhraw = [d if a > 0 else 0.01 * d for d, a in zip(dh, as_[t])]
        else:
            dhraw = [d if a > 0 else 0.0 for d, a in zip(dh, as_[t])]
        dbh = list(dhraw) if bug == "dbh_assigned" else vadd(dbh, dhraw)
        dWxh = madd(dWxh, outer(dhraw, X[t]))
        if bug == "outer_args_swapped":
            step = outer(hs[t - 1], dhraw)
        elif bug == "dWhh_h_t":
            step = outer(dhraw, hs[t])
        else:
            step = outer(dhraw, hs[t - 1])
        if bug == "zeros_aliased_dWhh":
            for i in range(H):
                for j in range(H):
                    dWhh[i][j] += step[i][j]
        else:
            dWhh = madd(dWhh, step)
        dxs[t] = matvec(list(zip(*dWxh)) if bug == "dx_from_dWxh" else WxT, dhraw)
        dhnext = matvec(Wh if bug == "dhnext_zip_forgotten" else WhT, dhraw)
        if bug == "clip_dhnext":
            dhnext = [max(-0.1, min(0.1, v)) for v in dhnext]
    arr = lambda v: np.array(v, dtype=dtype)
    return (arr([col(d) for d in dxs]), arr(col(dhnext)), arr(dWxh), arr(dWhh), arr(col(dbh)))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda *a: forward(*a, bug=bug), lambda d, c: backward(d, c, bug=bug),
            {"cell": "rnn", "layout": "karpathy", "activation": "relu"})

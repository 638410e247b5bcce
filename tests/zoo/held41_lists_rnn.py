"""A tanh RNN written "from scratch, without NumPy": the arrays become lists of lists at the
door (``.tolist()``), every product is a nested list comprehension, transposes are
``zip(*M)``, tanh is ``math.tanh``, and np.array comes back only in the return values.
cs231n's calling convention: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).

    h_t = tanh(x_t Wx + h_(t-1) Wh + b)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

BUGS = {
    "dWh_indices_swapped": "gradient_transposed",     # hprev[n][j] * da[n][i] in the dWh comprehension
    "dprev_zip_forgotten": "weight_transposed",       # matmul(da, Wh) for matmul(da, transpose(Wh))
    "dtanh_of_h": "derivative_wrong_point",           # 1 - math.tanh(h) ** 2 on the output
    "dtanh_one_minus_h": "derivative_miswritten",     # (1 - h) for (1 - h * h)
    "dtanh_flipped": "wrong_sign",                    # (h * h - 1)
    "dnext_not_added": "carry_dropped",               # g = dh[t] only
    "dh_upstream_dropped": "term_dropped",            # g = dnext only
    "dWx_assigned": "carry_overwrites",               # dWx = matmul(...) for add(dWx, ...)
    "db_over_N": "reduction_scaled",                  # db averaged over the batch
    "h_updated_in_place": "inplace_corruption",       # forward writes h_new into the cached h list
    "range_T_minus_1": "loop_skips_step",             # reversed(range(T - 1)): the last step skipped
    "dWx_x_prev": "wrong_time",                       # x_(t-1) (wrapping) in dWx
    "dx_from_dWx": "gradient_for_weight",             # matmul(da, transpose(dWx)) in dx
    "bias_added_twice": "forward_mistake",            # b added in the pre-activation and again; db doubled
}
TOUCHES = {b: "" for b in BUGS}


def transpose(M):
    return [list(col) for col in zip(*M)]


def matmul(A, B):
    """(n, k) x (k, m) as lists."""
    Bt = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, col)) for col in Bt] for row in A]


def add(A, B):
    return [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    X, h, Wx_, Wh_, b_ = x.tolist(), h0.tolist(), Wx.tolist(), Wh.tolist(), b.tolist()
    N, T = len(X), len(X[0])
    steps, out = [], [[None] * T for _ in range(N)]
    for t in range(T):
        xt = [X[n][t] for n in range(N)]
        a = add(matmul(xt, Wx_), matmul(h, Wh_))
        a = [[v + bj for v, bj in zip(row, b_)] for row in a]
        if bug == "bias_added_twice":
            a = [[v + bj for v, bj in zip(row, b_)] for row in a]
        h_new = [[math.tanh(v) for v in row] for row in a]
        steps.append((xt, h, h_new))
        for n in range(N):
            out[n][t] = list(h_new[n])
        if bug == "h_updated_in_place":
            for n in range(N):
                for j in range(len(h_new[n])):
                    h[n][j] = h_new[n][j]
        else:
            h = h_new
    return np.array(out, dtype=x.dtype), (steps, Wx_, Wh_, x.dtype)


def rnn_backward(dh, cache, bug=None):
    steps, Wx, Wh, dtype = cache
    dH = dh.tolist()
    N, T, D, H = len(dH), len(dH[0]), len(Wx), len(Wh)
    dx = [[[0.0] * D for _ in range(T)] for _ in range(N)]
    dWx = [[0.0] * H for _ in range(D)]
    dWh = [[0.0] * H for _ in range(H)]
    db = [0.0] * H
    dnext = [[0.0] * H for _ in range(N)]
    ts = reversed(range(T - 1)) if bug == "range_T_minus_1" else reversed(range(T))
    for t in ts:
        xt, hprev, hcur = steps[t]
        if bug == "dnext_not_added":
            g = [[dH[n][t][j] for j in range(H)] for n in range(N)]
        elif bug == "dh_upstream_dropped":
            g = [[dnext[n][j] for j in range(H)] for n in range(N)]
        else:
            g = [[dH[n][t][j] + dnext[n][j] for j in range(H)] for n in range(N)]
        if bug == "dtanh_of_h":
            da = [[gj * (1 - math.tanh(hj) ** 2) for gj, hj in zip(gr, hr)] for gr, hr in zip(g, hcur)]
        elif bug == "dtanh_one_minus_h":
            da = [[gj * (1 - hj) for gj, hj in zip(gr, hr)] for gr, hr in zip(g, hcur)]
        elif bug == "dtanh_flipped":
            da = [[gj * (hj * hj - 1) for gj, hj in zip(gr, hr)] for gr, hr in zip(g, hcur)]
        else:
            da = [[gj * (1 - hj * hj) for gj, hj in zip(gr, hr)] for gr, hr in zip(g, hcur)]
        x_used = steps[t - 1][0] if bug == "dWx_x_prev" else xt
        if bug == "dWx_assigned":
            dWx = matmul(transpose(x_used), da)
        else:
            dWx = add(dWx, matmul(transpose(x_used), da))
        for i in range(H):
            for j in range(H):
                if bug == "dWh_indices_swapped":
                    dWh[i][j] += sum(hprev[n][j] * da[n][i] for n in range(N))
                else:
                    dWh[i][j] += sum(hprev[n][i] * da[n][j] for n in range(N))
        scale = 2 if bug == "bias_added_twice" else 1
        db = [s + scale * sum(col) for s, col in zip(db, zip(*da))]
        dxt = matmul(da, transpose(dWx if bug == "dx_from_dWx" else Wx))
        for n in range(N):
            dx[n][t] = dxt[n]
        dnext = matmul(da, Wh if bug == "dprev_zip_forgotten" else transpose(Wh))
    if bug == "db_over_N":
        db = [v / N for v in db]
    arr = lambda v: np.array(v, dtype=dtype)
    return arr(dx), arr(dnext), arr(dWx), arr(dWh), arr(db)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda *a: rnn_forward(*a, bug=bug), lambda dh, cache: rnn_backward(dh, cache, bug=bug),
            {"cell": "rnn", "layout": "cs231n", "activation": "tanh"})

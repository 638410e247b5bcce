"""A GRU with column states (the course's shapes: x (n_x, m, T_x), h0 (n_h, m)) and
torch-like stacked weights W (3H, D), U (3H, H), b_ih, b_hh (3H,) whose blocks are in the
order z, r, n; reset after (n = tanh(W_n x + b_in + r * (U_n h + b_hn))), everything in
Python lists: ``matmul`` over ``zip(*B)``, row slices ``M[k * H:(k + 1) * H]`` for the
blocks, ``+`` on lists to stack the block gradients again.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

import harness

ORDER = "zrn"
BUGS = {
    "stacked_r_z_n": "gate_order",                    # the block gradients stacked dr + dz + dn
    "Un_not_transposed": "weight_transposed",         # Un @ dhn in dh_prev
    "dn_one_minus_n": "derivative_miswritten",        # (1 - n) for (1 - n^2)
    "dz_flipped": "wrong_sign",                       # dz = dh (n - h_prev)
    "dr_without_bhn": "term_dropped",                 # dr = dn_pre * (Un h): b_hn left out
    "dh_next_not_added": "carry_dropped",             # dh = da[:, :, t] only
    "db_hh_assigned": "carry_overwrites",             # db_hh = this step's row sums
    "dU_uses_h_t": "wrong_time",                      # dU from h_t for h_(t-1)
    "dx_from_dW": "gradient_for_weight",              # dW's blocks for W's in dx
    "dn_tanh_twice": "derivative_twice",              # (1 - n^2) applied twice
    "dU_over_m": "reduction_scaled",                  # dU / m
    "dr_at_preact": "derivative_wrong_point",         # a_r (1 - a_r) at the pre-activation
    "Ur_for_Uz": "wrong_weight",                      # Ur^T dz_pre in dh_prev
    "bhn_outside_r": "forward_mistake",               # n = tanh(W_n x + b_in + r * (U_n h) + b_hn)
}
TOUCHES = {
    "stacked_r_z_n": "rz", "Un_not_transposed": "", "dn_one_minus_n": "rn", "dz_flipped": "z",
    "dr_without_bhn": "r", "dh_next_not_added": "", "db_hh_assigned": "", "dU_uses_h_t": "",
    "dx_from_dW": "", "dn_tanh_twice": "rn", "dU_over_m": "", "dr_at_preact": "r", "Ur_for_Uz": "",
    "bhn_outside_r": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def transpose(M):
    return [list(r) for r in zip(*M)]


def matmul(A, B):
    cols = list(zip(*B))
    return [[sum(a * b for a, b in zip(r, c)) for c in cols] for r in A]


def zipwith(f, *Ms):
    return [[f(*v) for v in zip(*rows)] for rows in zip(*Ms)]


def plus(*Ms):
    return zipwith(lambda *v: sum(v), *Ms)


def block(M, k, H):
    return M[k * H:(k + 1) * H]


def gru_forward(x, h0, W, U, b_ih, b_hh, bug=None):
    X, h = x.tolist(), h0.tolist()
    W_, U_, bi, bh = W.tolist(), U.tolist(), b_ih.tolist(), b_hh.tolist()
    n_x, m, T_x = x.shape
    H = len(h)
    caches, hs = [], []
    for t in range(T_x):
        xt = [[X[i][j][t] for j in range(m)] for i in range(n_x)]
        a_ih = [[v + bi[k] for v in row] for k, row in enumerate(matmul(W_, xt))]
        a_hh = [[v + bh[k] for v in row] for k, row in enumerate(matmul(U_, h))]
        a_z, a_r = plus(block(a_ih, 0, H), block(a_hh, 0, H)), plus(block(a_ih, 1, H), block(a_hh, 1, H))
        z, r = zipwith(sigmoid, a_z), zipwith(sigmoid, a_r)
        hn = block(a_hh, 2, H)
        if bug == "bhn_outside_r":
            hn = [[v - bh[2 * H + k] for v in row] for k, row in enumerate(hn)]
            n = zipwith(lambda a, rr, u, k: math.tanh(a + rr * u + k), block(a_ih, 2, H), r, hn,
                        [[bh[2 * H + k]] * m for k in range(H)])
        else:
            n = zipwith(lambda a, rr, u: math.tanh(a + rr * u), block(a_ih, 2, H), r, hn)
        h_new = zipwith(lambda zz, nn, hh: (1 - zz) * nn + zz * hh, z, n, h)
        caches.append({"x": xt, "h_prev": h, "z": z, "r": r, "a_r": a_r, "hn": hn, "n": n, "h": h_new})
        hs.append(h_new)
        h = h_new
    out = [[[hs[t][i][j] for t in range(T_x)] for j in range(m)] for i in range(H)]
    return np.array(out, dtype=x.dtype), (caches, W_, U_, x.dtype)


def gru_backward(da, cache, bug=None):
    caches, W, U, dtype = cache
    D_ = da.tolist()
    H, m, T_x = da.shape
    n_x = len(W[0])
    Wb = [block(W, k, H) for k in range(3)]
    Ub = [block(U, k, H) for k in range(3)]
    dW = [[0.0] * n_x for _ in range(3 * H)]
    dU = [[0.0] * H for _ in range(3 * H)]
    db_ih, db_hh = [0.0] * 3 * H, [0.0] * 3 * H
    dx = [[[0.0] * T_x for _ in range(m)] for _ in range(n_x)]
    dh_next = [[0.0] * m for _ in range(H)]
    for t in reversed(range(T_x)):
        c = caches[t]
        z, r, n, hp, hn = c["z"], c["r"], c["n"], c["h_prev"], c["hn"]
        dat = [[D_[i][j][t] for j in range(m)] for i in range(H)]
        dh = dat if bug == "dh_next_not_added" else plus(dat, dh_next)
        dz = zipwith(lambda d, nn, hh: d * (nn - hh) if bug == "dz_flipped" else d * (hh - nn), dh, n, hp)
        dz_pre = zipwith(lambda d, zz: d * zz * (1 - zz), dz, z)
        local = {"dn_one_minus_n": lambda nn: 1 - nn, "dn_tanh_twice": lambda nn: (1 - nn * nn) ** 2}.get(
            bug, lambda nn: 1 - nn * nn)
        dn_pre = zipwith(lambda d, zz, nn, local=local: d * (1 - zz) * local(nn), dh, z, n)
        hn_r = hn
        if bug == "dr_without_bhn":
            hn_r = matmul(Ub[2], hp)
        dr = zipwith(lambda d, u: d * u, dn_pre, hn_r)
        if bug == "dr_at_preact":
            dr_pre = zipwith(lambda d, a: d * a * (1 - a), dr, c["a_r"])
        else:
            dr_pre = zipwith(lambda d, rr: d * rr * (1 - rr), dr, r)
        dhn = zipwith(lambda d, rr: d * rr, dn_pre, r)
        if bug == "stacked_r_z_n":
            d_ih, d_hh = dr_pre + dz_pre + dn_pre, dr_pre + dz_pre + dhn
        else:
            d_ih, d_hh = dz_pre + dr_pre + dn_pre, dz_pre + dr_pre + dhn
        dW = plus(dW, matmul(d_ih, transpose(c["x"])))
        dU = plus(dU, matmul(d_hh, transpose(c["h"] if bug == "dU_uses_h_t" else hp)))
        db_ih = [a + sum(row) for a, row in zip(db_ih, d_ih)]
        sums = [sum(row) for row in d_hh]
        if bug == "bhn_outside_r":                   # b_hn sits outside r: its gradient is dn_pre's
            sums[2 * H:] = [sum(row) for row in dn_pre]
        db_hh = sums if bug == "db_hh_assigned" else [a + b for a, b in zip(db_hh, sums)]
        Wx = [block(dW, k, H) for k in range(3)] if bug == "dx_from_dW" else Wb
        dxt = plus(*(matmul(transpose(Wk), d) for Wk, d in zip(Wx, (dz_pre, dr_pre, dn_pre))))
        for i in range(n_x):
            for j in range(m):
                dx[i][j][t] = dxt[i][j]
        Uz_T = transpose(Ub[1] if bug == "Ur_for_Uz" else Ub[0])
        Un_T = Ub[2] if bug == "Un_not_transposed" else transpose(Ub[2])
        dh_next = plus(zipwith(lambda d, zz: d * zz, dh, z), matmul(Uz_T, dz_pre),
                       matmul(transpose(Ub[1]), dr_pre), matmul(Un_T, dhn))
    if bug == "dU_over_m":
        dU = [[v / m for v in row] for row in dU]
    arr = lambda v: np.array(v, dtype=dtype)
    return arr(dx), arr(dh_next), arr(dW), arr(dU), arr(db_ih), arr(db_hh)


def _reorder(a, H, src, dst):
    return np.concatenate([a[src.index(q) * H:(src.index(q) + 1) * H] for q in dst])


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {k: _reorder(p[q], H, "rzn", ORDER) for k, q in
            (("W", "weight_ih"), ("U", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"))}


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    return {q: _reorder(g[k], H, ORDER, "rzn") for k, q in
            (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db_ih", "dbias_ih"), ("db_hh", "dbias_hh")) if k in g}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="lists_cols_gru", cells=("gru",), axes="DNT",
                               gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda *a: gru_forward(*a, bug=bug), lambda d, c: gru_backward(d, c, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

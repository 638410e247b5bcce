"""A time-major GRU in TF1 GRUCell's reset-before form, pure Python one example at a time:
x (T, N, D), h0 (N, H), a dict {W_z, U_z, b_z, W_r, U_r, b_r, W_n, U_n, b_n} in the maths
orientation (W (H, D), U (H, H): gate = W x + U h + b); vectors are lists, ``dot`` is
``sum(map(mul, u, v))``, matrix-vector products are ``[dot(row, v) for row in M]`` and
transposes ``zip(*M)``.

    z = s(W_z x + U_z h + b_z)   r = s(W_r x + U_r h + b_r)
    n = tanh(W_n x + U_n (r * h) + b_n)     h' = (1 - z) n + z h

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math
from operator import mul

import numpy as np

import harness

BUGS = {
    "rh_in_place": "inplace_corruption",              # rh = r; rh[j] *= h[j]: the cached r becomes r h
    "dU_n_uses_h": "wrong_value",                     # dU_n from h_prev for r * h_prev
    "drh_U_n_not_transposed": "weight_transposed",    # drh = U_n dn_pre for U_n^T dn_pre
    "dr_uses_h_new": "wrong_time",                    # dr = drh * h_t for drh * h_(t-1)
    "dr_tanh_grad": "derivative_wrong_function",      # (1 - r^2) for r (1 - r)
    "dz_sigmoid_of_gate": "derivative_wrong_point",   # s(z) (1 - s(z)) on the gate value
    "dr_sigmoid_twice": "derivative_twice",           # r (1 - r) applied twice
    "dh_carry_dropped": "carry_dropped",              # dh = dh[t] only
    "step0_skipped": "loop_skips_step",               # range(T - 1, 0, -1)
    "dW_over_NT": "reduction_scaled",                 # dW_z, dW_r, dW_n / (N T)
    "dh_prev_from_dU_z": "gradient_for_weight",       # dU_z^T for U_z^T in dh_prev
    "U_z_for_U_r": "wrong_weight",                    # U_z^T dr_pre in dh_prev
    "dx_drops_r": "term_dropped",                     # dx from z and n only
    "dh_clipped": "gradient_clipped",                 # dh clipped to [-0.05, 0.05] each step
    "reset_forgotten_forward": "forward_mistake",     # n = tanh(W_n x + U_n h + b_n); backward consistent
}
TOUCHES = {
    "rh_in_place": "rn", "dU_n_uses_h": "n", "drh_U_n_not_transposed": "r", "dr_uses_h_new": "r",
    "dr_tanh_grad": "r", "dz_sigmoid_of_gate": "z", "dr_sigmoid_twice": "r", "dh_carry_dropped": "",
    "step0_skipped": "", "dW_over_NT": "", "dh_prev_from_dU_z": "", "U_z_for_U_r": "",
    "dx_drops_r": "", "dh_clipped": "", "reset_forgotten_forward": "",
}


def dot(u, v):
    return sum(map(mul, u, v))


def mv(M, v):
    return [dot(row, v) for row in M]


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(x, h0, params, bug=None):
    P = {k: v.tolist() for k, v in params.items()}
    X, hs = x.tolist(), [h0.tolist()]
    cache = []
    for t in range(len(X)):
        h_t, rec = [], []
        for xn, hp in zip(X[t], hs[-1]):
            z = [sigmoid(a + b + c) for a, b, c in zip(mv(P["W_z"], xn), mv(P["U_z"], hp), P["b_z"])]
            r = [sigmoid(a + b + c) for a, b, c in zip(mv(P["W_r"], xn), mv(P["U_r"], hp), P["b_r"])]
            if bug == "reset_forgotten_forward":
                rh = list(hp)
            elif bug == "rh_in_place":
                rh = r
                for j in range(len(rh)):
                    rh[j] *= hp[j]
            else:
                rh = [a * b for a, b in zip(r, hp)]
            n = [math.tanh(a + b + c) for a, b, c in zip(mv(P["W_n"], xn), mv(P["U_n"], rh), P["b_n"])]
            hn = [(1 - zz) * nn + zz * hh for zz, nn, hh in zip(z, n, hp)]
            rec.append({"x": xn, "h_prev": hp, "z": z, "r": r, "n": n, "h": hn})
            h_t.append(hn)
        hs.append(h_t)
        cache.append(rec)
    return np.array(hs[1:], dtype=x.dtype), (cache, P, x.dtype)


def backward(dh, cache, bug=None):
    cache, P, dtype = cache
    dH = dh.tolist()
    T, N, H = len(dH), len(dH[0]), len(dH[0][0])
    D = len(P["W_z"][0])
    G = {"dW_" + q: [[0.0] * D for _ in range(H)] for q in "zrn"}
    G.update({"dU_" + q: [[0.0] * H for _ in range(H)] for q in "zrn"})
    G.update({"db_" + q: [0.0] * H for q in "zrn"})
    WT = {q: [list(c) for c in zip(*P["W_" + q])] for q in "zrn"}
    UT = {q: [list(c) for c in zip(*P["U_" + q])] for q in "zrn"}
    dx = [[[0.0] * D for _ in range(N)] for _ in range(T)]
    dh_next = [[0.0] * H for _ in range(N)]
    for t in range(T - 1, 0 if bug == "step0_skipped" else -1, -1):
        for k in range(N):
            s = cache[t][k]
            hp, z, r, n = s["h_prev"], s["z"], s["r"], s["n"]
            d = list(dH[t][k]) if bug == "dh_carry_dropped" else [a + b for a, b in zip(dH[t][k], dh_next[k])]
            if bug == "dh_clipped":
                d = [max(-0.05, min(0.05, v)) for v in d]
            dn_pre = [dd * (1 - zz) * (1 - nn * nn) for dd, zz, nn in zip(d, z, n)]
            if bug == "dz_sigmoid_of_gate":
                dz_pre = [dd * (hh - nn) * sigmoid(zz) * (1 - sigmoid(zz)) for dd, hh, nn, zz in zip(d, hp, n, z)]
            else:
                dz_pre = [dd * (hh - nn) * zz * (1 - zz) for dd, hh, nn, zz in zip(d, hp, n, z)]
            if bug == "reset_forgotten_forward":
                drh = mv(UT["n"], dn_pre)
                dr_pre, rh = [0.0] * H, list(hp)
                dh_prev = [dd * zz + g for dd, zz, g in zip(d, z, drh)]
            else:
                drh = mv(P["U_n"] if bug == "drh_U_n_not_transposed" else UT["n"], dn_pre)
                h_for_r = s["h"] if bug == "dr_uses_h_new" else hp
                dr = [a * b for a, b in zip(drh, h_for_r)]
                if bug == "dr_tanh_grad":
                    dr_pre = [a * (1 - rr * rr) for a, rr in zip(dr, r)]
                elif bug == "dr_sigmoid_twice":
                    dr_pre = [a * (rr * (1 - rr)) ** 2 for a, rr in zip(dr, r)]
                else:
                    dr_pre = [a * rr * (1 - rr) for a, rr in zip(dr, r)]
                rh = hp if bug == "dU_n_uses_h" else [a * b for a, b in zip(r, hp)]
                dh_prev = [dd * zz + g * rr for dd, zz, g, rr in zip(d, z, drh, r)]
            for q, dq, hq in (("z", dz_pre, hp), ("r", dr_pre, hp), ("n", dn_pre, rh)):
                for i in range(H):
                    G["db_" + q][i] += dq[i]
                    G["dW_" + q][i] = [a + dq[i] * b for a, b in zip(G["dW_" + q][i], s["x"])]
                    G["dU_" + q][i] = [a + dq[i] * b for a, b in zip(G["dU_" + q][i], hq)]
            Uz_T = [list(c) for c in zip(*G["dU_z"])] if bug == "dh_prev_from_dU_z" else UT["z"]
            Ur_T = UT["z"] if bug == "U_z_for_U_r" else UT["r"]
            dh_prev = [a + b + c for a, b, c in zip(dh_prev, mv(Uz_T, dz_pre), mv(Ur_T, dr_pre))]
            parts = [mv(WT["z"], dz_pre), mv(WT["n"], dn_pre)]
            if bug != "dx_drops_r":
                parts.append(mv(WT["r"], dr_pre))
            dx[t][k] = [sum(v) for v in zip(*parts)]
            dh_next[k] = dh_prev
    if bug == "dW_over_NT":
        for q in "zrn":
            G["dW_" + q] = [[v / (N * T) for v in row] for row in G["dW_" + q]]
    out = {k: np.array(v, dtype=dtype) for k, v in G.items()}
    out.update(dx=np.array(dx, dtype=dtype), dh0=np.array(dh_next, dtype=dtype))
    return out


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    user = {}
    for k, q in enumerate("rzn"):                       # torch rows r, z, n
        rows = slice(k * H, (k + 1) * H)
        user.update({"W_" + q: np.array(p["weight_ih"][rows]), "U_" + q: np.array(p["weight_hh"][rows]),
                     "b_" + q: p["bias_ih"][rows] + p["bias_hh"][rows]})
    return {k: user[k] for k in ("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_n", "U_n", "b_n")}


def to_canonical(cell, g, p):
    out = {}
    for name, key in (("dweight_ih", "dW_"), ("dweight_hh", "dU_"), ("dbias_ih", "db_")):
        if all(key + q in g for q in "rzn"):
            out[name] = np.concatenate([g[key + q] for q in "rzn"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="pure_tm_gru", cells=("gru",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, p: forward(x, h0, p, bug=bug), lambda d, c: backward(d, c, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": False})

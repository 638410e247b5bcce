"""A GRU (torch's equations, reset after: n = tanh(x Wn + bn + r * (h Un + bhn))) written
as "GRU from scratch in plain Python": batch-first x (N, T, D), h0 (N, H), one (W (D, H),
U (H, H), b) per gate in the (in, out) orientation, plus the recurrent candidate bias bhn;
rows are lists, ``mm`` is a comprehension over ``zip(*B)``, ``T_`` transposes with
``zip(*M)``, and small ``emul`` / ``eadd`` / ``emap`` helpers do the elementwise work.

    z = s(x Wz + h Uz + bz)   r = s(x Wr + h Ur + br)   h' = (1 - z) n + z h

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

import harness

BUGS = {
    "dz_sign": "wrong_sign",                          # dz = dh (n - h_prev)
    "dr_uses_h_prev": "wrong_value",                  # dr = dn_pre * h_prev for * (h Un + bhn)
    "dn_sigmoid_grad": "derivative_wrong_function",   # n (1 - n) for 1 - n^2
    "dz_no_sigmoid_grad": "derivative_missing",       # dz_pre = dz
    "dn_tanh_of_n": "derivative_wrong_point",         # 1 - tanh(n)^2
    "Ur_for_Uz": "wrong_weight",                      # dz_pre @ Ur^T in dh_prev
    "Un_zip_twice": "weight_transposed",              # T_(T_(Un)) for T_(Un) in dh_prev
    "dUz_indices_swapped": "gradient_transposed",     # h_prev[n][j] dz_pre[n][i] in dUz
    "dh_prev_no_z_path": "term_dropped",              # dh_prev without dh * z
    "dh_prev_assigned_hn": "carry_overwrites",        # dh_prev = dhn @ Un^T (= for +=)
    "loop_forward": "loop_direction",                 # for t in range(T)
    "dbhn_mean": "reduction_scaled",                  # dbhn averaged over the batch
    "returns_r_before_z": "gate_order",               # returns dWr, dUr, dbr in the z slots and back
    "z_n_convention": "forward_mistake",              # h' = z n + (1 - z) h; backward consistent
}
TOUCHES = {
    "dz_sign": "z", "dr_uses_h_prev": "r", "dn_sigmoid_grad": "rn", "dz_no_sigmoid_grad": "z",
    "dn_tanh_of_n": "rn", "Ur_for_Uz": "", "Un_zip_twice": "", "dUz_indices_swapped": "z",
    "dh_prev_no_z_path": "", "dh_prev_assigned_hn": "", "loop_forward": "", "dbhn_mean": "n",
    "returns_r_before_z": "rz", "z_n_convention": "",
}


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def T_(M):
    return [list(r) for r in zip(*M)]


def mm(A, B):
    cols = list(zip(*B))
    return [[sum(a * b for a, b in zip(r, c)) for c in cols] for r in A]


def emap(f, A):
    return [[f(a) for a in r] for r in A]


def eadd(*Ms):
    return [[sum(v) for v in zip(*rows)] for rows in zip(*Ms)]


def emul(*Ms):
    return [[math.prod(v) for v in zip(*rows)] for rows in zip(*Ms)]


def addb(A, b):
    return [[a + e for a, e in zip(r, b)] for r in A]


def colsum(A):
    return [sum(c) for c in zip(*A)]


def gru_forward(x, h0, Wz, Uz, bz, Wr, Ur, br, Wn, Un, bn, bhn, bug=None):
    P = [w.tolist() for w in (Wz, Uz, bz, Wr, Ur, br, Wn, Un, bn, bhn)]
    Wz, Uz, _bz, Wr, Ur, _br, Wn, Un, _bn, _bhn = P
    X, h = x.tolist(), h0.tolist()
    N, T = len(X), len(X[0])
    steps = []
    for t in range(T):
        xt = [X[n][t] for n in range(N)]
        z = emap(sig, addb(eadd(mm(xt, Wz), mm(h, Uz)), bz))
        r = emap(sig, addb(eadd(mm(xt, Wr), mm(h, Ur)), br))
        hn = addb(mm(h, Un), bhn)
        n_ = emap(math.tanh, eadd(addb(mm(xt, Wn), bn), emul(r, hn)))
        if bug == "z_n_convention":
            h_new = eadd(emul(z, n_), emul(emap(lambda v: 1 - v, z), h))
        else:
            h_new = eadd(emul(emap(lambda v: 1 - v, z), n_), emul(z, h))
        steps.append({"x": xt, "h_prev": h, "z": z, "r": r, "hn": hn, "n": n_})
        h = h_new
        steps[-1]["h"] = h_new
    out = [[steps[t]["h"][n] for t in range(T)] for n in range(N)]
    return np.array(out, dtype=x.dtype), (steps, P, x.dtype)


def gru_backward(dh, cache, bug=None):
    steps, P, dtype = cache
    Wz, Uz, _bz, Wr, Ur, _br, Wn, Un, _bn, _bhn = P
    dH = dh.tolist()
    N, T, H, D = len(dH), len(dH[0]), len(Uz), len(Wz)
    g = {k: [[0.0] * H for _ in range(D)] for k in ("Wz", "Wr", "Wn")}
    g.update({k: [[0.0] * H for _ in range(H)] for k in ("Uz", "Ur", "Un")})
    g.update({k: [0.0] * H for k in ("bz", "br", "bn", "bhn")})
    dx = [[[0.0] * D for _ in range(T)] for _ in range(N)]
    dh_next = [[0.0] * H for _ in range(N)]
    UnT = T_(T_(Un)) if bug == "Un_zip_twice" else T_(Un)
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        s = steps[t]
        z, r, n_, hp, hn = s["z"], s["r"], s["n"], s["h_prev"], s["hn"]
        dht = [[dH[k][t][j] + dh_next[k][j] for j in range(H)] for k in range(N)]
        if bug == "z_n_convention":
            dn, dz, dh_prev = emul(dht, z), emul(dht, eadd(n_, emap(lambda v: -v, hp))), emul(dht, emap(lambda v: 1 - v, z))
        else:
            dn = emul(dht, emap(lambda v: 1 - v, z))
            sign = -1 if bug == "dz_sign" else 1
            dz = emul(dht, eadd(hp, emap(lambda v: -v, n_)), [[sign] * H] * N)
            dh_prev = [[0.0] * H for _ in range(N)] if bug == "dh_prev_no_z_path" else emul(dht, z)
        dn_local = {"dn_sigmoid_grad": lambda v: v * (1 - v),
                    "dn_tanh_of_n": lambda v: 1 - math.tanh(v) ** 2}.get(bug, lambda v: 1 - v * v)
        dn_pre = emul(dn, emap(dn_local, n_))
        dz_pre = dz if bug == "dz_no_sigmoid_grad" else emul(dz, emap(lambda v: v * (1 - v), z))
        dhn = emul(dn_pre, r)
        dr = emul(dn_pre, hp if bug == "dr_uses_h_prev" else hn)
        dr_pre = emul(dr, emap(lambda v: v * (1 - v), r))
        for name, d in (("z", dz_pre), ("r", dr_pre), ("n", dn_pre)):
            g["W" + name] = eadd(g["W" + name], mm(T_(s["x"]), d))
            g["b" + name] = [a + b for a, b in zip(g["b" + name], colsum(d))]
        for i in range(H):
            for j in range(H):
                if bug == "dUz_indices_swapped":
                    g["Uz"][i][j] += sum(hp[k][j] * dz_pre[k][i] for k in range(N))
                else:
                    g["Uz"][i][j] += sum(hp[k][i] * dz_pre[k][j] for k in range(N))
        g["Ur"] = eadd(g["Ur"], mm(T_(hp), dr_pre))
        g["Un"] = eadd(g["Un"], mm(T_(hp), dhn))
        g["bhn"] = [a + b for a, b in zip(g["bhn"], colsum(dhn))]
        dxt = eadd(mm(dz_pre, T_(Wz)), mm(dr_pre, T_(Wr)), mm(dn_pre, T_(Wn)))
        for k in range(N):
            dx[k][t] = dxt[k]
        if bug == "dh_prev_assigned_hn":
            dh_prev = mm(dhn, UnT)
        else:
            dh_prev = eadd(dh_prev, mm(dhn, UnT))
        dh_prev = eadd(dh_prev, mm(dz_pre, T_(Ur if bug == "Ur_for_Uz" else Uz)), mm(dr_pre, T_(Ur)))
        dh_next = dh_prev
    if bug == "dbhn_mean":
        g["bhn"] = [v / N for v in g["bhn"]]
    names = ["Wz", "Uz", "bz", "Wr", "Ur", "br", "Wn", "Un", "bn", "bhn"]
    if bug == "returns_r_before_z":
        names[0:6] = names[3:6] + names[0:3]
    arr = lambda v: np.array(v, dtype=dtype)
    return (arr(dx), arr(dh_next)) + tuple(arr(g[k]) for k in names)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blk = lambda a, k: a[k * H:(k + 1) * H]   # torch rows r, z, n
    Wi, Wh, bi, bh = p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
    return {"Wz": blk(Wi, 1).T, "Uz": blk(Wh, 1).T, "bz": blk(bi, 1) + blk(bh, 1),
            "Wr": blk(Wi, 0).T, "Ur": blk(Wh, 0).T, "br": blk(bi, 0) + blk(bh, 0),
            "Wn": blk(Wi, 2).T, "Un": blk(Wh, 2).T, "bn": np.array(blk(bi, 2)), "bhn": np.array(blk(bh, 2))}


def to_canonical(cell, g, p):
    out = {}
    if all(k in g for k in ("dWr", "dWz", "dWn")):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWn"].T])
    if all(k in g for k in ("dUr", "dUz", "dUn")):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUn"].T])
    if all(k in g for k in ("dbr", "dbz", "dbn")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbn"]])
        if "dbhn" in g:
            out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g["dbhn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="plain_python_gru", cells=("gru",), axes="NTD")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda *a: gru_forward(*a, bug=bug), lambda d, c: gru_backward(d, c, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

"""A sigmoid RNN in the sequence-models course's column-major shapes, written with plain
Python lists instead of NumPy: x (n_x, m, T_x), a0 (n_a, m), a ``parameters`` dict with
Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1); every state is a list of n_a rows of m
columns, products are list comprehensions over ``zip(*B)``, the sigmoid is ``math.exp``.

    a<t> = sigmoid(Wax x<t> + Waa a<t-1> + ba)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

import harness

BUGS = {
    "dWaa_indices_swapped": "gradient_transposed",    # dz[j][n] * a_prev[i][n] in the comprehension
    "Waa_zip_twice": "weight_transposed",             # transpose(transpose(Waa)) in da_prev
    "dsig_of_a": "derivative_wrong_point",            # sigmoid(a) * (1 - sigmoid(a)) on the output
    "dsig_tanh": "derivative_wrong_function",         # 1 - a ** 2
    "dsig_one_minus_a": "derivative_miswritten",      # (1 - a)
    "dsig_in_driver_too": "derivative_twice",         # the driver multiplies by a (1 - a) as well
    "dsig_sign": "wrong_sign",                        # a * (a - 1)
    "da_prev_not_carried": "carry_dropped",           # da_next = da[:, :, t]
    "dba_over_m": "reduction_scaled",                 # dba / m
    "carry_reset_every_2": "truncated_bptt",          # da_prevt reset every 2 steps back
    "dx_aliased": "unknown",                          # [[[0.0] * T_x] * m] * n_x: one shared row
    "loop_stops_at_1": "loop_skips_step",             # range(T_x - 1, 0, -1)
    "dba_assigned": "carry_overwrites",               # dba = dbat
    "a0_every_step": "forward_mistake",               # the cell fed a0 at every step
}
TOUCHES = {b: "" for b in BUGS}


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def transpose(M):
    return [list(r) for r in zip(*M)]


def matmul(A, B):
    cols = list(zip(*B))
    return [[sum(p * q for p, q in zip(r, c)) for c in cols] for r in A]


def elementwise(f, *Ms):
    return [[f(*vals) for vals in zip(*rows)] for rows in zip(*Ms)]


def rnn_cell_forward(xt, a_prev, P):
    z = elementwise(lambda u, v, b: u + v + b, matmul(P["Wax"], xt), matmul(P["Waa"], a_prev),
                    [[P["ba"][i][0]] * len(xt[0]) for i in range(len(P["ba"]))])
    a_next = elementwise(sigmoid, z)
    return a_next, (a_next, a_prev, xt)


def rnn_forward(x, a0, parameters, bug=None):
    P = {k: v.tolist() for k, v in parameters.items()}
    X = x.tolist()
    n_x, m, T_x = x.shape
    a_next, A0, caches, a = a0.tolist(), a0.tolist(), [], []
    for t in range(T_x):
        xt = [[X[i][n][t] for n in range(m)] for i in range(n_x)]
        a_next, cache = rnn_cell_forward(xt, A0 if bug == "a0_every_step" else a_next, P)
        a.append(a_next)
        caches.append(cache)
    out = [[[a[t][i][n] for t in range(T_x)] for n in range(m)] for i in range(len(a0))]
    return np.array(out, dtype=x.dtype), (caches, P, x.dtype)


def rnn_cell_backward(da_next, cache, P, bug=None):
    a_next, a_prev, xt = cache
    if bug == "dsig_of_a":
        dz = elementwise(lambda d, a: d * sigmoid(a) * (1 - sigmoid(a)), da_next, a_next)
    elif bug == "dsig_tanh":
        dz = elementwise(lambda d, a: d * (1 - a ** 2), da_next, a_next)
    elif bug == "dsig_one_minus_a":
        dz = elementwise(lambda d, a: d * (1 - a), da_next, a_next)
    elif bug == "dsig_sign":
        dz = elementwise(lambda d, a: d * a * (a - 1), da_next, a_next)
    else:
        dz = elementwise(lambda d, a: d * a * (1 - a), da_next, a_next)
    n_a, m = len(dz), len(dz[0])
    dxt = matmul(transpose(P["Wax"]), dz)
    dWaxt = matmul(dz, transpose(xt))
    if bug == "dWaa_indices_swapped":
        dWaat = [[sum(dz[j][n] * a_prev[i][n] for n in range(m)) for j in range(n_a)] for i in range(n_a)]
    else:
        dWaat = [[sum(dz[i][n] * a_prev[j][n] for n in range(m)) for j in range(n_a)] for i in range(n_a)]
    WaaT = transpose(transpose(P["Waa"])) if bug == "Waa_zip_twice" else transpose(P["Waa"])
    da_prev = matmul(WaaT, dz)
    dbat = [[sum(row)] for row in dz]
    return dxt, da_prev, dWaxt, dWaat, dbat


def rnn_backward(da, caches, bug=None):
    caches, P, dtype = caches
    D = da.tolist()
    n_a, m, T_x = da.shape
    n_x = len(P["Wax"][0])
    if bug == "dx_aliased":
        dx = [[[0.0] * T_x] * m] * n_x
    else:
        dx = [[[0.0] * T_x for _ in range(m)] for _ in range(n_x)]
    dWax = [[0.0] * n_x for _ in range(n_a)]
    dWaa = [[0.0] * n_a for _ in range(n_a)]
    dba = [[0.0] for _ in range(n_a)]
    da_prevt = [[0.0] * m for _ in range(n_a)]
    stop = 0 if bug == "loop_stops_at_1" else -1
    for t in range(T_x - 1, stop, -1):
        if bug == "carry_reset_every_2" and (T_x - 1 - t) % 2 == 0:
            da_prevt = [[0.0] * m for _ in range(n_a)]
        dat = [[D[i][n][t] for n in range(m)] for i in range(n_a)]
        if bug in ("da_prev_not_carried", "a0_every_step"):
            da_next = dat
        else:
            da_next = elementwise(lambda u, v: u + v, dat, da_prevt)
        if bug == "dsig_in_driver_too":
            a_t = caches[t][0]
            da_next = elementwise(lambda d, a: d * a * (1 - a), da_next, a_t)
        dxt, da_prev, dWaxt, dWaat, dbat = rnn_cell_backward(da_next, caches[t], P, bug)
        for i in range(n_x):
            for n in range(m):
                dx[i][n][t] = dxt[i][n]
        dWax = elementwise(lambda u, v: u + v, dWax, dWaxt)
        dWaa = elementwise(lambda u, v: u + v, dWaa, dWaat)
        dba = dbat if bug == "dba_assigned" else elementwise(lambda u, v: u + v, dba, dbat)
        if bug == "a0_every_step":
            da_prevt = elementwise(lambda u, v: u + v, da_prevt, da_prev)   # every step read a0
        else:
            da_prevt = da_prev
    if bug == "dba_over_m":
        dba = [[v / m for v in row] for row in dba]
    arr = lambda v: np.array(v, dtype=dtype)
    return {"dx": arr(dx), "da0": arr(da_prevt), "dWax": arr(dWax), "dWaa": arr(dWaa), "dba": arr(dba)}


def to_user(cell, p):
    return {"Wax": np.array(p["weight_ih"]), "Waa": np.array(p["weight_hh"]),
            "ba": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {q: g[u] for u, q in (("dWax", "dweight_ih"), ("dWaa", "dweight_hh")) if u in g}
    if "dba" in g:
        out["dbias_ih"] = g["dba"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="lists_course_rnn", cells=("rnn",), axes="DNT",
                               weights_as="dict", names={"h": "a"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, a0, p: rnn_forward(x, a0, p, bug=bug), lambda d, c: rnn_backward(d, c, bug=bug),
            {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"})

"""A time-major LSTM "in pure Python" with one (W, U, b) per gate in the maths orientation
(W (H, D), U (H, H), gate = W x + U h + b, one example's vector at a time): x (T, N, D),
h0, c0 (N, H), a ``params`` dict {Wi, Ui, bi, Wf, Uf, bf, Wg, Ug, bg, Wo, Uo, bo}. The
backward walks every (example, unit) with scalar arithmetic and keeps its carries in lists
of rows; transposes are ``[list(r) for r in zip(*U)]`` computed once.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

import harness

BUGS = {
    "Uf_for_Ui_in_dh": "wrong_weight",                # dh_prev gets Uf^T dai instead of Ui^T dai
    "Uo_zip_forgotten": "weight_transposed",          # Uo rows for UoT in dh_prev
    "dUg_indices_swapped": "gradient_transposed",     # dUg[k][j] += dag[j] h_prev[k]
    "dh_prev_from_dUi": "gradient_for_weight",        # dUi^T for Ui^T in dh_prev
    "di_times_c_prev": "wrong_value",                 # di = dc * c_prev for dc * g
    "dg_one_minus_g": "derivative_miswritten",        # (1 - g) for (1 - g * g)
    "df_sigmoid_twice": "derivative_twice",           # f (1 - f) applied twice
    "dx_drops_o": "term_dropped",                     # dx from i, f, g only
    "truncated_2": "truncated_bptt",                  # carries cut after two steps back
    "dc_next_rows_aliased": "unknown",                # dc_next = [[0.0] * H] * N, written per element
    "o_derivative_in_place": "inplace_corruption",    # o[n][j] = o (1 - o) written into the cached o
    "dbf_over_T": "reduction_scaled",                 # dbf / T
    "dUo_h_t": "wrong_time",                          # dUo from h_t for h_(t-1)
    "o_tanh_forward": "forward_mistake",              # o = tanh(...); backward consistent
}
TOUCHES = {
    "Uf_for_Ui_in_dh": "", "Uo_zip_forgotten": "", "dUg_indices_swapped": "g", "dh_prev_from_dUi": "",
    "di_times_c_prev": "i", "dg_one_minus_g": "g", "df_sigmoid_twice": "f", "dx_drops_o": "",
    "truncated_2": "", "dc_next_rows_aliased": "ifg", "o_derivative_in_place": "ifg", "dbf_over_T": "",
    "dUo_h_t": "o", "o_tanh_forward": "",
}
GATES = "ifgo"


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def matvec(M, v):
    return [sum(m * e for m, e in zip(row, v)) for row in M]


def lstm_forward(x, h0, c0, params, bug=None):
    X = x.tolist()
    P = {k: v.tolist() for k, v in params.items()}
    T, N = len(X), len(X[0])
    h, c, steps = h0.tolist(), c0.tolist(), []
    for t in range(T):
        step = {k: [] for k in ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "tc", "h")}
        for n in range(N):
            pre = {q: [a + b + e for a, b, e in zip(matvec(P["W" + q], X[t][n]), matvec(P["U" + q], h[n]),
                                                    P["b" + q])] for q in GATES}
            i, f, o = ([sigmoid(v) for v in pre[q]] for q in "ifo")
            if bug == "o_tanh_forward":
                o = [math.tanh(v) for v in pre["o"]]
            g = [math.tanh(v) for v in pre["g"]]
            cn = [ff * cp + ii * gg for ff, cp, ii, gg in zip(f, c[n], i, g)]
            tc = [math.tanh(v) for v in cn]
            hn = [oo * tt for oo, tt in zip(o, tc)]
            for k, v in (("x", X[t][n]), ("h_prev", h[n]), ("c_prev", c[n]), ("i", i), ("f", f), ("g", g),
                         ("o", o), ("c", cn), ("tc", tc), ("h", hn)):
                step[k].append(v)
        steps.append(step)
        h, c = step["h"], step["c"]
    return np.array([s["h"] for s in steps], dtype=x.dtype), (steps, P, x.dtype)


def lstm_backward(dh, cache, bug=None):
    steps, P, dtype = cache
    dH = dh.tolist()
    T, N, H = len(dH), len(dH[0]), len(dH[0][0])
    D = len(P["Wi"][0])
    UT = {q: [list(r) for r in zip(*P["U" + q])] for q in GATES}
    WT = {q: [list(r) for r in zip(*P["W" + q])] for q in GATES}
    if bug == "Uo_zip_forgotten":
        UT["o"] = P["Uo"]
    g_ = {"dW" + q: [[0.0] * D for _ in range(H)] for q in GATES}
    g_.update({"dU" + q: [[0.0] * H for _ in range(H)] for q in GATES})
    g_.update({"db" + q: [0.0] * H for q in GATES})
    dx = [[[0.0] * D for _ in range(N)] for _ in range(T)]
    dh_next = [[0.0] * H for _ in range(N)]
    dc_next = [[0.0] * H] * N if bug == "dc_next_rows_aliased" else [[0.0] * H for _ in range(N)]
    for t in reversed(range(T)):
        s = steps[t]
        if bug == "truncated_2" and t < T - 2:
            dh_next, dc_next = [[0.0] * H for _ in range(N)], [[0.0] * H for _ in range(N)]
        if bug == "o_derivative_in_place":
            do_local = s["o"]
            for n in range(N):
                for j in range(H):
                    do_local[n][j] = do_local[n][j] * (1 - do_local[n][j])
        elif bug == "o_tanh_forward":
            do_local = [[1 - o * o for o in row] for row in s["o"]]
        else:
            do_local = [[o * (1 - o) for o in row] for row in s["o"]]
        new_dh = [[0.0] * H for _ in range(N)]
        for n in range(N):
            da = {q: [0.0] * H for q in GATES}
            for j in range(H):
                i, f, g, o = s["i"][n][j], s["f"][n][j], s["g"][n][j], s["o"][n][j]
                tc, c_prev = s["tc"][n][j], s["c_prev"][n][j]
                d = dH[t][n][j] + dh_next[n][j]
                dc = dc_next[n][j] + d * o * (1 - tc * tc)
                da["o"][j] = d * tc * do_local[n][j]
                da["i"][j] = dc * (c_prev if bug == "di_times_c_prev" else g) * i * (1 - i)
                da["f"][j] = dc * c_prev * f * (1 - f) * (f * (1 - f) if bug == "df_sigmoid_twice" else 1)
                da["g"][j] = dc * i * ((1 - g) if bug == "dg_one_minus_g" else (1 - g * g))
                dc_next[n][j] = dc * f
            hp = s["h"][n] if bug == "dUo_h_t" else s["h_prev"][n]
            for q in GATES:
                hq = hp if q == "o" else s["h_prev"][n]
                for j in range(H):
                    g_["db" + q][j] += da[q][j]
                    for k in range(D):
                        g_["dW" + q][j][k] += da[q][j] * s["x"][n][k]
                    for k in range(H):
                        if bug == "dUg_indices_swapped" and q == "g":
                            g_["dUg"][k][j] += da[q][j] * hq[k]
                        else:
                            g_["dU" + q][j][k] += da[q][j] * hq[k]
            for q in GATES:
                if not (bug == "dx_drops_o" and q == "o"):
                    dx[t][n] = [a + b for a, b in zip(dx[t][n], matvec(WT[q], da[q]))]
                if bug == "Uf_for_Ui_in_dh" and q == "i":
                    M = UT["f"]
                elif bug == "dh_prev_from_dUi" and q == "i":
                    M = [list(r) for r in zip(*g_["dUi"])]
                else:
                    M = UT[q]
                new_dh[n] = [a + b for a, b in zip(new_dh[n], matvec(M, da[q]))]
        dh_next = new_dh
    if bug == "dbf_over_T":
        g_["dbf"] = [v / T for v in g_["dbf"]]
    out = {k: np.array(v, dtype=dtype) for k, v in g_.items()}
    out.update(dx=np.array(dx, dtype=dtype), dh0=np.array(dh_next, dtype=dtype),
               dc0=np.array(dc_next, dtype=dtype))
    return out


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    user = {}
    for k, q in enumerate(GATES):
        rows = slice(k * H, (k + 1) * H)
        user.update({"W" + q: np.array(p["weight_ih"][rows]), "U" + q: np.array(p["weight_hh"][rows]),
                     "b" + q: p["bias_ih"][rows] + p["bias_hh"][rows]})
    return user


def to_canonical(cell, g, p):
    out = {}
    for name, key in (("dweight_ih", "dW"), ("dweight_hh", "dU"), ("dbias_ih", "db")):
        if all(key + q in g for q in GATES):
            out[name] = np.concatenate([g[key + q] for q in GATES])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="pure_tm_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, c0, p: lstm_forward(x, h0, c0, p, bug=bug), lambda d, c: lstm_backward(d, c, bug=bug),
            {"cell": "lstm", "layout": LAYOUT, "forget_bias": 0.0})

"""An LSTM in cs231n's calling convention (x (N, T, D), h0 (N, H), c0 = 0, Wx (D, 4H),
Wh (H, 4H), b (4H,), gate blocks i, f, o, g) written without NumPy inside: rows are Python
lists, ``row[k * H:(k + 1) * H]`` slices a gate, products are comprehensions over
``zip(*B)``, and the four gate gradients are glued back with list ``+``.

    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)    g = tanh(a_g)
    c_t = f c_(t-1) + i g        h_t = o tanh(c_t)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

BUGS = {
    "glued_i_f_g_o": "gate_order",                    # da rows glued di + df + dg + do (blocks are i f o g)
    "dc_next_dropped": "carry_dropped",               # dc = dh * o * (1 - tc^2): dc_next not added
    "dc_no_tanh_grad": "derivative_missing",          # dc += dh * o
    "dtanh_c_of_c": "derivative_wrong_point",         # 1 - c ** 2 for 1 - tanh(c) ** 2
    "df_uses_c": "wrong_time",                        # df = dc * c_t for dc * c_(t-1)
    "dg_sigmoid_grad": "derivative_wrong_function",   # g (1 - g) for the tanh gate
    "di_uses_c_prev": "wrong_value",                  # di = dc * c_prev for dc * g
    "dWh_indices_swapped": "gradient_transposed",     # hp[n][k] * da[n][q H + j] in each gate block
    "c_updated_in_place": "inplace_corruption",       # forward writes c_t into the cached c_(t-1) list
    "loop_forward": "loop_direction",                 # for t in range(T)
    "db_over_NT": "reduction_scaled",                 # db / (N * T)
    "dWx_assigned": "carry_overwrites",               # dWx = matmul(...) for add(dWx, ...)
    "forget_bias_one": "forget_bias",                 # forward: sigmoid(a_f + 1.0), as TF's default
    "dc_sign": "wrong_sign",                          # dh * o * (tanh(c)^2 - 1)
    "h_without_tanh": "forward_mistake",              # h = o * c; backward consistent
}
TOUCHES = {
    "glued_i_f_g_o": "go", "dc_next_dropped": "", "dc_no_tanh_grad": "ig", "dtanh_c_of_c": "ig",
    "df_uses_c": "f", "dg_sigmoid_grad": "g", "di_uses_c_prev": "i", "dWh_indices_swapped": "",
    "c_updated_in_place": "f", "loop_forward": "", "db_over_NT": "", "dWx_assigned": "",
    "forget_bias_one": "", "dc_sign": "ig", "h_without_tanh": "",
}


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def transpose(M):
    return [list(r) for r in zip(*M)]


def matmul(A, B):
    Bt = list(zip(*B))
    return [[sum(a * b for a, b in zip(r, c)) for c in Bt] for r in A]


def add(A, B):
    return [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(A, B)]


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    X, h, Wx_, Wh_, b_ = x.tolist(), h0.tolist(), Wx.tolist(), Wh.tolist(), b.tolist()
    N, T, H = len(X), len(X[0]), len(h[0])
    c = [[0.0] * H for _ in range(N)]
    fb = 1.0 if bug == "forget_bias_one" else 0.0
    out, steps = [[None] * T for _ in range(N)], []
    for t in range(T):
        xt = [X[n][t] for n in range(N)]
        a = [[v + bj for v, bj in zip(row, b_)] for row in add(matmul(xt, Wx_), matmul(h, Wh_))]
        i = [[sig(v) for v in r[:H]] for r in a]
        f = [[sig(v + fb) for v in r[H:2 * H]] for r in a]
        o = [[sig(v) for v in r[2 * H:3 * H]] for r in a]
        g = [[math.tanh(v) for v in r[3 * H:]] for r in a]
        c_new = [[fv * cv + iv * gv for fv, cv, iv, gv in zip(*rows)] for rows in zip(f, c, i, g)]
        tc = [[math.tanh(v) for v in r] for r in c_new]
        if bug == "h_without_tanh":
            h_new = [[ov * cv for ov, cv in zip(ro, rc)] for ro, rc in zip(o, c_new)]
        else:
            h_new = [[ov * tv for ov, tv in zip(ro, rt)] for ro, rt in zip(o, tc)]
        steps.append({"x": xt, "h_prev": h, "c_prev": c, "i": i, "f": f, "o": o, "g": g, "c": c_new, "tc": tc})
        for n in range(N):
            out[n][t] = h_new[n]
        if bug == "c_updated_in_place":
            for n in range(N):
                c[n][:] = c_new[n]
            steps[-1]["c"] = c
        else:
            c = c_new
        h = h_new
    return np.array(out, dtype=x.dtype), (steps, Wx_, Wh_, x.dtype)


def lstm_backward(dh, cache, bug=None):
    steps, Wx, Wh, dtype = cache
    dH = dh.tolist()
    N, T, D, H = len(dH), len(dH[0]), len(Wx), len(Wh)
    dx = [[None] * T for _ in range(N)]
    dWx = [[0.0] * 4 * H for _ in range(D)]
    dWh = [[0.0] * 4 * H for _ in range(H)]
    db = [0.0] * 4 * H
    dh_next = [[0.0] * H for _ in range(N)]
    dc_next = [[0.0] * H for _ in range(N)]
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        s = steps[t]
        da = []
        for n in range(N):
            di, df, do, dg, dcp = [], [], [], [], []
            for j in range(H):
                i, f, o, g = s["i"][n][j], s["f"][n][j], s["o"][n][j], s["g"][n][j]
                c, tc, c_prev = s["c"][n][j], s["tc"][n][j], s["c_prev"][n][j]
                d = dH[n][t][j] + dh_next[n][j]
                if bug == "h_without_tanh":
                    do_ = d * c
                    dc = dc_next[n][j] + d * o
                else:
                    do_ = d * tc
                    local = {"dc_no_tanh_grad": 1.0, "dtanh_c_of_c": 1 - c * c,
                             "dc_sign": tc * tc - 1}.get(bug, 1 - tc * tc)
                    dc = (0.0 if bug == "dc_next_dropped" else dc_next[n][j]) + d * o * local
                di_ = dc * (c_prev if bug == "di_uses_c_prev" else g)
                df_ = dc * (c if bug == "df_uses_c" else c_prev)
                dg_ = dc * i
                di.append(di_ * i * (1 - i))
                df.append(df_ * f * (1 - f))
                do.append(do_ * o * (1 - o))
                dg.append(dg_ * (g * (1 - g) if bug == "dg_sigmoid_grad" else 1 - g * g))
                dcp.append(dc * f)
            da.append(di + df + dg + do if bug == "glued_i_f_g_o" else di + df + do + dg)
            dc_next[n] = dcp
        dxt = matmul(da, transpose(Wx))
        for n in range(N):
            dx[n][t] = dxt[n]
        dWx = matmul(transpose(s["x"]), da) if bug == "dWx_assigned" else add(dWx, matmul(transpose(s["x"]), da))
        hp = s["h_prev"]
        for q in range(4):                                   # one (H, H) block per gate
            for j in range(H):
                for k in range(H):
                    if bug == "dWh_indices_swapped":
                        dWh[j][q * H + k] += sum(hp[n][k] * da[n][q * H + j] for n in range(N))
                    else:
                        dWh[j][q * H + k] += sum(hp[n][j] * da[n][q * H + k] for n in range(N))
        db = [v + sum(c) for v, c in zip(db, zip(*da))]
        dh_next = matmul(da, transpose(Wh))
    if bug == "db_over_NT":
        db = [v / (N * T) for v in db]
    arr = lambda v: np.array(v, dtype=dtype)
    return arr(dx), arr(dh_next), arr(dWx), arr(dWh), arr(db)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda *a: lstm_forward(*a, bug=bug), lambda d, c: lstm_backward(d, c, bug=bug),
            {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0})

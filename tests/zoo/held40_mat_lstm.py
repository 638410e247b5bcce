"""An LSTM on np.matrix rows (cs231n layout: blocks i, f, o, g, c0 = 0, no forget bias), as
old tutorials wrote it: x_t, h_t, c_t are (N, H) matrices, ``*`` the matrix product,
np.multiply every gate product, the gate blocks sliced off one (N, 4H) matrix, ``.A`` and
``.A1`` to hand ndarrays back.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

mat = np.asmatrix

BUGS = {
    "o_view_inplace": "inplace_corruption",       # oa = o.A; oa *= 1 - oa: .A is a view, o itself changed
    "dc_without_o": "term_dropped",               # dc += np.multiply(dh, 1 - tc^2): the factor o left out
    "df_with_c_t": "wrong_time",                  # df = np.multiply(dc, c_t) for c_(t-1)
    "dg_sigmoid_grad": "derivative_wrong_function",  # g(1 - g) for the tanh block
    "di_no_sigmoid_grad": "derivative_missing",   # dai = di
    "dc_carry_lost": "carry_dropped",             # dc_next never set from f
    "stack_i_f_g_o": "gate_order",                # np.hstack([dai, daf, dag, dao]) for i, f, o, g
    "range_from_one": "loop_skips_step",          # reversed(range(1, T)): step 0 never visited
    "dtanhc_on_c": "derivative_wrong_point",      # 1 - c^2 for 1 - tanh(c)^2
    "forget_bias_one": "forget_bias",             # forward adds 1.0 to f's pre-activation (backward consistent)
    "dx_from_dWx": "gradient_for_weight",         # dx_t = da * dWx.T
    "db_mean_N": "reduction_scaled",              # db += da.mean(0)
    "do_sign": "wrong_sign",                      # dao = np.multiply(do, np.multiply(o, o - 1))
    "dh_next_not_added": "carry_dropped",         # dht = dh[:, t]: the carried dh_next left out
    "di_reads_c_prev": "wrong_value",             # di = np.multiply(dc, c_prev) for np.multiply(dc, g)
}
TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "o_view_inplace": "ig",
    "dc_without_o": "ig",
    "df_with_c_t": "f",
    "dg_sigmoid_grad": "g",
    "di_no_sigmoid_grad": "i",
    "dc_carry_lost": "",
    "stack_i_f_g_o": "go",
    "range_from_one": "",
    "dtanhc_on_c": "ig",
    "forget_bias_one": "",
    "dx_from_dWx": "",
    "db_mean_N": "",
    "do_sign": "o",
    "dh_next_not_added": "",
    "di_reads_c_prev": "i",
}


def sigmoid(m):
    return 1.0 / (1.0 + np.exp(-m))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H) ndarray, cache."""
    N, T = x.shape[:2]
    H = h0.shape[1]
    Wx, Wh, b = mat(Wx), mat(Wh), mat(b)
    fb = 1.0 if bug == "forget_bias_one" else 0.0
    h, c = mat(h0), mat(np.zeros((N, H), dtype=x.dtype))
    out = np.zeros((N, T, H), dtype=x.dtype)
    steps = []
    for t in range(T):
        xt = mat(x[:, t, :])
        a = xt * Wx + h * Wh + b
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H] + fb)
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c_new = np.multiply(f, c) + np.multiply(i, g)
        tc = np.tanh(c_new)
        h_new = np.multiply(o, tc)
        steps.append({"x": xt, "h_prev": h, "c_prev": c, "i": i, "f": f, "o": o, "g": g, "c": c_new,
                      "tc": tc})
        h, c = h_new, c_new
        out[:, t, :] = h.A
    return out, (steps, Wx, Wh, b)


def lstm_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)."""
    steps, Wx, Wh, b = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = mat(np.zeros((N, H), dtype=dh.dtype))
    dc_next = mat(np.zeros((N, H), dtype=dh.dtype))
    for t in reversed(range(1, T) if bug == "range_from_one" else range(T)):
        s = steps[t]
        i, f, o, g, tc = s["i"], s["f"], s["o"], s["g"], s["tc"]
        dht = mat(dh[:, t, :]) if bug == "dh_next_not_added" else mat(dh[:, t, :]) + dh_next
        do = np.multiply(dht, tc)
        if bug == "o_view_inplace":
            oa = o.A
            oa *= 1 - oa
            dao = np.multiply(do, o)
        elif bug == "do_sign":
            dao = np.multiply(do, np.multiply(o, o - 1))
        else:
            dao = np.multiply(do, np.multiply(o, 1 - o))
        if bug == "dc_without_o":
            dc = dc_next + np.multiply(dht, 1 - np.multiply(tc, tc))
        elif bug == "dtanhc_on_c":
            dc = dc_next + np.multiply(np.multiply(dht, o), 1 - np.multiply(s["c"], s["c"]))
        else:
            dc = dc_next + np.multiply(np.multiply(dht, o), 1 - np.multiply(tc, tc))
        df = np.multiply(dc, s["c"] if bug == "df_with_c_t" else s["c_prev"])
        di = np.multiply(dc, s["c_prev"] if bug == "di_reads_c_prev" else g)
        dg = np.multiply(dc, i)
        dai = di if bug == "di_no_sigmoid_grad" else np.multiply(di, np.multiply(i, 1 - i))
        daf = np.multiply(df, np.multiply(f, 1 - f))
        if bug == "dg_sigmoid_grad":
            dag = np.multiply(dg, np.multiply(g, 1 - g))
        else:
            dag = np.multiply(dg, 1 - np.multiply(g, g))
        if bug == "stack_i_f_g_o":
            da = np.hstack([dai, daf, dag, dao])
        else:
            da = np.hstack([dai, daf, dao, dag])
        dWx += s["x"].T * da
        dWh += s["h_prev"].T * da
        db += da.mean(0) if bug == "db_mean_N" else da.sum(0)
        dx[:, t, :] = (da * (dWx if bug == "dx_from_dWx" else Wx).T).A
        dh_next = da * Wh.T
        if bug != "dc_carry_lost":
            dc_next = np.multiply(dc, f)
    return dx, dh_next.A, dWx.A, dWh.A, db.A1


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug),
            {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0})

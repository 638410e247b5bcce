"""More mistakes in a cs231n-style LSTM, written fresh: x (N, T, D), Wx (D, 4H), Wh (H, 4H),
b (4H,), gate blocks i, f, o, g along the 4H columns, c0 = 0 (not an argument).

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
TOUCHES: canonical gates (i, f, g, o) whose weight-gradient blocks are wrong with one step
(c0 = 0 here, so f's gradients vanish at T=1); computed by blind_index.touched_gates.
"""

from functools import partial

import numpy as np

BUGS = {
    "forget_bias_added": "forget_bias",               # forward adds 1.0 to the f pre-activation
    "df_next_c": "wrong_time",                        # df = dc * next_c * ... (c_t for c_{t-1})
    "o_inplace": "inplace_corruption",                # o *= (1 - o) before dc reads o
    "backward_fiog": "gate_order",                    # backward packs da as f, i, o, g
    "dprev_c_no_f": "term_dropped",                   # dprev_c = dc: the factor f left out
    "do_tanh_grad": "derivative_wrong_function",      # (1 - o**2) for the sigmoid output gate
    "dg_no_tanh_grad": "derivative_missing",          # dg = dc * i
    "di_grad_at_preact": "derivative_wrong_point",    # ai * (1 - ai) with ai the pre-activation
    "dprev_h_from_dWh": "gradient_for_weight",        # dprev_h = da @ dWh.T
    "dc_h_path_minus": "wrong_sign",                  # dc = dnext_c - dnext_h * o * (1 - tanh(c)^2)
    "dWx_mean_NT": "reduction_scaled",                # dWx / (N * T)
    "dg_one_minus_g": "derivative_miswritten",        # (1 - g) for (1 - g**2)
    "db_assigned": "carry_overwrites",                # db = db_t in the driver (= for +=)
    "dc_no_o_and_do_no_grad": "unknown",              # two mistakes: o left out of dc, do without o(1-o)
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "forget_bias_added": "",
    "df_next_c": "f",
    "o_inplace": "ig",
    "backward_fiog": "if",
    "dprev_c_no_f": "",
    "do_tanh_grad": "o",
    "dg_no_tanh_grad": "g",
    "di_grad_at_preact": "i",
    "dprev_h_from_dWh": "",
    "dc_h_path_minus": "ig",
    "dWx_mean_NT": "",
    "dg_one_minus_g": "g",
    "db_assigned": "",
    "dc_no_o_and_do_no_grad": "",
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    """x (N, D), prev_h, prev_c (N, H) -> next_h, next_c, cache."""
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    ai, af, ao, ag = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    i = sigmoid(ai)
    f = sigmoid(af + 1.0) if bug == "forget_bias_added" else sigmoid(af)
    o = sigmoid(ao)
    g = np.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "next_c": next_c, "i": i, "f": f, "o": o, "g": g,
             "ai": ai, "Wx": Wx, "Wh": Wh}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    """-> dx, dprev_h, dprev_c, dWx, dWh, db."""
    i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
    prev_c, next_c = cache["prev_c"], cache["next_c"]
    tc = np.tanh(next_c)
    if bug == "o_inplace":
        o *= (1 - o)                                  # o(1 - o), written into the cached o
        do = dnext_h * tc * o
    elif bug in ("do_tanh_grad", "dc_no_o_and_do_no_grad"):
        do = dnext_h * tc * ((1 - o ** 2) if bug == "do_tanh_grad" else 1)
    else:
        do = dnext_h * tc * o * (1 - o)
    if bug == "dc_h_path_minus":
        dc = dnext_c - dnext_h * o * (1 - tc ** 2)
    elif bug == "dc_no_o_and_do_no_grad":
        dc = dnext_c + dnext_h * (1 - tc ** 2)
    else:
        dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    c_for_f = next_c if bug == "df_next_c" else prev_c
    df = dc * c_for_f * f * (1 - f)
    if bug == "di_grad_at_preact":
        di = dc * g * cache["ai"] * (1 - cache["ai"])
    else:
        di = dc * g * i * (1 - i)
    g_grad = {"dg_no_tanh_grad": 1, "dg_one_minus_g": 1 - g}.get(bug, 1 - g ** 2)
    dg = dc * i * g_grad
    blocks = {"i": di, "f": df, "o": do, "g": dg}
    da = np.hstack([blocks[k] for k in ("fiog" if bug == "backward_fiog" else "ifog")])
    dWx = cache["x"].T.dot(da)
    dWh = cache["prev_h"].T.dot(da)
    dx = da.dot(cache["Wx"].T)
    dprev_h = da.dot(dWh.T if bug == "dprev_h_from_dWh" else cache["Wh"].T)
    dprev_c = dc if bug == "dprev_c_no_f" else dc * f
    return dx, dprev_h, dprev_c, dWx, dWh, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache; c0 = 0."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, prev_c, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        prev_h, prev_c, step = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b, bug)
        h[:, t] = prev_h
        caches.append(step)
    return h, caches


def lstm_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx, dWh, db."""
    N, T, H = dh.shape
    Wx, Wh = cache[0]["Wx"], cache[0]["Wh"]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dprev_c,
                                                                            cache[t], bug)
        dWx += dWx_t
        dWh += dWh_t
        if bug == "db_assigned":
            db = db_t
        else:
            db += db_t
    if bug == "dWx_mean_NT":
        dWx /= N * T
    return dx, dprev_h, dWx, dWh, db



def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug),
            {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0})

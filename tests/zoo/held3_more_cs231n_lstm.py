"""Fresh mistakes in an LSTM on the built-in ``cs231n`` layout: x (N, T, D), h0 (N, H), the
cell state starting at zero, Wx (D, 4H), Wh (H, 4H), b (4H,) with the assignment's blocks
i, f, o, g:

    a = x_t @ Wx + prev_h @ Wh + b;  i, f, o = sigmoid(a_i, a_f, a_o);  g = tanh(a_g)
    next_c = f * prev_c + i * g;     next_h = o * tanh(next_c)

Step functions with a dict cache and a sequence driver. Third held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dg_tanh_grad_at_next_c": "derivative_wrong_point",   # dg * (1 - next_c ** 2): the cell state for g
    "df_grad_precedence": "derivative_miswritten",        # df * f - f ** 2
    "dc_tanh_grad_squared": "derivative_twice",           # (1 - tanh_c ** 2) ** 2 on the h path into c
    "dWh_over_N": "reduction_scaled",                     # dWh / N
    "i_grad_in_place": "inplace_corruption",              # sigmoid' of i built in the cached i; dg reads it after
    "forward_c_uses_o": "forward_mistake",                # next_c = f * prev_c + o * g; backward consistent
    "driver_passes_dh_as_dc": "unknown",                  # step(dh[:, t] + dprev_h, dprev_h, ...): dc carry is dh's
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dg_tanh_grad_at_next_c": "g",
    "df_grad_precedence": "f",
    "dc_tanh_grad_squared": "ig",
    "dWh_over_N": "",
    "i_grad_in_place": "g",
    "forward_c_uses_o": "",
    "driver_passes_dh_as_dc": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + (o if bug == "forward_c_uses_o" else i) * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "i": i, "f": f, "o": o, "g": g, "next_c": next_c,
             "tanh_c": tanh_c, "Wx": Wx, "Wh": Wh}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    i, f, o, g, tanh_c = cache["i"], cache["f"], cache["o"], cache["g"], cache["tanh_c"]
    dtanh = 1 - tanh_c ** 2
    dc = dnext_c + dnext_h * o * (dtanh ** 2 if bug == "dc_tanh_grad_squared" else dtanh)
    do = dnext_h * tanh_c
    if bug == "forward_c_uses_o":                  # o also scales g in the cell state
        do = do + dc * g
    if bug == "i_grad_in_place":
        di = i
        di *= 1 - i
        di *= dc * g
    else:
        di = dc * g * i * (1 - i)
    df = dc * cache["prev_c"]
    df = df * f - f ** 2 if bug == "df_grad_precedence" else df * f * (1 - f)
    do = do * o * (1 - o)
    gate = o if bug == "forward_c_uses_o" else i
    if bug == "dg_tanh_grad_at_next_c":
        dg = dc * gate * (1 - cache["next_c"] ** 2)
    else:
        dg = dc * gate * (1 - g ** 2)
    if bug == "forward_c_uses_o":
        di = np.zeros_like(di)
    da = np.hstack((di, df, do, dg))
    dx = da @ cache["Wx"].T
    dprev_h = da @ cache["Wh"].T
    dprev_c = dc * f
    return dx, dprev_h, dprev_c, cache["x"].T @ da, cache["prev_h"].T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, prev_c, cache = h0, np.zeros_like(h0), []
    for t in range(T):
        prev_h, prev_c, c = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b, bug)
        h[:, t] = prev_h
        cache.append(c)
    return h, cache


def lstm_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0]["x"].shape[1]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(cache[0]["Wx"]), np.zeros_like(cache[0]["Wh"])
    db = np.zeros(4 * H, dtype=dh.dtype)
    dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        dc_in = dprev_h if bug == "driver_passes_dh_as_dc" else dprev_c
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dc_in, cache[t], bug)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if bug == "dWh_over_N":
        dWh = dWh / N
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

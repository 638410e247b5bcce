"""An LSTM in the cs231n layout filled into the assignment's ``### START CODE HERE ###``
blocks by a student who keeps one cache *dict* per step in a list and splits with
``np.hsplit``; gate blocks i, f, o, g; c0 = 0:

    a = x @ Wx + prev_h @ Wh + b;  i, f, o, g = hsplit(a, 4) -> sigmoid, sigmoid, sigmoid, tanh
    next_c = f * prev_c + i * g;   next_h = o * tanh(next_c)

x (N, T, D), h0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,). Thirtieth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "da_o_no_sigmoid_grad": "derivative_missing",      # da_o = do
    "da_g_tanh_grad_at_c": "derivative_wrong_point",   # da_g = dg * (1 - tanh(next_c)**2) (also wrong_value)
    "dc_tanh_grad_twice": "derivative_twice",          # (1 - tanh_c**2) written twice in dc
    "dprev_c_without_f": "term_dropped",               # dprev_c = dc
    "dprev_h_from_dWh": "gradient_for_weight",         # dprev_h = da @ dWh.T (dWh computed just above)
    "db_over_NT": "reduction_scaled",                  # db /= N * T ("mean over batch and time")
    "upstream_replaced_by_carry": "carry_overwrites",  # dh_t = dh[:, t].copy(); dh_t[...] = dprev_h
    "loop_skips_last": "loop_skips_step",              # for t in reversed(range(T - 1))
    "da_blocks_i_f_g_o": "gate_order",                 # da = hstack(da_i, da_f, da_g, da_o): torch's order
    "tanh_c_from_prev_c": "wrong_time",                # tanh_c = np.tanh(prev_c) in the backward (c_(t-1) for c_t)
    "carry_cut_after_4": "truncated_bptt",             # dprev_h, dprev_c zeroed once 4 steps are walked back
    "dg_with_f": "wrong_value",                        # dg = dc * f (f read for i)
    "forward_h_without_tanh": "forward_mistake",       # next_h = o * next_c, backward consistent
    "dprev_c_times_1_5": "unknown",                    # dprev_c = 1.5 * dc * f: an arbitrary constant
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "da_o_no_sigmoid_grad": "o",
    "da_g_tanh_grad_at_c": "g",
    "dc_tanh_grad_twice": "ig",
    "dprev_c_without_f": "",
    "dprev_h_from_dWh": "",
    "db_over_NT": "",
    "upstream_replaced_by_carry": "",
    "loop_skips_last": "",
    "da_blocks_i_f_g_o": "go",
    "tanh_c_from_prev_c": "",
    "carry_cut_after_4": "",
    "dg_with_f": "g",
    "forward_h_without_tanh": "",
    "dprev_c_times_1_5": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    ### START CODE HERE ###
    a = x @ Wx + prev_h @ Wh + b
    ai, af, ao, ag = np.hsplit(a, 4)
    i, f, o, g = sigmoid(ai), sigmoid(af), sigmoid(ao), np.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * next_c if bug == "forward_h_without_tanh" else o * np.tanh(next_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "i": i, "f": f, "o": o, "g": g, "next_c": next_c,
             "Wx": Wx, "Wh": Wh}
    ### END CODE HERE ###
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
    i, f, o, g, next_c = cache["i"], cache["f"], cache["o"], cache["g"], cache["next_c"]
    ### START CODE HERE ###
    tanh_c = np.tanh(prev_c if bug == "tanh_c_from_prev_c" else next_c)
    if bug == "forward_h_without_tanh":
        do = dnext_h * next_c
        dc = dnext_c + dnext_h * o
    else:
        do = dnext_h * tanh_c
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        if bug == "dc_tanh_grad_twice":
            dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2) * (1 - tanh_c ** 2)
    di = dc * g
    df = dc * prev_c
    dg = dc * f if bug == "dg_with_f" else dc * i
    if bug == "dprev_c_without_f":
        dprev_c = dc
    elif bug == "dprev_c_times_1_5":
        dprev_c = 1.5 * dc * f
    else:
        dprev_c = dc * f
    da_i = di * i * (1 - i)
    da_f = df * f * (1 - f)
    da_o = do if bug == "da_o_no_sigmoid_grad" else do * o * (1 - o)
    da_g = dg * (1 - np.tanh(next_c) ** 2) if bug == "da_g_tanh_grad_at_c" else dg * (1 - g ** 2)
    if bug == "da_blocks_i_f_g_o":
        da = np.hstack((da_i, da_f, da_g, da_o))
    else:
        da = np.hstack((da_i, da_f, da_o, da_g))
    dx = da @ cache["Wx"].T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = np.sum(da, axis=0)
    dprev_h = da @ (dWh if bug == "dprev_h_from_dWh" else cache["Wh"]).T
    ### END CODE HERE ###
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    cache = []
    for t in range(T):
        prev_h, prev_c, step = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(step)
    return h, cache


def lstm_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0]["x"].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, 4 * H), dtype=dh.dtype)
    dWh = np.zeros((H, 4 * H), dtype=dh.dtype)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T - 1 if bug == "loop_skips_last" else T)):
        dh_t = dh[:, t, :].copy()
        if bug == "upstream_replaced_by_carry":
            dh_t[...] = dprev_h
        else:
            dh_t += dprev_h
        dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh_t, dprev_c, cache[t], bug)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        if bug == "carry_cut_after_4" and T - t >= 4:
            dprev_h, dprev_c = np.zeros_like(dprev_h), np.zeros_like(dprev_c)
    if bug == "db_over_NT":
        db /= N * T
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, Wx, Wh, b: lstm_forward(x, h0, Wx, Wh, b, bug),
            lambda dh, cache: lstm_backward(dh, cache, bug), {"cell": "lstm", "layout": "cs231n"})

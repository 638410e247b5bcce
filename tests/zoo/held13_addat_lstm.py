"""An LSTM in the cs231n layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), blocks
i, f, o, g, c0 = 0) written by someone whose step backward returns a plain tuple
(dx, dprev_h, dprev_c, dWx, dWh, db) and whose sequence backward folds the per-step weight
gradients in with np.add.at on a whole-array index (``np.add.at(dWx, Ellipsis, dWx_t)``):

    i, f, o = sigmoid(a_i, a_f, a_o)    g = tanh(a_g)    a = x Wx + h Wh + b
    c_t = f c_(t-1) + i g               h_t = o tanh(c_t)

Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_times_c": "wrong_value",                          # do = dnext_h * c (for tanh(c))
    "dc_without_tanh_grad": "derivative_missing",         # dc = dnext_c + dnext_h * o
    "df_times_c_t": "wrong_time",                         # df = dc * c (c_t for c_(t-1))
    "dnext_c_not_added": "carry_dropped",                 # dc = dnext_h * o * (1 - tc**2): the c carry left out
    "dh_carry_replaces": "carry_overwrites",              # dnext_h = dh[:, t]; then dnext_h = dprev_h when t < T - 1
    "da_stacked_ifgo": "gate_order",                      # da = [da_i, da_f, da_g, da_o]: torch's order, forward is i, f, o, g
    "da_g_sigmoid_grad": "derivative_wrong_function",     # da_g = dg * g * (1 - g)
    "da_f_sign": "wrong_sign",                            # da_f = df * f * (f - 1)
    "db_mean_over_batch": "reduction_scaled",             # db_t = da.mean(axis=0)
    "forward_h_is_o_c": "forward_mistake",                # h = o * c (no tanh); backward consistent
    "tanh_grad_twice": "derivative_twice",                # dc = dnext_c + dnext_h * o * (1 - tc**2) * (1 - tc**2)
    "prev_c_scaled_in_place": "inplace_corruption",       # prev_c *= f; c = prev_c + i * g: the cached c of step t-1 changed
    "truncated_after_two": "truncated_bptt",              # both carries zeroed once two steps are done
    "da_i_sig_at_g": "derivative_wrong_point",            # da_i = di * g * (1 - g): sigmoid' at g (also a wrong_value)
    "tanh_grad_squared_wrong": "derivative_miswritten",   # (1 - tc)**2 for 1 - tc**2
    "do_times_c_and_no_dc_carry": "unknown",              # do = dnext_h * c and dnext_c left out: two mistakes
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def step_forward(x, prev_h, prev_c, Wx, Wh, b, bug):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    if bug == "prev_c_scaled_in_place":
        prev_c *= f
        c = prev_c + i * g
    else:
        c = f * prev_c + i * g
    tc = np.tanh(c)
    h = o * c if bug == "forward_h_is_o_c" else o * tc
    return h, c, (x, prev_h, prev_c, i, f, o, g, c, tc)


def step_backward(dnext_h, dnext_c, cache, Wx, Wh, bug):
    x, prev_h, prev_c, i, f, o, g, c, tc = cache
    if bug == "forward_h_is_o_c":
        do, dc = dnext_h * c, dnext_c + dnext_h * o
    else:
        do = dnext_h * (c if bug in ("do_times_c", "do_times_c_and_no_dc_carry") else tc)
        if bug == "dc_without_tanh_grad":
            dc = dnext_c + dnext_h * o
        elif bug in ("dnext_c_not_added", "do_times_c_and_no_dc_carry"):
            dc = dnext_h * o * (1 - tc ** 2)
        elif bug == "tanh_grad_twice":
            dc = dnext_c + dnext_h * o * (1 - tc ** 2) * (1 - tc ** 2)
        elif bug == "tanh_grad_squared_wrong":
            dc = dnext_c + dnext_h * o * (1 - tc) ** 2
        else:
            dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    di, dg = dc * g, dc * i
    df = dc * (c if bug == "df_times_c_t" else prev_c)
    dprev_c = dc * f
    da_i = di * (g * (1 - g) if bug == "da_i_sig_at_g" else i * (1 - i))
    da_f = df * f * (f - 1) if bug == "da_f_sign" else df * f * (1 - f)
    da_o = do * o * (1 - o)
    da_g = dg * g * (1 - g) if bug == "da_g_sigmoid_grad" else dg * (1 - g ** 2)
    blocks = [da_i, da_f, da_g, da_o] if bug == "da_stacked_ifgo" else [da_i, da_f, da_o, da_g]
    da = np.concatenate(blocks, axis=1)
    db = da.mean(axis=0) if bug == "db_mean_over_batch" else da.sum(axis=0)
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, db


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    h, c = h0, np.zeros_like(h0)
    hs, caches = [], []
    for t in range(T):
        h, c, cache = step_forward(x[:, t], h, c, Wx, Wh, b, bug)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), (caches, Wx, Wh)


def lstm_backward(dh, everything, bug=None):
    caches, Wx, Wh = everything
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        if bug == "dh_carry_replaces":
            dnext_h = dh[:, t]
            if t < T - 1:
                dnext_h = dprev_h
        else:
            dnext_h = dh[:, t] + dprev_h
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = step_backward(dnext_h, dprev_c, caches[t], Wx, Wh, bug)
        dx[:, t] = dx_t
        np.add.at(dWx, Ellipsis, dWx_t)
        np.add.at(dWh, Ellipsis, dWh_t)
        np.add.at(db, Ellipsis, db_t)
        if bug == "truncated_after_two" and t == T - 2:
            dprev_h, dprev_c = np.zeros_like(dprev_h), np.zeros_like(dprev_c)
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}


TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "do_times_c": "o",
    "dc_without_tanh_grad": "ig",
    "df_times_c_t": "f",
    "dnext_c_not_added": "",
    "dh_carry_replaces": "",
    "da_stacked_ifgo": "go",
    "da_g_sigmoid_grad": "g",
    "da_f_sign": "",
    "db_mean_over_batch": "",
    "forward_h_is_o_c": "",
    "tanh_grad_twice": "ig",
    "prev_c_scaled_in_place": "",
    "truncated_after_two": "",
    "da_i_sig_at_g": "i",
    "tanh_grad_squared_wrong": "ig",
    "do_times_c_and_no_dc_carry": "o",
}

"""An LSTM on the built-in ``cs231n`` layout written the way an engineer vectorizes it: the
input projection of every step is computed once before the loop, the loop keeps only the
recurrent product, the activated gates and cell states go into preallocated (N, T, .)
arrays, and the backward collects every step's pre-activation gradient into one (N, T, 4H)
array and forms dWx, dWh, db and dx after the loop with reshaped matmuls:

    xw = x @ Wx + b                              (N, T, 4H), blocks i, f, o, g
    a_t = xw[:, t] + h_(t-1) @ Wh                i, f, o = sigmoid(a_i, a_f, a_o)   g = tanh(a_g)
    c_t = f * c_(t-1) + i * g                    h_t = o * tanh(c_t)               (c0 = 0)

Twenty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dWh_from_h_t": "wrong_time",                         # dWh from hs (h_t) instead of the shifted h_(t-1)
    "do_times_c": "wrong_value",                          # do = dh_t * c_t: c read for tanh(c_t)
    "dg_sigmoid_prime": "derivative_wrong_function",      # dg * g * (1 - g): sigmoid' for the tanh block
    "df_no_sigmoid_prime": "derivative_missing",          # da_f = dc * c_prev (f * (1 - f) left out)
    "da_blocks_ifgo": "gate_order",                       # da written in torch's i, f, g, o order for blocks i, f, o, g
    "dc_carry_without_f": "term_dropped",                 # dc_next = dc: the factor f left out of the cell carry
    "forward_bias_twice": "forward_mistake",              # a_t = xw[:, t] + h @ Wh + b (b already in xw); db = 2 * sum
    "loop_forward_in_time": "loop_direction",             # for t in range(T) in the backward
    "truncated_after_3": "truncated_bptt",                # the h and c carries zeroed 3 steps before the end
    "tanh_c_squared_in_place": "inplace_corruption",      # sq = tanh_c[:, t]; sq **= 2 (a view of the cache) before do
    "di_sigmoid_sign": "wrong_sign",                      # da_i = di * i * (i - 1)
    "dWx_over_T_and_do_no_prime": "unknown",              # dWx /= T and da_o = do (two mistakes)
    "dc_times_0p5": "unknown",                            # dc from h scaled by an arbitrary 0.5
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dWh_from_h_t": "",
    "do_times_c": "o",
    "dg_sigmoid_prime": "g",
    "df_no_sigmoid_prime": "",
    "da_blocks_ifgo": "go",
    "dc_carry_without_f": "",
    "forward_bias_twice": "",
    "loop_forward_in_time": "",
    "truncated_after_3": "",
    "tanh_c_squared_in_place": "o",
    "di_sigmoid_sign": "i",
    "dWx_over_T_and_do_no_prime": "o",
    "dc_times_0p5": "ig",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    xw = x @ Wx + b                                      # every step's input projection at once
    hs = np.zeros((N, T, H), dtype=x.dtype)
    cs = np.zeros((N, T, H), dtype=x.dtype)
    acts = np.zeros((N, T, 4 * H), dtype=x.dtype)        # activated i, f, o, g
    h, c = h0, np.zeros_like(h0)
    for t in range(T):
        a = xw[:, t] + h @ Wh
        if bug == "forward_bias_twice":
            a = a + b
        acts[:, t, :3 * H] = sigmoid(a[:, :3 * H])
        acts[:, t, 3 * H:] = np.tanh(a[:, 3 * H:])
        i, f, o, g = np.split(acts[:, t], 4, axis=1)
        c = f * c + i * g
        h = o * np.tanh(c)
        hs[:, t], cs[:, t] = h, c
    return hs, {"x": x, "h0": h0, "hs": hs, "cs": cs, "acts": acts, "tanh_c": np.tanh(cs), "Wx": Wx, "Wh": Wh}


def lstm_backward(dh, cache, bug=None):
    x, hs, cs, acts, tanh_c = cache["x"], cache["hs"], cache["cs"], cache["acts"], cache["tanh_c"]
    Wx, Wh = cache["Wx"], cache["Wh"]
    N, T, H = dh.shape
    D = x.shape[2]
    da_all = np.zeros((N, T, 4 * H), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    steps = range(T) if bug == "loop_forward_in_time" else reversed(range(T))
    for t in steps:
        if bug == "truncated_after_3" and t == T - 4:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        i, f, o, g = np.split(acts[:, t], 4, axis=1)
        c_prev = cs[:, t - 1] if t > 0 else np.zeros((N, H), dtype=dh.dtype)
        d_h = dh[:, t] + dh_next
        if bug == "tanh_c_squared_in_place":
            sq = tanh_c[:, t]
            sq **= 2
            dc = dc_next + d_h * o * (1 - sq)
        else:
            local = d_h * o * (1 - tanh_c[:, t] ** 2)
            dc = dc_next + (0.5 * local if bug == "dc_times_0p5" else local)
        do = d_h * (cs[:, t] if bug == "do_times_c" else tanh_c[:, t])
        di, df, dg = dc * g, dc * c_prev, dc * i
        da_i = di * i * (i - 1) if bug == "di_sigmoid_sign" else di * i * (1 - i)
        da_f = df if bug == "df_no_sigmoid_prime" else df * f * (1 - f)
        da_o = do if bug == "dWx_over_T_and_do_no_prime" else do * o * (1 - o)
        da_g = dg * g * (1 - g) if bug == "dg_sigmoid_prime" else dg * (1 - g ** 2)
        blocks = [da_i, da_f, da_g, da_o] if bug == "da_blocks_ifgo" else [da_i, da_f, da_o, da_g]
        da = np.concatenate(blocks, axis=1)
        da_all[:, t] = da
        dh_next = da @ Wh.T
        dc_next = dc if bug == "dc_carry_without_f" else dc * f
    h_prev = hs if bug == "dWh_from_h_t" else np.concatenate([cache["h0"][:, None], hs[:, :-1]], axis=1)
    flat = da_all.reshape(N * T, 4 * H)
    dWx = x.reshape(N * T, D).T @ flat
    dWh = h_prev.reshape(N * T, H).T @ flat
    db = flat.sum(axis=0)
    if bug == "forward_bias_twice":
        db = 2 * db
    if bug == "dWx_over_T_and_do_no_prime":
        dWx /= T
    dx = da_all @ Wx.T
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

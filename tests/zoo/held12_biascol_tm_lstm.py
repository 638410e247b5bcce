"""A time-major LSTM (x (T, N, D), h (T, N, H)) whose bias is folded into its single weight
as a last column, the "append a 1 to the input" trick of older lecture notes:

    z_t = [x_t, h_(t-1), 1]                         (N, D+H+1)
    gates = z_t @ W.T                               W (4H, D+H+1), row blocks f, i, o, g
    f, i, o = s(...), g = tanh(...)
    c_t = f c_(t-1) + i g      h_t = o tanh(c_t)    c starts at zero (not an argument)

The backward forms dz = dgates @ W once and cuts it into dx, dh_prev (the 1's column is
dropped). forward(x, h0, W) -> (h, cache); backward -> (dx, dh0, dW).
Twelfth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dh_prev_slice_off_by_one": "wrong_weight",           # dh_prev = dz[:, D + 1:D + H + 1]: W's h columns shifted by one
    "z_rebuilt_with_h_t": "wrong_time",                   # dW += dgates.T @ [x_t, h_t, 1] (this step's h)
    "dgates_i_f_o_g": "gate_order",                       # dgates = [di, df, do, dg] for rows f, i, o, g
    "dg_no_tanh_grad": "derivative_missing",              # dg_pre = dg
    "di_sigmoid_grad_twice": "derivative_twice",          # di = dc * g * i (1 - i), then s'(i) again
    "do_from_c_prev": "wrong_time",                       # do = dh * tanh(c_(t-1))
    "dc_carry_without_f": "term_dropped",                 # dc_next = dc
    "h_carry_not_added": "carry_dropped",                 # dh_t = dh[t] (dh_next computed but not added)
    "dW_batch_mean": "reduction_scaled",                  # return dW / N
    "stops_before_t0": "loop_skips_step",                 # for t in range(T - 1, 0, -1)
    "dc_minus": "wrong_sign",                             # dc = dc_next - dh * o * tanh'(c)
    "forward_forgets_i": "forward_mistake",               # c_t = f c_(t-1) + g (no input gate); backward consistent
    "c_buffer_cached": "inplace_corruption",              # c *= f; c += i g on one buffer, cached every step
    "df_halved": "unknown",                               # df = 0.5 * dc * c_prev: an arbitrary constant
    "do_doubled": "unknown",                              # do = 2 * dh * tanh(c): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_prev_slice_off_by_one": "",
    "z_rebuilt_with_h_t": "",
    "dgates_i_f_o_g": "if",
    "dg_no_tanh_grad": "g",
    "di_sigmoid_grad_twice": "i",
    "do_from_c_prev": "o",
    "dc_carry_without_f": "",
    "h_carry_not_added": "",
    "dW_batch_mean": "",
    "stops_before_t0": "",
    "dc_minus": "ig",
    "forward_forgets_i": "",
    "c_buffer_cached": "f",
    "df_halved": "",
    "do_doubled": "o",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, W, bug=None):
    T, N, D = x.shape
    H = h0.shape[1]
    one = np.ones((N, 1), dtype=x.dtype)
    h = h0
    c = np.zeros_like(h0)
    hs = np.zeros((T, N, H), dtype=x.dtype)
    cache = {"z": [], "act": [], "c": [], "c_prev": [], "W": W, "D": D}
    for t in range(T):
        z = np.concatenate([x[t], h, one], axis=1)
        gates = z @ W.T
        f = sigmoid(gates[:, :H])
        i = sigmoid(gates[:, H:2 * H])
        o = sigmoid(gates[:, 2 * H:3 * H])
        g = np.tanh(gates[:, 3 * H:])
        if bug == "c_buffer_cached":
            cache["c_prev"].append(c)
            c *= f
            c += i * g
        else:
            cache["c_prev"].append(c)
            c = f * c + (g if bug == "forward_forgets_i" else i * g)
        h = o * np.tanh(c)
        hs[t] = h
        cache["z"].append(z)
        cache["act"].append((f, i, o, g))
        cache["c"].append(c)
    return hs, cache


def lstm_backward(dh, cache, bug=None):
    T, N, H = dh.shape
    W, D = cache["W"], cache["D"]
    dW = np.zeros_like(W)
    dx = np.zeros((T, N, D), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, 0 if bug == "stops_before_t0" else -1, -1):
        f, i, o, g = cache["act"][t]
        c, c_prev, z = cache["c"][t], cache["c_prev"][t], cache["z"][t]
        dh_t = dh[t] if bug == "h_carry_not_added" else dh[t] + dh_next
        tc = np.tanh(c)
        do = dh_t * (np.tanh(c_prev) if bug == "do_from_c_prev" else tc)
        if bug == "do_doubled":
            do = 2 * do
        if bug == "dc_minus":
            dc = dc_next - dh_t * o * (1 - tc ** 2)
        else:
            dc = dc_next + dh_t * o * (1 - tc ** 2)
        df = dc * c_prev
        if bug == "df_halved":
            df = 0.5 * df
        di = dc * g
        dg = dc if bug == "forward_forgets_i" else dc * i
        dc_next = dc if bug == "dc_carry_without_f" else dc * f
        df_pre = df * f * (1 - f)
        di_pre = di * i * (1 - i)
        if bug == "di_sigmoid_grad_twice":
            di_pre = di_pre * i * (1 - i)
        do_pre = do * o * (1 - o)
        dg_pre = dg if bug == "dg_no_tanh_grad" else dg * (1 - g ** 2)
        if bug == "forward_forgets_i":
            di_pre = np.zeros_like(di_pre)
        if bug == "dgates_i_f_o_g":
            dgates = np.concatenate([di_pre, df_pre, do_pre, dg_pre], axis=1)
        else:
            dgates = np.concatenate([df_pre, di_pre, do_pre, dg_pre], axis=1)
        if bug == "z_rebuilt_with_h_t":
            z = np.concatenate([z[:, :D], cache_h(cache, t), z[:, -1:]], axis=1)
        dW += dgates.T @ z
        dz = dgates @ W
        dx[t] = dz[:, :D]
        dh_next = dz[:, D + 1:D + H + 1] if bug == "dh_prev_slice_off_by_one" else dz[:, D:D + H]
    if bug == "dW_batch_mean":
        return dx, dh_next, dW / N
    return dx, dh_next, dW


def cache_h(cache, t):
    """h_t, read back from the next step's z (or recomputed for the last step)."""
    if t + 1 < len(cache["z"]):
        D = cache["D"]
        return cache["z"][t + 1][:, D:-1]
    f, i, o, g = cache["act"][t]
    return o * np.tanh(cache["c"][t])


ORDER = (1, 0, 3, 2)                                      # user blocks f, i, o, g -> canonical i, f, g, o


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    full = np.concatenate([p["weight_ih"], p["weight_hh"], b[:, None]], axis=1)    # canonical rows i, f, g, o
    return {"W": np.concatenate([full[k * H:(k + 1) * H] for k in ORDER])}


def to_canonical(cell, g, p):
    if "dW" not in g:
        return {}
    H, D = p["weight_hh"].shape[1], p["weight_ih"].shape[1]
    blocks = np.split(g["dW"], 4)                         # the user's f, i, o, g
    canon = np.concatenate([blocks[ORDER.index(k)] for k in range(4)])
    return {"dweight_ih": canon[:, :D], "dweight_hh": canon[:, D:D + H], "dbias_ih": canon[:, -1]}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="bias_column_lstm", cells=("lstm",), axes="TND",
                               takes_c0=False, gate_order="fiog")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W):
        return lstm_forward(x, h0, W, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

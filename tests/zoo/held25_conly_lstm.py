"""A memory-lean LSTM in the cs231n layout (Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f, o, g,
c0 = 0) with TF's forget bias (1.0, added to the f pre-activation at call time): the forward
stores only hs and cs (N, T, H) and the input; the backward recomputes each step's gates from
x_t and h_(t-1) before differentiating them.

    a = x_t Wx + h_(t-1) Wh + b     i, f, o = s(a_i), s(a_f + 1), s(a_o)   g = tanh(a_g)
    c_t = f c_(t-1) + i g           h_t = o tanh(c_t)

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "recompute_forgets_forget_bias": "forget_bias",  # backward recomputes f = s(a_f): the + 1.0 left out
    "recompute_forget_bias_twice": "forget_bias",   # a_f += 1.0, then f = s(a_f + 1.0) in the recompute
    "recompute_with_h_t": "wrong_time",             # gates recomputed from hs[:, t] (h_t) for h_(t-1)
    "df_with_c_t": "wrong_time",                    # df = dc * cs[:, t] (c_t for c_(t-1))
    "do_with_c": "wrong_value",                     # do = dh_t * c_t for dh_t * tanh(c_t)
    "dc_without_o": "term_dropped",                 # dc = dc_next + dh_t * (1 - tanh(c_t) ** 2): the factor o dropped
    "dc_carry_dropped": "carry_dropped",            # dc = dh_t * o * tanh'(c_t): dc_next never added
    "da_g_sigmoid_grad": "derivative_wrong_function",  # da_g = dg * g * (1 - g)
    "da_o_no_grad": "derivative_missing",           # da_o = do
    "blocks_in_torch_order": "gate_order",          # da = [da_i, da_f, da_g, da_o] for the layout's i, f, o, g
    "dh_prev_from_dWh": "gradient_for_weight",      # dh_next = da @ dWh.T (the running dWh for Wh)
    "clip_dh_each_step": "gradient_clipped",        # dh_t = np.clip(dh_t, -0.02, 0.02)
    "c_updated_in_place": "inplace_corruption",     # next_c = prev_c; next_c *= f: the stored c_(t-1) becomes c_t
    "no_forget_bias_no_carry": "unknown",           # two at once: recompute_forgets_forget_bias and dc_carry_dropped
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "recompute_forgets_forget_bias": "",
    "recompute_forget_bias_twice": "",
    "recompute_with_h_t": "",
    "df_with_c_t": "f",
    "do_with_c": "o",
    "dc_without_o": "ig",
    "dc_carry_dropped": "",
    "da_g_sigmoid_grad": "g",
    "da_o_no_grad": "o",
    "blocks_in_torch_order": "go",
    "dh_prev_from_dWh": "",
    "clip_dh_each_step": "",
    "c_updated_in_place": "",
    "no_forget_bias_no_carry": "",
}


def sig(v):
    return 1 / (1 + np.exp(-v))


def gates(x_t, h_prev, Wx, Wh, b, fb=FORGET_BIAS, twice=False):
    H = h_prev.shape[1]
    a = x_t @ Wx + h_prev @ Wh + b
    a_f = a[:, H:2 * H]
    if twice:
        a_f += fb
    return sig(a[:, :H]), sig(a_f + fb), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    hs = np.empty((N, T, H), dtype=x.dtype)
    cs = np.empty((N, T, H), dtype=x.dtype)
    h, c = h0, np.zeros_like(h0)
    for t in range(T):
        i, f, o, g = gates(x[:, t], h, Wx, Wh, b)
        if bug == "c_updated_in_place":
            next_c = c
            next_c *= f
            next_c += i * g
        else:
            next_c = f * c + i * g
        cs[:, t] = next_c
        c = cs[:, t]
        h = o * np.tanh(c)
        hs[:, t] = h
    return hs.copy(), (x, h0, hs, cs, Wx, Wh, b)


def lstm_backward(dh, cache, bug=None):
    x, h0, hs, cs, Wx, Wh, b = cache
    N, T, H = dh.shape
    dx = np.empty_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)
    dc_next = np.zeros_like(h0)
    fb = 0.0 if bug in ("recompute_forgets_forget_bias", "no_forget_bias_no_carry") else FORGET_BIAS
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[:, t - 1]
        c_prev = np.zeros_like(h0) if t == 0 else cs[:, t - 1]
        i, f, o, g = gates(x[:, t], hs[:, t] if bug == "recompute_with_h_t" else h_prev, Wx, Wh, b, fb,
                           twice=bug == "recompute_forget_bias_twice")
        tc = np.tanh(cs[:, t])
        dh_t = dh[:, t] + dh_next
        if bug == "clip_dh_each_step":
            dh_t = np.clip(dh_t, -0.02, 0.02)
        do = dh_t * (cs[:, t] if bug == "do_with_c" else tc)
        if bug == "dc_without_o":
            dc = dc_next + dh_t * (1 - tc ** 2)
        elif bug in ("dc_carry_dropped", "no_forget_bias_no_carry"):
            dc = dh_t * o * (1 - tc ** 2)
        else:
            dc = dc_next + dh_t * o * (1 - tc ** 2)
        di, dg = dc * g, dc * i
        df = dc * (cs[:, t] if bug == "df_with_c_t" else c_prev)
        dc_next = dc * f
        da_i, da_f = di * i * (1 - i), df * f * (1 - f)
        da_o = do if bug == "da_o_no_grad" else do * o * (1 - o)
        da_g = dg * g * (1 - g) if bug == "da_g_sigmoid_grad" else dg * (1 - g ** 2)
        if bug == "blocks_in_torch_order":
            da = np.hstack([da_i, da_f, da_g, da_o])
        else:
            da = np.hstack([da_i, da_f, da_o, da_g])
        dWx += x[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dx[:, t] = da @ Wx.T
        dh_next = da @ (dWh.T if bug == "dh_prev_from_dWh" else Wh.T)
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": FORGET_BIAS}

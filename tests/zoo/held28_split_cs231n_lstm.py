"""An LSTM as a chatbot answer writes it, in the cs231n layout (x (N, T, D), Wx (D, 4H),
Wh (H, 4H), b (4H,), blocks i, f, o, g, c0 = 0): one ``np.split`` of the pre-activation
into four, a ``sig`` lambda, one tuple per step in the cache, the backward ``zip``ping the
reversed tuples with the reversed upstream gradients and stacking the four local
gradients with ``np.hstack``. Twenty-eighth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

BUGS = {
    "do_times_c": "wrong_value",                         # do = dh_t * c for dh_t * tanh(c)
    "dc_without_dc_next": "carry_dropped",               # dc = dh_t * o * (1 - tc**2): the cell carry not added
    "dc_next_without_f": "term_dropped",                 # dc_next = dc: the factor f left out of the cell carry
    "df_with_c_t": "wrong_time",                         # df = dc * c for dc * c_prev
    "hstack_torch_order": "gate_order",                  # np.hstack([da_i, da_f, da_g, da_o]): torch's i, f, g, o
    "dc_without_tanh_grad": "derivative_missing",        # dc = dc_next + dh_t * o
    "df_sigmoid_grad_twice": "derivative_twice",         # df = dc * c_prev * f * (1 - f), and hstack again * f * (1 - f)
    "da_g_sigmoid_grad": "derivative_wrong_function",    # dg * g * (1 - g)
    "da_o_sign": "wrong_sign",                           # do * o * (o - 1)
    "dh_next_from_dWh": "gradient_for_weight",           # dh_next = da @ dWh.T (dWh accumulated just above)
    "truncate_two_steps": "truncated_bptt",              # both carries zeroed once 2 steps have been walked back
    "c_updated_in_place": "inplace_corruption",          # c *= f; c += i * g: the cached c_prev is the same array
    "db_batch_mean": "reduction_scaled",                 # db += da.mean(0)
    "forward_h_without_tanh": "forward_mistake",         # h = o * c; backward do = dh * c, dc = dc_next + dh * o
    "forward_forget_bias_one": "forget_bias",            # f = sig(a_f + 1.0) in forward and backward's cache
    "df_at_c_and_g_sign": "unknown",                     # two mistakes: df = dc * c and da_g = dg * (g**2 - 1)
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "do_times_c": "o",
    "dc_without_dc_next": "",
    "dc_next_without_f": "",
    "df_with_c_t": "f",
    "hstack_torch_order": "go",
    "dc_without_tanh_grad": "ig",
    "df_sigmoid_grad_twice": "",
    "da_g_sigmoid_grad": "g",
    "da_o_sign": "o",
    "dh_next_from_dWh": "",
    "truncate_two_steps": "",
    "c_updated_in_place": "f",
    "db_batch_mean": "",
    "forward_h_without_tanh": "",
    "forward_forget_bias_one": "",
    "df_at_c_and_g_sign": "fg",
}

sig = lambda a: 1 / (1 + np.exp(-a))                     # noqa: E731


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    h, c = h0, np.zeros_like(h0)
    hs, cache = [], []
    for x_t in np.moveaxis(x, 1, 0):
        i, f, o, g = np.split(x_t @ Wx + h @ Wh + b, 4, axis=1)
        if bug == "forward_forget_bias_one":
            f = f + 1.0
        i, f, o, g = sig(i), sig(f), sig(o), np.tanh(g)
        c_prev, h_prev = c, h
        if bug == "c_updated_in_place":
            c *= f
            c += i * g
        else:
            c = f * c + i * g
        h = o * (c if bug == "forward_h_without_tanh" else np.tanh(c))
        hs.append(h)
        cache.append((x_t, h_prev, c_prev, i, f, o, g, c))
    return np.stack(hs, 1), (cache, Wx, Wh)


def lstm_backward(dh, cache, bug=None):
    steps, Wx, Wh = cache
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(Wx[0])
    dxs = []
    dh_next = np.zeros_like(steps[0][1])
    dc_next = np.zeros_like(dh_next)
    for k, ((x_t, h_prev, c_prev, i, f, o, g, c), dh_t) in enumerate(zip(reversed(steps),
                                                                          reversed(np.moveaxis(dh, 1, 0)))):
        dh_t = dh_t + dh_next
        tc = c if bug == "forward_h_without_tanh" else np.tanh(c)
        if bug == "dc_without_dc_next":
            dc = dh_t * o * (1 - tc ** 2)
        elif bug in ("dc_without_tanh_grad", "forward_h_without_tanh"):
            dc = dc_next + dh_t * o
        else:
            dc = dc_next + dh_t * o * (1 - tc ** 2)
        di, dg = dc * g, dc * i
        df = dc * (c if bug in ("df_with_c_t", "df_at_c_and_g_sign") else c_prev)
        do = dh_t * (c if bug == "do_times_c" else tc)
        if bug == "df_sigmoid_grad_twice":
            df = df * f * (1 - f)
        da_i, da_f = di * i * (1 - i), df * f * (1 - f)
        da_o = do * o * (o - 1) if bug == "da_o_sign" else do * o * (1 - o)
        if bug == "da_g_sigmoid_grad":
            da_g = dg * g * (1 - g)
        elif bug == "df_at_c_and_g_sign":
            da_g = dg * (g ** 2 - 1)
        else:
            da_g = dg * (1 - g ** 2)
        da = np.hstack([da_i, da_f, da_g, da_o] if bug == "hstack_torch_order" else [da_i, da_f, da_o, da_g])
        dWx += x_t.T @ da
        dWh += h_prev.T @ da
        db += da.mean(0) if bug == "db_batch_mean" else da.sum(0)
        dxs.append(da @ Wx.T)
        dh_next = da @ (dWh.T if bug == "dh_next_from_dWh" else Wh.T)
        dc_next = dc if bug == "dc_next_without_f" else dc * f
        if bug == "truncate_two_steps" and k + 1 >= 2:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
    return np.stack(dxs[::-1], 1), dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

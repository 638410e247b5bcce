"""An LSTM on the built-in ``cs231n`` layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,),
gate blocks i, f, o, g, c0 = 0) whose forward records a TAPE of backward closures, one per
step, each bound to that step's saved values (a dict ``s``) through a default argument;
the backward just plays the tape in reverse:

    for t in reversed(range(T)):
        dx[:, t], dh_carry, dc_carry = tape[t](dh[:, t] + dh_carry, dc_carry)

The weight gradients go into a dict ``grads`` created by the forward. Eleventh held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dc_tanh_grad_missing": "derivative_missing",         # dc += dnext_h * o (tanh'(c) left out)
    "dg_tanh_of_g_again": "derivative_wrong_point",       # da_g = dg * (1 - tanh(g) ** 2): g is already a tanh
    "df_reads_prev_h": "wrong_value",                     # df = dc * s["h_prev"] for c_prev
    "o_read_from_g_block": "wrong_value",                 # o = sigmoid(a[:, 3H:]) recomputed from the g block in the backward
    "g_block_weight_from_o": "wrong_weight",              # dprev_h's g part through Wh[:, 2H:3H] (o's block)
    "dc_local_overwrites_carry": "carry_overwrites",      # dc = dnext_h * o * tanh'(c) (= for +=)
    "h_carry_not_fed_back": "carry_dropped",              # tape[t](dh[:, t], dc_carry): the h carry never added
    "tape_played_forward": "loop_direction",              # for t in range(T) (the tape not reversed)
    "db_mean_over_batch": "reduction_scaled",             # grads["b"] += da.mean(axis=0)
    "da_o_sign": "wrong_sign",                            # da_o = do * o * (o - 1)
    "dgates_torch_order": "gate_order",                   # da = [da_i, da_f, da_g, da_o] for blocks i, f, o, g
    "forward_c_updated_in_place": "inplace_corruption",   # c = c_prev; c *= f; c += i * g: every saved c_prev is the last c
    "forward_no_forget_gate": "forward_mistake",          # c = c_prev + i * g; backward consistent (f = 1)
    "closure_late_binding": "unknown",                    # lambda without s=s: every closure reads the last step's s
    "dg_with_c_and_no_o_grad": "unknown",                 # dg = dc * c AND da_o = do (two mistakes)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dc_tanh_grad_missing": "ig",
    "dg_tanh_of_g_again": "g",
    "df_reads_prev_h": "f",
    "o_read_from_g_block": "",
    "g_block_weight_from_o": "",
    "dc_local_overwrites_carry": "",
    "h_carry_not_fed_back": "",
    "tape_played_forward": "",
    "db_mean_over_batch": "",
    "da_o_sign": "o",
    "dgates_torch_order": "go",
    "forward_c_updated_in_place": "f",
    "forward_no_forget_gate": "",
    "closure_late_binding": "",
    "dg_with_c_and_no_o_grad": "go",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _step_back(dnext_h, dnext_c, s, grads, Wx, Wh, bug):
    H = dnext_h.shape[1]
    i, f, o, g, tc = s["i"], s["f"], s["o"], s["g"], s["tc"]
    if bug == "o_read_from_g_block":
        o = sigmoid(s["a"][:, 3 * H:])
    do = dnext_h * tc
    dc = dnext_c
    if bug == "dc_tanh_grad_missing":
        dc = dc + dnext_h * o
    elif bug == "dc_local_overwrites_carry":
        dc = dnext_h * o * (1 - tc ** 2)
    else:
        dc = dc + dnext_h * o * (1 - tc ** 2)
    di = dc * g
    df = dc * (s["h_prev"] if bug == "df_reads_prev_h" else s["c_prev"])
    dg = dc * s["c"] if bug == "dg_with_c_and_no_o_grad" else dc * i
    da_i = di * i * (1 - i)
    da_f = df * f * (1 - f)
    if bug == "da_o_sign":
        da_o = do * o * (o - 1)
    elif bug == "dg_with_c_and_no_o_grad":
        da_o = do
    else:
        da_o = do * o * (1 - o)
    da_g = dg * (1 - np.tanh(g) ** 2) if bug == "dg_tanh_of_g_again" else dg * (1 - g ** 2)
    if bug == "dgates_torch_order":
        da = np.hstack([da_i, da_f, da_g, da_o])
    else:
        da = np.hstack([da_i, da_f, da_o, da_g])
    grads["Wx"] += s["x"].T @ da
    grads["Wh"] += s["h_prev"].T @ da
    grads["b"] += da.mean(axis=0) if bug == "db_mean_over_batch" else da.sum(axis=0)
    dx = da @ Wx.T
    if bug == "g_block_weight_from_o":
        dprev_h = da[:, :3 * H] @ Wh[:, :3 * H].T + da_g @ Wh[:, 2 * H:3 * H].T
    else:
        dprev_h = da @ Wh.T
    return dx, dprev_h, dc * f


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    grads = {"Wx": np.zeros_like(Wx), "Wh": np.zeros_like(Wh), "b": np.zeros_like(b)}
    hs = np.zeros((N, T, H), dtype=x.dtype)
    tape = []
    h, c = h0, np.zeros_like(h0)
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        if bug == "forward_no_forget_gate":
            f = np.ones_like(f)
        h_prev, c_prev = h, c
        if bug == "forward_c_updated_in_place":
            c = c_prev
            c *= f
            c += i * g
        else:
            c = f * c_prev + i * g
        tc = np.tanh(c)
        h = o * tc
        hs[:, t] = h
        s = {"x": x[:, t], "h_prev": h_prev, "c_prev": c_prev, "a": a, "i": i, "f": f, "o": o, "g": g, "tc": tc,
             "c": c}
        if bug == "closure_late_binding":
            tape.append(lambda dnh, dnc: _step_back(dnh, dnc, s, grads, Wx, Wh, bug))
        else:
            tape.append(lambda dnh, dnc, s=s: _step_back(dnh, dnc, s, grads, Wx, Wh, bug))
    return hs, (tape, grads, D)


def lstm_backward(dh, cache, bug=None):
    tape, grads, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dh_carry = np.zeros((N, H), dtype=dh.dtype)
    dc_carry = np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T) if bug == "tape_played_forward" else reversed(range(T))):
        if bug == "h_carry_not_fed_back":
            dx[:, t], dh_prev, dc_carry = tape[t](dh[:, t], dc_carry)
            continue
        dx[:, t], dh_carry, dc_carry = tape[t](dh[:, t] + dh_carry, dc_carry)
    dh0 = dh_prev if bug == "h_carry_not_fed_back" else dh_carry
    return dx, dh0, grads["Wx"], grads["Wh"], grads["b"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

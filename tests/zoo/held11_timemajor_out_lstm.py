"""An LSTM written time-major with pre-allocated arrays and NumPy's out= arguments: x (T, N, D),
h0, c0 (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,), gate blocks i, f, g, o (declared), TF's
forget_bias = 1.0 added to the f pre-activation (declared to the check). States live in
HS, CS (T + 1, N, H) with HS[0] = h0, CS[0] = c0; the forward keeps the pre-activations A
and the gates G (T, N, 4H). The backward loop only fills dA (T, N, 4H); the weight
gradients and dx come after the loop in one tensordot / matmul over all steps:

    dWx = sum_t x[t].T @ dA[t]      dWh = sum_t HS[t].T @ dA[t]      dx = dA @ Wx.T

Returns (h, c, cache). Eleventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "dWh_from_HS_shifted": "wrong_time",                  # dWh = tensordot(HS[1:], dA): h_t for h_(t-1)
    "f_sliced_from_i_block": "wrong_value",               # f = G[t][:, :H] (the i block) in the backward
    "dg_without_i": "term_dropped",                       # dg = dc
    "dtanh_g_miswritten": "derivative_miswritten",        # (1 - g) ** 2 for 1 - g ** 2
    "do_no_sigmoid_grad": "derivative_missing",           # dA_o = do
    "di_sigmoid_grad_at_f": "derivative_wrong_point",     # di * f * (1 - f)
    "dc_local_term_subtracted": "wrong_sign",             # dc = dc_next - dh_t * o * (1 - tc ** 2)
    "o_block_weight_untransposed": "weight_transposed",   # dh_prev's o part: dA_o @ Wh[:, 3H:] (not .T)
    "backward_f_without_forget_bias": "forget_bias",      # da_f from sigmoid(A_f), the forget bias left out
    "dWx_averaged_over_time": "reduction_scaled",         # dWx = tensordot(x, dA) / T
    "dc_clipped": "gradient_clipped",                     # np.clip(dc, -0.1, 0.1, out=dc) every step
    "loop_stops_at_1": "loop_skips_step",                 # for t in range(T - 1, 0, -1)
    "forward_c_written_over_prev": "inplace_corruption",  # multiply(f, CS[t], out=CS[t]); CS[t] += i g; CS[t + 1] = CS[t]
    "forward_h_is_tanh_of_o_c": "forward_mistake",        # h = tanh(o * c); backward consistent
    "dh_prev_scaled_0_9": "unknown",                      # dh_prev *= 0.9 (an arbitrary constant)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dWh_from_HS_shifted": "",
    "f_sliced_from_i_block": "f",
    "dg_without_i": "g",
    "dtanh_g_miswritten": "g",
    "do_no_sigmoid_grad": "o",
    "di_sigmoid_grad_at_f": "i",
    "dc_local_term_subtracted": "ifg",
    "o_block_weight_untransposed": "",
    "backward_f_without_forget_bias": "f",
    "dWx_averaged_over_time": "",
    "dc_clipped": "ifg",
    "loop_stops_at_1": "",
    "forward_c_written_over_prev": "f",
    "forward_h_is_tanh_of_o_c": "",
    "dh_prev_scaled_0_9": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, Wx, Wh, b, bug=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    HS = np.empty((T + 1, N, H), dtype=x.dtype)
    CS = np.empty((T + 1, N, H), dtype=x.dtype)
    A = np.empty((T, N, 4 * H), dtype=x.dtype)
    G = np.empty((T, N, 4 * H), dtype=x.dtype)
    HS[0], CS[0] = h0, c0
    for t in range(T):
        np.matmul(x[t], Wx, out=A[t])
        A[t] += HS[t] @ Wh + b
        G[t, :, :H] = sigmoid(A[t, :, :H])
        G[t, :, H:2 * H] = sigmoid(A[t, :, H:2 * H] + FORGET_BIAS)
        G[t, :, 2 * H:3 * H] = np.tanh(A[t, :, 2 * H:3 * H])
        G[t, :, 3 * H:] = sigmoid(A[t, :, 3 * H:])
        i, f, g, o = np.split(G[t], 4, axis=1)
        if bug == "forward_c_written_over_prev":
            np.multiply(f, CS[t], out=CS[t])
            CS[t] += i * g
            CS[t + 1] = CS[t]
        else:
            np.multiply(f, CS[t], out=CS[t + 1])
            CS[t + 1] += i * g
        if bug == "forward_h_is_tanh_of_o_c":
            np.tanh(o * CS[t + 1], out=HS[t + 1])
        else:
            np.multiply(o, np.tanh(CS[t + 1]), out=HS[t + 1])
    return HS[1:], CS[1:], (x, HS, CS, A, G, Wx, Wh)


def lstm_backward(dh, cache, bug=None):
    x, HS, CS, A, G, Wx, Wh = cache
    T, N, H = dh.shape
    dA = np.zeros_like(G)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T - 1, 0, -1) if bug == "loop_stops_at_1" else range(T - 1, -1, -1)):
        i, f, g, o = np.split(G[t], 4, axis=1)
        if bug == "f_sliced_from_i_block":
            f = G[t][:, :H]
        dh_t = dh[t] + dh_next
        if bug == "forward_h_is_tanh_of_o_c":
            th = HS[t + 1]
            dpre = dh_t * (1 - th ** 2)
            do = dpre * CS[t + 1]
            dc = dc_next + dpre * o
        else:
            tc = np.tanh(CS[t + 1])
            do = dh_t * tc
            if bug == "dc_local_term_subtracted":
                dc = dc_next - dh_t * o * (1 - tc ** 2)
            else:
                dc = dc_next + dh_t * o * (1 - tc ** 2)
        if bug == "dc_clipped":
            np.clip(dc, -0.1, 0.1, out=dc)
        di, df = dc * g, dc * CS[t]
        dg = dc if bug == "dg_without_i" else dc * i
        np.multiply(di, f * (1 - f) if bug == "di_sigmoid_grad_at_f" else i * (1 - i), out=dA[t, :, :H])
        if bug == "backward_f_without_forget_bias":
            sf = sigmoid(A[t, :, H:2 * H])
        else:
            sf = f
        np.multiply(df, sf * (1 - sf), out=dA[t, :, H:2 * H])
        np.multiply(dg, (1 - g) ** 2 if bug == "dtanh_g_miswritten" else 1 - g ** 2, out=dA[t, :, 2 * H:3 * H])
        if bug == "do_no_sigmoid_grad":
            dA[t, :, 3 * H:] = do
        else:
            np.multiply(do, o * (1 - o), out=dA[t, :, 3 * H:])
        dh_prev = np.zeros((N, H), dtype=dh.dtype)
        for k in range(4):
            blk = slice(k * H, (k + 1) * H)
            W_k = Wh[:, blk] if (bug == "o_block_weight_untransposed" and k == 3) else Wh[:, blk].T
            dh_prev += dA[t, :, blk] @ W_k
        if bug == "dh_prev_scaled_0_9":
            dh_prev *= 0.9
        dh_next = dh_prev
        np.multiply(dc, f, out=dc_next)
    dWx = np.tensordot(x, dA, axes=([0, 1], [0, 1]))
    if bug == "dWx_averaged_over_time":
        dWx /= T
    dWh = np.tensordot(HS[1:] if bug == "dWh_from_HS_shifted" else HS[:-1], dA, axes=([0, 1], [0, 1]))
    db = dA.sum(axis=(0, 1))
    dx = dA @ Wx.T
    return dx, dh_next, dc_next, dWx, dWh, db


def to_user(cell, p):
    return {"Wx": p["weight_ih"].T.copy(), "Wh": p["weight_hh"].T.copy(), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dWx" in grads:
        out["dweight_ih"] = grads["dWx"].T
    if "dWh" in grads:
        out["dweight_hh"] = grads["dWh"].T
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="timemajor_out_lstm", cells=("lstm",), axes="TND",
                               gate_order="ifgo", forward_returns=("h", "c", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, Wx, Wh, b):
        return lstm_forward(x, h0, c0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

"""An LSTM ported by hand from MXNet Gluon's ``rnn.LSTMCell`` (batch-first "NTC" layout):
the parameter names ``i2h_weight`` (4H, D), ``h2h_weight`` (4H, H), ``i2h_bias``,
``h2h_bias`` (4H,), ``FullyConnected`` as x @ W.T + b, ``SliceChannel`` into
in_gate, forget_gate, in_transform, out_gate (Gluon's order i, f, c, o), the states a list
``[h, c]``; the backward keeps Gluon's names.

    gates = FC(x_t, i2h) + FC(h_(t-1), h2h)
    next_c = forget_gate * c_(t-1) + in_gate * in_transform     next_h = out_gate * tanh(next_c)

x (N, T, D), h0, c0 (N, H). Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dout_gate_with_c": "wrong_value",                  # dout_gate = dh * next_c (next_c read for tanh(next_c))
    "dforget_with_next_c": "wrong_time",                # dforget_gate = dc * next_c (c_t for c_(t-1))
    "din_transform_sigmoid_grad": "derivative_wrong_function",  # in_transform * (1 - in_transform) for 1 - in_transform**2
    "dc_without_dtanh": "derivative_missing",           # dc = dc_next + dh * out_gate (tanh' of next_c left out)
    "dforget_sign": "wrong_sign",                       # forget_gate * (forget_gate - 1)
    "c_grad_not_carried": "carry_dropped",              # dc = dh * out_gate * (1 - tanh_c^2): dc_next never added
    "dh_prev_without_out_block": "term_dropped",        # dprev_h sums the i, f, c blocks of h2h only
    "backward_slices_i_f_o_c": "gate_order",            # dgates stacked [i, f, o, c] in the backward
    "forget_bias_from_initializer": "forget_bias",      # forward adds 1.0 to the forget slice (LSTMBias(forget_bias=1) taken as an op); backward consistent
    "in_block_reads_forget_rows": "wrong_weight",       # din @ h2h_weight[H:2H] (forget's rows) in dprev_h
    "dh2h_over_T": "reduction_scaled",                  # dh2h_weight / T
    "loop_skips_last": "loop_skips_step",               # for t in reversed(range(T - 1))
    "c_updated_in_place": "inplace_corruption",         # c = states[1]; c *= forget_gate; c += ...: the cached c_(t-1) becomes c_t
    "dout_gate_with_c_and_no_c_carry": "unknown",       # two at once: dout_gate_with_c and c_grad_not_carried
}

TOUCHES = {
    "dout_gate_with_c": "o",
    "dforget_with_next_c": "f",
    "din_transform_sigmoid_grad": "g",
    "dc_without_dtanh": "ifg",
    "dforget_sign": "f",
    "c_grad_not_carried": "",
    "dh_prev_without_out_block": "",
    "backward_slices_i_f_o_c": "go",
    "forget_bias_from_initializer": "",
    "in_block_reads_forget_rows": "",
    "dh2h_over_T": "",
    "loop_skips_last": "",
    "c_updated_in_place": "f",
    "dout_gate_with_c_and_no_c_carry": "o",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def fully_connected(data, weight, bias):
    return data @ weight.T + bias


def lstm_cell(inputs, states, params, bug):
    i2h = fully_connected(inputs, params["i2h_weight"], params["i2h_bias"])
    h2h = fully_connected(states[0], params["h2h_weight"], params["h2h_bias"])
    gates = i2h + h2h
    slice_gates = np.split(gates, 4, axis=1)
    in_gate = sigmoid(slice_gates[0])
    forget_gate = sigmoid(slice_gates[1] + (1.0 if bug == "forget_bias_from_initializer" else 0.0))
    in_transform = np.tanh(slice_gates[2])
    out_gate = sigmoid(slice_gates[3])
    if bug == "c_updated_in_place":
        next_c = states[1]
        next_c *= forget_gate
        next_c += in_gate * in_transform
    else:
        next_c = forget_gate * states[1] + in_gate * in_transform
    next_h = out_gate * np.tanh(next_c)
    saved = dict(inputs=inputs, h=states[0], c=states[1], in_gate=in_gate, forget_gate=forget_gate,
                 in_transform=in_transform, out_gate=out_gate, next_c=next_c)
    return next_h, [next_h, next_c], saved


def lstm_cell_backward(dh, dc_next, s, params, bug):
    H = dh.shape[1]
    tanh_c = np.tanh(s["next_c"])
    if bug in ("dout_gate_with_c", "dout_gate_with_c_and_no_c_carry"):
        dout_gate = dh * s["next_c"]
    else:
        dout_gate = dh * tanh_c
    if bug == "dc_without_dtanh":
        dc = dc_next + dh * s["out_gate"]
    elif bug in ("c_grad_not_carried", "dout_gate_with_c_and_no_c_carry"):
        dc = dh * s["out_gate"] * (1 - tanh_c ** 2)
    else:
        dc = dc_next + dh * s["out_gate"] * (1 - tanh_c ** 2)
    din_gate = dc * s["in_transform"]
    dforget_gate = dc * (s["next_c"] if bug == "dforget_with_next_c" else s["c"])
    din_transform = dc * s["in_gate"]
    dc_prev = dc * s["forget_gate"]
    i, f, g, o = s["in_gate"], s["forget_gate"], s["in_transform"], s["out_gate"]
    d0 = din_gate * i * (1 - i)
    d1 = dforget_gate * f * ((f - 1) if bug == "dforget_sign" else (1 - f))
    d2 = din_transform * (g * (1 - g) if bug == "din_transform_sigmoid_grad" else (1 - g ** 2))
    d3 = dout_gate * o * (1 - o)
    blocks = [d0, d1, d3, d2] if bug == "backward_slices_i_f_o_c" else [d0, d1, d2, d3]
    dgates = np.concatenate(blocks, axis=1)
    W = params["h2h_weight"]
    rows = [W[:H], W[H:2 * H], W[2 * H:3 * H], W[3 * H:]]
    if bug == "in_block_reads_forget_rows":
        rows[0] = W[H:2 * H]
    parts = np.split(dgates, 4, axis=1)
    n_blocks = 3 if bug == "dh_prev_without_out_block" else 4
    dh_prev = sum(parts[k] @ rows[k] for k in range(n_blocks))
    grads = {"i2h_weight": dgates.T @ s["inputs"], "h2h_weight": dgates.T @ s["h"],
             "i2h_bias": dgates.sum(axis=0), "h2h_bias": dgates.sum(axis=0)}
    return dgates @ params["i2h_weight"], dh_prev, dc_prev, grads


NAMES = ("i2h_weight", "h2h_weight", "i2h_bias", "h2h_bias")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        params = dict(zip(NAMES, (i2h_weight, h2h_weight, i2h_bias, h2h_bias)))
        states, outputs, saved = [h0, c0.copy()], [], []
        for t in range(x.shape[1]):
            out, states, s = lstm_cell(x[:, t], states, params, bug)
            outputs.append(out)
            saved.append(s)
        return np.stack(outputs, axis=1), (params, saved)

    def backward(dout, cache):
        params, saved = cache
        N, T, H = dout.shape
        grads = {k: np.zeros_like(v) for k, v in params.items()}
        dx = np.zeros((N, T, params["i2h_weight"].shape[1]), dtype=dout.dtype)
        dh_next, dc_next = np.zeros((N, H), dtype=dout.dtype), np.zeros((N, H), dtype=dout.dtype)
        for t in reversed(range(T - 1 if bug == "loop_skips_last" else T)):
            dx[:, t], dh_next, dc_next, g = lstm_cell_backward(dout[:, t] + dh_next, dc_next, saved[t], params, bug)
            for k in grads:
                grads[k] += g[k]
        if bug == "dh2h_over_T":
            grads["h2h_weight"] /= T
        return (dx, dh_next, dc_next) + tuple(grads[k] for k in NAMES)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}


def to_user(cell, p):
    return {"i2h_weight": p["weight_ih"], "h2h_weight": p["weight_hh"], "i2h_bias": p["bias_ih"],
            "h2h_bias": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"di2h_weight": "dweight_ih", "dh2h_weight": "dweight_hh", "di2h_bias": "dbias_ih",
             "dh2h_bias": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gluon_lstm", cells=("lstm",), gate_order="ifco",
                               gate_letters={"c": "g"})

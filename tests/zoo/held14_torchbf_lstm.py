"""torch's nn.LSTM(batch_first=True) ported to NumPy by someone reading its documentation
and autograd: torch's parameter names passed one by one, x (N, T, D) batch first,
``x_t @ weight_ih_l0.T``, the gates split with np.split into i, f, g, o, the bias pair kept
separate, and the pre-activations saved (as autograd saves a function's inputs) with the
activations recomputed in the backward:

    gates = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh       i, f, g, o = np.split(gates, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * tanh(g)              h = sigmoid(o) * tanh(c)

The backward splits the weights into the documentation's per-gate W_ii, W_if, ... and
W_hi, ... and works gate by gate. forward(x, h0, c0, weight_ih_l0, weight_hh_l0,
bias_ih_l0, bias_hh_l0) -> (output, (h_n, c_n), cache); backward(doutput, cache) -> a dict
(dx, dh0, dc0, dweight_ih_l0, ...). Fourteenth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "W_hf_transposed": "weight_transposed",              # da_f @ W_hf.T in dh_next
    "W_hg_for_W_ho": "wrong_weight",                     # da_o @ W_hg in dh_next (copy-paste of the line above)
    "dW_hg_block_transposed": "gradient_transposed",     # dweight_hh's g block += h_prev.T @ da_g
    "dh_next_from_dW_hf": "gradient_for_weight",         # da_f @ dW_hh[H:2H] (the running gradient) in dh_next
    "backward_splits_i_f_o_g": "gate_order",             # W_ii, W_if, W_io, W_ig = np.split(W_ih, 4) (and W_hh) in the backward
    "dg_grad_at_preactivation": "derivative_wrong_point",  # da_g = dg * (1 - a_g ** 2)
    "h_prev_from_output_t": "wrong_time",                # h_prev = output[:, t] (h_t) in the backward's dW_hh
    "dh_next_not_added": "carry_dropped",                # dh = doutput[:, t]
    "dc_misses_tanh_grad": "derivative_missing",         # dc = dc_next + dh * o
    "dx_misses_o": "term_dropped",                       # dx = da_i @ W_ii + da_f @ W_if + da_g @ W_ig
    "dg_reads_o": "wrong_value",                         # dg = dc * o (o read for i)
    "range_stops_at_1": "loop_skips_step",               # for t in range(T - 1, 0, -1)
    "forward_h_without_tanh": "forward_mistake",         # h = o * c; backward dc = dc_next + dh * o: consistent
    "sigmoid_in_place": "inplace_corruption",            # torch-like sigmoid_ on views of gates: the saved pre-activations
                                                         # hold sigmoid(a) and the backward takes sigmoid of them again
    "dg_sign_and_h_from_output_t": "unknown",            # two mistakes: da_g = dg * (g ** 2 - 1) and h_prev_from_output_t
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "W_hf_transposed": "",
    "W_hg_for_W_ho": "",
    "dW_hg_block_transposed": "g",
    "dh_next_from_dW_hf": "",
    "backward_splits_i_f_o_g": "",
    "dg_grad_at_preactivation": "g",
    "h_prev_from_output_t": "",
    "dh_next_not_added": "",
    "dc_misses_tanh_grad": "ifg",
    "dx_misses_o": "",
    "dg_reads_o": "g",
    "range_stops_at_1": "",
    "forward_h_without_tanh": "",
    "sigmoid_in_place": "",
    "dg_sign_and_h_from_output_t": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def sigmoid_(v):
    """In place, like torch's Tensor.sigmoid_."""
    np.negative(v, out=v)
    np.exp(v, out=v)
    v += 1
    np.reciprocal(v, out=v)
    return v


def activations(gates):
    a_i, a_f, a_g, a_o = np.split(gates, 4, axis=1)
    return sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)


def lstm_forward(x, h0, c0, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, bug=None):
    N, T, _ = x.shape
    h, c = h0, c0
    output = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    saved = []
    for t in range(T):
        x_t = x[:, t, :]
        gates = x_t @ weight_ih_l0.T + bias_ih_l0 + h @ weight_hh_l0.T + bias_hh_l0
        if bug == "sigmoid_in_place":
            H = h.shape[1]
            i, f = sigmoid_(gates[:, :H]), sigmoid_(gates[:, H:2 * H])
            g, o = np.tanh(gates[:, 2 * H:3 * H]), sigmoid_(gates[:, 3 * H:])
        else:
            i, f, g, o = activations(gates)
        c_prev = c
        c = f * c + i * g
        h = o * (c if bug == "forward_h_without_tanh" else np.tanh(c))
        output[:, t, :] = h
        saved.append((x_t, c_prev, gates, c))
    cache = (saved, output, h0, (weight_ih_l0, weight_hh_l0))
    return output, (h, c), cache


def lstm_backward(doutput, cache, bug=None):
    saved, output, h0, (W_ih, W_hh) = cache
    N, T, H = doutput.shape
    if bug == "backward_splits_i_f_o_g":
        W_ii, W_if, W_io, W_ig = np.split(W_ih, 4)
        W_hi, W_hf, W_ho, W_hg = np.split(W_hh, 4)
    else:
        W_ii, W_if, W_ig, W_io = np.split(W_ih, 4)
        W_hi, W_hf, W_hg, W_ho = np.split(W_hh, 4)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = np.zeros(4 * H, dtype=doutput.dtype)
    dx = np.zeros((N, T, W_ih.shape[1]), dtype=doutput.dtype)
    dh_next = np.zeros((N, H), dtype=doutput.dtype)
    dc_next = np.zeros((N, H), dtype=doutput.dtype)
    stop = 0 if bug == "range_stops_at_1" else -1
    for t in range(T - 1, stop, -1):
        x_t, c_prev, gates, c = saved[t]
        if bug in ("h_prev_from_output_t", "dg_sign_and_h_from_output_t"):
            h_prev = output[:, t]
        else:
            h_prev = output[:, t - 1] if t > 0 else h0
        i, f, g, o = activations(gates)
        dh = doutput[:, t] if bug == "dh_next_not_added" else doutput[:, t] + dh_next
        if bug == "forward_h_without_tanh":
            do = dh * c
            dc = dc_next + dh * o
        else:
            tc = np.tanh(c)
            do = dh * tc
            dc = dc_next + (dh * o if bug == "dc_misses_tanh_grad" else dh * o * (1 - tc ** 2))
        di, df = dc * g, dc * c_prev
        dg = dc * (o if bug == "dg_reads_o" else i)
        dc_next = dc * f
        da_i, da_f, da_o = di * i * (1 - i), df * f * (1 - f), do * o * (1 - o)
        if bug == "dg_grad_at_preactivation":
            da_g = dg * (1 - gates[:, 2 * H:3 * H] ** 2)
        elif bug == "dg_sign_and_h_from_output_t":
            da_g = dg * (g ** 2 - 1)
        else:
            da_g = dg * (1 - g ** 2)
        dgates = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
        dW_ih += dgates.T @ x_t
        for k, da in enumerate((da_i, da_f, da_g, da_o)):
            if bug == "dW_hg_block_transposed" and k == 2:
                dW_hh[k * H:(k + 1) * H] += h_prev.T @ da
            else:
                dW_hh[k * H:(k + 1) * H] += da.T @ h_prev
        db += dgates.sum(axis=0)
        dx[:, t] = da_i @ W_ii + da_f @ W_if + da_g @ W_ig
        if bug != "dx_misses_o":
            dx[:, t] += da_o @ W_io
        dh_next = da_i @ W_hi + da_g @ W_hg
        dh_next = dh_next + da_f @ (W_hf.T if bug == "W_hf_transposed" else
                                    dW_hh[H:2 * H] if bug == "dh_next_from_dW_hf" else W_hf)
        dh_next = dh_next + da_o @ (W_hg if bug == "W_hg_for_W_ho" else W_ho)
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next, "dweight_ih_l0": dW_ih, "dweight_hh_l0": dW_hh,
            "dbias_ih_l0": db, "dbias_hh_l0": db.copy()}


def to_user(cell, p):
    return {f"{k}_l0": v for k, v in p.items()}


def to_canonical(cell, grads, p):
    return {k[:-3]: v for k, v in grads.items() if k.endswith("_l0")}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_batch_first_lstm", cells=("lstm",),
                               forward_returns=("h", "state", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0):
        return lstm_forward(x, h0, c0, weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, bug)

    def backward(doutput, cache):
        return lstm_backward(doutput, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

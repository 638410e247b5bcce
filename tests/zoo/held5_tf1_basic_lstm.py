"""TF1's BasicLSTMCell ported to NumPy by a student, BPTT by hand, on the built-in
``tf_kernel`` layout with forget_bias = 1.0 (declared to the check): x (N, T, D), h0, c0
(N, H), kernel (D+H, 4H) on concat([inputs, h]), bias (4H,), columns i, j, f, o:

    i, j, f, o = split(concat([inputs, h], 1) @ kernel + bias, 4, axis=1)
    new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)
    new_h = tanh(new_c) * sigmoid(o)

The state is TF's LSTMStateTuple order (c, h). The forward saves the raw split (i, j, f, o)
and the backward recomputes the activations from it, as the cell's code reads. Fifth
held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "backward_f_without_forget_bias": "forget_bias",      # sigmoid(f) recomputed in the backward, forget_bias left out
    "forward_forget_bias_subtracted": "forget_bias",      # sigmoid(f - forget_bias) in the forward; backward consistent
    "forward_forget_bias_twice": "forget_bias",           # f += forget_bias, then sigmoid(f + forget_bias); consistent
    "dgates_ifjo": "gate_order",                          # concatenate([di, df, dj, do]) for columns i, j, f, o
    "dj_tanh_grad_twice": "derivative_twice",             # dj *= 1 - tanh(j) ** 2 a second time
    "dnew_c_no_tanh_grad": "derivative_missing",          # dc += dh * sigmoid(o) (tanh'(new_c) left out)
    "dxh_from_dkernel": "gradient_for_weight",            # d_xh = d @ dkernel.T (the running sum)
    "xh_rebuilt_with_new_h": "wrong_time",                # concat([x_t, outputs[t]]) in dkernel: h_t for h_(t-1)
    "dbias_assigned": "carry_overwrites",                 # dbias = d.sum(0) (= for +=)
    "forward_j_sigmoid": "forward_mistake",               # sigmoid(i) * sigmoid(j) in the forward; backward consistent
    "backward_loop_forward": "loop_direction",            # for t in range(T)
    "clip_by_global_norm_0_5": "gradient_clipped",        # tf.clip_by_global_norm([dkernel, dbias], 0.5) ported, each step
    "di_grad_at_raw_i": "derivative_wrong_point",         # di * i * (1 - i) with the raw (pre-sigmoid) i
    "f_without_forget_bias_and_dj_sign": "unknown",       # two mistakes: forget_bias left out of the backward's f; dj's sign
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "backward_f_without_forget_bias": "f",
    "forward_forget_bias_subtracted": "",
    "forward_forget_bias_twice": "",
    "dgates_ifjo": "fg",
    "dj_tanh_grad_twice": "g",
    "dnew_c_no_tanh_grad": "ifg",
    "dxh_from_dkernel": "",
    "xh_rebuilt_with_new_h": "",
    "dbias_assigned": "",
    "forward_j_sigmoid": "",
    "backward_loop_forward": "",
    "clip_by_global_norm_0_5": "",
    "di_grad_at_raw_i": "i",
    "f_without_forget_bias_and_dj_sign": "fg",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def basic_lstm_forward(inputs, h0, c0, kernel, bias, bug=None):
    fb = -FORGET_BIAS if bug == "forward_forget_bias_subtracted" else FORGET_BIAS
    c, h = c0, h0
    outputs, saved = [], []
    for t in range(inputs.shape[1]):
        gate_inputs = np.concatenate([inputs[:, t], h], 1) @ kernel + bias
        i, j, f, o = np.split(gate_inputs, 4, axis=1)
        if bug == "forward_forget_bias_twice":
            f = f + fb
        jj = sigmoid(j) if bug == "forward_j_sigmoid" else np.tanh(j)
        new_c = c * sigmoid(f + fb) + sigmoid(i) * jj
        new_h = np.tanh(new_c) * sigmoid(o)
        saved.append({"inputs": inputs[:, t], "c": c, "h": h, "i": i, "j": j, "f": f, "o": o, "new_c": new_c})
        c, h = new_c, new_h
        outputs.append(new_h)
    return np.stack(outputs, axis=1), (saved, outputs, kernel)


def basic_lstm_backward(doutputs, cache, bug=None):
    saved, outputs, kernel = cache
    N, T, H = doutputs.shape
    D = kernel.shape[0] - H
    fb = {"forward_forget_bias_subtracted": -FORGET_BIAS, "backward_f_without_forget_bias": 0.0,
          "f_without_forget_bias_and_dj_sign": 0.0}.get(bug, FORGET_BIAS)
    dinputs = np.zeros((N, T, D), dtype=doutputs.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=doutputs.dtype)
    dh_next, dc_next = np.zeros((N, H), dtype=doutputs.dtype), np.zeros((N, H), dtype=doutputs.dtype)
    for t in (range(T) if bug == "backward_loop_forward" else reversed(range(T))):
        s = saved[t]
        si, sf, so = sigmoid(s["i"]), sigmoid(s["f"] + fb), sigmoid(s["o"])
        tj = sigmoid(s["j"]) if bug == "forward_j_sigmoid" else np.tanh(s["j"])
        tc = np.tanh(s["new_c"])
        dh = doutputs[:, t] + dh_next
        if bug == "dnew_c_no_tanh_grad":
            dc = dc_next + dh * so
        else:
            dc = dc_next + dh * so * (1 - tc ** 2)
        do = dh * tc * so * (1 - so)
        if bug == "di_grad_at_raw_i":
            di = dc * tj * s["i"] * (1 - s["i"])
        else:
            di = dc * tj * si * (1 - si)
        if bug == "forward_j_sigmoid":
            dj = dc * si * tj * (1 - tj)
        elif bug == "f_without_forget_bias_and_dj_sign":
            dj = dc * si * (tj ** 2 - 1)
        else:
            dj = dc * si * (1 - tj ** 2)
        if bug == "dj_tanh_grad_twice":
            dj *= 1 - tj ** 2
        df = dc * s["c"] * sf * (1 - sf)
        d = np.concatenate([di, df, dj, do] if bug == "dgates_ifjo" else [di, dj, df, do], axis=1)
        xh = np.concatenate([s["inputs"], outputs[t] if bug == "xh_rebuilt_with_new_h" else s["h"]], 1)
        dkernel += xh.T @ d
        if bug == "dbias_assigned":
            dbias = d.sum(axis=0)
        else:
            dbias += d.sum(axis=0)
        if bug == "clip_by_global_norm_0_5":
            norm = np.sqrt((dkernel ** 2).sum() + (dbias ** 2).sum())
            if norm > 0.5:
                dkernel *= 0.5 / norm
                dbias *= 0.5 / norm
        d_xh = d @ (dkernel if bug == "dxh_from_dkernel" else kernel).T
        dinputs[:, t], dh_next = d_xh[:, :D], d_xh[:, D:]
        dc_next = dc * sf
    return dinputs, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return basic_lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return basic_lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

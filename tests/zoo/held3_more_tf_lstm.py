"""Fresh mistakes in an LSTM on the built-in ``tf_kernel`` layout (TF's BasicLSTMCell, with its
forget_bias = 1.0 declared to the check): x (N, T, D), h0, c0 (N, H), kernel (D+H, 4H) on
concat([x_t, h]) with column blocks i, j, f, o, bias (4H,):

    i, j, f, o = split(concat([x_t, h]) @ kernel + bias, 4)
    c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)      h' = tanh(c') * sigmoid(o)

The backward carries the raw cell gradient and multiplies by the forget gate when it arrives
at the earlier step (so it keeps the later step's forget gate in sf_next). Third held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_on_input_gate": "forget_bias",           # sigmoid(i + forget_bias), sigmoid(f) in the forward; consistent
    "dj_tanh_grad_at_tanh_c": "derivative_wrong_point",   # dj * (1 - tanh_c ** 2)
    "dc_carry_times_f_t": "wrong_time",                   # the carried dc times this step's sf, not the later step's
    "dgates_ifoj": "gate_order",                          # d = [di, df, do, dj] (cs231n's habit) for columns i, j, f, o
    "forward_without_o": "forward_mistake",               # h' = tanh(c'); backward consistent (do = 0)
    "dc0_before_forget_gate": "wrong_value",              # the returned dc0 is step 0's dc, not times its sf;
                                                          # relabelled from "unknown": c_0's gradient read for c_(-1)'s
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_on_input_gate": "",
    "dj_tanh_grad_at_tanh_c": "g",
    "dc_carry_times_f_t": "",
    "dgates_ifoj": "fgo",
    "forward_without_o": "",
    "dc0_before_forget_gate": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, c0, kernel, bias, bug=None):
    h, c, hs, steps = h0, c0, [], []
    for t in range(x.shape[1]):
        xh = np.concatenate([x[:, t], h], axis=1)
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
        if bug == "forget_bias_on_input_gate":
            si, sf = sigmoid(i + FORGET_BIAS), sigmoid(f)
        else:
            si, sf = sigmoid(i), sigmoid(f + FORGET_BIAS)
        tj = np.tanh(j)
        so = np.ones_like(o) if bug == "forward_without_o" else sigmoid(o)
        c_prev = c
        c = c * sf + si * tj
        tanh_c = np.tanh(c)
        h = tanh_c * so
        steps.append((xh, c_prev, si, tj, sf, so, tanh_c))
        hs.append(h)
    return np.stack(hs, axis=1), (steps, kernel)


def backward(dh, cache, bug=None):
    steps, kernel = cache
    N, T, H = dh.shape
    D = kernel.shape[0] - H
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_raw = np.zeros((N, H), dtype=dh.dtype)                # the later step's dc, not yet times its sf
    sf_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        xh, c_prev, si, tj, sf, so, tanh_c = steps[t]
        d_h = dh[:, t] + dh_next
        dc = dc_raw * (sf if bug == "dc_carry_times_f_t" else sf_next) + d_h * so * (1 - tanh_c ** 2)
        do = np.zeros_like(so) if bug == "forward_without_o" else d_h * tanh_c * so * (1 - so)
        di = dc * tj * si * (1 - si)
        dj = dc * si * (1 - (tanh_c ** 2 if bug == "dj_tanh_grad_at_tanh_c" else tj ** 2))
        df = dc * c_prev * sf * (1 - sf)
        d = np.concatenate([di, df, do, dj] if bug == "dgates_ifoj" else [di, dj, df, do], axis=1)
        dkernel += xh.T @ d
        dbias += d.sum(axis=0)
        d_xh = d @ kernel.T
        dx[:, t], dh_next = d_xh[:, :D], d_xh[:, D:]
        dc_raw, sf_next = dc, sf
    dc0 = dc_raw if bug == "dc0_before_forget_gate" else dc_raw * sf_next
    return dx, dh_next, dc0, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

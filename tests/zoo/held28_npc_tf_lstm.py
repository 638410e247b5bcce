"""An LSTM as a Stack Overflow answer writes TF's BasicLSTMCell in NumPy, in the tf_kernel
layout (kernel (D+H, 4H) on ``np.c_[x_t, h]``, bias (4H,), columns i, j, f, o, c0 an
argument) with TF's forget_bias=1.0 added at call time: ``np.c_`` for every concatenation
(the input, and the four local gradients), the backward copying ``dh`` and adding each
step's carry into the slot of the step before (``dh[:, t - 1] += ...``), the cell carry
in ``dc_next``. Twenty-eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "forget_bias_left_out": "forget_bias",               # f = sigmoid(f): FORGET_BIAS never added (forward and cache)
    "forget_bias_on_i": "forget_bias",                   # i = sigmoid(i + FORGET_BIAS), f = sigmoid(f): the wrong block
    "di_sigmoid_grad_at_f": "derivative_wrong_point",    # dc * j * f * (1 - f): sigmoid' of f for i
    "dj_not_squared": "derivative_miswritten",           # dc * i * (1 - j)
    "df_with_new_c": "wrong_time",                       # dc * c_new * f * (1 - f): c_t for c_(t-1)
    "dc_next_times_i": "wrong_value",                    # dc_next = dc * i (i_t read for f_t)
    "dxh_from_dkernel": "gradient_for_weight",           # dxh = dgates @ dkernel.T
    "carry_assigned_into_dh": "carry_overwrites",        # dh[:, t - 1] = dxh[:, D:] (= for +=): the step's own gradient lost
    "dkernel_batch_average": "reduction_scaled",         # dkernel /= N at the end
    "range_skips_step_0": "loop_skips_step",             # reversed(range(1, T))
    "np_c_keras_order": "gate_order",                    # np.c_[di, df, dj, do]: the i, f, c, o order of Keras
    "clip_dh_per_step": "gradient_clipped",              # dh_t = np.clip(dh[:, t], -0.05, 0.05)
    "forward_c_without_i": "forward_mistake",            # c = c * f + j (i unused); backward di = 0, dj = dc
    "dj_unsquared_and_dc_next_without_f": "unknown",     # two mistakes: (1 - j) and dc_next = dc
    "dj_doubled": "unknown",                             # dj = 2 * dc * i * (1 - j**2): an arbitrary factor 2
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "forget_bias_on_i": "",
    "di_sigmoid_grad_at_f": "i",
    "dj_not_squared": "g",
    "df_with_new_c": "f",
    "dc_next_times_i": "",
    "dxh_from_dkernel": "",
    "carry_assigned_into_dh": "",
    "dkernel_batch_average": "",
    "range_skips_step_0": "",
    "np_c_keras_order": "fg",
    "clip_dh_per_step": "",
    "forward_c_without_i": "",
    "dj_unsquared_and_dc_next_without_f": "g",
    "dj_doubled": "g",
}

FORGET_BIAS = 1.0


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(x, h0, c0, kernel, bias, bug=None):
    h, c = h0, c0
    out, tape = [], []
    for t in range(x.shape[1]):
        xh = np.c_[x[:, t], h]
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=-1)
        if bug == "forget_bias_left_out":
            i, f = sigmoid(i), sigmoid(f)
        elif bug == "forget_bias_on_i":
            i, f = sigmoid(i + FORGET_BIAS), sigmoid(f)
        else:
            i, f = sigmoid(i), sigmoid(f + FORGET_BIAS)
        j, o = np.tanh(j), sigmoid(o)
        c_new = c * f + (j if bug == "forward_c_without_i" else i * j)
        tc = np.tanh(c_new)
        tape.append(dict(xh=xh, c=c, c_new=c_new, i=i, j=j, f=f, o=o, tc=tc))
        h, c = tc * o, c_new
        out.append(h)
    return np.stack(out, 1), (tape, kernel)


def backward(dh, cache, bug=None):
    tape, kernel = cache
    N, T, H = dh.shape
    D = kernel.shape[0] - H
    dh = dh.copy()
    dkernel, dbias = np.zeros_like(kernel), np.zeros_like(kernel[0])
    dx = np.zeros((N, T, D), dh.dtype)
    dh0, dc_next = np.zeros_like(dh[:, 0]), np.zeros_like(dh[:, 0])
    for t in reversed(range(1 if bug == "range_skips_step_0" else 0, T)):
        s = tape[t]
        dh_t = np.clip(dh[:, t], -0.05, 0.05) if bug == "clip_dh_per_step" else dh[:, t]
        dc = dc_next + dh_t * s["o"] * (1 - s["tc"] ** 2)
        i_grad = s["f"] * (1 - s["f"]) if bug == "di_sigmoid_grad_at_f" else s["i"] * (1 - s["i"])
        di = np.zeros_like(dc) if bug == "forward_c_without_i" else dc * s["j"] * i_grad
        if bug in ("dj_not_squared", "dj_unsquared_and_dc_next_without_f"):
            dj = dc * s["i"] * (1 - s["j"])
        elif bug == "forward_c_without_i":
            dj = dc * (1 - s["j"] ** 2)
        else:
            dj = dc * s["i"] * (1 - s["j"] ** 2)
        if bug == "dj_doubled":
            dj = 2 * dj
        df = dc * (s["c_new"] if bug == "df_with_new_c" else s["c"]) * s["f"] * (1 - s["f"])
        do = dh_t * s["tc"] * s["o"] * (1 - s["o"])
        dgates = np.c_[di, df, dj, do] if bug == "np_c_keras_order" else np.c_[di, dj, df, do]
        dkernel += s["xh"].T @ dgates
        dbias += dgates.sum(0)
        dxh = dgates @ (dkernel.T if bug == "dxh_from_dkernel" else kernel.T)
        dx[:, t] = dxh[:, :D]
        if t > 0:
            if bug == "carry_assigned_into_dh":
                dh[:, t - 1] = dxh[:, D:]
            else:
                dh[:, t - 1] += dxh[:, D:]
        else:
            dh0 = dxh[:, D:]
        if bug == "dc_next_times_i":
            dc_next = dc * s["i"]
        elif bug == "dj_unsquared_and_dc_next_without_f":
            dc_next = dc
        else:
            dc_next = dc * s["f"]
    if bug == "dkernel_batch_average":
        dkernel /= N
    return dx, dh0, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

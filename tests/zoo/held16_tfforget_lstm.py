"""An LSTM on the built-in ``tf_kernel`` layout (kernel (D+H, 4H) on [x, h], bias (4H,),
columns i, j, f, o, c0 an argument) with TF's forget_bias=1.0, written time-major inside
(x.transpose(1, 0, 2)), with the forget gate computed by its own helper:

    i_pre, j_pre, f_pre, o_pre = split([x_t, h] @ kernel + bias, 4)
    f = forget_gate(f_pre) = sigmoid(f_pre + 1.0)
    c_t = f * c_(t-1) + sigmoid(i_pre) * tanh(j_pre)      h_t = sigmoid(o_pre) * tanh(c_t)

The cache keeps the pre-activations (f_pre without the forget bias) and the backward
recomputes i, j, f, o from them. Sixteenth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "f_recomputed_without_forget_bias": "forget_bias",   # backward f = sigmoid(f_pre): the helper not used
    "carry_f_without_forget_bias": "forget_bias",        # dc_prev = dc * sigmoid(f_pre) only in the carry
    "forward_helper_bias_zero": "forget_bias",           # forget_gate(f_pre, 0.0) in the forward, backward consistent
    "dj_pre_sigmoid_grad": "derivative_wrong_function",  # dj_pre = dj * j * (1 - j)
    "do_with_tanh_c_prev": "wrong_time",                 # do = dh * tanh(c_(t-1)) for tanh(c_t)
    "di_pre_at_f": "derivative_wrong_point",             # di_pre = di * f * (1 - f): f's s' for i (also a wrong_value)
    "dxh_from_dkernel": "gradient_for_weight",           # dxh = d_pre @ dkernel.T
    "dc_assigned_carry": "carry_overwrites",             # dc = dh * o * tanh'(c); dc = dc_next (= for +=)
    "dc_without_tanh_grad": "derivative_missing",        # dc = dc_next + dh * o
    "loop_skips_last": "loop_skips_step",                # for t in reversed(range(T - 1))
    "global_norm_clip": "gradient_clipped",              # dkernel, dbias clipped to a global norm of 0.5
    "do_pre_left_out": "term_dropped",                   # d_pre = [di, dj, df, 0]: the o block left out
    "c_updated_in_place": "inplace_corruption",          # c *= f; c += i * j on one buffer cached every step
    "dc_carry_times_0_9": "unknown",                     # dc_next = 0.9 * dc * f (an arbitrary constant)
    "forward_coupled_input_gate": "forward_mistake",     # c = f * c_prev + (1 - f) * j; backward consistent
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "f_recomputed_without_forget_bias": "f",
    "carry_f_without_forget_bias": "",
    "forward_helper_bias_zero": "",
    "dj_pre_sigmoid_grad": "g",
    "do_with_tanh_c_prev": "o",
    "di_pre_at_f": "i",
    "dxh_from_dkernel": "",
    "dc_assigned_carry": "ifg",
    "dc_without_tanh_grad": "ifg",
    "loop_skips_last": "",
    "global_norm_clip": "",
    "do_pre_left_out": "o",
    "c_updated_in_place": "f",
    "dc_carry_times_0_9": "",
    "forward_coupled_input_gate": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forget_gate(f_pre, forget_bias=FORGET_BIAS):
    return sigmoid(f_pre + forget_bias)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    fb = 0.0 if bug == "forward_helper_bias_zero" else FORGET_BIAS
    coupled = bug == "forward_coupled_input_gate"

    def forward(x, h0, c0, kernel, bias):
        xs = x.transpose(1, 0, 2)
        T = xs.shape[0]
        h, c = h0, c0.copy()
        outs, cache = [], []
        for t in range(T):
            xh = np.concatenate([xs[t], h], axis=1)
            i_pre, j_pre, f_pre, o_pre = np.split(xh @ kernel + bias, 4, axis=1)
            i, j, f, o = sigmoid(i_pre), np.tanh(j_pre), forget_gate(f_pre, fb), sigmoid(o_pre)
            if bug == "c_updated_in_place":
                c_prev = c
                c *= f
                c += i * j
            else:
                c_prev = c
                c = f * c + ((1 - f) if coupled else i) * j
            h = o * np.tanh(c)
            cache.append((xh, i_pre, j_pre, f_pre, o_pre, c_prev, c))
            outs.append(h)
        return np.stack(outs, axis=1), (cache, kernel)

    def backward(dh, cache):
        steps, kernel = cache
        N, T, H = dh.shape
        dhs = dh.transpose(1, 0, 2)
        dkernel, dbias = np.zeros_like(kernel), np.zeros(kernel.shape[1], dtype=dh.dtype)
        D = kernel.shape[0] - H
        dxs = np.zeros((T, N, D), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        dc_next = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T - 1 if bug == "loop_skips_last" else T)):
            xh, i_pre, j_pre, f_pre, o_pre, c_prev, c = steps[t]
            i, j, o = sigmoid(i_pre), np.tanh(j_pre), sigmoid(o_pre)
            f = sigmoid(f_pre) if bug == "f_recomputed_without_forget_bias" else forget_gate(f_pre, fb)
            dh_t = dhs[t] + dh_next
            tc = np.tanh(c)
            do = dh_t * (np.tanh(c_prev) if bug == "do_with_tanh_c_prev" else tc)
            if bug == "dc_assigned_carry":
                dc = dh_t * o * (1 - tc ** 2)
                dc = dc_next
            elif bug == "dc_without_tanh_grad":
                dc = dc_next + dh_t * o
            else:
                dc = dc_next + dh_t * o * (1 - tc ** 2)
            df = dc * (c_prev - j) if coupled else dc * c_prev
            di = dc * j
            dj = dc * ((1 - f) if coupled else i)
            if bug == "carry_f_without_forget_bias":
                dc_next = dc * sigmoid(f_pre)
            elif bug == "dc_carry_times_0_9":
                dc_next = 0.9 * dc * f
            else:
                dc_next = dc * f
            di_pre = di * f * (1 - f) if bug == "di_pre_at_f" else di * i * (1 - i)
            if coupled:
                di_pre = np.zeros_like(di_pre)
            dj_pre = dj * j * (1 - j) if bug == "dj_pre_sigmoid_grad" else dj * (1 - j ** 2)
            df_pre = df * f * (1 - f)
            do_pre = np.zeros_like(do) if bug == "do_pre_left_out" else do * o * (1 - o)
            d_pre = np.concatenate([di_pre, dj_pre, df_pre, do_pre], axis=1)
            dkernel += xh.T @ d_pre
            dbias += d_pre.sum(axis=0)
            dxh = d_pre @ (dkernel.T if bug == "dxh_from_dkernel" else kernel.T)
            dxs[t] = dxh[:, :D]
            dh_next = dxh[:, D:]
        if bug == "global_norm_clip":
            norm = np.sqrt(np.sum(dkernel ** 2) + np.sum(dbias ** 2))
            if norm > 0.5:
                dkernel, dbias = dkernel * (0.5 / norm), dbias * (0.5 / norm)
        return dxs.transpose(1, 0, 2), dh_next, dc_next, dkernel, dbias

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

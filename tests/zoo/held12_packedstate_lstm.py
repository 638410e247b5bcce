"""An LSTM in TF's BasicLSTMCell kernel layout (kernel (D+H, 4H) on concat([x, h]), columns
i, j, f, o, forget_bias=1.0 added at call time) whose state is ONE (N, 2H) array, as TF's
old ``state_is_tuple=False`` kept it: state = concat([c, h]). The backward carries one
(N, 2H) ``dstate`` = [dc, dh] the same way:

    c, h = split(state, 2)      i, j, f, o = split(concat([x_t, h]) @ kernel + bias, 4)
    new_c = c * s(f + 1) + s(i) * tanh(j)      new_h = tanh(new_c) * s(o)
    state = concat([new_c, new_h])

The cache holds the pre-activations; the backward recomputes the gates from them.
forward(x, h0, c0, kernel, bias) -> (h, cache); backward -> (dx, dh0, dc0, dkernel, dbias).
Twelfth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dstate_unpacked_h_c": "wrong_value",                 # dh_carry, dc_carry = split(dstate): halves swapped
    "f_recomputed_without_bias": "forget_bias",           # f = s(pre_f) in the backward (the + 1 left out there only)
    "forget_bias_twice": "forget_bias",                   # f + 2 * forget_bias in forward and backward
    "j_grad_one_minus_j": "derivative_miswritten",        # dj * (1 - tanh_j) for 1 - tanh_j ** 2
    "dgates_i_f_j_o": "gate_order",                       # concat([di, df, dj, do]) for kernel columns i, j, f, o
    "dkernel_concat_with_c": "wrong_value",               # the concat for dkernel rebuilt with c_(t-1) for h_(t-1)
    "tbptt_chunks_of_2": "truncated_bptt",                # dstate zeroed every 2 steps back (chunks of 2)
    "global_norm_clip": "gradient_clipped",               # dkernel, dbias scaled to global norm 1 when above
    "dkernel_time_mean": "reduction_scaled",              # dkernel / T
    "o_grad_flipped": "wrong_sign",                       # s'(o) written o * (o - 1)
    "dc_carry_times_i": "wrong_value",                    # dc_prev = dc * i for dc * f
    "tanh_grad_of_c_itself": "derivative_wrong_point",    # 1 - new_c ** 2 for 1 - tanh(new_c) ** 2
    "h_half_never_written": "carry_dropped",              # dstate = concat([dc_prev, zeros]): the h carry dropped
    "new_h_without_tanh": "forward_mistake",              # new_h = new_c * s(o) in the forward; backward consistent
    "dc_carry_scaled": "unknown",                         # dc_prev = dc * f * 0.9: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dstate_unpacked_h_c": "",
    "f_recomputed_without_bias": "f",
    "forget_bias_twice": "",
    "j_grad_one_minus_j": "g",
    "dgates_i_f_j_o": "fg",
    "dkernel_concat_with_c": "",
    "tbptt_chunks_of_2": "",
    "global_norm_clip": "",
    "dkernel_time_mean": "",
    "o_grad_flipped": "o",
    "dc_carry_times_i": "",
    "tanh_grad_of_c_itself": "ifg",
    "h_half_never_written": "",
    "new_h_without_tanh": "",
    "dc_carry_scaled": "",
}

FORGET_BIAS = 1.0


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    state = np.concatenate([c0, h0], axis=1)
    outputs, cache = [], []
    for t in range(T):
        c, h = np.split(state, 2, axis=1)
        inp = np.concatenate([x[:, t], h], axis=1)
        pre = inp @ kernel + bias
        i, j, f, o = np.split(pre, 4, axis=1)
        fb = 2 * FORGET_BIAS if bug == "forget_bias_twice" else FORGET_BIAS
        new_c = c * sigmoid(f + fb) + sigmoid(i) * np.tanh(j)
        if bug == "new_h_without_tanh":
            new_h = new_c * sigmoid(o)
        else:
            new_h = np.tanh(new_c) * sigmoid(o)
        cache.append((inp, state, pre, new_c))
        state = np.concatenate([new_c, new_h], axis=1)
        outputs.append(new_h)
    return np.stack(outputs, axis=1), (cache, kernel, D, H)


def lstm_backward(dh, cache, bug=None):
    steps, kernel, D, H = cache
    N, T, _ = dh.shape
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    dstate = np.zeros((N, 2 * H), dtype=dh.dtype)
    for t in reversed(range(T)):
        inp, state, pre, new_c = steps[t]
        c, h = np.split(state, 2, axis=1)
        pi, pj, pf, po = np.split(pre, 4, axis=1)
        i, tanh_j, o = sigmoid(pi), np.tanh(pj), sigmoid(po)
        fb = 2 * FORGET_BIAS if bug == "forget_bias_twice" else FORGET_BIAS
        f = sigmoid(pf) if bug == "f_recomputed_without_bias" else sigmoid(pf + fb)
        if bug == "dstate_unpacked_h_c":
            dh_carry, dc_carry = np.split(dstate, 2, axis=1)
        else:
            dc_carry, dh_carry = np.split(dstate, 2, axis=1)
        dnew_h = dh[:, t] + dh_carry
        if bug == "new_h_without_tanh":
            do = dnew_h * new_c
            dc = dc_carry + dnew_h * o
        else:
            tanh_c = np.tanh(new_c)
            do = dnew_h * tanh_c
            if bug == "tanh_grad_of_c_itself":
                dc = dc_carry + dnew_h * o * (1 - new_c ** 2)
            else:
                dc = dc_carry + dnew_h * o * (1 - tanh_c ** 2)
        dpi = dc * tanh_j * i * (1 - i)
        dpj = dc * i * ((1 - tanh_j) if bug == "j_grad_one_minus_j" else (1 - tanh_j ** 2))
        dpf = dc * c * f * (1 - f)
        dpo = do * (o * (o - 1) if bug == "o_grad_flipped" else o * (1 - o))
        if bug == "dgates_i_f_j_o":
            dpre = np.concatenate([dpi, dpf, dpj, dpo], axis=1)
        else:
            dpre = np.concatenate([dpi, dpj, dpf, dpo], axis=1)
        if bug == "dkernel_concat_with_c":
            inp = np.concatenate([inp[:, :D], c], axis=1)
        dkernel += inp.T @ dpre
        dbias += dpre.sum(axis=0)
        dinp = dpre @ kernel.T
        dx[:, t] = dinp[:, :D]
        if bug == "dc_carry_times_i":
            dc_prev = dc * i
        elif bug == "dc_carry_scaled":
            dc_prev = dc * f * 0.9
        else:
            dc_prev = dc * f
        dh_prev = np.zeros_like(dc_prev) if bug == "h_half_never_written" else dinp[:, D:]
        dstate = np.concatenate([dc_prev, dh_prev], axis=1)
        if bug == "tbptt_chunks_of_2" and (T - t) % 2 == 0:
            dstate = np.zeros_like(dstate)
    if bug == "dkernel_time_mean":
        dkernel /= T
    if bug == "global_norm_clip":
        norm = np.sqrt(np.sum(dkernel ** 2) + np.sum(dbias ** 2))
        if norm > 1.0:
            dkernel, dbias = dkernel / norm, dbias / norm
    dc0, dh0 = np.split(dstate, 2, axis=1)
    return dx, dh0, dc0, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

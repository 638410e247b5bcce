"""A tanh RNN on the built-in ``tf_kernel`` layout (TF1's BasicRNNCell weights): x (N, T, D),
h0 (N, H), kernel (D+H, H) on np.hstack((x_t, h)), bias (H,):

    h_t = tanh(hstack((x_t, h_(t-1))) @ kernel + bias)

The forward keeps a Python list of states, states[0] = h0, states[t + 1] = h_t, and the
backward rebuilds each step's input from it (no other cache). Fifth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "tanh_grad_from_states_t": "derivative_wrong_point",  # 1 - states[t] ** 2: tanh' at h_(t-1), not h_t
    "inp_rebuilt_with_h_t": "wrong_time",                 # hstack((x_t, states[t + 1])) in dkernel
    "kernel_h_rows_untransposed": "weight_transposed",    # d_pre @ kernel[D:] in the carry (square block)
    "carry_from_dkernel": "gradient_for_weight",          # d_pre @ dkernel[D:].T in the carry
    "tanh_grad_sign": "wrong_sign",                       # dh * (h ** 2 - 1)
    "tanh_grad_as_1_minus_h_twice": "derivative_miswritten",  # (1 - h) * (1 - h) for (1 - h) * (1 + h)
    "tanh_grad_sigmoid_style": "derivative_wrong_function",   # h * (1 - h), copied from a sigmoid RNN
    "dbias_assigned": "carry_overwrites",                 # dbias = d_pre.sum(0) (= for +=)
    "loop_stops_at_1": "loop_skips_step",                 # for t in range(T - 1, 0, -1); dh0 is step 1's carry
    "dkernel_over_T": "reduction_scaled",                 # dkernel / T at the end, as for a loss averaged over time
    "forward_bias_added_twice": "forward_mistake",        # ... @ kernel + bias + bias; backward consistent (2 * sum)
    "carry_cut_every_2": "truncated_bptt",                # dh_next = 0 after every second step back
    "carry_clip_by_norm_1": "gradient_clipped",           # tf.clip_by_norm(dh_next, 1.0) ported: each row's norm <= 1
    "dkernel_no_tanh_grad_and_carry_untransposed": "unknown",  # two mistakes: dkernel from dh, carry through kernel[D:]
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "tanh_grad_from_states_t": "",
    "inp_rebuilt_with_h_t": "",
    "kernel_h_rows_untransposed": "",
    "carry_from_dkernel": "",
    "tanh_grad_sign": "",
    "tanh_grad_as_1_minus_h_twice": "",
    "tanh_grad_sigmoid_style": "",
    "dbias_assigned": "",
    "loop_stops_at_1": "",
    "dkernel_over_T": "",
    "forward_bias_added_twice": "",
    "carry_cut_every_2": "",
    "carry_clip_by_norm_1": "",
    "dkernel_no_tanh_grad_and_carry_untransposed": "",
}


def forward(x, h0, kernel, bias, bug=None):
    states = [h0]
    for t in range(x.shape[1]):
        inp = np.hstack((x[:, t], states[-1]))
        pre = inp @ kernel + bias
        if bug == "forward_bias_added_twice":
            pre = pre + bias
        states.append(np.tanh(pre))
    return np.stack(states[1:], axis=1), (x, states, kernel)


def _tanh_grad(dh, h, bug):
    if bug == "tanh_grad_sign":
        return dh * (h ** 2 - 1)
    if bug == "tanh_grad_as_1_minus_h_twice":
        return dh * (1 - h) * (1 - h)
    if bug == "tanh_grad_sigmoid_style":
        return dh * h * (1 - h)
    return dh * (1 - h) * (1 + h)


def backward(dh_all, cache, bug=None):
    x, states, kernel = cache
    N, T, H = dh_all.shape
    D = x.shape[2]
    dx = np.zeros_like(x)
    dkernel = np.zeros_like(kernel)
    dbias = np.zeros(H, dtype=dh_all.dtype)
    dh_next = np.zeros((N, H), dtype=dh_all.dtype)
    stop = 0 if bug == "loop_stops_at_1" else -1
    for t in range(T - 1, stop, -1):
        dh = dh_all[:, t] + dh_next
        h = states[t] if bug == "tanh_grad_from_states_t" else states[t + 1]
        d_pre = _tanh_grad(dh, h, bug)
        inp = np.hstack((x[:, t], states[t + 1] if bug == "inp_rebuilt_with_h_t" else states[t]))
        if bug == "dkernel_no_tanh_grad_and_carry_untransposed":
            dkernel += inp.T @ dh
        else:
            dkernel += inp.T @ d_pre
        if bug == "dbias_assigned":
            dbias = d_pre.sum(axis=0)
        elif bug == "forward_bias_added_twice":
            dbias += 2 * d_pre.sum(axis=0)
        else:
            dbias += d_pre.sum(axis=0)
        dx[:, t] = d_pre @ kernel[:D].T
        if bug in ("kernel_h_rows_untransposed", "dkernel_no_tanh_grad_and_carry_untransposed"):
            dh_next = d_pre @ kernel[D:]
        elif bug == "carry_from_dkernel":
            dh_next = d_pre @ dkernel[D:].T
        else:
            dh_next = d_pre @ kernel[D:].T
        if bug == "carry_cut_every_2" and (T - t) % 2 == 0:
            dh_next = np.zeros_like(dh_next)
        if bug == "carry_clip_by_norm_1":
            norms = np.sqrt((dh_next ** 2).sum(axis=1, keepdims=True))
            dh_next = dh_next * np.minimum(1, 1 / np.maximum(norms, 1e-12))
    if bug == "dkernel_over_T":
        dkernel /= T
    return dx, dh_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel"}

"""A sigmoid RNN in TF's BasicRNNCell kernel layout (kernel (D+H, H) applied to
concat([x_t, state]), bias (H,)), written by someone who keeps three parallel lists
(inputs, pre-activations, outputs) and walks them back with ``zip(reversed(...))``:

    z_t = concat([x_t, state]) @ kernel + bias        state = sigmoid(z_t)

The backward splits the kernel's gradient only once at the end (it accumulates
d(kernel) from the concatenated inputs). forward(x, h0, kernel, bias) -> (h, cache);
backward -> (dx, dh0, dkernel, dbias). Twelfth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

BUGS = {
    "sig_grad_from_z": "derivative_wrong_point",          # z * (1 - z): sigmoid' from the pre-activation
    "sig_grad_as_tanh": "derivative_wrong_function",      # 1 - h ** 2 (tanh' for the sigmoid)
    "sig_grad_twice": "derivative_twice",                 # h (1 - h) applied to dout and again to dz
    "sig_grad_flipped": "wrong_sign",                     # h * (h - 1)
    "dkernel_from_new_state": "wrong_time",               # the concat rebuilt with this step's h for the h_(t-1) half
    "kernel_h_not_transposed": "weight_transposed",       # dstate = dz @ kernel[D:] (square) for kernel[D:].T
    "kernel_first_H_rows": "wrong_weight",                # dstate = dz @ kernel[:H].T: the first H rows for the last H
    "zip_skips_first": "loop_skips_step",                 # the lists zipped from index 1: step 0 never walked
    "carry_only_two_steps": "truncated_bptt",             # the carry passed back only through the last 2 steps
    "clip_total_grad": "gradient_clipped",                # np.clip(dout, -1, 1): dh[:, t] + carry clipped each step
    "dbias_over_N": "reduction_scaled",                   # dbias / N at the end
    "carry_reset_each_step": "carry_dropped",             # dstate = np.zeros_like(...) at the top of every step
    "bias_after_sigmoid": "forward_mistake",              # state = sigmoid(concat @ kernel) + bias; backward consistent
    "dstate_from_dkernel": "gradient_for_weight",         # dstate = dz @ dkernel[D:].T (the running gradient)
    "carry_decay": "unknown",                             # dstate *= 0.9 each step: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "sig_grad_from_z": "",
    "sig_grad_as_tanh": "",
    "sig_grad_twice": "",
    "sig_grad_flipped": "",
    "dkernel_from_new_state": "",
    "kernel_h_not_transposed": "",
    "kernel_first_H_rows": "",
    "zip_skips_first": "",
    "carry_only_two_steps": "",
    "clip_total_grad": "",
    "dbias_over_N": "",
    "carry_reset_each_step": "",
    "bias_after_sigmoid": "",
    "dstate_from_dkernel": "",
    "carry_decay": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, kernel, bias, bug=None):
    N, T, D = x.shape
    inputs, pres, outs = [], [], []
    state = h0
    for t in range(T):
        inp = np.concatenate([x[:, t], state], axis=1)    # (N, D+H)
        z = inp @ kernel
        if bug == "bias_after_sigmoid":
            state = sigmoid(z) + bias
        else:
            z = z + bias
            state = sigmoid(z)
        inputs.append(inp)
        pres.append(z)
        outs.append(state)
    return np.stack(outs, axis=1), (inputs, pres, outs, kernel, bias, D)


def backward(dh, cache, bug=None):
    inputs, pres, outs, kernel, bias, D = cache
    N, T, H = dh.shape
    dkernel = np.zeros_like(kernel)
    dbias = np.zeros(H, dtype=dh.dtype)
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dstate = np.zeros((N, H), dtype=dh.dtype)
    start = 1 if bug == "zip_skips_first" else 0
    walk = zip(reversed(range(start, T)), reversed(inputs[start:]), reversed(pres[start:]), reversed(outs[start:]))
    for t, inp, z, out in walk:
        if bug == "carry_reset_each_step":
            dstate = np.zeros_like(dstate)
        dout = dh[:, t] + dstate
        if bug == "clip_total_grad":
            dout = np.clip(dout, -1, 1)
        if bug == "sig_grad_from_z":
            dz = dout * z * (1 - z)
        elif bug == "sig_grad_as_tanh":
            dz = dout * (1 - out ** 2)
        elif bug == "sig_grad_twice":
            dz = dout * out * (1 - out) * out * (1 - out)
        elif bug == "sig_grad_flipped":
            dz = dout * out * (out - 1)
        elif bug == "bias_after_sigmoid":
            dz = dout * (out - bias) * (1 - (out - bias))
        else:
            dz = dout * out * (1 - out)
        if bug == "dkernel_from_new_state":
            inp = np.concatenate([inp[:, :D], out], axis=1)
        dkernel += inp.T @ dz
        dbias += dout.sum(axis=0) if bug == "bias_after_sigmoid" else dz.sum(axis=0)
        dinp = dz @ kernel.T                              # (N, D+H)
        dx[:, t] = dinp[:, :D]
        if bug == "kernel_h_not_transposed":
            dstate = dz @ kernel[D:]
        elif bug == "dstate_from_dkernel":
            dstate = dz @ dkernel[D:].T
        elif bug == "kernel_first_H_rows":
            dstate = dz @ kernel[:H].T
        else:
            dstate = dinp[:, D:]
        if bug == "carry_only_two_steps" and t < T - 2:
            dstate = np.zeros_like(dstate)
        if bug == "carry_decay":
            dstate *= 0.9
    if bug == "dbias_over_N":
        dbias = dbias / N
    return dx, dstate, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel", "activation": "sigmoid"}

"""Fresh mistakes in a vanilla RNN on TF's BasicRNNCell layout (built-in layout ``tf_kernel``):
x (N, T, D), h0 (N, H), one kernel (D+H, H) on concat([x, h]) and bias (H,), written as a
plain function pair with the step's concat kept for the backward. Second held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "tanh_prime_of_h": "derivative_wrong_point",         # 1 - tanh(h)**2: tanh' written for the pre-activation, given h
    "relu_grad_for_tanh": "derivative_wrong_function",   # dz = dh * (h > 0)
    "dbias_before_tanh_grad": "derivative_missing",      # dbias += dh_total.sum(0): tanh' missing there only
    "dkernel_mean_N": "reduction_scaled",                # dkernel / N, dbias / N
    "tanh_grad_again_in_carry": "derivative_twice",      # dh_next = (dz * (1 - h**2)) @ kernel[D:].T
    "dkernel_concat_h_x": "unknown",                     # dkernel from concat([h, x]) (the forward uses [x, h])
}

TOUCHES = {bug: "" for bug in BUGS}                       # an RNN: no gates (blind_index.touched_gates)


def tanh_prime(v):
    return 1 - np.tanh(v) ** 2


def forward(x, h0, kernel, bias):
    N, T, D = x.shape
    h, hs, xh = h0, [], []
    for t in range(T):
        inputs = np.concatenate([x[:, t], h], axis=1)
        h = np.tanh(inputs @ kernel + bias)
        xh.append(inputs)
        hs.append(h)
    return np.stack(hs, axis=1), {"xh": xh, "hs": hs, "kernel": kernel, "D": D}


def make_backward(bug=None):
    def backward(dh, cache):
        kernel, D, hs, xh = cache["kernel"], cache["D"], cache["hs"], cache["xh"]
        N, T, H = dh.shape
        dkernel, dbias = np.zeros_like(kernel), np.zeros(H, dtype=kernel.dtype)
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            h, total = hs[t], dh[:, t] + dh_next
            if bug == "tanh_prime_of_h":
                dz = total * tanh_prime(h)
            elif bug == "relu_grad_for_tanh":
                dz = total * (h > 0)
            else:
                dz = total * (1 - h ** 2)
            if bug == "dkernel_concat_h_x":
                dkernel += np.concatenate([xh[t][:, D:], xh[t][:, :D]], axis=1).T @ dz
            else:
                dkernel += xh[t].T @ dz
            dbias += (total if bug == "dbias_before_tanh_grad" else dz).sum(axis=0)
            dinputs = dz @ kernel.T
            dx[:, t] = dinputs[:, :D]
            if bug == "tanh_grad_again_in_carry":
                dh_next = (dz * (1 - h ** 2)) @ kernel[D:].T
            else:
                dh_next = dinputs[:, D:]
        if bug == "dkernel_mean_N":
            dkernel, dbias = dkernel / N, dbias / N
        return dx, dh_next, dkernel, dbias
    return backward


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return forward, make_backward(bug), {"cell": "rnn", "layout": "tf_kernel", "activation": "tanh"}

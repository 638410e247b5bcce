"""A vanilla RNN holding one kernel (D+H, H) applied to concat([x, h]) plus one bias, as TF's
BasicRNNCell and the NumPy class of the tutorials do. Checked with:

    gradharness check examples.tf_kernel_rnn:forward examples.tf_kernel_rnn:backward --layout tf_kernel
"""

import numpy as np


def forward(x, h0, kernel, bias):
    N, T, D = x.shape
    h, s = [], h0
    for t in range(T):
        s = np.tanh(np.concatenate([x[:, t], s], axis=1) @ kernel + bias)
        h.append(s)
    return np.stack(h, axis=1), (x, h0, kernel, h)


def backward(dh, cache):
    x, h0, kernel, h = cache
    D = x.shape[2]
    dx, dkernel, dbias = np.zeros_like(x), np.zeros_like(kernel), np.zeros(kernel.shape[1])
    carry = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        prev = h[t - 1] if t else h0
        err = (dh[:, t] + carry) * (1 - h[t] ** 2)
        dkernel += np.concatenate([x[:, t], prev], axis=1).T @ err
        dbias += err.sum(axis=0)
        dx[:, t] = err @ kernel[:D].T
        carry = err @ kernel[D:].T
    return dx, carry, dkernel, dbias

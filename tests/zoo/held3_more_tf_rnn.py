"""Fresh mistakes in a vanilla RNN on the built-in ``tf_kernel`` layout (TF's BasicRNNCell):
x (N, T, D), h0 (N, H), kernel (D+H, H) applied to concat([x_t, h]), bias (H,):

    h' = tanh(concat([x_t, h]) @ kernel + bias)

Written with tf.split-like slicing of the concatenated gradient. Third held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dh_mean_over_batch": "reduction_scaled",             # dh / N at the start, as if the loss were a batch mean
    "dkernel_before_tanh_grad": "derivative_missing",     # dkernel += xh.T @ dh (dbias and the carry are right)
    "carry_accumulated": "unknown",                       # dh_next += ... : the carry sums every later step's
    "forward_concat_h_x": "forward_mistake",              # concat([h, x_t]) @ kernel; backward consistent
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_mean_over_batch": "",
    "dkernel_before_tanh_grad": "",
    "carry_accumulated": "",
    "forward_concat_h_x": "",
}


def forward(x, h0, kernel, bias, bug=None):
    h, hs, xhs = h0, [], []
    for t in range(x.shape[1]):
        xh = np.concatenate([h, x[:, t]] if bug == "forward_concat_h_x" else [x[:, t], h], axis=1)
        h = np.tanh(xh @ kernel + bias)
        hs.append(h)
        xhs.append(xh)
    return np.stack(hs, axis=1), {"xh": xhs, "h": hs, "kernel": kernel}


def backward(dh, cache, bug=None):
    kernel = cache["kernel"]
    N, T, H = dh.shape
    D = kernel.shape[0] - H
    if bug == "dh_mean_over_batch":
        dh = dh / N
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        d_out = dh[:, t] + dh_next
        h, xh = cache["h"][t], cache["xh"][t]
        d_pre = d_out * (1 - h * h)
        dkernel += xh.T @ (d_out if bug == "dkernel_before_tanh_grad" else d_pre)
        dbias += d_pre.sum(axis=0)
        d_xh = d_pre @ kernel.T
        if bug == "forward_concat_h_x":
            d_h, dx[:, t] = d_xh[:, :H], d_xh[:, H:]
        else:
            dx[:, t], d_h = d_xh[:, :D], d_xh[:, D:]
        if bug == "carry_accumulated":
            dh_next += d_h
        else:
            dh_next = d_h
    return dx, dh_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel"}

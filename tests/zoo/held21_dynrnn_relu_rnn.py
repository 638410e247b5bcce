"""A ReLU RNN on the built-in ``tf_kernel`` layout, written as a NumPy port of TF1's
``tf.nn.dynamic_rnn``: a small ``TensorArray`` class (write/read/stack) and a
``while_loop(cond, body, loop_vars)`` helper drive both passes, the backward being a second
while loop that walks t from T - 1 down to 0. x (N, T, D), h0 (N, H), kernel (D+H, H) on
concat([x_t, h_(t-1)]), bias (H,), options activation="relu":

    pre_t = concat([x_t, state]) @ kernel + bias       state = relu(pre_t)

Twenty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "relu_grad_missing": "derivative_missing",         # da = dout: the ReLU mask left out
    "mask_from_dout": "derivative_wrong_point",         # da = dout * (dout > 0): the mask taken at the gradient, not at pre_t (also wrong_value)
    "relu_grad_tanh_form": "derivative_wrong_function",  # da = dout * (1 - out ** 2): tanh's derivative kept from BasicRNNCell
    "dkernel_from_h_t": "wrong_time",                   # xh = concat([x_t, out_t]) in dkernel (h_t for h_(t-1))
    "carry_kernel_untransposed": "weight_transposed",   # d_state = da @ kernel[D:]
    "kernel_grad_for_carry": "gradient_for_weight",     # d_state = da @ dkernel[D:].T (the running dkernel, just updated)
    "dbias_assigned": "carry_overwrites",               # dbias = da.sum(0) in the loop body (= for +=)
    "grad_loop_forward": "loop_direction",              # the gradient while loop starts at t = 0 and counts up
    "dbias_minus": "wrong_sign",                        # dbias = dbias - da.sum(0) (the SGD update's sign)
    "dkernel_over_T": "reduction_scaled",               # dkernel / T after the loop (a per-step mean)
    "dWh_block_transposed": "gradient_transposed",      # the recurrent rows of dkernel stored as (da.T @ h_prev)
    "forward_relu_before_bias": "forward_mistake",      # out = relu(xh @ kernel) + bias; the backward consistent
    "mask_missing_and_dbias_assigned": "unknown",       # two mistakes: no ReLU mask and dbias = (not +=)
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "relu_grad_missing": "",
    "mask_from_dout": "",
    "relu_grad_tanh_form": "",
    "dkernel_from_h_t": "",
    "carry_kernel_untransposed": "",
    "kernel_grad_for_carry": "",
    "dbias_assigned": "",
    "grad_loop_forward": "",
    "dbias_minus": "",
    "dkernel_over_T": "",
    "dWh_block_transposed": "",
    "forward_relu_before_bias": "",
    "mask_missing_and_dbias_assigned": "",
}


class TensorArray:
    """Just enough of tf.TensorArray: one slot per step."""

    def __init__(self, size):
        self._items = [None] * size

    def write(self, i, value):
        self._items[i] = value
        return self

    def read(self, i):
        return self._items[i]

    def stack(self):
        return np.stack(self._items, axis=1)          # batch-major (N, T, ...)


def while_loop(cond, body, loop_vars):
    while cond(*loop_vars):
        loop_vars = body(*loop_vars)
    return loop_vars


def dynamic_rnn(x, h0, kernel, bias, bug=None):
    N, T, D = x.shape

    def body(t, state, out_ta, pre_ta):
        xh = np.concatenate([x[:, t], state], axis=1)
        if bug == "forward_relu_before_bias":
            pre = xh @ kernel
            out = np.maximum(pre, 0) + bias
        else:
            pre = xh @ kernel + bias
            out = np.maximum(pre, 0)
        return t + 1, out, out_ta.write(t, out), pre_ta.write(t, pre)

    _, _, out_ta, pre_ta = while_loop(lambda t, *_: t < T, body, (0, h0, TensorArray(T), TensorArray(T)))
    return out_ta.stack(), {"x": x, "h0": h0, "kernel": kernel, "outputs": out_ta, "pre": pre_ta}


def dynamic_rnn_grad(douts, cache, bug=None):
    x, h0, kernel = cache["x"], cache["h0"], cache["kernel"]
    outputs, pre = cache["outputs"], cache["pre"]
    N, T, H = douts.shape
    D = x.shape[2]

    def body(t, d_state, dx_ta, dkernel, dbias):
        h_prev = h0 if t == 0 else outputs.read(t - 1)
        dout = douts[:, t] + d_state
        if bug in ("relu_grad_missing", "mask_missing_and_dbias_assigned"):
            da = dout
        elif bug == "mask_from_dout":
            da = dout * (dout > 0)
        elif bug == "relu_grad_tanh_form":
            da = dout * (1 - outputs.read(t) ** 2)
        else:
            da = dout * (pre.read(t) > 0)
        if bug == "forward_relu_before_bias":
            dbias_t = dout.sum(axis=0)
        else:
            dbias_t = da.sum(axis=0)
        h_in = outputs.read(t) if bug == "dkernel_from_h_t" else h_prev
        if bug == "forward_relu_before_bias":
            h_in = h_prev
        xh = np.concatenate([x[:, t], h_in], axis=1)
        dk = xh.T @ da
        if bug == "dWh_block_transposed":
            dk = np.concatenate([x[:, t].T @ da, da.T @ h_in], axis=0)
        dkernel = dkernel + dk
        if bug in ("dbias_assigned", "mask_missing_and_dbias_assigned"):
            dbias = dbias_t
        elif bug == "dbias_minus":
            dbias = dbias - dbias_t
        else:
            dbias = dbias + dbias_t
        d_in = da @ kernel[:D].T
        if bug == "carry_kernel_untransposed":
            d_state = da @ kernel[D:]
        elif bug == "kernel_grad_for_carry":
            d_state = da @ dkernel[D:].T
        else:
            d_state = da @ kernel[D:].T
        step = 1 if bug == "grad_loop_forward" else -1
        return t + step, d_state, dx_ta.write(t, d_in), dkernel, dbias

    start = (0 if bug == "grad_loop_forward" else T - 1, np.zeros((N, H), dtype=douts.dtype), TensorArray(T),
             np.zeros_like(kernel), np.zeros(H, dtype=douts.dtype))
    _, dh0, dx_ta, dkernel, dbias = while_loop(lambda t, *_: 0 <= t < T, body, start)
    if bug == "dkernel_over_T":
        dkernel = dkernel / T
    return dx_ta.stack(), dh0, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, bias):
        return dynamic_rnn(x, h0, kernel, bias, bug)

    def backward(dh, cache):
        return dynamic_rnn_grad(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "tf_kernel", "activation": "relu"}

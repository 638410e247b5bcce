"""A ReLU Elman RNN written like a Caffe layer: every parameter and every activation is a
``Blob`` with a ``data`` and a ``diff`` array, the layer has ``Forward_cpu``/``Backward_cpu``
methods, the "InnerProduct" weights are stored (num_output, num_input) and applied as
``bottom @ W.T``, and the backward *accumulates* into the bottom blobs' diffs, as Caffe does.

    pre_t = x_t @ W_xh.T + h_(t-1) @ W_hh.T + b        h_t = ReLU(pre_t)

x (N, T, D) batch first, h0 (N, H), W_xh (H, D), W_hh (H, H), b (H,) (bias_ih + bias_hh).
Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "relu_mask_from_bottom_h": "wrong_time",            # mask (h[t].data > 0): the step's *input* h_(t-1), not h_t
    "relu_backward_skipped": "derivative_missing",      # pre.diff = top.diff (ReLU's Backward_cpu never called)
    "relu_as_tanh_backward": "derivative_wrong_function",  # pre.diff = top.diff * (1 - top.data ** 2)
    "hh_bottom_with_W_T": "weight_transposed",          # h[t].diff += pre.diff @ W_hh.T
    "hh_param_diff_transposed": "gradient_transposed",  # W_hh.diff += h[t].data.T @ pre.diff
    "bottom_diff_from_param_diff": "gradient_for_weight",  # h[t].diff += pre.diff @ W_hh.diff (diff for data)
    "bottom_h_diff_assigned": "carry_overwrites",       # h[t].diff = pre.diff @ W_hh: the top dh of step t-1 lost
    "bias_diff_mean": "reduction_scaled",               # b.diff += pre.diff.mean(0) (np.mean for np.sum)
    "loop_stops_at_1": "loop_skips_step",               # for t in range(T - 1, 0, -1): step 0 never back-propagated
    "leaky_slope_both_ways": "forward_mistake",         # negative_slope=0.1 in Forward and Backward: a leaky ReLU
    "shared_pre_buffer": "inplace_corruption",          # one preallocated pre buffer for every step: masks all of the last step
    "x_blob_index_minus_1": "wrong_time",               # W_xh.diff += pre.diff.T @ x[:, t - 1] (wraps to x_(T-1) at t=0)
    "clip_top_diff": "gradient_clipped",                # np.clip(top.diff, -0.5, 0.5) before the ReLU backward (solver clip_gradients by hand)
    "loss_weight_0_7": "unknown",                       # every top diff scaled by loss_weight = 0.7 (an arbitrary constant)
    "relu_skipped_and_bias_mean": "unknown",            # two at once: relu_backward_skipped and bias_diff_mean
}

TOUCHES = {b: "" for b in BUGS}                         # an RNN: no gates


class Blob:
    def __init__(self, data):
        self.data = data
        self.diff = np.zeros_like(data)


class RecurrentReLULayer:
    def __init__(self, W_xh, W_hh, b, bug=None):
        self.W_xh, self.W_hh, self.b = Blob(W_xh), Blob(W_hh), Blob(b)
        self.bug = bug
        self.slope = 0.1 if bug == "leaky_slope_both_ways" else 0.0

    def Forward_cpu(self, x, h0):
        N, T, D = x.shape
        self.x = [Blob(x[:, t]) for t in range(T)]
        self.h = [Blob(h0)]
        self.pre = []
        buf = np.empty((N, self.W_hh.data.shape[0]), dtype=x.dtype)
        for t in range(T):
            a = x[:, t] @ self.W_xh.data.T + self.h[t].data @ self.W_hh.data.T + self.b.data
            if self.bug == "shared_pre_buffer":
                buf[...] = a
                a = buf
            self.pre.append(Blob(a))
            self.h.append(Blob(np.where(a > 0, a, self.slope * a)))
        return np.stack([blob.data for blob in self.h[1:]], axis=1)

    def relu_backward(self, top, bottom):
        bug = self.bug
        diff = top.diff
        if bug == "clip_top_diff":
            diff = np.clip(diff, -0.5, 0.5)
        if bug in ("relu_backward_skipped", "relu_skipped_and_bias_mean"):
            bottom.diff = diff.copy()
        elif bug == "relu_as_tanh_backward":
            bottom.diff = diff * (1 - top.data ** 2)
        else:
            mask_from = self.h[self.h.index(top) - 1].data if bug == "relu_mask_from_bottom_h" else bottom.data
            bottom.diff = diff * np.where(mask_from > 0, 1.0, self.slope)

    def inner_product_backward(self, t, pre):
        bug = self.bug
        x_t = self.x[t - 1] if bug == "x_blob_index_minus_1" else self.x[t]
        bottom_h = self.h[t]
        self.W_xh.diff += pre.diff.T @ x_t.data
        if bug == "hh_param_diff_transposed":
            self.W_hh.diff += bottom_h.data.T @ pre.diff
        else:
            self.W_hh.diff += pre.diff.T @ bottom_h.data
        mean_bias = bug in ("bias_diff_mean", "relu_skipped_and_bias_mean")
        self.b.diff += pre.diff.mean(axis=0) if mean_bias else pre.diff.sum(axis=0)
        self.x[t].diff += pre.diff @ self.W_xh.data
        if bug == "hh_bottom_with_W_T":
            back = pre.diff @ self.W_hh.data.T
        elif bug == "bottom_diff_from_param_diff":
            back = pre.diff @ self.W_hh.diff
        else:
            back = pre.diff @ self.W_hh.data
        if bug == "bottom_h_diff_assigned":
            bottom_h.diff = back
        else:
            bottom_h.diff += back

    def Backward_cpu(self, top_diff):
        T = len(self.pre)
        for blob in (self.W_xh, self.W_hh, self.b):
            blob.diff[...] = 0
        scale = 0.7 if self.bug == "loss_weight_0_7" else 1.0
        for t in range(T):
            self.h[t + 1].diff = top_diff[:, t] * scale
        self.h[0].diff = np.zeros_like(self.h[0].data)
        steps = range(T - 1, 0, -1) if self.bug == "loop_stops_at_1" else range(T - 1, -1, -1)
        for t in steps:
            self.relu_backward(self.h[t + 1], self.pre[t])
            self.inner_product_backward(t, self.pre[t])
        dx = np.stack([blob.diff for blob in self.x], axis=1)
        return dx, self.h[0].diff, self.W_xh.diff, self.W_hh.diff, self.b.diff


def to_user(cell, p):
    return {"W_xh": p["weight_ih"], "W_hh": p["weight_hh"], "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dW_xh": "dweight_ih", "dW_hh": "dweight_hh", "db": "dbias_ih"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="caffe_relu_rnn", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_xh, W_hh, b):
        layer = RecurrentReLULayer(W_xh, W_hh, b, bug)
        return layer.Forward_cpu(x, h0), layer

    def backward(dh, layer):
        return layer.Backward_cpu(dh)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

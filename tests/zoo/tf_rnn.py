"""A BasicRNNCell-style layer: one kernel (D+H, H) applied to concat([x_t, h_{t-1}]) plus a bias.

    h_t = tanh(concat([x_t, h_{t-1}]) @ kernel + bias)

``bug`` plants one classic mistake (see BUGS); None is the correct code.
"""

import numpy as np

BUGS = {
    "carry_T": "weight_transposed",            # err @ w_h instead of err @ w_h.T
    "act_preact": "derivative_wrong_point",
    "act_prev": "derivative_wrong_point",
    "carry_dropped": "carry_dropped",
    "pair_x_prev": "wrong_time",
    "pair_h_next": "wrong_time",
    "skip_first": "loop_skips_step",
    "skip_last": "loop_skips_step",
    "bias_mean_N": "reduction_scaled",
    "bias_mean_NT": "reduction_scaled",
    "bias_sign": "wrong_sign",
}


class BasicRNN:
    def __init__(self, bug=None):
        assert bug is None or bug in BUGS, bug
        self.bug = bug

    def forward(self, x, h0, kernel, bias):
        """x (N, T, D), h0 (N, H) -> outputs (N, T, H), cache."""
        N, T, D = x.shape
        outputs, pre = [], []
        state = h0
        for t in range(T):
            inx = np.concatenate([x[:, t], state], axis=1)          # (N, D+H)
            a = inx @ kernel + bias
            state = np.tanh(a)
            outputs.append(state)
            pre.append(a)
        return np.stack(outputs, axis=1), (x, h0, outputs, pre, kernel)

    def backward(self, dh, cache):
        """dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dkernel (D+H, H), dbias (H,)."""
        x, h0, outputs, pre, kernel = cache
        bug = self.bug
        N, T, D = x.shape
        w_x, w_h = kernel[:D], kernel[D:]
        dkernel = np.zeros_like(kernel)
        dbias = np.zeros(kernel.shape[1], dtype=kernel.dtype)
        dx = np.zeros_like(x)
        err_next = np.zeros_like(h0)
        steps = {"skip_first": range(T - 1, 0, -1), "skip_last": range(T - 2, -1, -1)}.get(bug, range(T - 1, -1, -1))
        for t in steps:
            h_prev = outputs[t - 1] if t > 0 else h0
            err = dh[:, t] if bug == "carry_dropped" else dh[:, t] + err_next
            at = {"act_preact": pre[t], "act_prev": h_prev}.get(bug, outputs[t])
            d = (1 - at * at) * err
            x_used = x[:, t - 1] if t > 0 else np.zeros_like(x[:, 0])
            inx = np.concatenate([x_used if bug == "pair_x_prev" else x[:, t],
                                  outputs[t] if bug == "pair_h_next" else h_prev], axis=1)
            dkernel += inx.T @ d
            dbias += -d.sum(axis=0) if bug == "bias_sign" else d.sum(axis=0)
            dx[:, t] = d @ w_x.T
            err_next = d @ (w_h if bug == "carry_T" else w_h.T)
        if bug == "bias_mean_N":
            dbias /= N
        elif bug == "bias_mean_NT":
            dbias /= N * T
        return dx, err_next, dkernel, dbias


def make(bug=None):
    layer = BasicRNN(bug)
    return layer.forward, layer.backward, {"cell": "rnn", "layout": "tf_kernel"}

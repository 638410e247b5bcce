"""More mistakes in a BasicRNNCell-style layer, written fresh: one kernel (D+H, H) on
concat([x_t, h_{t-1}]) plus a bias (H,); x (N, T, D), h0 (N, H).

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

BUGS = {
    "kernel_split_at_H": "wrong_value",               # w_h = kernel[:H], w_x = kernel[H:] (split at the wrong row);
                                                      # relabelled from "unknown": one split order, as held40 labels it
    "grad_left_out": "derivative_missing",            # dz = err
    "sigmoid_grad_for_tanh": "derivative_wrong_function",  # h * (1 - h)
    "carry_from_dkernel": "gradient_for_weight",      # err_next = dz @ dkernel[D:].T
    "dkernel_assigned": "carry_overwrites",           # dkernel = concat.T @ dz
    "dkernel_over_T": "reduction_scaled",             # dkernel / T
    "x_next_in_dkernel": "wrong_time",                # x_{t+1} (wrapping at T-1) in the concat for dkernel
    "err_minus_carry": "wrong_sign",                  # err = dh[:, t] - err_next
    "hard_tanh_cell": "forward_mistake",              # clip(z, -1, 1) forward, backward consistent
}
TOUCHES = {b: "" for b in BUGS}


class MyRNNLayer:
    def __init__(self, bug=None):
        assert bug is None or bug in BUGS, bug
        self.bug = bug

    def forward(self, x, h0, kernel, bias):
        """x (N, T, D), h0 (N, H) -> outputs (N, T, H), cache."""
        T = x.shape[1]
        h, zs, hs = h0, [], [h0]
        for t in range(T):
            z = np.concatenate([x[:, t], h], axis=1) @ kernel + bias
            h = np.clip(z, -1, 1) if self.bug == "hard_tanh_cell" else np.tanh(z)
            zs.append(z)
            hs.append(h)
        return np.stack(hs[1:], axis=1), {"x": x, "hs": hs, "zs": zs, "kernel": kernel}

    def backward(self, dh, cache):
        """dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dkernel (D+H, H), dbias (H,)."""
        bug, x, hs, zs, kernel = self.bug, cache["x"], cache["hs"], cache["zs"], cache["kernel"]
        N, T, D = x.shape
        H = kernel.shape[1]
        if bug == "kernel_split_at_H":
            w_h, w_x = kernel[:H], kernel[H:]
        else:
            w_x, w_h = kernel[:D], kernel[D:]
        dkernel, dbias = np.zeros_like(kernel), np.zeros(H, dtype=kernel.dtype)
        dx = np.zeros_like(x)
        err_next = np.zeros((N, H), dtype=kernel.dtype)
        for t in reversed(range(T)):
            err = dh[:, t] - err_next if bug == "err_minus_carry" else dh[:, t] + err_next
            h = hs[t + 1]
            if bug == "grad_left_out":
                dz = err
            elif bug == "sigmoid_grad_for_tanh":
                dz = err * h * (1 - h)
            elif bug == "hard_tanh_cell":
                dz = err * (np.abs(zs[t]) < 1)
            else:
                dz = err * (1 - h * h)
            x_t = x[:, (t + 1) % T] if bug == "x_next_in_dkernel" else x[:, t]
            concat = np.concatenate([x_t, hs[t]], axis=1)
            if bug == "dkernel_assigned":
                dkernel = concat.T @ dz
            else:
                dkernel += concat.T @ dz
            dbias += dz.sum(axis=0)
            dx[:, t] = dz @ w_x.T
            err_next = dz @ (dkernel[D:].T if bug == "carry_from_dkernel" else w_h.T)
        if bug == "dkernel_over_T":
            dkernel /= T
        return dx, err_next, dkernel, dbias


def make(bug=None):
    layer = MyRNNLayer(bug)
    return layer.forward, layer.backward, {"cell": "rnn", "layout": "tf_kernel"}

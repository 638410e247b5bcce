"""A BasicLSTMCell-style layer: kernel (D+H, 4H) on concat([x_t, h_{t-1}]), columns i, j, f, o,
and TF's forget_bias added to the f pre-activation (the check says forget_bias=1.0).

``bug`` plants one classic mistake (see BUGS); None is the correct code.
"""

import numpy as np

BUGS = {
    "act_tanh_c": "derivative_wrong_point",
    "carry_dropped": "carry_dropped",
    "carry_h_dropped": "carry_dropped",
    "carry_c_dropped": "carry_dropped",
    "pair_x_prev": "wrong_time",
    "pair_h_next": "wrong_time",
    "skip_first": "loop_skips_step",
    "skip_last": "loop_skips_step",
    "bias_mean_N": "reduction_scaled",
    "bias_mean_NT": "reduction_scaled",
    "bias_sign": "wrong_sign",
    "bwd_swap_fo": "gate_order",                  # backward writes df and do into each other's column block
    "read_torch_order": "gate_order",             # forward and backward read the columns as i, f, j, o
    "no_forget_bias": "forget_bias",      # forget_bias never added
    "fb_unexpected": "forget_bias",    # right code, but the check is told forget_bias=0.0
    "f_recomputed_no_fb": "forget_bias",  # backward recomputes f from its column without forget_bias (sigmoid' and carry)
    "f_grad_no_fb": "forget_bias",        # the same for f's sigmoid' only; the carry reads the forward's f
}


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


class BasicLSTM:
    def __init__(self, forget_bias=1.0, bug=None):
        assert bug is None or (bug in BUGS and bug != "fb_unexpected"), bug
        self.forget_bias = forget_bias
        self.bug = bug
        self.order = "ifjo" if bug == "read_torch_order" else "ijfo"

    def forward(self, x, h0, c0, kernel, bias):
        """x (N, T, D), h0, c0 (N, H) -> h (N, T, H), cache."""
        N, T, D = x.shape
        fb = 0.0 if self.bug == "no_forget_bias" else self.forget_bias
        h, c, steps = h0, c0, []
        self.f_columns = []
        for t in range(T):
            inx = np.concatenate([x[:, t], h], axis=1)              # (N, D+H)
            cols = dict(zip(self.order, np.split(inx @ kernel + bias, 4, axis=1)))
            i, j = _sigmoid(cols["i"]), np.tanh(cols["j"])
            f, o = _sigmoid(cols["f"] + fb), _sigmoid(cols["o"])
            self.f_columns.append(cols["f"])                          # the column, before forget_bias
            c_prev, h_prev = c, h
            c = c_prev * f + i * j
            h = np.tanh(c) * o
            steps.append((inx, h_prev, c_prev, i, j, f, o, c, h))
        return np.stack([s[-1] for s in steps], axis=1), (steps, kernel, D)

    def backward(self, dh, cache):
        """dh (N, T, H) -> dx (N, T, D), dh0, dc0 (N, H), dkernel (D+H, 4H), dbias (4H,)."""
        steps, kernel, D = cache
        bug = self.bug
        N, T, H = dh.shape
        dkernel = np.zeros_like(kernel)
        dbias = np.zeros(4 * H, dtype=kernel.dtype)
        dx = np.zeros((N, T, D), dtype=kernel.dtype)
        dh_next = np.zeros((N, H), dtype=kernel.dtype)
        dc_next = np.zeros((N, H), dtype=kernel.dtype)
        order = "ijof" if bug == "bwd_swap_fo" else self.order
        ts = {"skip_first": range(T - 1, 0, -1), "skip_last": range(T - 2, -1, -1)}.get(bug, range(T - 1, -1, -1))
        for t in ts:
            inx, h_prev, c_prev, i, j, f, o, c, h = steps[t]
            if bug == "f_recomputed_no_fb":
                f = _sigmoid(self.f_columns[t])
            dh_t = dh[:, t] if bug in ("carry_dropped", "carry_h_dropped") else dh[:, t] + dh_next
            tc = np.tanh(c)
            dtanh = 1 - c * c if bug == "act_tanh_c" else 1 - tc * tc
            dc = dh_t * o * dtanh
            if bug not in ("carry_dropped", "carry_c_dropped"):
                dc = dc + dc_next
            fs = _sigmoid(self.f_columns[t]) if bug == "f_grad_no_fb" else f
            grads = {"i": dc * j * i * (1 - i), "j": dc * i * (1 - j * j),
                     "f": dc * c_prev * fs * (1 - fs), "o": dh_t * tc * o * (1 - o)}
            d = np.concatenate([grads[k] for k in order], axis=1)  # (N, 4H)
            if bug == "pair_x_prev":
                inx = np.concatenate([steps[t - 1][0][:, :D] if t else np.zeros_like(inx[:, :D]), h_prev], axis=1)
            elif bug == "pair_h_next":
                inx = np.concatenate([inx[:, :D], h], axis=1)
            dkernel += inx.T @ d
            dbias += -d.sum(axis=0) if bug == "bias_sign" else d.sum(axis=0)
            dinx = d @ kernel.T                                     # (N, D+H)
            dx[:, t], dh_next = dinx[:, :D], dinx[:, D:]
            dc_next = dc * f
        if bug == "bias_mean_N":
            dbias /= N
        elif bug == "bias_mean_NT":
            dbias /= N * T
        return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    if bug == "fb_unexpected":          # the code adds TF's forget_bias=1.0; the check expects none
        layer = BasicLSTM(forget_bias=1.0)
        return layer.forward, layer.backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": 0.0}
    layer = BasicLSTM(forget_bias=1.0, bug=bug)
    return layer.forward, layer.backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": 1.0}

"""A vanilla RNN written as a dataclass that holds its weights and a history list, on the
built-in ``cs231n`` layout (x (N, T, D), Wx (D, H), Wh (H, H), b (H,)):

    h_t = tanh(x_t @ Wx + h_(t-1) @ Wh + b)

The forward appends (x_t, h_prev, a, h_t) to ``self.history`` each step; the backward walks the
history back and forms the weight gradients with np.outer, one example at a time, in an inner
loop over the batch. Sixteenth held-out zoo: written without reading the diagnosis.
"""

from dataclasses import dataclass, field

import numpy as np

BUGS = {
    "outer_args_swapped_dWh": "gradient_transposed",     # np.outer(da[n], h_prev[n]): dWh comes out transposed
    "dh_next_Wh_untransposed": "weight_transposed",      # dh_next = da @ self.Wh (for self.Wh.T)
    "dh_next_from_dWh": "gradient_for_weight",           # dh_next = da @ dWh.T (dWh being accumulated)
    "dWh_with_h_t": "wrong_time",                        # np.outer(h_t[n], da[n]): h_t for h_(t-1)
    "tanh_grad_at_preact": "derivative_wrong_point",     # 1 - a ** 2 (a the pre-activation) for 1 - h_t ** 2
    "tanh_grad_as_sigmoid": "derivative_wrong_function",  # h_t * (1 - h_t)
    "tanh_grad_no_square": "derivative_miswritten",      # (1 - h_t) for (1 - h_t ** 2)
    "upstream_only": "carry_dropped",                    # g = dh[:, t]: dh_next never added
    "walks_history_forward": "loop_direction",           # for t in range(T): the backward loop runs forward in time
    "dh_next_norm_clipped": "gradient_clipped",          # dh_next rescaled to norm <= 0.5 every step
    "carry_reset_every_2": "truncated_bptt",             # dh_next zeroed after every 2 steps back
    "forward_b_twice": "forward_mistake",                # a = x @ Wx + b + h @ Wh + b; backward db += 2 da
    "shared_h_buffer": "inplace_corruption",             # h[:] = ... into one cached buffer: every h is the last
    "da_damped_0_9": "unknown",                          # da = g * (1 - h_t ** 2) * 0.9 (arbitrary)
    "dx_double_and_dWh_transposed": "unknown",           # dx = 2 * (da @ Wx.T) and np.outer(da[n], h_prev[n]): two
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "outer_args_swapped_dWh": "",
    "dh_next_Wh_untransposed": "",
    "dh_next_from_dWh": "",
    "dWh_with_h_t": "",
    "tanh_grad_at_preact": "",
    "tanh_grad_as_sigmoid": "",
    "tanh_grad_no_square": "",
    "upstream_only": "",
    "walks_history_forward": "",
    "dh_next_norm_clipped": "",
    "carry_reset_every_2": "",
    "forward_b_twice": "",
    "shared_h_buffer": "",
    "da_damped_0_9": "",
    "dx_double_and_dWh_transposed": "",
}


@dataclass
class TanhRNN:
    Wx: np.ndarray
    Wh: np.ndarray
    b: np.ndarray
    bug: object = None
    history: list = field(default_factory=list)

    def forward(self, x, h0):
        N, T, _ = x.shape
        hs = np.zeros((N, T, self.Wh.shape[0]), dtype=x.dtype)
        h = h0.copy()
        for t in range(T):
            x_t = x[:, t]
            extra = self.b if self.bug == "forward_b_twice" else 0
            a = x_t @ self.Wx + self.b + h @ self.Wh + extra
            if self.bug == "shared_h_buffer":
                h_prev = h
                h[:] = np.tanh(a)
                self.history.append((x_t, h_prev, a, h))
            else:
                h_prev, h = h, np.tanh(a)
                self.history.append((x_t, h_prev, a, h))
            hs[:, t] = h
        return hs

    def backward(self, dh):
        bug = self.bug
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.Wx.shape[0]), dtype=dh.dtype)
        dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        order = range(T) if bug == "walks_history_forward" else reversed(range(T))
        for k, t in enumerate(order):
            x_t, h_prev, a, h_t = self.history[t]
            g = dh[:, t] if bug == "upstream_only" else dh[:, t] + dh_next
            if bug == "tanh_grad_at_preact":
                da = g * (1 - a ** 2)
            elif bug == "tanh_grad_as_sigmoid":
                da = g * h_t * (1 - h_t)
            elif bug == "tanh_grad_no_square":
                da = g * (1 - h_t)
            elif bug == "da_damped_0_9":
                da = g * (1 - h_t ** 2) * 0.9
            else:
                da = g * (1 - h_t ** 2)
            for n in range(N):
                dWx += np.outer(x_t[n], da[n])
                if bug in ("outer_args_swapped_dWh", "dx_double_and_dWh_transposed"):
                    dWh += np.outer(da[n], h_prev[n])
                elif bug == "dWh_with_h_t":
                    dWh += np.outer(h_t[n], da[n])
                else:
                    dWh += np.outer(h_prev[n], da[n])
                if bug == "forward_b_twice":
                    db += 2 * da[n]
                else:
                    db += da[n]
            dx[:, t] = da @ self.Wx.T
            if bug == "dx_double_and_dWh_transposed":
                dx[:, t] *= 2
            if bug == "dh_next_Wh_untransposed":
                dh_next = da @ self.Wh
            elif bug == "dh_next_from_dWh":
                dh_next = da @ dWh.T
            else:
                dh_next = da @ self.Wh.T
            if bug == "dh_next_norm_clipped":
                norm = np.linalg.norm(dh_next)
                if norm > 0.5:
                    dh_next = dh_next * (0.5 / norm)
            if bug == "carry_reset_every_2" and (k + 1) % 2 == 0:
                dh_next = np.zeros_like(dh_next)
        return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        model = TanhRNN(Wx, Wh, b, bug)
        return model.forward(x, h0), model

    def backward(dh, model):
        return model.backward(dh)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

"""A vanilla RNN written as a small autograd-free "layer" object with forward_step and
backward_step methods, driven by a loop outside the object, on the built-in ``karpathy``
layout (column vectors, one example at a time): x (T, D, 1), h0 (H, 1), Wxh (H, D),
Whh (H, H), bh (H, 1),

    h_t = tanh(Wxh @ x_t + Whh @ h_(t-1) + bh)

The layer keeps its own gradient buffers (self.dWxh ...), zeroed by the driver before each
backward. Eleventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "backward_step_no_tanh_grad": "derivative_missing",    # da = dh (the (1 - h * h) factor left out)
    "tanh_grad_from_preactivation": "derivative_wrong_point",  # da = (1 - a * a) * dh: a is the cached pre-activation (also a wrong_value)
    "tanh_grad_sign_flipped": "wrong_sign",               # da = (h * h - 1) * dh
    "dWhh_with_h_t": "wrong_time",                        # self.dWhh += da @ h.T (this step's h, not h_prev)
    "Whh_not_transposed": "weight_transposed",            # dh_prev = self.Whh @ da
    "dx_through_dWxh": "gradient_for_weight",             # dx = self.dWxh.T @ da (the running gradient, not Wxh)
    "driver_forgets_dh_next": "carry_dropped",            # dh = dhs[t] in the driver (dh_next computed, never added)
    "dbh_assigned": "carry_overwrites",                   # self.dbh = da (= for +=)
    "driver_loops_forward": "loop_direction",             # for t in range(T): the driver walks the steps forward
    "driver_truncates_after_3": "truncated_bptt",         # dh_next zeroed once 3 steps have been walked back
    "driver_clips_like_minchar": "gradient_clipped",      # np.clip(dparam, -0.05, 0.05, out=dparam) before returning
    "forward_bias_added_twice": "forward_mistake",        # a = Wxh x + Whh h + bh + bh; backward: dbh += 2 * da (consistent)
    "tanh_grad_halved": "unknown",                        # da = 0.5 * (1 - h * h) * dh (an arbitrary constant)
    "dh_prev_and_dWhh_both_wrong": "unknown",             # Whh not transposed in dh_prev AND dWhh with this step's h
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "backward_step_no_tanh_grad": "",
    "tanh_grad_from_preactivation": "",
    "tanh_grad_sign_flipped": "",
    "dWhh_with_h_t": "",
    "Whh_not_transposed": "",
    "dx_through_dWxh": "",
    "driver_forgets_dh_next": "",
    "dbh_assigned": "",
    "driver_loops_forward": "",
    "driver_truncates_after_3": "",
    "driver_clips_like_minchar": "",
    "forward_bias_added_twice": "",
    "tanh_grad_halved": "",
    "dh_prev_and_dWhh_both_wrong": "",
}


class RNNLayer:
    """One tanh layer; forward_step / backward_step work on one time step."""

    def __init__(self, Wxh, Whh, bh, bug=None):
        self.Wxh, self.Whh, self.bh, self.bug = Wxh, Whh, bh, bug
        self.zero_grad()

    def zero_grad(self):
        self.dWxh, self.dWhh, self.dbh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.bh)

    def forward_step(self, x, h_prev):
        a = self.Wxh @ x + self.Whh @ h_prev + self.bh
        if self.bug == "forward_bias_added_twice":
            a = a + self.bh
        h = np.tanh(a)
        return h, (x, h_prev, a, h)

    def backward_step(self, dh, step):
        x, h_prev, a, h = step
        bug = self.bug
        if bug == "backward_step_no_tanh_grad":
            da = dh
        elif bug == "tanh_grad_from_preactivation":
            da = (1 - a * a) * dh
        elif bug == "tanh_grad_sign_flipped":
            da = (h * h - 1) * dh
        elif bug == "tanh_grad_halved":
            da = 0.5 * (1 - h * h) * dh
        else:
            da = (1 - h * h) * dh
        self.dWxh += da @ x.T
        self.dWhh += da @ (h if bug in ("dWhh_with_h_t", "dh_prev_and_dWhh_both_wrong") else h_prev).T
        if bug == "dbh_assigned":
            self.dbh = da
        elif bug == "forward_bias_added_twice":
            self.dbh += 2 * da
        else:
            self.dbh += da
        dx = (self.dWxh if bug == "dx_through_dWxh" else self.Wxh).T @ da
        if bug in ("Whh_not_transposed", "dh_prev_and_dWhh_both_wrong"):
            dh_prev = self.Whh @ da
        else:
            dh_prev = self.Whh.T @ da
        return dx, dh_prev


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        layer = RNNLayer(Wxh, Whh, bh, bug)
        hs, steps, h = [], [], h0
        for t in range(len(x)):
            h, step = layer.forward_step(x[t], h)
            hs.append(h)
            steps.append(step)
        return np.array(hs), (layer, steps)

    def backward(dhs, cache):
        layer, steps = cache
        layer.zero_grad()
        T = len(steps)
        dxs = np.zeros((T,) + steps[0][0].shape, dtype=dhs.dtype)
        dh_next = np.zeros_like(steps[0][1])
        walked = 0
        for t in (range(T) if bug == "driver_loops_forward" else reversed(range(T))):
            dh = dhs[t] if bug == "driver_forgets_dh_next" else dhs[t] + dh_next
            dxs[t], dh_next = layer.backward_step(dh, steps[t])
            walked += 1
            if bug == "driver_truncates_after_3" and walked == 3:
                dh_next = np.zeros_like(dh_next)
        if bug == "driver_clips_like_minchar":
            for dparam in (layer.dWxh, layer.dWhh, layer.dbh):
                np.clip(dparam, -0.05, 0.05, out=dparam)
        return dxs, dh_next, layer.dWxh, layer.dWhh, layer.dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy"}

"""A ReLU RNN in Karpathy's min-char-rnn layout (one example, column vectors) written as a
small class hierarchy: a ``Cell`` base class with ``forward``/``backward`` and a ``history``
list, a ``ReluElmanCell`` subclass, and two driver functions that walk the sequence.

    a_t = Wxh @ x_t + Whh @ h_(t-1) + bh,   h_t = max(a_t, 0)     x (T, D, 1), h0 (H, 1)

Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "Whh_not_transposed": "weight_transposed",          # dh_prev = Whh @ da
    "dWhh_outer_flipped": "gradient_transposed",        # dWhh += h_prev @ da.T
    "relu_mask_from_prev_state": "wrong_time",          # mask = h_prev > 0: the step before's mask
    "relu_grad_forgotten": "derivative_missing",        # da = dh
    "relu_grad_as_tanh": "derivative_wrong_function",   # da = dh * (1 - h**2)
    "dbh_assigned": "carry_overwrites",                 # self.dbh = da (= for +=)
    "dh_next_zeroed_in_loop": "carry_dropped",          # dh_next = np.zeros_like(h0) at the top of every step
    "range_to_zero_exclusive": "loop_skips_step",       # for t in range(T - 1, 0, -1)
    "forward_leaky_relu": "forward_mistake",            # h = max(a, 0.01 a) in the forward; backward uses its slope
    "bptt_truncate_4": "truncated_bptt",                # WildML-style: carry reset every 4 steps walked back
    "clip_dh_next": "gradient_clipped",                 # np.clip(dh_next, -0.1, 0.1) each step
    "dbh_from_dh_not_da": "wrong_value",                # dbh += dh (the gradient before the ReLU mask)
    "dWxh_minus_equals": "wrong_sign",                  # dWxh -= da @ x.T (the SGD update's sign)
    "mask_half": "unknown",                             # da = dh * (h > 0) * 0.5: an arbitrary constant
}

TOUCHES = {b: "" for b in BUGS}


class Cell:
    """Base class: keeps a history of caches, walks it backward."""

    def __init__(self, bug=None):
        self.bug = bug
        self.history = []

    def step(self, x, h_prev):
        raise NotImplementedError

    def step_back(self, dh, cache):
        raise NotImplementedError

    def reset(self):
        self.history = []


class ReluElmanCell(Cell):
    def __init__(self, Wxh, Whh, bh, bug=None):
        super().__init__(bug)
        self.Wxh, self.Whh, self.bh = Wxh, Whh, bh
        self.dWxh, self.dWhh, self.dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)

    def step(self, x, h_prev):
        a = self.Wxh @ x + self.Whh @ h_prev + self.bh
        h = np.maximum(a, 0.01 * a) if self.bug == "forward_leaky_relu" else np.maximum(a, 0)
        self.history.append((x, h_prev, a, h))
        return h

    def step_back(self, dh, cache):
        x, h_prev, a, h = cache
        bug = self.bug
        if bug == "relu_grad_forgotten":
            da = dh
        elif bug == "relu_grad_as_tanh":
            da = dh * (1 - h ** 2)
        elif bug == "relu_mask_from_prev_state":
            da = dh * (h_prev > 0)
        elif bug == "forward_leaky_relu":
            da = dh * np.where(a > 0, 1.0, 0.01)
        elif bug == "mask_half":
            da = dh * (h > 0) * 0.5
        else:
            da = dh * (h > 0)
        if bug == "dWxh_minus_equals":
            self.dWxh -= da @ x.T
        else:
            self.dWxh += da @ x.T
        self.dWhh += h_prev @ da.T if bug == "dWhh_outer_flipped" else da @ h_prev.T
        if bug == "dbh_assigned":
            self.dbh = da
        else:
            self.dbh += dh if bug == "dbh_from_dh_not_da" else da
        dx = self.Wxh.T @ da
        dh_prev = self.Whh @ da if bug == "Whh_not_transposed" else self.Whh.T @ da
        return dx, dh_prev


def run_forward(x, h0, Wxh, Whh, bh, bug=None):
    cell = ReluElmanCell(Wxh, Whh, bh, bug)
    hs = np.zeros((x.shape[0], h0.shape[0], 1), dtype=x.dtype)
    h = h0
    for t in range(x.shape[0]):
        h = cell.step(x[t], h)
        hs[t] = h
    return hs, cell


def run_backward(dhs, cell):
    T = len(cell.history)
    bug = cell.bug
    dxs = np.zeros((T,) + cell.history[0][0].shape, dtype=dhs.dtype)
    dh_next = np.zeros_like(cell.history[0][1])
    walked = 0
    for t in (range(T - 1, 0, -1) if bug == "range_to_zero_exclusive" else range(T - 1, -1, -1)):
        if bug == "dh_next_zeroed_in_loop":
            dh_next = np.zeros_like(dh_next)
        dxs[t], dh_next = cell.step_back(dhs[t] + dh_next, cell.history[t])
        walked += 1
        if bug == "bptt_truncate_4" and walked % 4 == 0:
            dh_next = np.zeros_like(dh_next)
        if bug == "clip_dh_next":
            dh_next = np.clip(dh_next, -0.1, 0.1)
    return dxs, dh_next, cell.dWxh, cell.dWhh, cell.dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        return run_forward(x, h0, Wxh, Whh, bh, bug)

    return forward, run_backward, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}

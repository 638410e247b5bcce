"""An LSTM on TF's kernel layout (columns i, j, f, o; forget_bias 1.0 added at call time) in a
home-made layer framework where every layer object is reused at every time step and keeps
its saved tensors on its own LIFO stack (``save`` pushes in the forward, ``saved`` pops in the
backward): ``Concat``, ``Dense`` (with its ``dkernel`` / ``dbias`` accumulators), ``Sigmoid``,
``Tanh``, ``Mul``. The forward is a generator over the time steps and the backward another
generator fed with (t, dh_t) pairs built with ``zip`` / ``itertools``.

    [a_i, a_j, a_f, a_o] = [x_t, h_(t-1)] @ kernel + bias
    c_t = sigmoid(a_f + 1.0) c_(t-1) + sigmoid(a_i) tanh(a_j)      h_t = sigmoid(a_o) tanh(c_t)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import itertools
from functools import partial

import numpy as np

FORGET_BIAS = 1.0
BPTT_WINDOW = 3

BUGS = {
    "tanh_pops_front": "wrong_time",               # Tanh.saved: self.stack.pop(0)
    "one_sigmoid_for_ifo": "derivative_wrong_point",  # one Sigmoid layer for i, f, o: popped in the push order
    "forget_bias_default": "forget_bias",          # LSTMCell(kernel, bias): forget_bias left at its default 0.0
    "dense_dx_uses_dkernel": "gradient_for_weight",  # Dense.backward returns g @ self.dkernel.T
    "islice_window": "truncated_bptt",             # itertools.islice(steps, BPTT_WINDOW)
    "tanh_c_twice": "derivative_twice",            # dtc * (1 - tc**2) by hand, then tanh_c.backward again
    "dh_prev_not_carried": "carry_dropped",        # dh_next never updated from step_back's dh_prev
    "zip_range_short": "loop_skips_step",          # zip(range(T - 1, 0, -1), ...): step 0 never visited
    "dense_kernel_assign": "carry_overwrites",     # self.dkernel = xh.T @ g
    "mul_f_operands_swapped": "wrong_value",       # mul_f(c, f) in the forward, unpacked as (df, dc_prev)
    "concat_ifjo": "gate_order",                   # da = [da_i, da_f, da_j, da_o]
    "dkernel_over_N": "reduction_scaled",          # self.dkernel += xh.T @ g / len(g)
    "sigmoid_bwd_sign": "wrong_sign",              # g * y * (y - 1)
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "tanh_pops_front": "",
    "one_sigmoid_for_ifo": "io",
    "forget_bias_default": "",
    "dense_dx_uses_dkernel": "",
    "islice_window": "",
    "tanh_c_twice": "ifg",
    "dh_prev_not_carried": "",
    "zip_range_short": "",
    "dense_kernel_assign": "",
    "mul_f_operands_swapped": "f",
    "concat_ifjo": "fg",
    "dkernel_over_N": "",
    "sigmoid_bwd_sign": "ifo",
}


class Layer:
    def __init__(self, bug=None):
        self.stack, self.bug = [], bug

    def save(self, *tensors):
        self.stack.append(tensors)

    def saved(self):
        return self.stack.pop()


class Concat(Layer):
    def __call__(self, x, h):
        self.save(x.shape[1])
        return np.concatenate([x, h], axis=1)

    def backward(self, g):
        D, = self.saved()
        return g[:, :D], g[:, D:]


class Dense(Layer):
    def __init__(self, kernel, bias, bug=None):
        super().__init__(bug)
        self.kernel, self.bias = kernel, bias
        self.dkernel, self.dbias = np.zeros_like(kernel), np.zeros_like(bias)

    def __call__(self, xh):
        self.save(xh)
        return xh @ self.kernel + self.bias

    def backward(self, g):
        xh, = self.saved()
        if self.bug == "dense_kernel_assign":
            self.dkernel = xh.T @ g
        elif self.bug == "dkernel_over_N":
            self.dkernel += xh.T @ g / len(g)
        else:
            self.dkernel += xh.T @ g
        self.dbias += g.sum(axis=0)
        return g @ (self.dkernel if self.bug == "dense_dx_uses_dkernel" else self.kernel).T


class Sigmoid(Layer):
    def __call__(self, a):
        y = 1 / (1 + np.exp(-a))
        self.save(y)
        return y

    def backward(self, g):
        y, = self.saved()
        return g * y * (y - 1) if self.bug == "sigmoid_bwd_sign" else g * y * (1 - y)


class Tanh(Layer):
    def __call__(self, a):
        y = np.tanh(a)
        self.save(y)
        return y

    def saved(self):
        return self.stack.pop(0) if self.bug == "tanh_pops_front" else self.stack.pop()

    def backward(self, g):
        y, = self.saved()
        return g * (1 - y ** 2)


class Mul(Layer):
    def __call__(self, a, b):
        self.save(a, b)
        return a * b

    def backward(self, g):
        a, b = self.saved()
        return g * b, g * a


class LSTMCell:
    def __init__(self, kernel, bias, forget_bias=0.0, bug=None):
        self.forget_bias, self.bug = forget_bias, bug
        self.concat, self.dense = Concat(bug), Dense(kernel, bias, bug)
        if bug == "one_sigmoid_for_ifo":
            self.sig_i = self.sig_f = self.sig_o = Sigmoid(bug)
        else:
            self.sig_i, self.sig_f, self.sig_o = Sigmoid(bug), Sigmoid(bug), Sigmoid(bug)
        self.tanh_j, self.tanh_c = Tanh(bug), Tanh(bug)
        self.mul_f, self.mul_i, self.mul_o = Mul(bug), Mul(bug), Mul(bug)

    def step(self, x, h, c):
        a = self.dense(self.concat(x, h))
        a_i, a_j, a_f, a_o = np.split(a, 4, axis=1)
        i, j = self.sig_i(a_i), self.tanh_j(a_j)
        f, o = self.sig_f(a_f + self.forget_bias), self.sig_o(a_o)
        fc = self.mul_f(c, f) if self.bug == "mul_f_operands_swapped" else self.mul_f(f, c)
        c_new = fc + self.mul_i(i, j)
        return self.mul_o(o, self.tanh_c(c_new)), c_new

    def step_back(self, dh, dc_next):
        bug = self.bug
        do, dtc = self.mul_o.backward(dh)
        if bug == "tanh_c_twice":
            tc, = self.tanh_c.stack[-1]
            dtc = dtc * (1 - tc ** 2)
        dc = dc_next + self.tanh_c.backward(dtc)
        df, dc_prev = self.mul_f.backward(dc)
        di, dj = self.mul_i.backward(dc)
        da_i, da_j, da_f, da_o = (self.sig_i.backward(di), self.tanh_j.backward(dj), self.sig_f.backward(df),
                                  self.sig_o.backward(do))
        da = np.concatenate([da_i, da_f, da_j, da_o] if bug == "concat_ifjo" else [da_i, da_j, da_f, da_o], axis=1)
        dx, dh_prev = self.concat.backward(self.dense.backward(da))
        return dx, dh_prev, dc_prev

    def run(self, xs, h, c):
        for x in xs:
            h, c = self.step(x, h, c)
            yield h, c

    def unwind(self, steps, dh_next, dc_next):
        """steps: (t, dh_t) from the last step back; yields (t, dx_t, dh_prev, dc_prev)."""
        for t, dh_t in steps:
            dx, dh_prev, dc_next = self.step_back(dh_t + dh_next, dc_next)
            if self.bug != "dh_prev_not_carried":
                dh_next = dh_prev
            yield t, dx, dh_prev, dc_next


def forward(x, h0, c0, kernel, bias, bug=None):
    """x (N, T, D), h0, c0 (N, H) -> h (N, T, H), cache (the cell)."""
    if bug == "forget_bias_default":
        cell = LSTMCell(kernel, bias, bug=bug)
    else:
        cell = LSTMCell(kernel, bias, forget_bias=FORGET_BIAS, bug=bug)
    xs = (x[:, t] for t in range(x.shape[1]))
    hs = [h for h, _ in cell.run(xs, h0, c0)]
    return np.stack(hs, axis=1), cell


def backward(dh, cell):
    """dh (N, T, H) -> dx, dh0, dc0, dkernel, dbias."""
    bug = cell.bug
    N, T, H = dh.shape
    last = 0 if bug == "zip_range_short" else -1
    steps = zip(range(T - 1, last, -1), (dh[:, t] for t in reversed(range(T))))
    if bug == "islice_window":
        steps = itertools.islice(steps, BPTT_WINDOW)
    dx = np.zeros((N, T, cell.dense.kernel.shape[0] - H), dtype=dh.dtype)
    dh0 = dc0 = np.zeros((N, H), dtype=dh.dtype)
    for t, dx_t, dh0, dc0 in cell.unwind(steps, np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)):
        dx[:, t] = dx_t
    return dx, dh0, dc0, cell.dense.dkernel, cell.dense.dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

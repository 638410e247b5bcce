"""A tanh RNN inside a home-made mini deep-learning framework: ``Parameter`` objects whose
``.grad`` accumulates with ``+=`` and is zeroed by ``Module.zero_grad()``, a cell composed of
small layer objects (an input ``Linear``, a ``HiddenToHidden`` recurrent layer, ``Add``,
``Tanh``), each with its own forward/backward and saved tensors, and a ``Unrolled`` sequence
module built from one ``clone()`` of the cell per time step (same Parameters, own saved tensors),
walked back in reverse. cs231n's layout:

    h_t = tanh(x_t Wx + h_(t-1) Wh + b)        x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "tanh_saves_input": "derivative_wrong_point",      # Tanh saves its input a: backward 1 - a**2
    "tanh_one_minus_y": "derivative_miswritten",       # g * (1 - y) for g * (1 - y * y)
    "tanh_grad_flipped": "wrong_sign",                 # g * (y * y - 1)
    "h2h_not_transposed": "weight_transposed",         # HiddenToHidden: dh = g @ W.data
    "h2h_grad_transposed": "gradient_transposed",      # HiddenToHidden: W.grad += g.T @ h
    "h2h_uses_grad": "gradient_for_weight",            # HiddenToHidden: dh = g @ W.grad.T
    "bias_grad_mean": "reduction_scaled",              # Linear: b.grad += g.mean(axis=0)
    "zero_grad_in_loop": "carry_overwrites",           # zero_grad() inside the time loop
    "clone_shares_tanh": "wrong_time",                 # clone() reuses the cell's Tanh: one saved y (the last)
    "carry_not_added": "carry_dropped",                # step.backward(dh[:, t]): dh_next left out
    "loop_forward": "loop_direction",                  # the backward walks self.steps from t = 0
    "loop_stops_at_one": "loop_skips_step",            # range(T - 1, 0, -1)
    "bias_on_both": "forward_mistake",                 # HiddenToHidden gets the bias too (b added twice)
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


class Parameter:
    """An array with a gradient of the same shape."""

    def __init__(self, data):
        self.data = data
        self.grad = np.zeros_like(data)


class Module:
    def __call__(self, *args):
        return self.forward(*args)

    def parameters(self):
        """Every Parameter reachable from this module, each once, in attribute order."""
        found = []

        def visit(v):
            if isinstance(v, Parameter):
                if not any(v is p for p in found):
                    found.append(v)
            elif isinstance(v, Module):
                for w in vars(v).values():
                    visit(w)
            elif isinstance(v, (list, tuple)):
                for w in v:
                    visit(w)
        visit(self)
        return found

    def zero_grad(self):
        for p in self.parameters():
            p.grad[...] = 0


class Linear(Module):
    """y = x @ W + b; saves x."""

    def __init__(self, W, b, bug=None):
        self.W, self.b, self.bug = W, b, bug

    def forward(self, x):
        self.x = x
        return x @ self.W.data + self.b.data

    def backward(self, g):
        self.W.grad += self.x.T @ g
        if self.bug == "bias_grad_mean":
            self.b.grad += g.mean(axis=0)
        else:
            self.b.grad += g.sum(axis=0)
        return g @ self.W.data.T


class HiddenToHidden(Module):
    """The recurrent half, written for the cell (no bias unless given): y = h @ W [+ b]."""

    def __init__(self, W, b=None, bug=None):
        self.W, self.b, self.bug = W, b, bug

    def forward(self, h):
        self.h = h
        y = h @ self.W.data
        return y if self.b is None else y + self.b.data

    def backward(self, g):
        bug = self.bug
        if bug == "h2h_grad_transposed":
            self.W.grad += g.T @ self.h
        else:
            self.W.grad += self.h.T @ g
        if self.b is not None:
            self.b.grad += g.sum(axis=0)
        if bug == "h2h_not_transposed":
            return g @ self.W.data
        if bug == "h2h_uses_grad":
            return g @ self.W.grad.T
        return g @ self.W.data.T


class Add(Module):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Tanh(Module):
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, a):
        y = np.tanh(a)
        self.saved = a if self.bug == "tanh_saves_input" else y
        return y

    def backward(self, g):
        y = self.saved
        if self.bug == "tanh_one_minus_y":
            return g * (1 - y)
        if self.bug == "tanh_grad_flipped":
            return g * (y * y - 1)
        return g * (1 - y * y)


class RNNCell(Module):
    def __init__(self, Wx, Wh, b, bug=None, act=None):
        self.bug = bug
        self.i2h = Linear(Wx, b, bug)
        self.h2h = HiddenToHidden(Wh, b if bug == "bias_on_both" else None, bug)
        self.add = Add()
        self.act = act if act is not None else Tanh(bug)

    def forward(self, x, h):
        return self.act(self.add(self.i2h(x), self.h2h(h)))

    def backward(self, dh):
        da = self.act.backward(dh)
        dxa, dha = self.add.backward(da)
        return self.i2h.backward(dxa), self.h2h.backward(dha)

    def clone(self):
        """A copy for one more time step: the same Parameters, its own saved tensors."""
        act = self.act if self.bug == "clone_shares_tanh" else None
        return RNNCell(self.i2h.W, self.h2h.W, self.i2h.b, self.bug, act)


class Unrolled(Module):
    """The cell over time: one clone per step, all sharing the cell's Parameters."""

    def __init__(self, cell, bug=None):
        self.cell, self.bug, self.steps = cell, bug, []

    def forward(self, x, h):
        self.steps = [self.cell.clone() for _ in range(x.shape[1])]
        hs = []
        for t, step in enumerate(self.steps):
            h = step(x[:, t], h)
            hs.append(h)
        return np.stack(hs, axis=1)

    def backward(self, dh):
        bug = self.bug
        N, T, H = dh.shape
        self.cell.zero_grad()
        dx = np.zeros((N, T, self.cell.i2h.W.data.shape[0]), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        order = {"loop_forward": range(T), "loop_stops_at_one": range(T - 1, 0, -1)}.get(bug, range(T - 1, -1, -1))
        for t in order:
            if bug == "zero_grad_in_loop":
                self.cell.zero_grad()
            g = dh[:, t] if bug == "carry_not_added" else dh[:, t] + dh_next
            dx[:, t], dh_next = self.steps[t].backward(g)
        return dx, dh_next


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    model = Unrolled(RNNCell(Parameter(Wx), Parameter(Wh), Parameter(b), bug), bug)
    h = model(x, h0)
    return h, model


def rnn_backward(dh, model):
    dx, dh0 = model.backward(dh)
    cell = model.cell
    return dx, dh0, cell.i2h.W.grad.copy(), cell.h2h.W.grad.copy(), cell.i2h.b.grad.copy()


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(rnn_forward, bug=bug), rnn_backward, {"cell": "rnn", "layout": "cs231n", "activation": "tanh"}

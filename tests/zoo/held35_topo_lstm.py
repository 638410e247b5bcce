"""An LSTM in cs231n's layout built as a node graph of a home-made framework: every value a
``Node`` with parents (``Leaf``, ``Param``, ``MatMul``, ``AddN``, ``Gate`` (one block of the
pre-activation), ``Sigmoid``, ``Tanh``, ``Mul``), the whole unrolled sequence one graph with
the weights as shared ``Param`` leaves, a depth-first topological sort from the outputs, and a
backward that seeds every h_t and calls each node's ``backward`` in reverse topological order,
``add_grad`` accumulating into the parents.

    a = x_t Wx + h_(t-1) Wh + b, blocks i, f, o, g      c_t = f c_(t-1) + i g      h_t = o tanh(c_t)
    x (N, T, D), h0 (N, H), c0 = 0, Wx (D, 4H), Wh (H, 4H), b (4H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "gate_bwd_torch_order": "gate_order",            # Gate.backward places its block by "ifgo".index(letter)
    "mul_bwd_own_value": "wrong_value",              # Mul.backward: a gets g * a, b gets g * b
    "sigmoid_bwd_preact": "derivative_wrong_point",  # Sigmoid.backward: s = the parent's value
    "tanh_bwd_typo": "derivative_miswritten",        # g * (1 - y) ** 2
    "tanh_assigns_grad": "carry_overwrites",         # Tanh.backward: parent.grad = ... (c_t loses dc_next)
    "forget_offset_one": "forget_bias",              # f = sigmoid(a_f + 1.0), the check's forget_bias is 0
    "c_detached": "carry_dropped",                   # c = Leaf(c.value) after each step
    "bias_grad_mean": "reduction_scaled",            # AddN: a 1-D parent gets g.mean(axis=0)
    "topo_forward": "loop_direction",                # for node in order (not reversed)
    "sigmoid_bwd_sign": "wrong_sign",                # g * s * (s - 1)
    "tanh_bwd_identity": "derivative_missing",       # Tanh.backward passes g through
    "detach_window": "truncated_bptt",               # h, c detached every 2 steps
    "matmul_uses_param_grad": "gradient_for_weight",  # MatMul: a gets g @ W.grad.T
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "gate_bwd_torch_order": "go",
    "mul_bwd_own_value": "",
    "sigmoid_bwd_preact": "io",
    "tanh_bwd_typo": "ig",
    "tanh_assigns_grad": "",
    "forget_offset_one": "",
    "c_detached": "",
    "bias_grad_mean": "",
    "topo_forward": "",
    "sigmoid_bwd_sign": "io",
    "tanh_bwd_identity": "ig",
    "detach_window": "",
    "matmul_uses_param_grad": "",
}

GATES = "ifog"                      # cs231n's blocks


class Node:
    bug = None

    def __init__(self, *parents):
        self.parents, self.grad = parents, None
        self.value = self.compute(*[p.value for p in parents])

    def add_grad(self, g):
        self.grad = g if self.grad is None else self.grad + g

    def backward(self, g):
        pass


class Leaf(Node):
    def __init__(self, value):
        self.parents, self.grad, self.value = (), None, value


class Param(Leaf):
    def __init__(self, value):
        super().__init__(value)
        self.grad = np.zeros_like(value)


class MatMul(Node):
    def compute(self, a, W):
        return a @ W

    def backward(self, g):
        a, W = self.parents
        a.add_grad(g @ (W.grad if self.bug == "matmul_uses_param_grad" else W.value).T)
        W.add_grad(a.value.T @ g)


class AddN(Node):
    def compute(self, *values):
        out = values[0]
        for v in values[1:]:
            out = out + v
        return out

    def backward(self, g):
        for p in self.parents:
            if p.value.ndim == g.ndim:
                p.add_grad(g)
            else:
                p.add_grad(g.mean(axis=0) if self.bug == "bias_grad_mean" else g.sum(axis=0))


class Gate(Node):
    def __init__(self, a, letter):
        self.letter = letter
        super().__init__(a)

    def compute(self, a):
        H = a.shape[1] // 4
        k = GATES.index(self.letter)
        return a[:, k * H:(k + 1) * H]

    def backward(self, g):
        a, = self.parents
        H = g.shape[1]
        k = ("ifgo" if self.bug == "gate_bwd_torch_order" else GATES).index(self.letter)
        full = np.zeros_like(a.value)
        full[:, k * H:(k + 1) * H] = g
        a.add_grad(full)


class Sigmoid(Node):
    def compute(self, a):
        return 1 / (1 + np.exp(-a))

    def backward(self, g):
        a, = self.parents
        s = a.value if self.bug == "sigmoid_bwd_preact" else self.value
        a.add_grad(g * s * (s - 1) if self.bug == "sigmoid_bwd_sign" else g * s * (1 - s))


class Tanh(Node):
    def compute(self, a):
        return np.tanh(a)

    def backward(self, g):
        a, y, bug = self.parents[0], self.value, self.bug
        if bug == "tanh_bwd_typo":
            da = g * (1 - y) ** 2
        elif bug == "tanh_bwd_identity":
            da = g
        else:
            da = g * (1 - y ** 2)
        if bug == "tanh_assigns_grad":
            a.grad = da
        else:
            a.add_grad(da)


class Mul(Node):
    def compute(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.parents
        if self.bug == "mul_bwd_own_value":
            a.add_grad(g * a.value)
            b.add_grad(g * b.value)
        else:
            a.add_grad(g * b.value)
            b.add_grad(g * a.value)


def topo_order(outputs):
    order, seen = [], set()

    def visit(n):
        if id(n) in seen:
            return
        seen.add(id(n))
        for p in n.parents:
            visit(p)
        order.append(n)
    for out in outputs:
        visit(out)
    return order


def node_classes(bug):
    """The framework's node classes with ``bug`` set (one family per model)."""
    return {cls.__name__: type(cls.__name__, (cls,), {"bug": bug})
            for cls in (MatMul, AddN, Gate, Sigmoid, Tanh, Mul)}


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache (the graph)."""
    nodes = node_classes(bug)
    MatMul_, AddN_, Gate_, Sigmoid_, Tanh_, Mul_ = (nodes[k] for k in ("MatMul", "AddN", "Gate", "Sigmoid",
                                                                        "Tanh", "Mul"))
    params = Param(Wx), Param(Wh), Param(b)
    h0_leaf = Leaf(h0)
    h, c = h0_leaf, Leaf(np.zeros_like(h0))
    xs, hs = [], []
    for t in range(x.shape[1]):
        xt = Leaf(x[:, t])
        xs.append(xt)
        a = AddN_(MatMul_(xt, params[0]), MatMul_(h, params[1]), params[2])
        i = Sigmoid_(Gate_(a, "i"))
        a_f = Gate_(a, "f")
        if bug == "forget_offset_one":
            a_f = AddN_(a_f, Leaf(np.ones_like(a_f.value)))
        f = Sigmoid_(a_f)
        o = Sigmoid_(Gate_(a, "o"))
        g = Tanh_(Gate_(a, "g"))
        c = AddN_(Mul_(f, c), Mul_(i, g))
        h = Mul_(o, Tanh_(c))
        hs.append(h)
        if bug == "c_detached":
            c = Leaf(c.value)
        if bug == "detach_window" and (t + 1) % 2 == 0:
            h, c = Leaf(h.value), Leaf(c.value)
    out = np.stack([n.value for n in hs], axis=1)
    return out, {"hs": hs, "xs": xs, "h0": h0_leaf, "params": params, "bug": bug}


def lstm_backward(dh, cache):
    """dh (N, T, H) -> dx, dh0, dWx, dWh, db."""
    hs = cache["hs"]
    for t, h in enumerate(hs):
        h.add_grad(dh[:, t])
    order = topo_order(hs)
    for node in (order if cache["bug"] == "topo_forward" else reversed(order)):
        if node.grad is not None:
            node.backward(node.grad)

    def grad(n):
        return np.zeros_like(n.value) if n.grad is None else n.grad
    dx = np.stack([grad(n) for n in cache["xs"]], axis=1)
    Wx, Wh, b = cache["params"]
    return dx, grad(cache["h0"]), Wx.grad, Wh.grad, b.grad


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(lstm_forward, bug=bug), lstm_backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0}

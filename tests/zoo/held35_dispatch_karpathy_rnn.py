"""A tanh RNN in Karpathy's layout (one example at a time, column vectors) on a home-made
expression-tree framework: each step is a small tree of dataclass nodes (``Leaf``, ``Affine``
for Wxh x, ``Recurrence`` for Whh h, ``Sum``, ``Tanh``), and the backward is a
``functools.singledispatch`` function with one registered rule per node type (the base rule
passes the gradient to the node's children), called on each step's root from the last step
back. The leaves' gradients go into one dict keyed by name: the weights accumulate there over
the steps, the step's "x" and "h" are popped after each step.

    h_t = tanh(Wxh x_t + Whh h_(t-1) + bh)      x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import dataclasses
import functools
from functools import partial

import numpy as np

BUGS = {
    "tanh_rule_at_preact": "derivative_wrong_point",   # 1 - node.a.value**2
    "tanh_rule_unregistered": "derivative_missing",    # no Tanh rule: the base rule passes g through
    "tanh_rule_sigmoid_form": "derivative_wrong_function",  # g * y * (1 - y)
    "sum_rule_drops_last": "term_dropped",             # for term in node.terms[:-1]: the bias never reached
    "carry_not_added": "carry_dropped",                # backprop(root, dh[t], ...)
    "state_buffer_reused": "inplace_corruption",       # one h buffer written in place: every "h" leaf sees the last h
    "dtanh_in_driver_too": "derivative_twice",         # g = (dh[t] + dh_next) * (1 - h_t**2), then the Tanh rule
    "loop_from_one": "loop_skips_step",                # range(T - 1, 0, -1)
    "leaf_rule_assigns": "carry_overwrites",           # grads[name] = g
    "clip_carry": "gradient_clipped",                  # np.clip(dh_next, -1, 1, out=dh_next)
    "recurrence_W_not_T": "weight_transposed",         # Recurrence rule: Whh @ g for Whh.T @ g
    "recurrence_grad_transposed": "gradient_transposed",  # Recurrence rule: h @ g.T for g @ h.T
    "weights_over_T": "reduction_scaled",              # dWxh, dWhh, dbh divided by T
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


@dataclasses.dataclass(eq=False)
class Leaf:
    name: str
    value: np.ndarray


@dataclasses.dataclass(eq=False)
class Affine:
    W: Leaf
    x: Leaf
    value: np.ndarray = None

    def __post_init__(self):
        self.value = self.W.value @ self.x.value


@dataclasses.dataclass(eq=False)
class Recurrence:
    W: Leaf
    h: Leaf
    value: np.ndarray = None

    def __post_init__(self):
        self.value = self.W.value @ self.h.value


@dataclasses.dataclass(eq=False)
class Sum:
    terms: tuple
    value: np.ndarray = None

    def __post_init__(self):
        self.value = functools.reduce(np.add, [t.value for t in self.terms])


@dataclasses.dataclass(eq=False)
class Tanh:
    a: object
    value: np.ndarray = None

    def __post_init__(self):
        self.value = np.tanh(self.a.value)


def children(node):
    kids = []
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        if isinstance(v, tuple):
            kids.extend(v)
        elif f.name != "value" and not isinstance(v, (str, np.ndarray)):
            kids.append(v)
    return kids


def make_backprop(bug=None):
    """The backward rules, one per node type."""
    @functools.singledispatch
    def backprop(node, g, grads):
        for child in children(node):
            backprop(child, g, grads)

    @backprop.register
    def _(node: Leaf, g, grads):
        if bug == "leaf_rule_assigns" or node.name not in grads:
            grads[node.name] = g
        else:
            grads[node.name] = grads[node.name] + g

    @backprop.register
    def _(node: Affine, g, grads):
        backprop(node.W, g @ node.x.value.T, grads)
        backprop(node.x, node.W.value.T @ g, grads)

    @backprop.register
    def _(node: Recurrence, g, grads):
        dW = node.h.value @ g.T if bug == "recurrence_grad_transposed" else g @ node.h.value.T
        backprop(node.W, dW, grads)
        backprop(node.h, (node.W.value if bug == "recurrence_W_not_T" else node.W.value.T) @ g, grads)

    @backprop.register
    def _(node: Sum, g, grads):
        for term in (node.terms[:-1] if bug == "sum_rule_drops_last" else node.terms):
            backprop(term, g, grads)

    if bug != "tanh_rule_unregistered":
        @backprop.register
        def _(node: Tanh, g, grads):
            if bug == "tanh_rule_at_preact":
                backprop(node.a, g * (1 - node.a.value ** 2), grads)
            elif bug == "tanh_rule_sigmoid_form":
                backprop(node.a, g * node.value * (1 - node.value), grads)
            else:
                backprop(node.a, g * (1 - node.value ** 2), grads)
    return backprop


def forward(x, h0, Wxh, Whh, bh, bug=None):
    """x (T, D, 1), h0 (H, 1) -> h (T, H, 1), cache (the step roots)."""
    W_x, W_h, b = Leaf("Wxh", Wxh), Leaf("Whh", Whh), Leaf("bh", bh)
    roots = []
    h = h0.copy() if bug == "state_buffer_reused" else h0
    for x_t in x:
        root = Tanh(Sum((Affine(W_x, Leaf("x", x_t)), Recurrence(W_h, Leaf("h", h)), b)))
        roots.append(root)
        if bug == "state_buffer_reused":
            h[...] = root.value
        else:
            h = root.value
    return np.stack([r.value for r in roots]), {"roots": roots, "params": (W_x, W_h, b), "bug": bug}


def backward(dh, cache):
    """dh (T, H, 1) -> dx (T, D, 1), dh0 (H, 1), dWxh, dWhh, dbh."""
    roots, bug = cache["roots"], cache["bug"]
    backprop = make_backprop(bug)
    T = len(dh)
    D = roots[0].a.terms[0].x.value.shape[0]
    dx = np.zeros((T, D, 1), dtype=dh.dtype)
    dh_next = np.zeros_like(dh[0])
    grads = {p.name: np.zeros_like(p.value) for p in cache["params"]}      # zero_grad
    for t in (range(T - 1, 0, -1) if bug == "loop_from_one" else reversed(range(T))):
        g = dh[t] if bug == "carry_not_added" else dh[t] + dh_next
        if bug == "dtanh_in_driver_too":
            g = g * (1 - roots[t].value ** 2)
        backprop(roots[t], g, grads)
        dx[t] = grads.pop("x")
        dh_next = grads.pop("h")
        if bug == "clip_carry":
            np.clip(dh_next, -1, 1, out=dh_next)
    dW = [grads["Wxh"], grads["Whh"], grads["bh"]]
    if bug == "weights_over_T":
        dW = [d / T for d in dW]
    return (dx, dh_next, *dW)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "rnn", "layout": "karpathy", "activation": "tanh"}

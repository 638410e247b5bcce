"""A time-major GRU in Keras's reset-before form (reset_after=False), differentiated by a home-made
array-level reverse-mode autodiff: a ``Var`` class with operator overloading (``+``, ``*``,
``1 - v``, ``@``), ``sigmoid`` / ``tanh`` / ``sum`` methods, each op setting a ``_backward``
closure on its output, a ``split_columns`` helper that cuts a Var into gate blocks, and
``backward()`` that sorts the graph topologically from a scalar loss and runs the closures in
reverse. The loss is built in the backward as sum_t <h_t, dh_t>. Keras's blocks z, r, h.

    z = sigmoid(x Wz + h Uz + bz)    r = sigmoid(x Wr + h Ur + br)
    hh = tanh(x Wh + (r * h) Uh + bh)      h' = z h + (1 - z) hh
    x (T, N, D), h0 (N, H), kernel (D, 3H), recurrent_kernel (H, 3H), bias (3H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "rsub_sign": "wrong_sign",                   # Var.__rsub__: self.grad += out.grad (the minus forgotten)
    "split_assign": "carry_overwrites",          # split_columns: W.grad[..., block] = blk.grad (each step overwrites)
    "sigmoid_grad_s_only": "derivative_miswritten",  # out.grad * s
    "tanh_grad_sigmoid_form": "derivative_wrong_function",  # out.grad * t * (1 - t)
    "matmul_uses_other_grad": "gradient_for_weight",  # __matmul__: self.grad += out.grad @ other.grad.T
    "split_late_binding": "unknown",             # split_columns' closures late-bind blk and k (no default args)
    "loss_mean": "reduction_scaled",             # loss = sum_t (h_t * dh_t).mean()
    "tanh_grad_at_input": "derivative_wrong_point",  # Var.tanh: 1 - self.data**2 (the input)
    "clip_all_grads": "gradient_clipped",        # backward(): v.grad = np.clip(v.grad, -1, 1) before each closure
    "loss_pairs_h0": "wrong_time",               # zip(hs, dh) with hs[0] = h0: dh_t paired with h_(t-1)
    "topo_not_reversed": "loop_direction",       # for v in topo (not reversed)
    "mul_grad_swapped": "wrong_value",           # __mul__: self.grad += out.grad * self.data
    "h_detached": "carry_dropped",               # h = Var(h.data) after each step
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "rsub_sign": "z",
    "split_assign": "",
    "sigmoid_grad_s_only": "rz",
    "tanh_grad_sigmoid_form": "rn",
    "matmul_uses_other_grad": "r",
    "split_late_binding": "",
    "loss_mean": "",
    "tanh_grad_at_input": "rn",
    "clip_all_grads": "",
    "loss_pairs_h0": "",
    "topo_not_reversed": "",
    "mul_grad_swapped": "",
    "h_detached": "",
}


def unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g


class Var:
    bug = None

    def __init__(self, data, parents=(), op=""):
        self.data, self.grad = data, np.zeros_like(data)
        self._parents, self._op = parents, op
        self._backward = lambda: None

    def _new(self, data, parents, op):
        return self.__class__(data, parents, op)

    def __add__(self, other):
        out = self._new(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += unbroadcast(out.grad, self.data.shape)
            other.grad += unbroadcast(out.grad, other.data.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        out = self._new(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += out.grad * (self.data if self.bug == "mul_grad_swapped" else other.data)
            other.grad += out.grad * self.data
        out._backward = _backward
        return out

    def __rsub__(self, k):                          # k - self, k a number
        out = self._new(k - self.data, (self,), "rsub")

        def _backward():
            self.grad += out.grad if self.bug == "rsub_sign" else -out.grad
        out._backward = _backward
        return out

    def __matmul__(self, other):
        out = self._new(self.data @ other.data, (self, other), "@")

        def _backward():
            self.grad += out.grad @ (other.grad if self.bug == "matmul_uses_other_grad" else other.data).T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        s = 1 / (1 + np.exp(-self.data))
        out = self._new(s, (self,), "sigmoid")

        def _backward():
            self.grad += out.grad * s if self.bug == "sigmoid_grad_s_only" else out.grad * s * (1 - s)
        out._backward = _backward
        return out

    def tanh(self):
        t = np.tanh(self.data)
        out = self._new(t, (self,), "tanh")

        def _backward():
            if self.bug == "tanh_grad_sigmoid_form":
                self.grad += out.grad * t * (1 - t)
            elif self.bug == "tanh_grad_at_input":
                self.grad += out.grad * (1 - self.data ** 2)
            else:
                self.grad += out.grad * (1 - t ** 2)
        out._backward = _backward
        return out

    def sum(self):
        out = self._new(np.asarray(self.data.sum()), (self,), "sum")

        def _backward():
            self.grad += out.grad
        out._backward = _backward
        return out

    def mean(self):
        out = self._new(np.asarray(self.data.mean()), (self,), "mean")

        def _backward():
            self.grad += out.grad / self.data.size
        out._backward = _backward
        return out

    def backward(self):
        topo, seen = [], set()

        def build(v):
            if id(v) not in seen:
                seen.add(id(v))
                for p in v._parents:
                    build(p)
                topo.append(v)
        build(self)
        self.grad = np.ones_like(self.data)
        for v in (topo if self.bug == "topo_not_reversed" else reversed(topo)):
            if self.bug == "clip_all_grads":
                v.grad = np.clip(v.grad, -1.0, 1.0)
            v._backward()


def split_columns(W, n):
    """n Vars, the column blocks of W (last axis), whose gradients flow back into W.grad."""
    H = W.data.shape[-1] // n
    blocks = []
    for k in range(n):
        blk = W._new(W.data[..., k * H:(k + 1) * H], (W,), "split")
        if W.bug == "split_late_binding":
            def _backward():
                W.grad[..., k * H:(k + 1) * H] += blk.grad            # noqa: B023
        elif W.bug == "split_assign":
            def _backward(blk=blk, k=k):
                W.grad[..., k * H:(k + 1) * H] = blk.grad
        else:
            def _backward(blk=blk, k=k):
                W.grad[..., k * H:(k + 1) * H] += blk.grad
        blk._backward = _backward
        blocks.append(blk)
    return blocks


def forward(x, h0, kernel, recurrent_kernel, bias, bug=None):
    """x (T, N, D), h0 (N, H) -> h (T, N, H), cache."""
    V = type("Var", (Var,), {"bug": bug})
    K, RK, B = V(kernel), V(recurrent_kernel), V(bias)
    h = V(h0)
    hs, xs = [h], []
    for x_t in x:
        xt = V(x_t)
        xs.append(xt)
        (Wz, Wr, Wh), (Uz, Ur, Uh), (bz, br, bh) = split_columns(K, 3), split_columns(RK, 3), split_columns(B, 3)
        z = (xt @ Wz + h @ Uz + bz).sigmoid()
        r = (xt @ Wr + h @ Ur + br).sigmoid()
        hh = (xt @ Wh + (r * h) @ Uh + bh).tanh()
        h = z * h + (1 - z) * hh
        hs.append(h)
        if bug == "h_detached":
            h = V(h.data)
    return np.stack([v.data for v in hs[1:]]), {"V": V, "hs": hs, "xs": xs, "W": (K, RK, B), "bug": bug}


def backward(dh, cache):
    """dh (T, N, H) -> dx, dh0, dkernel, drecurrent_kernel, dbias."""
    V, hs, bug = cache["V"], cache["hs"], cache["bug"]
    pairs = zip(hs, dh) if bug == "loss_pairs_h0" else zip(hs[1:], dh)
    loss = None
    for h, g in pairs:
        term = (h * V(g)).mean() if bug == "loss_mean" else (h * V(g)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    K, RK, B = cache["W"]
    return np.stack([v.grad for v in cache["xs"]]), hs[0].grad, K.grad, RK.grad, B.grad


def _blocks(a, axis):
    return np.split(np.asarray(a), 3, axis=axis)


def to_user(cell, p):
    """Canonical torch GRU (rows r, z, n) -> Keras's kernel, recurrent_kernel, bias (columns z, r, h)."""
    (Wr, Wz, Wn), (Ur, Uz, Un) = _blocks(p["weight_ih"], 0), _blocks(p["weight_hh"], 0)
    br, bz, bn = _blocks(p["bias_ih"] + p["bias_hh"], 0)
    return {"kernel": np.concatenate([Wz.T, Wr.T, Wn.T], axis=1),
            "recurrent_kernel": np.concatenate([Uz.T, Ur.T, Un.T], axis=1),
            "bias": np.concatenate([bz, br, bn])}


def to_canonical(cell, g, p):
    out = {}
    for q, name in (("dweight_ih", "dkernel"), ("dweight_hh", "drecurrent_kernel")):
        if name in g:
            z, r, n = _blocks(g[name], 1)
            out[q] = np.concatenate([r.T, z.T, n.T])
    if "dbias" in g:
        z, r, n = _blocks(g["dbias"], 0)
        out["dbias_ih"] = np.concatenate([r, z, n])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="vartape_keras_gru", cells=("gru",), axes="TND",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

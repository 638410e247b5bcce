"""A GRU (torch's reset-after form) in a home-made torch-like framework: ``Parameter`` with
``.grad``, ``Module.parameters()`` walking the submodules in order, a ``ModuleDict`` of one
``GatePair`` per gate (an input ``Linear`` and a hidden ``Linear``, torch's (out, in) weights,
both with a bias), ``Sigmoid`` / ``Tanh`` modules, and a functional-style calling convention:
every ``forward`` returns ``(output, ctx)`` and every ``backward(ctx, grad)`` gets its ctx back;
the GRU keeps one dict of contexts per step and returns its weight gradients in
``parameters()`` order.

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)      z = (the same with W_iz, W_hz, ...)
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))  h' = (1 - z) n + z h
    x (N, T, D), h0 (N, H), W_i* (H, D), W_h* (H, H), b_* (H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

GATES = ("r", "z", "n")

BUGS = {
    "dz_sign": "wrong_sign",                     # dz = dh * (n - h)
    "dr_reads_h": "wrong_value",                 # dr = da_n * h (the Linear's ctx) for da_n * hn (its output)
    "dhn_without_r": "derivative_missing",       # the hidden n Linear gets da_n, not da_n * r
    "ctxs_reversed": "wrong_time",               # self.ctxs.reverse() before the loop indexes it by t
    "sorted_params": "gate_order",               # ModuleDict.parameters() walks sorted(keys): n, r, z
    "dh_prev_no_z": "term_dropped",              # dh_prev starts at zero: dh * z left out
    "r_inplace": "inplace_corruption",           # rhn = r; rhn *= hn: the sigmoid's saved r overwritten
    "reset_before_forward": "forward_mistake",   # n = tanh(x W_in^T + b_in + (r * h) W_hn^T + b_hn), consistent
    "dz_tanh_grad": "derivative_wrong_function",  # da_z = dz * (1 - z**2)
    "tanh_saves_preact": "derivative_wrong_point",  # Tanh's ctx is its input: 1 - a_n**2
    "r_through_z_linear": "wrong_weight",        # the r gate's hidden gradient through the z gate's Linear
    "dh_prev_assigned": "carry_overwrites",      # the last dh_prev line: = instead of +=
    "weight_grad_mean": "reduction_scaled",      # Linear: weight.grad += g.T @ x / len(x)
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "dz_sign": "z",
    "dr_reads_h": "r",
    "dhn_without_r": "n",
    "ctxs_reversed": "",
    "sorted_params": "",
    "dh_prev_no_z": "",
    "r_inplace": "rn",
    "reset_before_forward": "",
    "dz_tanh_grad": "z",
    "tanh_saves_preact": "rn",
    "r_through_z_linear": "rz",
    "dh_prev_assigned": "",
    "weight_grad_mean": "",
}


class Parameter:
    def __init__(self, data):
        self.data, self.grad = data, np.zeros_like(data)


class Module:
    def __call__(self, *args):
        return self.forward(*args)

    def children(self):
        return [v for v in vars(self).values() if isinstance(v, Module)]

    def parameters(self):
        own = [v for v in vars(self).values() if isinstance(v, Parameter)]
        return own + [p for m in self.children() for p in m.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad[...] = 0


class ModuleDict(Module):
    def __init__(self, modules, bug=None):
        self._modules, self.bug = dict(modules), bug

    def __getitem__(self, key):
        return self._modules[key]

    def children(self):
        keys = sorted(self._modules) if self.bug == "sorted_params" else list(self._modules)
        return [self._modules[k] for k in keys]


class Linear(Module):
    def __init__(self, weight, bias, bug=None):
        self.weight, self.bias, self.bug = Parameter(weight), Parameter(bias), bug

    def forward(self, x):
        return x @ self.weight.data.T + self.bias.data, x

    def backward(self, x, g):
        if self.bug == "weight_grad_mean":
            self.weight.grad += g.T @ x / len(x)
        else:
            self.weight.grad += g.T @ x
        self.bias.grad += g.sum(axis=0)
        return g @ self.weight.data


class Sigmoid(Module):
    def forward(self, a):
        y = 1 / (1 + np.exp(-a))
        return y, y

    def backward(self, y, g):
        return g * y * (1 - y)


class Tanh(Module):
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, a):
        y = np.tanh(a)
        return y, (a if self.bug == "tanh_saves_preact" else y)

    def backward(self, y, g):
        return g * (1 - y ** 2)


class GatePair(Module):
    def __init__(self, W_i, b_i, W_h, b_h, bug=None):
        self.x2g, self.h2g = Linear(W_i, b_i, bug), Linear(W_h, b_h, bug)


class GRUCell(Module):
    def __init__(self, weights, bug=None):
        self.bug = bug
        self.gates = ModuleDict({k: GatePair(*weights[4 * j:4 * j + 4], bug=bug) for j, k in enumerate(GATES)}, bug)
        self.sigmoid, self.tanh = Sigmoid(), Tanh(bug)

    def forward(self, x, h):
        g, bug = self.gates, self.bug
        ctx = {"h": h}
        pre = {}
        for k in ("r", "z"):
            ax, ctx["cx_" + k] = g[k].x2g(x)
            ah, ctx["ch_" + k] = g[k].h2g(h)
            pre[k] = ax + ah
        r, ctx["r"] = self.sigmoid(pre["r"])
        z, ctx["z"] = self.sigmoid(pre["z"])
        an_x, ctx["cx_n"] = g["n"].x2g(x)
        if bug == "reset_before_forward":
            hn, ctx["ch_n"] = g["n"].h2g(r * h)
            a_n = an_x + hn
        else:
            hn, ctx["ch_n"] = g["n"].h2g(h)
            if bug == "r_inplace":
                rhn = r
                rhn *= hn
            else:
                rhn = r * hn
            a_n = an_x + rhn
        ctx["hn"] = hn
        n, ctx["n"] = self.tanh(a_n)
        ctx["n_out"] = n
        return (1 - z) * n + z * h, ctx

    def backward(self, ctx, dh):
        g, bug = self.gates, self.bug
        z, n, h, r = ctx["z"], ctx["n_out"], ctx["h"], ctx["r"]
        dn = dh * (1 - z)
        dz = dh * (n - h) if bug == "dz_sign" else dh * (h - n)
        dh_prev = np.zeros_like(dh) if bug == "dh_prev_no_z" else dh * z
        da_n = self.tanh.backward(ctx["n"], dn)
        dx = g["n"].x2g.backward(ctx["cx_n"], da_n)
        if bug == "reset_before_forward":
            drh = g["n"].h2g.backward(ctx["ch_n"], da_n)
            dr = drh * h
            dh_prev += drh * r
        else:
            dr = da_n * (h if bug == "dr_reads_h" else ctx["hn"])
            dhn = da_n if bug == "dhn_without_r" else da_n * r
            dh_prev += g["n"].h2g.backward(ctx["ch_n"], dhn)
        da_r = self.sigmoid.backward(ctx["r"], dr)
        da_z = dz * (1 - z ** 2) if bug == "dz_tanh_grad" else self.sigmoid.backward(ctx["z"], dz)
        dx += g["r"].x2g.backward(ctx["cx_r"], da_r) + g["z"].x2g.backward(ctx["cx_z"], da_z)
        dh_prev += g["z" if bug == "r_through_z_linear" else "r"].h2g.backward(ctx["ch_r"], da_r)
        if bug == "dh_prev_assigned":
            dh_prev = g["z"].h2g.backward(ctx["ch_z"], da_z)
        else:
            dh_prev += g["z"].h2g.backward(ctx["ch_z"], da_z)
        return dx, dh_prev


class GRU(Module):
    def __init__(self, weights, bug=None):
        self.cell, self.bug, self.ctxs = GRUCell(weights, bug), bug, []

    def forward(self, x, h):
        self.ctxs, hs = [], []
        for t in range(x.shape[1]):
            h, ctx = self.cell(x[:, t], h)
            self.ctxs.append(ctx)
            hs.append(h)
        return np.stack(hs, axis=1)

    def backward(self, dh):
        N, T, H = dh.shape
        self.zero_grad()
        ctxs = self.ctxs
        if self.bug == "ctxs_reversed":
            ctxs.reverse()
        dx = np.zeros((N, T, self.cell.gates["r"].x2g.weight.data.shape[1]), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            dx[:, t], dh_next = self.cell.backward(ctxs[t], dh[:, t] + dh_next)
        return dx, dh_next


def forward(x, h0, *weights, bug=None):
    """x (N, T, D), h0 (N, H), W_ir, b_ir, W_hr, b_hr, W_iz, ..., b_hn -> h (N, T, H), cache (the model)."""
    model = GRU(weights, bug)
    return model(x, h0), model


def backward(dh, model):
    """dh (N, T, H) -> (dx, dh0, dW_ir, db_ir, dW_hr, db_hr, ..., dW_hn, db_hn) in parameters() order."""
    dx, dh0 = model.backward(dh)
    return (dx, dh0) + tuple(p.grad.copy() for p in model.parameters())


NAMES = [f"{w}_{s}{k}" for k in GATES for s, w in (("i", "W"), ("i", "b"), ("h", "W"), ("h", "b"))]


def to_user(cell, p):
    """Canonical torch GRU (rows r, z, n) -> W_ir, b_ir, W_hr, b_hr, W_iz, ..., W_hn, b_hn."""
    parts = {("W", "i"): np.split(p["weight_ih"], 3), ("W", "h"): np.split(p["weight_hh"], 3),
             ("b", "i"): np.split(p["bias_ih"], 3), ("b", "h"): np.split(p["bias_hh"], 3)}
    return {name: np.array(parts[(name[0], name[2])][GATES.index(name[3])]) for name in NAMES}


def to_canonical(cell, g, p):
    out = {}
    for q, (w, s) in (("dweight_ih", ("W", "i")), ("dweight_hh", ("W", "h")),
                      ("dbias_ih", ("b", "i")), ("dbias_hh", ("b", "h"))):
        names = [f"d{w}_{s}{k}" for k in GATES]
        if all(n in g for n in names):
            out[q] = np.concatenate([g[n] for n in names])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="moduledict_gru", cells=("gru",), axes="NTD")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

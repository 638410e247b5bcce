"""A time-major LSTM in a home-made torch-like framework with hooks: ``Module`` has
``register_forward_hook`` / ``register_backward_hook`` and ``backward_call`` (the backward hooks
may replace the incoming gradients), ``Linear`` layers in torch's (out, in) layout push their
inputs on a stack and pop them in the backward, one ``LSTMCell`` object is called at every step
(its saved tensors on its own stack), and the ``Recurrent`` driver never touches the outputs or
the upstream gradients directly: a forward hook records every h_t and a backward hook adds the
upstream dh_t to the carried gradient. Gates i, f, g, o (torch's), a forget bias of 1.0.

    a = x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh      f = sigmoid(a_f + 1.0)
    x (T, N, D), h0, c0 (N, H), weight_ih (4H, D), weight_hh (4H, H), bias_ih, bias_hh (4H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "hook_counter_off_by_one": "wrong_time",     # the hook's counter starts at T - 1: dh[t - 1] added at step t
    "clip_hook": "gradient_clipped",             # a second backward hook clips (dh, dc) to [-1, 1]
    "forget_bias_on_i": "forget_bias",           # the 1.0 added to the i chunk instead of f
    "cat_order_ifog": "gate_order",              # backward concatenates [di, df, do, dg]
    "dc_next_ignored": "carry_dropped",          # dc = dh * o * (1 - tc**2): the carried dc left out
    "dc_h_path_dropped": "term_dropped",         # dc = dc_next: the path through h_t left out
    "dg_reads_f": "wrong_value",                 # dg = dc * f for dc * i
    "dg_sigmoid_grad": "derivative_wrong_function",  # dg * g * (1 - g) for the tanh candidate
    "do_no_sigmoid_grad": "derivative_missing",  # da_o = do
    "saves_c_new": "wrong_time",                 # the cell saves c_t where it means c_(t-1): df = dc * c_t
    "grads_mean_batch": "reduction_scaled",      # p.grad /= N after the loop
    "upstream_into_dc": "unknown",               # the hook adds dh_t to the dc slot of the gradients
    "h_without_tanh": "forward_mistake",         # h = o * c, backward consistent with it
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "hook_counter_off_by_one": "",
    "clip_hook": "",
    "forget_bias_on_i": "",
    "cat_order_ifog": "go",
    "dc_next_ignored": "",
    "dc_h_path_dropped": "ifg",
    "dg_reads_f": "g",
    "dg_sigmoid_grad": "g",
    "do_no_sigmoid_grad": "o",
    "saves_c_new": "f",
    "grads_mean_batch": "",
    "upstream_into_dc": "",
    "h_without_tanh": "",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


class Parameter:
    def __init__(self, data):
        self.data, self.grad = data, np.zeros_like(data)


class Module:
    def __init__(self):
        self._forward_hooks, self._backward_hooks = [], []

    def register_forward_hook(self, fn):
        self._forward_hooks.append(fn)
        return fn

    def register_backward_hook(self, fn):
        self._backward_hooks.append(fn)
        return fn

    def __call__(self, *args):
        out = self.forward(*args)
        for hook in self._forward_hooks:
            replaced = hook(self, args, out)
            if replaced is not None:
                out = replaced
        return out

    def backward_call(self, *grad_output):
        for hook in self._backward_hooks:
            replaced = hook(self, grad_output)
            if replaced is not None:
                grad_output = replaced
        return self.backward(*grad_output)

    def parameters(self):
        out = []
        for v in vars(self).values():
            if isinstance(v, Parameter):
                out.append(v)
            elif isinstance(v, Module):
                out.extend(v.parameters())
        return out

    def zero_grad(self):
        for p in self.parameters():
            p.grad[...] = 0


class Linear(Module):
    def __init__(self, weight, bias):
        super().__init__()
        self.weight, self.bias, self.saved = Parameter(weight), Parameter(bias), []

    def forward(self, x):
        self.saved.append(x)
        return x @ self.weight.data.T + self.bias.data

    def backward(self, g):
        x = self.saved.pop()
        self.weight.grad += g.T @ x
        self.bias.grad += g.sum(axis=0)
        return g @ self.weight.data


class LSTMCell(Module):
    def __init__(self, weight_ih, bias_ih, weight_hh, bias_hh, forget_bias=FORGET_BIAS, bug=None):
        super().__init__()
        self.ih, self.hh = Linear(weight_ih, bias_ih), Linear(weight_hh, bias_hh)
        self.forget_bias, self.bug, self.saved = forget_bias, bug, []

    def forward(self, x, state):
        h, c = state
        bug = self.bug
        a = self.ih(x) + self.hh(h)
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        if bug == "forget_bias_on_i":
            i, f = sigmoid(a_i + self.forget_bias), sigmoid(a_f)
        else:
            i, f = sigmoid(a_i), sigmoid(a_f + self.forget_bias)
        g, o = np.tanh(a_g), sigmoid(a_o)
        c_new = f * c + i * g
        tc = c_new if bug == "h_without_tanh" else np.tanh(c_new)
        self.saved.append((c_new if bug == "saves_c_new" else c, i, f, g, o, tc))
        return o * tc, c_new

    def backward(self, dh, dc_next):
        c, i, f, g, o, tc = self.saved.pop()
        bug = self.bug
        do = dh * tc
        dtc = dh * o if bug == "h_without_tanh" else dh * o * (1 - tc ** 2)
        if bug == "dc_next_ignored":
            dc = dtc
        elif bug == "dc_h_path_dropped":
            dc = dc_next
        else:
            dc = dc_next + dtc
        di, df = dc * g, dc * c
        dg = dc * (f if bug == "dg_reads_f" else i)
        da_i, da_f = di * i * (1 - i), df * f * (1 - f)
        da_g = dg * g * (1 - g) if bug == "dg_sigmoid_grad" else dg * (1 - g ** 2)
        da_o = do if bug == "do_no_sigmoid_grad" else do * o * (1 - o)
        blocks = [da_i, da_f, da_o, da_g] if bug == "cat_order_ifog" else [da_i, da_f, da_g, da_o]
        da = np.concatenate(blocks, axis=1)
        dh_prev = self.hh.backward(da)
        dx = self.ih.backward(da)
        return dx, (dh_prev, dc * f)


class Recurrent(Module):
    """Runs ``cell`` over time; the outputs and the upstream gradients go through hooks."""

    def __init__(self, cell, bug=None):
        super().__init__()
        self.cell, self.bug = cell, bug
        cell.register_forward_hook(self._record)
        cell.register_backward_hook(self._add_upstream)
        if bug == "clip_hook":
            cell.register_backward_hook(lambda m, grads: tuple(np.clip(gr, -1.0, 1.0) for gr in grads))

    def _record(self, cell, inputs, out):
        self.outputs.append(out[0])

    def _add_upstream(self, cell, grads):
        self.t -= 1
        dh_next, dc_next = grads
        if self.bug == "upstream_into_dc":
            return dh_next, dc_next + self.dh[self.t]
        return dh_next + self.dh[self.t], dc_next

    def forward(self, x, h0, c0):
        self.outputs = []
        state = (h0, c0)
        for x_t in x:
            state = self.cell(x_t, state)
        return np.stack(self.outputs)

    def backward(self, dh):
        T, N, H = dh.shape
        self.dh = dh
        self.t = T - 1 if self.bug == "hook_counter_off_by_one" else T
        self.cell.zero_grad()
        grads = (np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype))
        dxs = []
        for _ in range(T):
            dx, grads = self.cell.backward_call(*grads)
            dxs.append(dx)
        if self.bug == "grads_mean_batch":
            for p in self.parameters():
                p.grad /= N
        return np.stack(dxs[::-1]), grads


def forward(x, h0, c0, weight_ih, bias_ih, weight_hh, bias_hh, bug=None):
    """x (T, N, D), h0, c0 (N, H) -> h (T, N, H), cache (the model)."""
    model = Recurrent(LSTMCell(weight_ih, bias_ih, weight_hh, bias_hh, bug=bug), bug)
    return model(x, h0, c0), model


def backward(dh, model):
    """dh (T, N, H) -> dx, dh0, dc0, dweight_ih, dbias_ih, dweight_hh, dbias_hh."""
    dx, (dh0, dc0) = model.backward(dh)
    ih, hh = model.cell.ih, model.cell.hh
    return dx, dh0, dc0, ih.weight.grad.copy(), ih.bias.grad.copy(), hh.weight.grad.copy(), hh.bias.grad.copy()


def to_user(cell, p):
    return {k: np.array(p[k]) for k in ("weight_ih", "bias_ih", "weight_hh", "bias_hh")}


def to_canonical(cell, g, p):
    return {"d" + k: g["d" + k] for k in ("weight_ih", "bias_ih", "weight_hh", "bias_hh") if "d" + k in g}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="hooks_tm_lstm", cells=("lstm",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), backward,
            {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS})

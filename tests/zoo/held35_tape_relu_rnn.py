"""A ReLU RNN on TF's kernel layout, written on a home-made array-level autodiff with a
``Tape``: ``Tensor`` objects (``.data``, ``.grad`` accumulated by ``accumulate``), op objects
(``Concat``, ``MatMul``, ``BiasAdd``, ``ReLU``) that save what their backward needs and
record themselves on the tape when called, the upstream gradient of every h_t seeded onto
its Tensor and the tape walked in reverse.

    h_t = relu([x_t, h_(t-1)] @ kernel + bias)      x (N, T, D), kernel (D + H, H), bias (H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "relu_mask_ge": "derivative_missing",         # mask = out >= 0: always true on a ReLU's output
    "relu_mask_on_grad": "derivative_wrong_point",   # g * (g > 0)
    "relu_grad_times_out": "derivative_miswritten",  # g * out for g * (out > 0)
    "tape_not_reversed": "loop_direction",         # for op in tape.ops (recording order)
    "accumulate_overwrites": "carry_overwrites",   # Tensor.accumulate: self.grad = g
    "seed_last_only": "term_dropped",              # only h_(T-1) gets its upstream gradient
    "seed_off_by_one": "wrong_time",               # states list starts with h0: dh[:, t] onto h_(t-1)
    "kernel_grad_over_T": "reduction_scaled",      # dkernel = kernel.grad / T
    "clip_by_norm": "gradient_clipped",            # the tape rescales every op's gradient to norm <= 1
    "concat_buffer_reused": "inplace_corruption",  # Concat writes every [x, h] into one buffer
    "concat_split_as_hx": "wrong_value",           # Concat.backward splits as if [h, x]: g[:, H:], g[:, :H];
                                                   # relabelled from "unknown": one split order, as held40 labels it
    "tape_window": "truncated_bptt",               # walks only the ops of the last 2 steps
    "leaky_forward": "forward_mistake",            # ReLU(0.01) leaky, backward consistent with it
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates

OPS_PER_STEP = 4


class Tensor:
    def __init__(self, data, bug=None):
        self.data, self.grad, self.bug = data, None, bug

    def accumulate(self, g):
        if self.grad is None or self.bug == "accumulate_overwrites":
            self.grad = np.array(g, copy=True)
        else:
            self.grad = self.grad + g


class Tape:
    def __init__(self, bug=None):
        self.ops, self.bug = [], bug

    def record(self, op):
        self.ops.append(op)

    def backward(self):
        bug = self.bug
        if bug == "tape_not_reversed":
            ops = self.ops
        elif bug == "tape_window":
            ops = reversed(self.ops[-2 * OPS_PER_STEP:])
        else:
            ops = reversed(self.ops)
        for op in ops:
            g = op.out.grad
            if g is None:
                continue
            if bug == "clip_by_norm":
                norm = np.sqrt((g * g).sum())
                if norm > 1.0:
                    g = g / norm
            op.backward(g)


class Op:
    def __init__(self, tape, bug=None):
        self.tape, self.bug = tape, bug

    def __call__(self, *inputs):
        self.inputs = inputs
        self.out = Tensor(self.forward(*[t.data for t in inputs]), self.bug)
        self.tape.record(self)
        return self.out


class Concat(Op):
    buffer = None

    def forward(self, x, h):
        self.split = x.shape[1]
        if self.bug == "concat_buffer_reused":
            if Concat.buffer is None or Concat.buffer.shape != (x.shape[0], x.shape[1] + h.shape[1]):
                Concat.buffer = np.empty((x.shape[0], x.shape[1] + h.shape[1]), dtype=x.dtype)
            Concat.buffer[:, :self.split] = x
            Concat.buffer[:, self.split:] = h
            return Concat.buffer
        return np.concatenate([x, h], axis=1)

    def backward(self, g):
        x, h = self.inputs
        if self.bug == "concat_split_as_hx":
            H = h.data.shape[1]
            x.accumulate(g[:, H:])
            h.accumulate(g[:, :H])
        else:
            x.accumulate(g[:, :self.split])
            h.accumulate(g[:, self.split:])


class MatMul(Op):
    def forward(self, a, W):
        self.a, self.W = a, W
        return a @ W

    def backward(self, g):
        a, W = self.inputs
        a.accumulate(g @ self.W.T)
        W.accumulate(self.a.T @ g)


class BiasAdd(Op):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        a, b = self.inputs
        a.accumulate(g)
        b.accumulate(g.sum(axis=0))


class ReLU(Op):
    def forward(self, a):
        if self.bug == "leaky_forward":
            self.a = a
            return np.where(a > 0, a, 0.01 * a)
        return np.maximum(a, 0)

    def backward(self, g):
        a, = self.inputs
        bug, out = self.bug, self.out.data
        if bug == "leaky_forward":
            a.accumulate(np.where(self.a > 0, g, 0.01 * g))
        elif bug == "relu_mask_ge":
            a.accumulate(g * (out >= 0))
        elif bug == "relu_mask_on_grad":
            a.accumulate(g * (g > 0))
        elif bug == "relu_grad_times_out":
            a.accumulate(g * out)
        else:
            a.accumulate(g * (out > 0))


def forward(x, h0, kernel, bias, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache."""
    Concat.buffer = None
    tape = Tape(bug)
    K, b = Tensor(kernel, bug), Tensor(bias, bug)
    h = Tensor(h0, bug)
    states, xs = [h], []
    for t in range(x.shape[1]):
        xt = Tensor(x[:, t], bug)
        xs.append(xt)
        xh = Concat(tape, bug)(xt, h)
        h = ReLU(tape, bug)(BiasAdd(tape, bug)(MatMul(tape, bug)(xh, K), b))
        states.append(h)
    out = np.stack([s.data for s in states[1:]], axis=1)
    return out, {"tape": tape, "states": states, "xs": xs, "K": K, "b": b, "bug": bug}


def backward(dh, cache):
    """dh (N, T, H) -> dx, dh0, dkernel, dbias."""
    bug, states, xs = cache["bug"], cache["states"], cache["xs"]
    T = dh.shape[1]
    if bug == "seed_last_only":
        states[-1].accumulate(dh[:, -1])
    elif bug == "seed_off_by_one":
        for t in range(T):
            states[t].accumulate(dh[:, t])
    else:
        for t in range(T):
            states[t + 1].accumulate(dh[:, t])
    cache["tape"].backward()

    def grad(tensor):
        return np.zeros_like(tensor.data) if tensor.grad is None else tensor.grad
    dx = np.stack([grad(xt) for xt in xs], axis=1)
    dkernel = grad(cache["K"])
    if bug == "kernel_grad_over_T":
        dkernel = dkernel / T
    return dx, grad(states[0]), dkernel, grad(cache["b"])


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "rnn", "layout": "tf_kernel", "activation": "relu"}

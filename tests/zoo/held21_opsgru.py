"""A GRU built from a home-made mini-framework: ``Param`` (value, grad), and ops ``Linear``,
``Sigmoid``, ``Tanh``, ``Mul`` with forward/backward methods that cache their inputs and
add into ``Param.grad``. Each time step is a ``GRUStep`` object holding fresh ops; the
forward keeps the list of steps and the backward walks it in reverse. Reset before the
product (reset_after=False), torch's weight layout and gate order r, z, n:

    ax = Linear(Wx, bx)(x_t)                 (N, 3H)
    ah = Linear(Wh[:2H], bh[:2H])(h)         (N, 2H)
    r = Sigmoid(ax_r + ah_r)    z = Sigmoid(ax_z + ah_z)
    n = Tanh(ax_n + Linear(Wh[2H:], bh[2H:])(Mul(r, h)))
    h_new = (1 - z) * n + z * h

Twenty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sigmoid_backward_at_input": "derivative_wrong_point",  # Sigmoid.backward: dy * x * (1 - x) on its cached input
    "tanh_backward_identity": "derivative_missing",         # Tanh.backward returns dy
    "tanh_backward_sigmoid_form": "derivative_wrong_function",  # Tanh.backward: dy * y * (1 - y)
    "tanh_backward_precedence": "derivative_miswritten",    # Tanh.backward: dy * 1 - y ** 2 (parentheses lost)
    "dz_sigmoid_twice": "derivative_twice",                 # dz = dh * (h - n) * z * (1 - z), then Sigmoid.backward again
    "mul_backward_partners_swapped": "wrong_value",         # Mul.backward returns (dy * a, dy * b)
    "linear_grad_assigned": "carry_overwrites",             # Linear.backward: W.grad[rows] = ..., b.grad[rows] = ...
    "linear_backward_from_grad": "gradient_for_weight",     # Linear.backward returns dy @ W.grad[rows]
    "direct_path_missing": "term_dropped",                  # dh_prev starts at 0, not dh * z
    "steps_walked_forward": "loop_direction",               # for step in steps (not reversed(steps))
    "bias_grad_mean": "reduction_scaled",                   # Linear.backward: b.grad[rows] += dy.mean(axis=0)
    "one_minus_z_in_place": "inplace_corruption",           # keep = z; keep *= -1; keep += 1: the cached z becomes 1 - z
    "carry_cut_after_2": "truncated_bptt",                  # the carried dh zeroed once it has gone back 2 steps
    "forward_candidate_sigmoid": "forward_mistake",         # n made with a Sigmoid op; backward consistent
    "mul_swapped_and_no_tanh_grad": "unknown",              # two mistakes: Mul partners swapped and Tanh.backward returns dy
}

TOUCHES = {                                                 # computed: blind_index.touched_gates(module, bug)
    "sigmoid_backward_at_input": "rz",
    "tanh_backward_identity": "rn",
    "tanh_backward_sigmoid_form": "rn",
    "tanh_backward_precedence": "rn",
    "dz_sigmoid_twice": "z",
    "mul_backward_partners_swapped": "r",
    "linear_grad_assigned": "",
    "linear_backward_from_grad": "r",
    "direct_path_missing": "",
    "steps_walked_forward": "",
    "bias_grad_mean": "",
    "one_minus_z_in_place": "rn",
    "carry_cut_after_2": "",
    "forward_candidate_sigmoid": "",
    "mul_swapped_and_no_tanh_grad": "rn",
}


class Param:
    def __init__(self, value):
        self.value = value
        self.grad = np.zeros_like(value)


class Linear:
    def __init__(self, W, b, rows, bug):
        self.W, self.b, self.rows, self.bug = W, b, rows, bug

    def forward(self, x):
        self.x = x
        return x @ self.W.value[self.rows].T + self.b.value[self.rows]

    def backward(self, dy):
        gW = dy.T @ self.x
        gb = dy.mean(axis=0) if self.bug == "bias_grad_mean" else dy.sum(axis=0)
        if self.bug == "linear_grad_assigned":
            self.W.grad[self.rows] = gW
            self.b.grad[self.rows] = gb
        else:
            self.W.grad[self.rows] += gW
            self.b.grad[self.rows] += gb
        return dy @ (self.W.grad if self.bug == "linear_backward_from_grad" else self.W.value)[self.rows]


class Sigmoid:
    def __init__(self, bug):
        self.bug = bug

    def forward(self, x):
        self.x = x
        self.y = 1 / (1 + np.exp(-x))
        return self.y

    def backward(self, dy):
        if self.bug == "sigmoid_backward_at_input":
            return dy * self.x * (1 - self.x)
        return dy * self.y * (1 - self.y)


class Tanh:
    def __init__(self, bug):
        self.bug = bug

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dy):
        if self.bug in ("tanh_backward_identity", "mul_swapped_and_no_tanh_grad"):
            return dy
        if self.bug == "tanh_backward_sigmoid_form":
            return dy * self.y * (1 - self.y)
        if self.bug == "tanh_backward_precedence":
            return dy * 1 - self.y ** 2
        return dy * (1 - self.y ** 2)


class Mul:
    def __init__(self, bug):
        self.bug = bug

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, dy):
        if self.bug in ("mul_backward_partners_swapped", "mul_swapped_and_no_tanh_grad"):
            return dy * self.a, dy * self.b
        return dy * self.b, dy * self.a


class GRUStep:
    def __init__(self, params, H, bug):
        Wx, bx, Wh, bh = params
        self.H, self.bug = H, bug
        self.lx = Linear(Wx, bx, slice(None), bug)
        self.lh = Linear(Wh, bh, slice(0, 2 * H), bug)
        self.ln = Linear(Wh, bh, slice(2 * H, 3 * H), bug)
        self.sig_r, self.sig_z, self.mul_rh = Sigmoid(bug), Sigmoid(bug), Mul(bug)
        self.act_n = Sigmoid(bug) if bug == "forward_candidate_sigmoid" else Tanh(bug)

    def forward(self, x, h):
        H = self.H
        ax, ah = self.lx.forward(x), self.lh.forward(h)
        r = self.sig_r.forward(ax[:, :H] + ah[:, :H])
        z = self.sig_z.forward(ax[:, H:2 * H] + ah[:, H:])
        n = self.act_n.forward(ax[:, 2 * H:] + self.ln.forward(self.mul_rh.forward(r, h)))
        if self.bug == "one_minus_z_in_place":
            keep = z
            keep *= -1
            keep += 1
            h_new = keep * n + (1 - keep) * h
        else:
            h_new = (1 - z) * n + z * h
        self.h, self.z, self.n = h, z, n
        return h_new

    def backward(self, dh):
        h, z, n = self.h, self.z, self.n
        dn = dh * (1 - z)
        dz = dh * (h - n)
        if self.bug == "dz_sigmoid_twice":
            dz = dz * z * (1 - z)
        dh_prev = np.zeros_like(dh) if self.bug == "direct_path_missing" else dh * z
        da_n = self.act_n.backward(dn)
        dr, dh_from_rh = self.mul_rh.backward(self.ln.backward(da_n))
        dh_prev = dh_prev + dh_from_rh
        da_rz = np.concatenate([self.sig_r.backward(dr), self.sig_z.backward(dz)], axis=1)
        dh_prev = dh_prev + self.lh.backward(da_rz)
        dx = self.lx.backward(np.concatenate([da_rz, da_n], axis=1))
        return dx, dh_prev


def gru_forward(x, h0, Wx, bx, Wh, bh, bug=None):
    params = tuple(Param(v) for v in (Wx, bx, Wh, bh))
    H = h0.shape[1]
    steps, outs, h = [], [], h0
    for t in range(x.shape[1]):
        step = GRUStep(params, H, bug)
        h = step.forward(x[:, t], h)
        steps.append(step)
        outs.append(h)
    return np.stack(outs, axis=1), (steps, params)


def gru_backward(dh_all, cache, bug=None):
    steps, params = cache
    T = len(steps)
    dxs = [None] * T
    dh = np.zeros_like(dh_all[:, 0])
    order = list(enumerate(steps)) if bug == "steps_walked_forward" else list(reversed(list(enumerate(steps))))
    for t, step in order:
        if bug == "carry_cut_after_2" and T - 1 - t >= 2:
            dh = np.zeros_like(dh)
        dxs[t], dh = step.backward(dh_all[:, t] + dh)
    Wx, bx, Wh, bh = params
    return np.stack(dxs, axis=1), dh, Wx.grad, bx.grad, Wh.grad, bh.grad


def to_user(cell, p):
    return {"Wx": p["weight_ih"], "bx": p["bias_ih"], "Wh": p["weight_hh"], "bh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dWx": "dweight_ih", "dbx": "dbias_ih", "dWh": "dweight_hh", "dbh": "dbias_hh"}
    return {canonical: grads[mine] for mine, canonical in names.items() if mine in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="ops_gru", cells=("gru",), gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, bx, Wh, bh):
        return gru_forward(x, h0, Wx, bx, Wh, bh, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

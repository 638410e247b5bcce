"""A GRU written as a class hierarchy: a ``RecurrentCell`` base class holding the
sequence driver (``run``/``run_back``) and a ``GRUCell`` subclass with ``step``/``step_back``.
The user's letters: u (update), r (reset), c (candidate); the reset is applied after the
recurrent product (reset_after, Keras/torch), with two biases:

    xw = x_t @ W + bW    hu = h @ U + bU          (N, 3H) each, blocks u, r, c
    u = sigmoid(xw_u + hu_u)    r = sigmoid(xw_r + hu_r)    c = tanh(xw_c + r * hu_c)
    h_new = u * h + (1 - u) * c                   x (N, T, D), W (D, 3H), U (H, 3H)

Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "U_c_not_transposed": "weight_transposed",          # dh_prev += dhc @ U[:, 2H:] (no .T)
    "U_r_block_for_c": "wrong_weight",                  # dh_prev += dhc @ U[:, H:2H].T
    "dh_prev_via_dU": "gradient_for_weight",            # dh_prev += dhu_ur @ self.dU[:, :2H].T
    "u_grad_as_tanh": "derivative_wrong_function",      # dau = du * (1 - u**2)
    "r_sigmoid_grad_plus": "derivative_miswritten",     # dar = dr * r * (1 + r)
    "dr_without_bU_c": "term_dropped",                  # dr = dac * (h @ U_c): bU's c block left out of hu_c
    "driver_forgets_carry": "carry_dropped",            # self.dh_carry set, but the driver adds a local zero
    "driver_drops_last_step": "loop_skips_step",        # for t in list(reversed(range(T)))[1:]
    "u_kept_on_self": "wrong_time",                     # u stored as self.u: every step_back reads the last step's u
    "dhu_blocks_r_u": "gate_order",                     # dhu = [dar, dau, dhc]: r and u blocks swapped
    "dW_over_batch": "reduction_scaled",                # dW / N at the end
    "carry_cut_after_four": "truncated_bptt",           # the carry is zeroed after four steps walked back
    "forward_mix_flipped": "forward_mistake",           # h_new = u * c + (1 - u) * h; backward consistent
    "dh_prev_times_1p5": "unknown",                     # dh_prev = 1.5 * (...): an arbitrary constant
}

TOUCHES = {
    "U_c_not_transposed": "",
    "U_r_block_for_c": "",
    "dh_prev_via_dU": "",
    "u_grad_as_tanh": "z",
    "r_sigmoid_grad_plus": "r",
    "dr_without_bU_c": "r",
    "driver_forgets_carry": "",
    "driver_drops_last_step": "",
    "u_kept_on_self": "",
    "dhu_blocks_r_u": "rz",
    "dW_over_batch": "",
    "carry_cut_after_four": "",
    "forward_mix_flipped": "",
    "dh_prev_times_1p5": "",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


class RecurrentCell:
    def __init__(self, bug=None):
        self.bug = bug
        self.caches = []

    def run(self, x, h0):
        N, T, _ = x.shape
        h, out = h0, []
        for t in range(T):
            h = self.step(x[:, t], h)
            out.append(h)
        return np.stack(out, axis=1)

    def run_back(self, dout):
        N, T, H = dout.shape
        dx = [None] * T
        self.dh_carry = np.zeros((N, H), dtype=dout.dtype)
        order = list(reversed(range(T)))
        if self.bug == "driver_drops_last_step":
            order = order[1:]
        walked = 0
        for t in order:
            carry = np.zeros_like(self.dh_carry) if self.bug == "driver_forgets_carry" else self.dh_carry
            dx[t], self.dh_carry = self.step_back(dout[:, t] + carry, t)
            walked += 1
            if self.bug == "carry_cut_after_four" and walked >= 4:
                self.dh_carry = np.zeros_like(self.dh_carry)
        D = self.caches[0]["x"].shape[1]
        dx = np.stack([np.zeros((N, D), dtype=dout.dtype) if d is None else d for d in dx], axis=1)
        return dx, self.dh_carry


class GRUCell(RecurrentCell):
    def __init__(self, W, U, bW, bU, bug=None):
        super().__init__(bug)
        self.W, self.U, self.bW, self.bU = W, U, bW, bU
        self.dW, self.dU = np.zeros_like(W), np.zeros_like(U)
        self.dbW, self.dbU = np.zeros_like(bW), np.zeros_like(bU)

    def step(self, x, h):
        H = h.shape[1]
        xw, hu = x @ self.W + self.bW, h @ self.U + self.bU
        u = sigmoid(xw[:, :H] + hu[:, :H])
        r = sigmoid(xw[:, H:2 * H] + hu[:, H:2 * H])
        c = np.tanh(xw[:, 2 * H:] + r * hu[:, 2 * H:])
        self.u = u
        self.caches.append({"x": x, "h": h, "u": u, "r": r, "c": c, "hu_c": hu[:, 2 * H:]})
        return u * c + (1 - u) * h if self.bug == "forward_mix_flipped" else u * h + (1 - u) * c

    def step_back(self, dh, t):
        k, bug, H = self.caches[t], self.bug, dh.shape[1]
        x, h, r, c = k["x"], k["h"], k["r"], k["c"]
        u = self.u if bug == "u_kept_on_self" else k["u"]
        if bug == "forward_mix_flipped":
            du, dc, dh_direct = dh * (c - h), dh * u, dh * (1 - u)
        else:
            du, dc, dh_direct = dh * (h - c), dh * (1 - u), dh * u
        dac = dc * (1 - c ** 2)
        hu_c = h @ self.U[:, 2 * H:] if bug == "dr_without_bU_c" else k["hu_c"]
        dr = dac * hu_c
        dhc = dac * r
        dau = du * (1 - u ** 2) if bug == "u_grad_as_tanh" else du * u * (1 - u)
        dar = dr * r * (1 + r) if bug == "r_sigmoid_grad_plus" else dr * r * (1 - r)
        dxw = np.hstack([dau, dar, dac])
        dhu = np.hstack([dar, dau, dhc] if bug == "dhu_blocks_r_u" else [dau, dar, dhc])
        self.dW += x.T @ dxw
        self.dbW += dxw.sum(axis=0)
        self.dU += h.T @ dhu
        self.dbU += dhu.sum(axis=0)
        U_ur = self.dU[:, :2 * H] if bug == "dh_prev_via_dU" else self.U[:, :2 * H]
        if bug == "U_c_not_transposed":
            U_c = self.U[:, 2 * H:]
        elif bug == "U_r_block_for_c":
            U_c = self.U[:, H:2 * H].T
        else:
            U_c = self.U[:, 2 * H:].T
        dh_prev = dh_direct + dhu[:, :2 * H] @ U_ur.T + dhc @ U_c
        if bug == "dh_prev_times_1p5":
            dh_prev = 1.5 * dh_prev
        return dxw @ self.W.T, dh_prev


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, bW, bU):
        cell = GRUCell(W, U, bW, bU, bug)
        return cell.run(x, h0), cell

    def backward(dout, cell):
        dx, dh0 = cell.run_back(dout)
        N = dout.shape[0]
        dW = cell.dW / N if bug == "dW_over_batch" else cell.dW
        return dx, dh0, dW, cell.dU, cell.dbW, cell.dbU

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


BLOCK = {"r": 0, "z": 1, "n": 2}


def _user_blocks(m, H):
    return np.concatenate([m[BLOCK[q] * H:(BLOCK[q] + 1) * H] for q in "zrn"], axis=0)


def _canon_blocks(m, H):
    z, r, n = m[:H], m[H:2 * H], m[2 * H:]
    return np.concatenate([r, z, n], axis=0)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W": _user_blocks(p["weight_ih"], H).T, "U": _user_blocks(p["weight_hh"], H).T,
            "bW": _user_blocks(p["bias_ih"], H), "bU": _user_blocks(p["bias_hh"], H)}


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    out = {}
    for mine, canon, tr in (("dW", "dweight_ih", True), ("dU", "dweight_hh", True),
                            ("dbW", "dbias_ih", False), ("dbU", "dbias_hh", False)):
        if mine in g:
            out[canon] = _canon_blocks(g[mine].T if tr else g[mine], H)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cellhier_gru", cells=("gru",), gate_order="urc",
                               gate_letters={"u": "z", "c": "n"})

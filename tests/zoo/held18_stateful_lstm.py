"""An LSTM written like a "stateful" Keras layer: a class that keeps self.h and self.c
between steps (reset from h0, c0 at the start of every forward call), Keras's weights
kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,) with the gate blocks i, f, c, o, and a
backward that reads everything off the layer's attributes (self.history, self.kernel ...).
x (N, T, D), h0 and c0 (N, H).

    z = x_t kernel + h recurrent_kernel + bias     i, f, o = sigmoid(z_i, z_f, z_o)
    cbar = tanh(z_c)      c = f * c + i * cbar     h = o * tanh(c)

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_with_c": "wrong_value",                         # do = dh * c for dh * tanh(c)
    "dc_no_tanh_prime": "derivative_missing",           # dc = dc_next + dh * o
    "df_with_c_t": "wrong_time",                        # df = dc * c_t (the new cell state, not c_(t-1))
    "c_carry_dropped": "carry_dropped",                 # self.dc_next never updated: dc = dh * o * tanh'(c) only
    "dc_carry_overwrites": "carry_overwrites",          # dc = dc_next once dc_next is set (the dh path lost)
    "dprev_c_times_i": "wrong_value",                   # dc_prev = dc * i (i read for f)
    "dz_c_sigmoid_prime": "derivative_wrong_function",  # dz_c = dcbar * cbar * (1 - cbar)
    "dz_o_prime_twice": "derivative_twice",             # do already holds o (1 - o), then dz_o = do * o * (1 - o)
    "dh_prev_from_drk": "gradient_for_weight",          # dh_prev = dz @ self.drecurrent_kernel.T
    "dz_blocks_i_c_f_o": "gate_order",                  # dz = [dz_i, dz_c, dz_f, dz_o] in the backward only
    "c_updated_in_place": "inplace_corruption",         # c = self.c; c *= f; c += i * cbar: the cached c_prev is c_t
    "bptt_5_steps": "truncated_bptt",                   # self.bptt = 5: the carries zeroed after 5 steps walked back
    "reset_ignores_c0": "forward_mistake",              # reset() sets self.c = zeros (c0 unused); dc0 = 0, consistent
    "do_with_c_and_df_c_t": "unknown",                  # two at once: do = dh * c and df = dc * c_t
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "do_with_c": "o",
    "dc_no_tanh_prime": "ifg",
    "df_with_c_t": "f",
    "c_carry_dropped": "",
    "dc_carry_overwrites": "",
    "dprev_c_times_i": "",
    "dz_c_sigmoid_prime": "g",
    "dz_o_prime_twice": "o",
    "dh_prev_from_drk": "",
    "dz_blocks_i_c_f_o": "fg",
    "c_updated_in_place": "f",
    "bptt_5_steps": "",
    "reset_ignores_c0": "",
    "do_with_c_and_df_c_t": "fo",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


class StatefulLSTM:
    def __init__(self, kernel, recurrent_kernel, bias, bug=None):
        self.kernel, self.recurrent_kernel, self.bias, self.bug = kernel, recurrent_kernel, bias, bug
        self.units = recurrent_kernel.shape[0]
        self.bptt = 5 if bug == "bptt_5_steps" else None

    def reset_states(self, h0, c0):
        self.h = h0
        self.c = np.zeros_like(c0) if self.bug == "reset_ignores_c0" else c0.copy()
        self.history = []

    def step(self, x_t):
        H = self.units
        z = x_t @ self.kernel + self.h @ self.recurrent_kernel + self.bias
        i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        cbar, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
        c_prev, h_prev = self.c, self.h
        if self.bug == "c_updated_in_place":
            c = self.c
            c *= f
            c += i * cbar
        else:
            c = f * self.c + i * cbar
        self.h, self.c = o * np.tanh(c), c
        self.history.append((x_t, h_prev, c_prev, i, f, cbar, o, c))
        return self.h

    def forward(self, x, h0, c0):
        self.reset_states(h0, c0)
        return np.stack([self.step(x[:, t]) for t in range(x.shape[1])], axis=1)

    def backward(self, dh):
        bug, H = self.bug, self.units
        N, T, _ = dh.shape
        self.dkernel = np.zeros_like(self.kernel)
        self.drecurrent_kernel = np.zeros_like(self.recurrent_kernel)
        self.dbias = np.zeros_like(self.bias)
        dx = np.zeros((N, T, self.kernel.shape[0]), dtype=dh.dtype)
        self.dh_next = np.zeros((N, H), dtype=dh.dtype)
        self.dc_next = np.zeros((N, H), dtype=dh.dtype)
        for walked, t in enumerate(reversed(range(T))):
            x_t, h_prev, c_prev, i, f, cbar, o, c = self.history[t]
            dh_t = dh[:, t] + self.dh_next
            tc = np.tanh(c)
            do = dh_t * (c if bug in ("do_with_c", "do_with_c_and_df_c_t") else tc)
            if bug == "dz_o_prime_twice":
                do = do * o * (1 - o)
            dc_from_h = dh_t * o * (1 if bug == "dc_no_tanh_prime" else (1 - tc ** 2))
            if bug == "dc_carry_overwrites" and walked > 0:
                dc = self.dc_next
            else:
                dc = self.dc_next + dc_from_h
            df = dc * (c if bug in ("df_with_c_t", "do_with_c_and_df_c_t") else c_prev)
            di, dcbar = dc * cbar, dc * i
            dz_i, dz_f, dz_o = di * i * (1 - i), df * f * (1 - f), do * o * (1 - o)
            if bug == "dz_c_sigmoid_prime":
                dz_c = dcbar * cbar * (1 - cbar)
            else:
                dz_c = dcbar * (1 - cbar ** 2)
            blocks = [dz_i, dz_c, dz_f, dz_o] if bug == "dz_blocks_i_c_f_o" else [dz_i, dz_f, dz_c, dz_o]
            dz = np.concatenate(blocks, axis=1)
            self.dkernel += x_t.T @ dz
            self.drecurrent_kernel += h_prev.T @ dz
            self.dbias += dz.sum(axis=0)
            dx[:, t] = dz @ self.kernel.T
            W = self.drecurrent_kernel if bug == "dh_prev_from_drk" else self.recurrent_kernel
            self.dh_next = dz @ W.T
            if bug != "c_carry_dropped":
                self.dc_next = dc * (i if bug == "dprev_c_times_i" else f)
            if self.bptt is not None and walked + 1 >= self.bptt:
                self.dh_next, self.dc_next = np.zeros_like(self.dh_next), np.zeros_like(self.dc_next)
        dc0 = np.zeros_like(self.dc_next) if bug == "reset_ignores_c0" else self.dc_next
        return dx, self.dh_next, dc0, self.dkernel, self.drecurrent_kernel, self.dbias


def to_user(cell, p):
    return {"kernel": p["weight_ih"].T, "recurrent_kernel": p["weight_hh"].T, "bias": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dkernel" in grads:
        out["dweight_ih"] = grads["dkernel"].T
    if "drecurrent_kernel" in grads:
        out["dweight_hh"] = grads["drecurrent_kernel"].T
    if "dbias" in grads:
        out["dbias_ih"] = grads["dbias"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="stateful_keras_lstm", cells=("lstm",),
                               gate_order="ifco", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, recurrent_kernel, bias):
        layer = StatefulLSTM(kernel, recurrent_kernel, bias, bug)
        return layer.forward(x, h0, c0), layer

    def bwd(dh, layer):
        return layer.backward(dh)

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT}

"""An LSTM written like TF1's BasicLSTMCell.call, in NumPy: one kernel (D+H, 4H) on
concat([inputs, h]) plus a bias, columns i, j, f, o, the state an LSTMStateTuple-like
(c, h) pair (c first, as TF orders it), forget_bias = 1.0 added at call time (TF's
default). The backward walks a list of per-step caches and returns dstate parts by name
(the built-in tf_kernel layout):

    i, j, f, o = split(concat([x_t, h]) @ kernel + bias, 4)
    new_c = c * s(f + forget_bias) + s(i) * tanh(j)      new_h = tanh(new_c) * s(o)

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "backward_recomputes_f_without_bias": "forget_bias",  # sf = s(f) (forget_bias left out) where the backward recomputes it
    "da_f_grad_without_bias": "forget_bias",          # da_f = df * s(f) (1 - s(f)): only the derivative misses forget_bias
    "dc_prev_f_without_bias": "forget_bias",          # dc_prev = dc * s(f): only the c carry misses forget_bias
    "dj_sigmoid_grad": "derivative_wrong_function",   # da_j = dj * tj * (1 - tj)
    "dkernel_rows_from_new_h": "wrong_time",          # dkernel += concat([x_t, new_h]).T @ dz (h_t for h_(t-1))
    "do_tanh_of_old_c": "wrong_time",                 # do = dh * tanh(c) (c_(t-1) for new_c)
    "h_carry_replaces": "carry_overwrites",           # dh = dh_carry if t < T-1 else dh[:, t] (no sum)
    "di_with_preactivation_j": "wrong_value",         # di = dc * j (the pre-activation for tanh(j))
    "dz_blocks_ifjo": "gate_order",                   # dz = concat([di, df, dj, do]): f and j swapped
    "loop_stops_before_0": "loop_skips_step",         # for t in reversed(range(1, T))
    "clip_dkernel": "gradient_clipped",               # dkernel = np.clip(dkernel, -0.5, 0.5)
    "xh_buffer_reused": "inplace_corruption",         # one concat buffer filled in place each step and cached
    "forward_without_forget_bias": "forget_bias",      # the forward uses s(f) (no forget_bias); backward consistent
                                                       # (relabelled from forward_mistake after the first run: the
                                                       # same mistake is labelled forget_bias in the other zoos)
    "dc_doubled": "unknown",                          # dc = dc_carry + 2 * dh * so * (1 - tanh(c)^2) (arbitrary 2)
}

TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "backward_recomputes_f_without_bias": "f",
    "da_f_grad_without_bias": "f",
    "dc_prev_f_without_bias": "",
    "dj_sigmoid_grad": "g",
    "dkernel_rows_from_new_h": "",
    "do_tanh_of_old_c": "o",
    "h_carry_replaces": "",
    "di_with_preactivation_j": "i",
    "dz_blocks_ifjo": "fg",
    "loop_stops_before_0": "",
    "clip_dkernel": "g",
    "xh_buffer_reused": "",
    "forward_without_forget_bias": "",
    "dc_doubled": "ifg",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    fb = 0.0 if bug == "forward_without_forget_bias" else FORGET_BIAS

    def call(inputs, state, kernel, bias, buffer):
        c, h = state
        D = inputs.shape[1]
        if bug == "xh_buffer_reused":
            buffer[:, :D], buffer[:, D:] = inputs, h
            xh = buffer
        else:
            xh = np.concatenate([inputs, h], axis=1)
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
        new_c = c * sigmoid(f + fb) + sigmoid(i) * np.tanh(j)
        new_h = np.tanh(new_c) * sigmoid(o)
        return new_h, (new_c, new_h), {"xh": xh, "c": c, "i": i, "j": j, "f": f, "o": o, "new_c": new_c,
                                       "new_h": new_h}

    def forward(x, h0, c0, kernel, bias):
        N, T, D = x.shape
        state = (c0, h0)
        buffer = np.empty((N, D + h0.shape[1]), dtype=x.dtype)
        outputs, caches = [], []
        for t in range(T):
            out, state, step = call(x[:, t], state, kernel, bias, buffer)
            outputs.append(out)
            caches.append(step)
        return np.stack(outputs, axis=1), (caches, kernel, D)

    def backward(dh, cache):
        caches, kernel, D = cache
        N, T, H = dh.shape
        dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dh_carry, dc_carry = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(1 if bug == "loop_stops_before_0" else 0, T)):
            s = caches[t]
            si, tj, so = sigmoid(s["i"]), np.tanh(s["j"]), sigmoid(s["o"])
            sf = sigmoid(s["f"] + (0.0 if bug == "backward_recomputes_f_without_bias" else fb))
            sf0 = sigmoid(s["f"])
            g = dh_carry if (bug == "h_carry_replaces" and t < T - 1) else dh[:, t] + dh_carry
            tc = np.tanh(s["new_c"])
            do = g * (np.tanh(s["c"]) if bug == "do_tanh_of_old_c" else tc)
            dc = dc_carry + (2 if bug == "dc_doubled" else 1) * g * so * (1 - tc ** 2)
            di = dc * (s["j"] if bug == "di_with_preactivation_j" else tj)
            dj = dc * si
            df = dc * s["c"]
            dc_carry = dc * (sf0 if bug == "dc_prev_f_without_bias" else sf)
            da_i = di * si * (1 - si)
            da_j = dj * tj * (1 - tj) if bug == "dj_sigmoid_grad" else dj * (1 - tj ** 2)
            da_f = df * sf0 * (1 - sf0) if bug == "da_f_grad_without_bias" else df * sf * (1 - sf)
            da_o = do * so * (1 - so)
            parts = [da_i, da_f, da_j, da_o] if bug == "dz_blocks_ifjo" else [da_i, da_j, da_f, da_o]
            dz = np.concatenate(parts, axis=1)
            xh = s["xh"]
            if bug == "dkernel_rows_from_new_h":
                xh = np.concatenate([xh[:, :D], s["new_h"]], axis=1)
            dkernel += xh.T @ dz
            dbias += dz.sum(axis=0)
            dxh = dz @ kernel.T
            dx[:, t] = dxh[:, :D]
            dh_carry = dxh[:, D:]
        if bug == "clip_dkernel":
            dkernel = np.clip(dkernel, -0.5, 0.5)
        return dx, dh_carry, dc_carry, dkernel, dbias

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

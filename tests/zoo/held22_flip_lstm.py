"""A time-major LSTM that keeps h and c together in one state array, state (T+1, 2, N, H)
with state[t] = [h, c], and whose backward walks the steps with np.flip instead of
reversed(range(T)), carrying one (2, N, H) dstate = [dh, dc]. Weights as torch stores them
but with the gate rows in the order f, i, o, c (c is the candidate, torch's g), and a
forget bias of 1.0 added to f at call time (declared to the check as forget_bias):

    z = x_t @ Wx.T + h @ Wh.T + b            Wx (4H, D), Wh (4H, H), b (4H,), rows f, i, o, c
    f = s(z_f + 1)   i = s(z_i)   o = s(z_o)   g = tanh(z_c)
    c' = f * c + i * g        h' = o * tanh(c')

x (T, N, D) time-major, h0 and c0 arguments. The backward accumulates the weight gradients
and the carried dh gate block by gate block. Twenty-second held-out zoo: written without
reading the diagnosis.
"""

import itertools

import numpy as np

import harness
from harness.guard.layouts import reorder

FORGET_BIAS = 1.0
ORDER = "fiog"                                            # the user's rows f, i, o, c in canonical letters

BUGS = {
    "forget_bias_dropped": "forget_bias",                 # f = s(z_f) in the forward; backward consistent
    "forget_bias_on_o": "forget_bias",                    # f = s(z_f), o = s(z_o + 1) in the forward; consistent
    "df_with_c_t": "wrong_time",                          # df = dc * c (this step's c) for c_prev
    "dh_carry_o_rows_of_i": "wrong_weight",               # the o block carried back through Wh's i rows
    "dc_gate_deriv_miswritten": "derivative_miswritten",  # da_c = dc * i * (1 - g) ** 2
    "dtanh_c_twice": "derivative_twice",                  # dc += dh * o * (1 - tc**2) * (1 - tc**2)
    "db_assigned": "carry_overwrites",                    # db = dz.sum(0) (= for +=)
    "flip_skips_last_step": "loop_skips_step",            # islice(flipped steps, 1, None): t = T-1 never visited
    "dstate_clipped": "gradient_clipped",                 # np.clip(dstate, -0.5, 0.5, out=dstate) every step
    "dWh_blocks_transposed": "gradient_transposed",       # dWh block += h_prev.T @ da_k (for da_k.T @ h_prev)
    "dc0_without_f_and_do_sign": "unknown",               # dc0 returned before times f, and do's sigmoid' sign flipped
    "df_reads_h_prev": "wrong_value",                     # df = dc * h_prev (h read for c_prev)
    "forward_candidate_ungated": "forward_mistake",       # c' = f * c + g (no i); backward consistent (di = 0)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "forget_bias_dropped": "",
    "forget_bias_on_o": "",
    "df_with_c_t": "f",
    "dh_carry_o_rows_of_i": "",
    "dc_gate_deriv_miswritten": "g",
    "dtanh_c_twice": "ifg",
    "db_assigned": "",
    "flip_skips_last_step": "",
    "dstate_clipped": "",
    "dWh_blocks_transposed": "",
    "dc0_without_f_and_do_sign": "o",
    "df_reads_h_prev": "f",
    "forward_candidate_ungated": "",
}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def lstm_forward(x, h0, c0, Wx, Wh, b, bug=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    state = np.zeros((T + 1, 2, N, H), dtype=x.dtype)
    state[0] = h0, c0
    gates = np.zeros((T, 4, N, H), dtype=x.dtype)        # activated f, i, o, g
    fb_f = 0.0 if bug in ("forget_bias_dropped", "forget_bias_on_o") else FORGET_BIAS
    fb_o = FORGET_BIAS if bug == "forget_bias_on_o" else 0.0
    for t in range(T):
        h, c = state[t]
        z = x[t] @ Wx.T + h @ Wh.T + b
        zf, zi, zo, zc = np.split(z, 4, axis=1)
        gates[t] = sigmoid(zf + fb_f), sigmoid(zi), sigmoid(zo + fb_o), np.tanh(zc)
        f, i, o, g = gates[t]
        state[t + 1, 1] = f * c + (g if bug == "forward_candidate_ungated" else i * g)
        state[t + 1, 0] = o * np.tanh(state[t + 1, 1])
    return state[1:, 0].copy(), (x, state, gates, Wx, Wh)


def lstm_backward(dh, cache, bug=None):
    x, state, gates, Wx, Wh = cache
    T, N, H = dh.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dstate = np.zeros((2, N, H), dtype=dh.dtype)
    walk = zip(np.flip(np.arange(T)), np.flip(gates, 0), np.flip(state[:-1], 0), np.flip(state[1:], 0),
               np.flip(dh, 0))
    if bug == "flip_skips_last_step":
        walk = itertools.islice(walk, 1, None)
    for t, (f, i, o, g), (h_prev, c_prev), (h, c), dh_t in walk:
        d_h = dh_t + dstate[0]
        tc = np.tanh(c)
        local = d_h * o * (1 - tc ** 2)
        if bug == "dtanh_c_twice":
            local = local * (1 - tc ** 2)
        dc = dstate[1] + local
        df = dc * {"df_with_c_t": c, "df_reads_h_prev": h_prev}.get(bug, c_prev)
        if bug == "dc0_without_f_and_do_sign":
            do = d_h * tc * o * (o - 1)
        else:
            do = d_h * tc * o * (1 - o)
        if bug == "dc_gate_deriv_miswritten":
            dgc = dc * i * (1 - g) ** 2
        else:
            dgc = dc * i * (1 - g ** 2)
        di = np.zeros_like(i) if bug == "forward_candidate_ungated" else dc * g * i * (1 - i)
        if bug == "forward_candidate_ungated":
            dgc = dc * (1 - g ** 2)
        da = [df * f * (1 - f), di, do, dgc]
        dh_prev = np.zeros((N, H), dtype=dh.dtype)
        for k in range(4):
            rows = slice(k * H, (k + 1) * H)
            if bug == "dWh_blocks_transposed":
                dWh[rows] += h_prev.T @ da[k]
            else:
                dWh[rows] += da[k].T @ h_prev
            carry_rows = slice(H, 2 * H) if (bug == "dh_carry_o_rows_of_i" and k == 2) else rows
            dh_prev += da[k] @ Wh[carry_rows]
        dz = np.concatenate(da, axis=1)
        dWx += dz.T @ x[t]
        if bug == "db_assigned":
            db = dz.sum(axis=0)
        else:
            db += dz.sum(axis=0)
        dx[t] = dz @ Wx
        dstate[0] = dh_prev
        dstate[1] = dc if (bug == "dc0_without_f_and_do_sign" and t == 0) else dc * f
        if bug == "dstate_clipped":
            np.clip(dstate, -0.5, 0.5, out=dstate)
    return dx, dstate[0], dstate[1], dWx, dWh, db


def to_user(cell, p):
    return {"Wx": reorder(p["weight_ih"], "ifgo", ORDER, 0), "Wh": reorder(p["weight_hh"], "ifgo", ORDER, 0),
            "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", ORDER, 0)}


def to_canonical(cell, grads, p):
    names = {"dWx": "dweight_ih", "dWh": "dweight_hh", "db": "dbias_ih"}
    return {names[k]: reorder(v, ORDER, "ifgo", 0) for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flip_lstm", cells=("lstm",), axes="TND",
                               gate_order="fioc", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, Wx, Wh, b):
        return lstm_forward(x, h0, c0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

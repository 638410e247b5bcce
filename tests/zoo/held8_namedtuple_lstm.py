"""A time-major LSTM whose forward keeps its cache as a list of namedtuples, with TF's
forget bias (1.0, added at call time and never stored): torch's storage and gate order.

    a = x_t @ W_ih.T + h_(t-1) @ W_hh.T + b     (N, 4H) blocks i, f, g, o
    i = s(a_i)   f = s(a_f + forget_bias)   g = tanh(a_g)   o = s(a_o)
    c_t = f * c_(t-1) + i * g                   h_t = o * tanh(c_t)

x (T, N, D), h (T, N, H), W_ih (4H, D), W_hh (4H, H), b (4H,), forward(x, h0, c0, W_ih, W_hh,
b), options forget_bias=1.0. Eighth held-out zoo: written without reading the diagnosis.
"""

from collections import namedtuple

import numpy as np

import harness

FORGET_BIAS = 1.0

Step = namedtuple("Step", "x h_prev c_prev i f g o c tanh_c")

BUGS = {
    "forget_bias_left_out": "forget_bias",             # f = s(a_f) in the forward (backward unchanged)
    "forget_bias_on_input_gate": "forget_bias",        # i = s(a_i + forget_bias), f = s(a_f) in the forward
    "first_step_skipped": "loop_skips_step",           # for t in reversed(range(1, T))
    "steps_in_forward_order": "loop_direction",        # for t, s in enumerate(steps)
    "carries_reset_every_3": "truncated_bptt",         # both carries zeroed when (T - t) % 3 == 0
    "weight_grads_clipped": "gradient_clipped",        # np.clip(d, -0.5, 0.5, out=d) on dW_ih, dW_hh, db
    "hidden_carry_dropped": "carry_dropped",           # dh = dh_all[t] (dh_next never added)
    "o_grad_as_tanh": "derivative_wrong_function",     # da_o = do * (1 - o ** 2)
    "i_grad_precedence": "derivative_miswritten",      # da_i = di * s.i * 1 - s.i  (parentheses lost)
    "tanh_c_term_sign": "wrong_sign",                  # dc = dc_next - dh * o * (1 - tanh_c ** 2)
    "dx_without_o_block": "term_dropped",              # dx = da[:, :3H] @ W_ih[:3H]
    "dc_prev_aliases_f": "inplace_corruption",         # dc_prev = s.f; dc_prev *= dc (before da_f reads s.f)
    "forward_tanh_of_o_times_c": "forward_mistake",    # h = tanh(o * c), backward consistent
    "g_grad_doubled": "unknown",                       # da_g = dg * 2 * (1 - g ** 2)
    "da_stacked_ifog": "gate_order",                   # np.concatenate([da_i, da_f, da_o, da_g]) (cs231n's order)
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "forget_bias_on_input_gate": "",
    "first_step_skipped": "",
    "steps_in_forward_order": "",
    "carries_reset_every_3": "",
    "weight_grads_clipped": "g",
    "hidden_carry_dropped": "",
    "o_grad_as_tanh": "o",
    "i_grad_precedence": "i",
    "tanh_c_term_sign": "ifg",
    "dx_without_o_block": "",
    "dc_prev_aliases_f": "f",
    "forward_tanh_of_o_times_c": "",
    "g_grad_doubled": "g",
    "da_stacked_ifog": "go",
}


def sig(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, W_ih, W_hh, b, bug=None):
    T = x.shape[0]
    H = h0.shape[1]
    h, c = h0, c0
    out, steps = [], []
    fb_f = 0.0 if bug in ("forget_bias_left_out", "forget_bias_on_input_gate") else FORGET_BIAS
    fb_i = FORGET_BIAS if bug == "forget_bias_on_input_gate" else 0.0
    for t in range(T):
        a = x[t] @ W_ih.T + h @ W_hh.T + b
        i = sig(a[:, :H] + fb_i)
        f = sig(a[:, H:2 * H] + fb_f)
        g = np.tanh(a[:, 2 * H:3 * H])
        o = sig(a[:, 3 * H:])
        c_new = f * c + i * g
        tanh_c = np.tanh(o * c_new) if bug == "forward_tanh_of_o_times_c" else np.tanh(c_new)
        h_new = tanh_c if bug == "forward_tanh_of_o_times_c" else o * tanh_c
        steps.append(Step(x[t], h, c, i, f, g, o, c_new, tanh_c))
        out.append(h_new)
        h, c = h_new, c_new
    return np.stack(out), {"steps": steps, "W_ih": W_ih, "W_hh": W_hh, "b": b}


def _step_back(dh, dc_next, s, bug):
    """(da (N, 4H), dc_prev) for one step."""
    if bug == "forward_tanh_of_o_times_c":
        dm = dh * (1 - s.tanh_c ** 2)
        do, dc = dm * s.c, dc_next + dm * s.o
    else:
        do = dh * s.tanh_c
        if bug == "tanh_c_term_sign":
            dc = dc_next - dh * s.o * (1 - s.tanh_c ** 2)
        else:
            dc = dc_next + dh * s.o * (1 - s.tanh_c ** 2)
    di, df, dg = dc * s.g, dc * s.c_prev, dc * s.i
    if bug == "dc_prev_aliases_f":
        dc_prev = s.f
        dc_prev *= dc
    else:
        dc_prev = dc * s.f
    da_i = di * s.i * 1 - s.i if bug == "i_grad_precedence" else di * s.i * (1 - s.i)
    da_f = df * s.f * (1 - s.f)
    da_g = dg * 2 * (1 - s.g ** 2) if bug == "g_grad_doubled" else dg * (1 - s.g ** 2)
    da_o = do * (1 - s.o ** 2) if bug == "o_grad_as_tanh" else do * s.o * (1 - s.o)
    if bug == "da_stacked_ifog":
        return np.concatenate([da_i, da_f, da_o, da_g], axis=1), dc_prev
    return np.concatenate([da_i, da_f, da_g, da_o], axis=1), dc_prev


def lstm_backward(dh_all, cache, bug=None):
    steps, W_ih, W_hh, b = cache["steps"], cache["W_ih"], cache["W_hh"], cache["b"]
    T, N, H = dh_all.shape
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b)
    dx = np.zeros((T, N, W_ih.shape[1]), dtype=dh_all.dtype)
    dh_next = np.zeros((N, H), dtype=dh_all.dtype)
    dc_next = np.zeros((N, H), dtype=dh_all.dtype)
    if bug == "steps_in_forward_order":
        order = range(T)
    else:
        order = reversed(range(1 if bug == "first_step_skipped" else 0, T))
    for t in order:
        s = steps[t]
        dh = dh_all[t] if bug == "hidden_carry_dropped" else dh_all[t] + dh_next
        da, dc_next = _step_back(dh, dc_next, s, bug)
        dW_ih += da.T @ s.x
        dW_hh += da.T @ s.h_prev
        db += da.sum(axis=0)
        dx[t] = da[:, :3 * H] @ W_ih[:3 * H] if bug == "dx_without_o_block" else da @ W_ih
        dh_next = da @ W_hh
        if bug == "carries_reset_every_3" and (T - t) % 3 == 0:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
    if bug == "weight_grads_clipped":
        for d in (dW_ih, dW_hh, db):
            np.clip(d, -0.5, 0.5, out=d)
    return dx, dh_next, dc_next, dW_ih, dW_hh, db


def to_user(cell, p):
    return {"W_ih": p["weight_ih"], "W_hh": p["weight_hh"], "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "db": "dbias_ih"}
    return {q: grads[u] for u, q in names.items() if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="namedtuple_lstm", cells=("lstm",), axes="TND",
                               gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W_ih, W_hh, b):
        return lstm_forward(x, h0, c0, W_ih, W_hh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

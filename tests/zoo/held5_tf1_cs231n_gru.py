"""TF1's GRUCell (reset before the recurrent product, reset_after=False) written in the
cs231n assignment's style: step functions with a cache tuple and a sequence driver,
x (N, T, D), h0 (N, H), Wx (D, 3H), Wh (H, 3H), b (3H,) with the column blocks in TF1's
names r (reset), u (update), c (candidate):

    r = sigmoid(x Wx_r + h Wh_r + b_r)      u = sigmoid(x Wx_u + h Wh_u + b_u)
    c = tanh(x Wx_c + (r * h) Wh_c + b_c)   next_h = u * h + (1 - u) * c

TF1's u is torch's z and its c is torch's n; b = bias_ih + bias_hh (exact for reset before).
Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dprev_misses_reset_path": "term_dropped",            # dprev_h without drh * r
    "du_with_next_h": "wrong_time",                       # du = dnext_h * (next_h - c)
    "dc_sign": "wrong_sign",                              # dc = dnext_h * (u - 1)
    "dac_no_tanh_grad": "derivative_missing",             # dac = dc
    "dar_missing_parentheses": "derivative_miswritten",   # dr * r * 1 - r
    "Wh_u_for_r": "wrong_weight",                         # dar @ Wh_u.T in dprev_h (the update block for the reset path)
    "dprev_reset_every_step": "carry_dropped",            # dprev_h = zeros(...) at the top of each step of the driver
    "dWx_assigned": "carry_overwrites",                   # dWx = dWx_t in the driver (= for +=)
    "dc_aliases_dnext": "inplace_corruption",             # dc = dnext_h; dc *= 1 - u: du and the carry read the scaled dnext_h
    "forward_course_update_convention": "forward_mistake",  # next_h = u * c + (1 - u) * h; backward consistent
    "backward_blocks_u_r": "gate_order",                  # concatenate([dau, dar, dac]) for blocks r, u, c
    "dh_over_NT": "reduction_scaled",                     # dh / (N * T): the loss taken as a mean
    "segments_of_3": "truncated_bptt",                    # the backward in segments of 3 steps from the end, the carry reset between them
    "du_sign_and_dWh_over_T": "unknown",                  # two mistakes: du = dnext_h * (c - prev_h); dWh / T
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dprev_misses_reset_path": "",
    "du_with_next_h": "z",
    "dc_sign": "rn",
    "dac_no_tanh_grad": "rn",
    "dar_missing_parentheses": "r",
    "Wh_u_for_r": "",
    "dprev_reset_every_step": "",
    "dWx_assigned": "",
    "dc_aliases_dnext": "z",
    "forward_course_update_convention": "",
    "backward_blocks_u_r": "rz",
    "dh_over_NT": "",
    "segments_of_3": "",
    "du_sign_and_dWh_over_T": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    H = prev_h.shape[1]
    ax = x @ Wx + b
    r = sigmoid(ax[:, :H] + prev_h @ Wh[:, :H])
    u = sigmoid(ax[:, H:2 * H] + prev_h @ Wh[:, H:2 * H])
    c = np.tanh(ax[:, 2 * H:] + (r * prev_h) @ Wh[:, 2 * H:])
    if bug == "forward_course_update_convention":
        next_h = u * c + (1 - u) * prev_h
    else:
        next_h = u * prev_h + (1 - u) * c
    return next_h, (x, prev_h, r, u, c, next_h, Wx, Wh)


def gru_step_backward(dnext_h, cache, bug=None):
    x, prev_h, r, u, c, next_h, Wx, Wh = cache
    H = prev_h.shape[1]
    course = bug == "forward_course_update_convention"
    if bug == "dc_aliases_dnext":
        dc = dnext_h
        dc *= 1 - u
    elif bug == "dc_sign":
        dc = dnext_h * (u - 1)
    else:
        dc = dnext_h * (u if course else 1 - u)
    if bug == "du_with_next_h":
        du = dnext_h * (next_h - c)
    elif bug in ("du_sign_and_dWh_over_T", "forward_course_update_convention"):
        du = dnext_h * (c - prev_h)
    else:
        du = dnext_h * (prev_h - c)
    dac = dc if bug == "dac_no_tanh_grad" else dc * (1 - c ** 2)
    drh = dac @ Wh[:, 2 * H:].T
    dr = drh * prev_h
    dar = dr * r * 1 - r if bug == "dar_missing_parentheses" else dr * r * (1 - r)
    dau = du * u * (1 - u)
    dgates = np.concatenate([dau, dar, dac] if bug == "backward_blocks_u_r" else [dar, dau, dac], axis=1)
    dWx = x.T @ dgates
    dWh = np.concatenate([prev_h.T @ dgates[:, :2 * H], (r * prev_h).T @ dac], axis=1)
    db = dgates.sum(axis=0)
    dx = dgates @ Wx.T
    Wh_r = Wh[:, H:2 * H] if bug == "Wh_u_for_r" else Wh[:, :H]
    dprev_h = dnext_h * ((1 - u) if course else u) + dar @ Wh_r.T + dau @ Wh[:, H:2 * H].T
    if bug != "dprev_misses_reset_path":
        dprev_h = dprev_h + drh * r
    return dx, dprev_h, dWx, dWh, db


def gru_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, cache = h0, []
    for t in range(T):
        prev_h, step_cache = gru_step_forward(x[:, t], prev_h, Wx, Wh, b, bug)
        h[:, t] = prev_h
        cache.append(step_cache)
    return h, cache


def gru_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    if bug == "dh_over_NT":
        dh = dh / (N * T)
    Wx, Wh = cache[0][6], cache[0][7]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(3 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        if bug == "dprev_reset_every_step":
            dprev_h = np.zeros((N, H), dtype=dh.dtype)
        if bug == "segments_of_3" and (T - 1 - t) % 3 == 0:
            dprev_h = np.zeros((N, H), dtype=dh.dtype)
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t] + dprev_h, cache[t], bug)
        if bug == "dWx_assigned":
            dWx = dWx_t
        else:
            dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if bug == "du_sign_and_dWh_over_T":
        dWh /= T
    return dx, dprev_h, dWx, dWh, db


def to_user(cell, p):
    """torch's blocks r, z, n are TF1's r, u, c: the same order, only the names differ."""
    return {"Wx": p["weight_ih"].T, "Wh": p["weight_hh"].T, "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    for g, q in (("dWx", "dweight_ih"), ("dWh", "dweight_hh")):
        if g in grads:
            out[q] = grads[g].T
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tf1_gru_cs231n", cells=("gru",), gate_order="ruc",
                               gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return gru_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

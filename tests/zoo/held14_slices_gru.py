"""A reset-before GRU (TF1's GRUCell form) kept in one (N, 3H) gate array addressed with
slice objects Z, R, C, time-major, weights stored (3H, in) with the blocks z, r, c: the
array starts as the pre-activations and the activations are written back into it, so the
cached array holds z, r and the candidate c:

    g = x_t @ Wx.T + b;  g[:, Z] += h @ Wh[Z].T;  g[:, R] += h @ Wh[R].T
    g[:, Z], g[:, R] = sigmoid(g[:, Z]), sigmoid(g[:, R])
    g[:, C] = tanh(g[:, C] + (g[:, R] * h) @ Wh[C].T)
    h' = (1 - z) * c + z * h

x (T, N, D), h0 (N, H), Wx (3H, D), Wh (3H, H), b (3H,); forward(x, h0, Wx, Wh, b) -> (h,
cache); backward(dh, cache) -> (dx, dh0, dWx, dWh, db). Checked with reset_after=False.
Fourteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "dg_Z_R_written_crosswise": "gate_order",            # dg[:, R] = da_z; dg[:, Z] = da_r: each written into the other's slice
    "drh_with_Wh_R": "wrong_weight",                     # drh = dg[:, C] @ Wh[R]
    "da_r_no_sigmoid_grad": "derivative_missing",        # dg[:, R] = dr
    "da_z_tanh_grad": "derivative_wrong_function",       # dz * (1 - z ** 2)
    "dz_c_minus_h": "wrong_sign",                        # dz = dh * (c - h)
    "dr_reads_r": "wrong_value",                         # dr = drh * r (r read for h)
    "Wh_Z_transposed": "weight_transposed",              # dg[:, Z] @ Wh[Z].T in dh_prev
    "dh_prev_without_dh_z": "term_dropped",              # dh_prev misses dh * z
    "carry_not_added": "carry_dropped",                  # dh = dh_seq[t]
    "walk_forward_in_time": "loop_direction",            # for t in range(T) in the backward
    "carry_cut_at_even_t": "truncated_bptt",             # carry zeroed when t % 2 == 0: chunks of 2 steps (truncated BPTT)
    "global_norm_clip_1": "gradient_clipped",            # dWx, dWh, db rescaled to global norm 1 before returning
    "forward_candidate_unreset": "forward_mistake",      # c = tanh(g[:, C] + h @ Wh[C].T); backward consistent (r gets nothing)
    "dWx_over_NT": "reduction_scaled",                   # dWx /= N * T
    "da_c_doubled": "unknown",                           # dc * (1 - c ** 2) * 2: a stray constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dg_Z_R_written_crosswise": "rz",
    "drh_with_Wh_R": "r",
    "da_r_no_sigmoid_grad": "r",
    "da_z_tanh_grad": "z",
    "dz_c_minus_h": "z",
    "dr_reads_r": "r",
    "Wh_Z_transposed": "",
    "dh_prev_without_dh_z": "",
    "carry_not_added": "",
    "walk_forward_in_time": "",
    "carry_cut_at_even_t": "",
    "global_norm_clip_1": "",
    "forward_candidate_unreset": "",
    "dWx_over_NT": "",
    "da_c_doubled": "rn",
}

ORDER = "zrn"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, Wx, Wh, b, bug=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    Z, R, C = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
    hs = np.zeros((T, N, H), dtype=x.dtype)
    h, cache = h0, []
    for t in range(T):
        g = x[t] @ Wx.T + b
        g[:, Z] += h @ Wh[Z].T
        g[:, R] += h @ Wh[R].T
        g[:, Z] = sigmoid(g[:, Z])
        g[:, R] = sigmoid(g[:, R])
        if bug == "forward_candidate_unreset":
            g[:, C] = np.tanh(g[:, C] + h @ Wh[C].T)
        else:
            g[:, C] = np.tanh(g[:, C] + (g[:, R] * h) @ Wh[C].T)
        cache.append((x[t], h, g))
        h = (1 - g[:, Z]) * g[:, C] + g[:, Z] * h
        hs[t] = h
    return hs, (cache, Wx, Wh, (Z, R, C))


def gru_backward(dh_seq, cache, bug=None):
    steps, Wx, Wh, (Z, R, C) = cache
    T, N, H = dh_seq.shape
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(3 * H, dtype=dh_seq.dtype)
    dx = np.zeros((T, N, Wx.shape[1]), dtype=dh_seq.dtype)
    dh_prev = np.zeros((N, H), dtype=dh_seq.dtype)
    for t in (range(T) if bug == "walk_forward_in_time" else reversed(range(T))):
        x_t, h, g = steps[t]
        z, r, c = g[:, Z], g[:, R], g[:, C]
        dh = dh_seq[t] if bug == "carry_not_added" else dh_seq[t] + dh_prev
        dg = np.empty_like(g)
        dc = dh * (1 - z)
        dz = dh * (c - h) if bug == "dz_c_minus_h" else dh * (h - c)
        dg[:, C] = dc * (1 - c ** 2) * (2 if bug == "da_c_doubled" else 1)
        if bug == "forward_candidate_unreset":
            drh = np.zeros_like(h)
            dr = drh
        else:
            drh = dg[:, C] @ (Wh[R] if bug == "drh_with_Wh_R" else Wh[C])
            dr = drh * (r if bug == "dr_reads_r" else h)
        da_r = dr if bug == "da_r_no_sigmoid_grad" else dr * r * (1 - r)
        da_z = dz * (1 - z ** 2) if bug == "da_z_tanh_grad" else dz * z * (1 - z)
        if bug == "dg_Z_R_written_crosswise":
            dg[:, R], dg[:, Z] = da_z, da_r
        else:
            dg[:, Z], dg[:, R] = da_z, da_r
        dWx += dg.T @ x_t
        dWh[Z] += dg[:, Z].T @ h
        dWh[R] += dg[:, R].T @ h
        dWh[C] += dg[:, C].T @ (h if bug == "forward_candidate_unreset" else r * h)
        db += dg.sum(axis=0)
        dx[t] = dg @ Wx
        dh_prev = dg[:, Z] @ (Wh[Z].T if bug == "Wh_Z_transposed" else Wh[Z]) + dg[:, R] @ Wh[R]
        dh_prev = dh_prev + (dg[:, C] @ Wh[C] if bug == "forward_candidate_unreset" else drh * r)
        if bug != "dh_prev_without_dh_z":
            dh_prev = dh_prev + dh * z
        if bug == "carry_cut_at_even_t" and t % 2 == 0 and t > 0:
            dh_prev = np.zeros_like(dh_prev)
    if bug == "dWx_over_NT":
        dWx /= N * T
    if bug == "global_norm_clip_1":
        norm = np.sqrt(sum((g ** 2).sum() for g in (dWx, dWh, db)))
        if norm > 1.0:
            dWx, dWh, db = dWx / norm, dWh / norm, db / norm
    return dx, dh_prev, dWx, dWh, db


def to_user(cell, p):
    return {"Wx": reorder(p["weight_ih"], "rzn", ORDER, 0), "Wh": reorder(p["weight_hh"], "rzn", ORDER, 0),
            "b": reorder(p["bias_ih"] + p["bias_hh"], "rzn", ORDER, 0)}


def to_canonical(cell, grads, p):
    names = {"dWx": "dweight_ih", "dWh": "dweight_hh", "db": "dbias_ih"}
    return {names[k]: reorder(v, ORDER, "rzn", 0) for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="slices_gru", cells=("gru",), axes="TND",
                               gate_order="zrc", gate_letters={"c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return gru_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU written the way a kernel author writes it in NumPy: one preallocated workspace
ws (T, 5, N, H) holds, per step, the slots [h_prev, z, r, hh, r * h_prev] that the backward
reads back by slot index, with Keras-style kernels (gate columns z, r, h; the candidate is
h, torch's n) and the reset gate applied before the recurrent product (reset_after=False):

    xp = x_t @ W + b        W (D, 3H), U (H, 3H), b (3H,), columns z, r, h
    z = s(xp_z + h @ U_z)    r = s(xp_r + h @ U_r)    hh = tanh(xp_h + (r * h) @ U_h)
    h' = z * h + (1 - z) * hh

x (N, T, D). Twenty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

H_PREV, Z, R, HH, RH = range(5)                           # workspace slots

BUGS = {
    "U_h_untransposed": "weight_transposed",              # drh = da_h @ U[:, 2H:] (for U[:, 2H:].T)
    "dU_h_from_h_prev": "term_dropped",                   # dU[:, 2H:] += h_prev.T @ da_h (r left out of r * h_prev)
    "r_slot_of_previous_step": "wrong_time",              # r read from ws[t - 1, R]
    "z_path_through_U_r": "wrong_weight",                 # da_z @ U[:, H:2H].T in dh_prev (for U[:, :H].T)
    "carry_stored_in_unread_name": "carry_dropped",       # dh_prev = ... while the loop adds dh_next (never updated)
    "dU_gates_assigned": "carry_overwrites",              # dU[:, :2H] = h_prev.T @ da_zr (= for +=)
    "loop_starts_at_T_minus_2": "loop_skips_step",        # for t in range(T - 2, -1, -1)
    "bptt_truncated_3": "truncated_bptt",                 # dh_next zeroed when 3 steps have been walked
    "global_norm_clip": "gradient_clipped",               # dW, dU, db scaled to a global norm of 1 (Keras clipnorm)
    "da_blocks_r_z": "gate_order",                        # da = [da_r, da_z, da_h] for columns z, r, h
    "carry_reads_z_for_r": "wrong_value",                 # dh_prev gets drh * z (z read for r)
    "dtanh_without_parentheses": "derivative_miswritten",  # da_h = dhh * 1 - hh ** 2
    "carry_halved": "unknown",                            # dh_next = 0.5 * (...): an arbitrary constant
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "U_h_untransposed": "r",
    "dU_h_from_h_prev": "n",
    "r_slot_of_previous_step": "",
    "z_path_through_U_r": "",
    "carry_stored_in_unread_name": "",
    "dU_gates_assigned": "",
    "loop_starts_at_T_minus_2": "",
    "bptt_truncated_3": "",
    "global_norm_clip": "",
    "da_blocks_r_z": "rz",
    "carry_reads_z_for_r": "",
    "dtanh_without_parentheses": "rn",
    "carry_halved": "",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_forward(x, h0, W, U, b):
    N, T, _ = x.shape
    H = h0.shape[1]
    ws = np.empty((T, 5, N, H), dtype=x.dtype)
    out = np.empty((N, T, H), dtype=x.dtype)
    h = h0
    for t in range(T):
        xp = x[:, t] @ W + b
        hp = h @ U[:, :2 * H]
        z = sigmoid(xp[:, :H] + hp[:, :H])
        r = sigmoid(xp[:, H:2 * H] + hp[:, H:])
        rh = r * h
        hh = np.tanh(xp[:, 2 * H:] + rh @ U[:, 2 * H:])
        ws[t] = h, z, r, hh, rh
        h = z * h + (1 - z) * hh
        out[:, t] = h
    return out, (x, ws, W, U)


def gru_backward(dh, cache, bug=None):
    x, ws, W, U = cache
    N, T, H = dh.shape
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(3 * H, dtype=dh.dtype)
    dx = np.zeros_like(x)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    start = T - 2 if bug == "loop_starts_at_T_minus_2" else T - 1
    for t in range(start, -1, -1):
        if bug == "bptt_truncated_3" and t == T - 4:
            dh_next = np.zeros_like(dh_next)
        h_prev, z, r, hh, rh = ws[t]
        if bug == "r_slot_of_previous_step":
            r = ws[t - 1, R]
        g = dh[:, t] + dh_next
        dz = g * (h_prev - hh)
        dhh = g * (1 - z)
        da_h = dhh * 1 - hh ** 2 if bug == "dtanh_without_parentheses" else dhh * (1 - hh ** 2)
        drh = da_h @ (U[:, 2 * H:] if bug == "U_h_untransposed" else U[:, 2 * H:].T)
        dr = drh * h_prev
        da_r = dr * r * (1 - r)
        da_z = dz * z * (1 - z)
        da = np.concatenate([da_r, da_z, da_h] if bug == "da_blocks_r_z" else [da_z, da_r, da_h], axis=1)
        dW += x[:, t].T @ da
        db += da.sum(axis=0)
        if bug == "dU_gates_assigned":
            dU[:, :2 * H] = h_prev.T @ da[:, :2 * H]
        else:
            dU[:, :2 * H] += h_prev.T @ da[:, :2 * H]
        dU[:, 2 * H:] += (h_prev if bug == "dU_h_from_h_prev" else rh).T @ da_h
        dx[:, t] = da @ W.T
        U_z = U[:, H:2 * H] if bug == "z_path_through_U_r" else U[:, :H]
        new = g * z + drh * (z if bug == "carry_reads_z_for_r" else r) + da_z @ U_z.T + da_r @ U[:, H:2 * H].T
        if bug == "carry_halved":
            new = 0.5 * new
        if bug == "carry_stored_in_unread_name":
            dh_prev = new                                 # the typo: the loop adds dh_next
        else:
            dh_next = new
    if bug == "carry_stored_in_unread_name":
        dh_next = dh_prev
    if bug == "global_norm_clip":
        norm = np.sqrt(sum(np.sum(a * a) for a in (dW, dU, db)))
        if norm > 1.0:
            dW, dU, db = dW / norm, dU / norm, db / norm
    return dx, dh_next, dW, dU, db


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "rzn", "zrn", 0).T, "U": reorder(p["weight_hh"], "rzn", "zrn", 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"].T, "zrn", "rzn", 0)
    if "dU" in grads:
        out["dweight_hh"] = reorder(grads["dU"].T, "zrn", "rzn", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "zrn", "rzn", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="workspace_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, b):
        return gru_forward(x, h0, W, U, b)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A beginner's reset-before GRU (TF1 GRUCell's form), time-major x (T, N, D), torch-shaped
weights per gate (W_* (H, D), U_* (H, H), one bias b_* (H,) each) and two nested Python loops
everywhere: over time and, inside, over the examples, with 1-D vectors, np.outer for the
weight gradients, a hand-kept time counter in a while loop, and the forward values
recomputed inside the backward from h_prev. Print-debugging behind DEBUG.

    z = s(W_z x + U_z h + b_z)   r = s(W_r x + U_r h + b_r)   n = tanh(W_h x + U_h (r * h) + b_h)
    h' = (1 - z) * n + z * h

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import copy

import numpy as np

import harness

DEBUG = False

BUGS = {
    "reset_path_without_r": "derivative_missing",    # dh_prev += U_h.T @ dn_pre (the * r left out)
    "dU_h_with_h_prev": "wrong_value",               # np.outer(dn_pre, h_prev) for r * h_prev
    "dr_from_h_t": "wrong_time",                     # dr = drh * h_t
    "dr_at_preact": "derivative_wrong_point",        # a_r * (1 - a_r)
    "dn_tanh_twice": "derivative_twice",             # (1 - n**2) applied again
    "dz_no_sigmoid_grad": "derivative_missing",      # dz_pre = dz
    "U_r_not_transposed": "weight_transposed",       # U_r @ dr_pre
    "dh_prev_from_dU_z": "gradient_for_weight",      # dU_z.T @ dz_pre
    "while_t_gt_0": "loop_skips_step",               # while t > 0: step 0 never done
    "dh_next_never_updated": "carry_dropped",        # dh_next stays zero
    "clip_dh_next": "gradient_clipped",              # np.clip(dh_next, -0.5, 0.5) each step
    "return_z_r_swapped": "gate_order",              # returns the r gradients in the z slots and back
    "dU_h_outer_swapped": "gradient_transposed",     # np.outer(r * h_prev, dn_pre)
    "dz_pasted_from_dn": "wrong_value",              # dz = dh * (1 - z) pasted from the dn line
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "reset_path_without_r": "",
    "dU_h_with_h_prev": "n",
    "dr_from_h_t": "r",
    "dr_at_preact": "r",
    "dn_tanh_twice": "rn",
    "dz_no_sigmoid_grad": "z",
    "U_r_not_transposed": "",
    "dh_prev_from_dU_z": "",
    "while_t_gt_0": "",
    "dh_next_never_updated": "",
    "clip_dh_next": "",
    "return_z_r_swapped": "rz",
    "dU_h_outer_swapped": "n",
    "dz_pasted_from_dn": "z",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h, bug=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    hs = np.zeros((T, N, H), dtype=x.dtype)
    h = h0.copy()
    for t in range(T):
        h_new = np.zeros((N, H), dtype=x.dtype)
        for i in range(N):
            z = sigmoid(np.dot(W_z, x[t, i]) + np.dot(U_z, h[i]) + b_z)
            r = sigmoid(np.dot(W_r, x[t, i]) + np.dot(U_r, h[i]) + b_r)
            n = np.tanh(np.dot(W_h, x[t, i]) + np.dot(U_h, r * h[i]) + b_h)
            h_new[i] = (1 - z) * n + z * h[i]
        if DEBUG:
            print("t", t, "h_new", h_new.mean())
        h = h_new
        hs[t] = h
    cache = {"x": x.copy(), "h0": h0.copy(), "hs": hs.copy(),
             "params": copy.deepcopy([W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h])}
    return hs, cache


def gru_backward(dhs, cache, bug=None):
    x, h0, hs = cache["x"], cache["h0"], cache["hs"]
    W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h = cache["params"]
    T, N, H = dhs.shape
    grads = [np.zeros_like(p) for p in cache["params"]]
    dW_z, dU_z, db_z, dW_r, dU_r, db_r, dW_h, dU_h, db_h = grads
    dx = np.zeros_like(x)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    dh_prev_all = np.zeros((N, H), dtype=dhs.dtype)
    t = T - 1
    stop = 0 if bug == "while_t_gt_0" else -1
    while t > stop:
        h_prevs = hs[t - 1] if t > 0 else h0
        dh_prev_all = np.zeros((N, H), dtype=dhs.dtype)
        for i in range(N):
            h_prev, x_t, h_t = h_prevs[i], x[t, i], hs[t, i]
            # recompute the forward of this example
            a_z = np.dot(W_z, x_t) + np.dot(U_z, h_prev) + b_z
            a_r = np.dot(W_r, x_t) + np.dot(U_r, h_prev) + b_r
            z, r = sigmoid(a_z), sigmoid(a_r)
            rh = r * h_prev
            n = np.tanh(np.dot(W_h, x_t) + np.dot(U_h, rh) + b_h)
            dh = dhs[t, i] + dh_next[i]
            dn = dh * (1 - z)
            dz = dh * (1 - z) if bug == "dz_pasted_from_dn" else dh * (h_prev - n)
            dh_prev = dh * z
            # candidate
            dn_pre = dn * (1 - n ** 2)
            if bug == "dn_tanh_twice":
                dn_pre = dn_pre * (1 - n ** 2)
            dW_h += np.outer(dn_pre, x_t)
            if bug == "dU_h_with_h_prev":
                dU_h += np.outer(dn_pre, h_prev)
            elif bug == "dU_h_outer_swapped":
                dU_h += np.outer(rh, dn_pre)
            else:
                dU_h += np.outer(dn_pre, rh)
            db_h += dn_pre
            drh = np.dot(U_h.T, dn_pre)
            dr = drh * (h_t if bug == "dr_from_h_t" else h_prev)
            if bug == "reset_path_without_r":
                dh_prev += drh
            else:
                dh_prev += drh * r
            # update gate
            dz_pre = dz if bug == "dz_no_sigmoid_grad" else dz * z * (1 - z)
            dW_z += np.outer(dz_pre, x_t)
            dU_z += np.outer(dz_pre, h_prev)
            db_z += dz_pre
            # reset gate
            dr_pre = dr * a_r * (1 - a_r) if bug == "dr_at_preact" else dr * r * (1 - r)
            dW_r += np.outer(dr_pre, x_t)
            dU_r += np.outer(dr_pre, h_prev)
            db_r += dr_pre
            dx[t, i] = np.dot(W_z.T, dz_pre) + np.dot(W_r.T, dr_pre) + np.dot(W_h.T, dn_pre)
            dh_prev += np.dot((dU_z if bug == "dh_prev_from_dU_z" else U_z).T, dz_pre)
            dh_prev += np.dot(U_r if bug == "U_r_not_transposed" else U_r.T, dr_pre)
            dh_prev_all[i] = dh_prev
        if DEBUG:
            print("t", t, "|dh_prev|", np.abs(dh_prev_all).max())
        if bug != "dh_next_never_updated":
            dh_next = dh_prev_all
        if bug == "clip_dh_next":
            dh_next = np.clip(dh_next, -0.5, 0.5)
        t -= 1
    dh0 = dh_prev_all
    if bug == "return_z_r_swapped":
        return dx, dh0, dW_r, dU_r, db_r, dW_z, dU_z, db_z, dW_h, dU_h, db_h
    return dx, dh0, dW_z, dU_z, db_z, dW_r, dU_r, db_r, dW_h, dU_h, db_h


def _blocks(a, H):
    return a[:H], a[H:2 * H], a[2 * H:]          # torch's r, z, n


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    (Wr, Wz, Wn), (Ur, Uz, Un) = _blocks(p["weight_ih"], H), _blocks(p["weight_hh"], H)
    br, bz, bn = _blocks(p["bias_ih"] + p["bias_hh"], H)
    return {"W_z": np.array(Wz), "U_z": np.array(Uz), "b_z": bz, "W_r": np.array(Wr), "U_r": np.array(Ur),
            "b_r": br, "W_h": np.array(Wn), "U_h": np.array(Un), "b_h": bn}


def to_canonical(cell, g, p):
    out = {}
    if all(k in g for k in ("dW_r", "dW_z", "dW_h")):
        out["dweight_ih"] = np.concatenate([g["dW_r"], g["dW_z"], g["dW_h"]])
    if all(k in g for k in ("dU_r", "dU_z", "dU_h")):
        out["dweight_hh"] = np.concatenate([g["dU_r"], g["dU_z"], g["dU_h"]])
    if all(k in g for k in ("db_r", "db_z", "db_h")):
        out["dbias_ih"] = np.concatenate([g["db_r"], g["db_z"], g["db_h"]])
        out["dbias_hh"] = out["dbias_ih"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="examples_tm_gru", cells=("gru",), axes="TND",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h):
        return gru_forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)
    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

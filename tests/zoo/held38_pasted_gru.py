"""A beginner's GRU (reset after, as torch): batch-first x (N, T, D), one (W, U, b) triple per
gate in (in, out) layout plus the candidate's recurrent bias b_hn, every gate block pasted
from the one above it and edited, per-step values in lists with a counter, the candidate's
recurrent part recomputed in the backward from h_prev, and DEBUG prints.

    z = sigmoid(x W_z + h U_z + b_z)     r = sigmoid(x W_r + h U_r + b_r)
    n = tanh(x W_n + b_in + r * (h U_n + b_hn))      h' = (1 - z) * n + z * h

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

import harness

DEBUG = False

BUGS = {
    "dh_prev_r_block_U_z": "wrong_weight",           # dr_pre @ U_z.T (the z line pasted, not edited)
    "dW_r_gets_dz_pre": "wrong_value",               # dW_r += x.T @ dz_pre (pasted, not edited)
    "dz_sign": "wrong_sign",                         # dz = dh * (n - h_prev)
    "dn_miswritten": "derivative_miswritten",        # (1 - n) for (1 - n**2)
    "dz_tanh_grad": "derivative_wrong_function",     # (1 - z**2)
    "direct_path_dropped": "term_dropped",           # dh_prev without dh * z
    "dU_z_h_t": "wrong_time",                        # h_t.T @ dz_pre
    "dh_prev_assigned_r": "carry_overwrites",        # dh_prev = dr_pre @ U_r.T (= for +=)
    "one_minus_z_inplace": "inplace_corruption",     # 1 - z made in place in the cached z
    "dU_n_over_N": "reduction_scaled",               # dU_n / N
    "loop_forward_in_time": "loop_direction",        # for t in range(T)
    "other_convention": "forward_mistake",           # h' = z * n + (1 - z) * h; backward consistent
    "dr_without_b_hn": "term_dropped",               # hn recomputed as h_prev @ U_n (b_hn left out)
    "dx_from_dW_n": "gradient_for_weight",           # dn_pre @ dW_n.T
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dh_prev_r_block_U_z": "",
    "dW_r_gets_dz_pre": "r",
    "dz_sign": "z",
    "dn_miswritten": "rn",
    "dz_tanh_grad": "z",
    "direct_path_dropped": "",
    "dU_z_h_t": "z",
    "dh_prev_assigned_r": "",
    "one_minus_z_inplace": "",
    "dU_n_over_N": "n",
    "loop_forward_in_time": "",
    "other_convention": "",
    "dr_without_b_hn": "r",
    "dx_from_dW_n": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_n, U_n, b_in, b_hn, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = h0.copy()
    hs = np.zeros((N, T, H), dtype=x.dtype)
    z_list, r_list, n_list, hn_list, hprev_list, x_list = [], [], [], [], [], []
    count = 0
    for t in range(T):
        x_t = x[:, t, :]
        # update gate
        z = sigmoid(np.dot(x_t, W_z) + np.dot(h, U_z) + b_z)
        # reset gate
        r = sigmoid(np.dot(x_t, W_r) + np.dot(h, U_r) + b_r)
        # candidate
        hn = np.dot(h, U_n) + b_hn
        n = np.tanh(np.dot(x_t, W_n) + b_in + r * hn)
        if bug == "other_convention":
            h_new = z * n + (1 - z) * h
        else:
            h_new = (1 - z) * n + z * h
        z_list.append(z.copy())
        r_list.append(r.copy())
        n_list.append(n.copy())
        hn_list.append(hn.copy())
        hprev_list.append(h.copy())
        x_list.append(x_t.copy())
        if DEBUG:
            print("count", count, "z", z.mean(), "r", r.mean(), "n", n.mean())
        h = h_new
        hs[:, t, :] = h
        count += 1
    cache = {"z": z_list, "r": r_list, "n": n_list, "hn": hn_list, "h_prev": hprev_list, "x": x_list,
             "h": [hs[:, t, :].copy() for t in range(T)],
             "W": (W_z.copy(), U_z.copy(), W_r.copy(), U_r.copy(), W_n.copy(), U_n.copy()), "count": count}
    return hs, cache


def gru_backward(dh, cache, bug=None):
    W_z, U_z, W_r, U_r, W_n, U_n = cache["W"]
    N, T, H = dh.shape
    D = W_z.shape[0]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dW_z, dU_z, db_z = np.zeros_like(W_z), np.zeros_like(U_z), np.zeros(H, dtype=dh.dtype)
    dW_r, dU_r, db_r = np.zeros_like(W_r), np.zeros_like(U_r), np.zeros(H, dtype=dh.dtype)
    dW_n, dU_n = np.zeros_like(W_n), np.zeros_like(U_n)
    db_in, db_hn = np.zeros(H, dtype=dh.dtype), np.zeros(H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "loop_forward_in_time" else range(T - 1, -1, -1)
    for t in order:
        z, r, n = cache["z"][t], cache["r"][t], cache["n"][t]
        h_prev, x_t = cache["h_prev"][t], cache["x"][t]
        # recompute the candidate's recurrent part
        hn = np.dot(h_prev, U_n) if bug == "dr_without_b_hn" else cache["hn"][t]
        dh_t = dh[:, t, :] + dh_next
        if bug == "one_minus_z_inplace":
            one_minus_z = z                         # no copy
            one_minus_z -= 1
            one_minus_z *= -1
        else:
            one_minus_z = 1 - z
        if bug == "other_convention":
            dn = dh_t * z
            dz = dh_t * (n - h_prev)
            dh_prev = dh_t * (1 - z)
        else:
            dn = dh_t * one_minus_z
            dz = dh_t * (n - h_prev) if bug == "dz_sign" else dh_t * (h_prev - n)
            dh_prev = np.zeros_like(dh_t) if bug == "direct_path_dropped" else dh_t * z
        # candidate block
        dn_pre = dn * (1 - n) if bug == "dn_miswritten" else dn * (1 - n ** 2)
        dW_n += np.dot(x_t.T, dn_pre)
        db_in += dn_pre.sum(axis=0)
        dhn = dn_pre * r
        dU_n += np.dot(h_prev.T, dhn)
        db_hn += dhn.sum(axis=0)
        dr = dn_pre * hn
        # update gate block
        dz_pre = dz * (1 - z ** 2) if bug == "dz_tanh_grad" else dz * z * (1 - z)
        dW_z += np.dot(x_t.T, dz_pre)
        dU_z += np.dot((cache["h"][t] if bug == "dU_z_h_t" else h_prev).T, dz_pre)
        db_z += dz_pre.sum(axis=0)
        # reset gate block
        dr_pre = dr * r * (1 - r)
        dW_r += np.dot(x_t.T, dz_pre if bug == "dW_r_gets_dz_pre" else dr_pre)
        dU_r += np.dot(h_prev.T, dr_pre)
        db_r += dr_pre.sum(axis=0)
        # inputs
        dx[:, t, :] = (np.dot(dn_pre, (dW_n if bug == "dx_from_dW_n" else W_n).T) + np.dot(dz_pre, W_z.T)
                       + np.dot(dr_pre, W_r.T))
        dh_prev += np.dot(dhn, U_n.T)
        dh_prev += np.dot(dz_pre, U_z.T)
        if bug == "dh_prev_assigned_r":
            dh_prev = np.dot(dr_pre, U_r.T)
        elif bug == "dh_prev_r_block_U_z":
            dh_prev += np.dot(dr_pre, U_z.T)
        else:
            dh_prev += np.dot(dr_pre, U_r.T)
        if DEBUG:
            print("t", t, "|dh_prev|", np.abs(dh_prev).max())
        dh_next = dh_prev
    if bug == "dU_n_over_N":
        dU_n = dU_n / N
    return dx, dh_next, dW_z, dU_z, db_z, dW_r, dU_r, db_r, dW_n, dU_n, db_in, db_hn


def _blocks(a, H):
    return a[:H], a[H:2 * H], a[2 * H:]          # torch's r, z, n


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    (Wr, Wz, Wn), (Ur, Uz, Un) = _blocks(p["weight_ih"], H), _blocks(p["weight_hh"], H)
    (bir, biz, bin_), (bhr, bhz, bhn) = _blocks(p["bias_ih"], H), _blocks(p["bias_hh"], H)
    return {"W_z": Wz.T, "U_z": Uz.T, "b_z": biz + bhz, "W_r": Wr.T, "U_r": Ur.T, "b_r": bir + bhr,
            "W_n": Wn.T, "U_n": Un.T, "b_in": np.array(bin_), "b_hn": np.array(bhn)}


def to_canonical(cell, g, p):
    out = {}
    if all(k in g for k in ("dW_r", "dW_z", "dW_n")):
        out["dweight_ih"] = np.concatenate([g["dW_r"].T, g["dW_z"].T, g["dW_n"].T])
    if all(k in g for k in ("dU_r", "dU_z", "dU_n")):
        out["dweight_hh"] = np.concatenate([g["dU_r"].T, g["dU_z"].T, g["dU_n"].T])
    if all(k in g for k in ("db_r", "db_z", "db_in")):
        out["dbias_ih"] = np.concatenate([g["db_r"], g["db_z"], g["db_in"]])
    if all(k in g for k in ("db_r", "db_z", "db_hn")):
        out["dbias_hh"] = np.concatenate([g["db_r"], g["db_z"], g["db_hn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="pasted_gru", cells=("gru",), axes="NTD")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_n, U_n, b_in, b_hn):
        return gru_forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_n, U_n, b_in, b_hn, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)
    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

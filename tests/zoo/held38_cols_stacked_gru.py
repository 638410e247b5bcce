"""A beginner's column-major GRU (reset after): x (n_x, m, T_x), states (n_a, m), the states
kept in one (n_a, m, T_x + 1) array with h0 in column 0, stacked weights W (3 n_a, n_x),
U (3 n_a, n_a), b_x, b_h (3 n_a, 1) in the order z, r, h, cut into gates with hand-written
slices copied from line to line. The backward recomputes the step's h from the stored state
to check it. Print-debugging behind DEBUG.

    z = s(W_z x + b_xz + U_z h + b_hz)   r = s(W_r x + b_xr + U_r h + b_hr)
    hh = tanh(W_h x + b_xh + r * (U_h h + b_hh))           h' = (1 - z) * hh + z * h

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

import harness

DEBUG = False

BUGS = {
    "dh_prev_r_slice_unedited": "wrong_weight",      # U[0:n_a].T @ dr_pre (the z slice, pasted)
    "dr_without_b_hh": "term_dropped",               # dr = dhh_pre * (U_h h_prev): b_h's h block left out
    "dhh_at_preact": "derivative_wrong_point",       # 1 - a_h**2 on the pre-activation
    "dz_with_next_z": "wrong_time",                  # s'(z) from step t + 1's z (wrapping)
    "dU_assigned": "carry_overwrites",               # dU = ... instead of dU +=
    "dW_over_m": "reduction_scaled",                 # dW / m at the end
    "check_recompute_inplace": "inplace_corruption", # chk = S[:, :, t]; chk *= z; ... (a view)
    "dr_tanh_grad": "derivative_wrong_function",     # (1 - r**2)
    "db_hh_n_block_without_r": "derivative_missing", # db_h[2n_a:] += dhh_pre (the * r left out)
    "dhh_sign": "wrong_sign",                        # dhh = dh * (z - 1)
    "U_h_not_transposed": "weight_transposed",       # U_h @ (r * dhh_pre) in dh_prev
    "dx_stack_r_z_h": "gate_order",                  # np.vstack([dr_pre, dz_pre, dhh_pre]) for dx
    "dz_sigmoid_twice": "derivative_twice",          # z * (1 - z) applied twice
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dh_prev_r_slice_unedited": "",
    "dr_without_b_hh": "r",
    "dhh_at_preact": "rn",
    "dz_with_next_z": "",
    "dU_assigned": "",
    "dW_over_m": "",
    "check_recompute_inplace": "",
    "dr_tanh_grad": "r",
    "db_hh_n_block_without_r": "n",
    "dhh_sign": "rn",
    "U_h_not_transposed": "",
    "dx_stack_r_z_h": "",
    "dz_sigmoid_twice": "z",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, a0, W, U, b_x, b_h, bug=None):
    _, m, T_x = x.shape
    n_a = a0.shape[0]
    S = np.zeros((n_a, m, T_x + 1), dtype=x.dtype)
    S[:, :, 0] = a0
    zs, rs, hhs, uhs = [], [], [], []
    for t in range(T_x):
        h = S[:, :, t]
        xt = x[:, :, t]
        z = sigmoid(np.dot(W[0:n_a], xt) + b_x[0:n_a] + np.dot(U[0:n_a], h) + b_h[0:n_a])
        r = sigmoid(np.dot(W[n_a:2 * n_a], xt) + b_x[n_a:2 * n_a] + np.dot(U[n_a:2 * n_a], h) + b_h[n_a:2 * n_a])
        uh = np.dot(U[2 * n_a:3 * n_a], h) + b_h[2 * n_a:3 * n_a]
        hh = np.tanh(np.dot(W[2 * n_a:3 * n_a], xt) + b_x[2 * n_a:3 * n_a] + r * uh)
        S[:, :, t + 1] = (1 - z) * hh + z * h
        zs.append(z.copy())
        rs.append(r.copy())
        hhs.append(hh.copy())
        uhs.append(uh.copy())
        if DEBUG:
            print("t", t, "z", z.mean(), "r", r.mean())
    cache = {"S": S.copy(), "x": x, "z": zs, "r": rs, "hh": hhs, "uh": uhs, "W": W.copy(), "U": U.copy(),
             "b_x": b_x.copy(), "b_h": b_h.copy()}
    return S[:, :, 1:].copy(), cache


def gru_backward(da, cache, bug=None):
    S, x, W, U, b_x = cache["S"], cache["x"], cache["W"], cache["U"], cache["b_x"]
    n_a, m, T_x = da.shape
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db_x, db_h = np.zeros_like(b_x), np.zeros_like(cache["b_h"])
    dx = np.zeros_like(x)
    dh_next = np.zeros((n_a, m), dtype=da.dtype)
    for t in reversed(range(T_x)):
        z, r, hh, uh = cache["z"][t], cache["r"][t], cache["hh"][t], cache["uh"][t]
        xt = x[:, :, t]
        # recompute h_t from the stored state to check the cache
        if bug == "check_recompute_inplace":
            chk = S[:, :, t]
            chk *= z
            chk += (1 - z) * hh
        else:
            chk = z * S[:, :, t] + (1 - z) * hh
        if DEBUG:
            print("t", t, "check", np.abs(chk - S[:, :, t + 1]).max())
        h_prev = S[:, :, t]
        dh = da[:, :, t] + dh_next
        dhh = dh * (z - 1) if bug == "dhh_sign" else dh * (1 - z)
        dz = dh * (h_prev - hh)
        dh_prev = dh * z
        if bug == "dhh_at_preact":
            a_h = np.dot(W[2 * n_a:3 * n_a], xt) + b_x[2 * n_a:3 * n_a] + r * uh
            dhh_pre = dhh * (1 - a_h ** 2)
        else:
            dhh_pre = dhh * (1 - hh ** 2)
        if bug == "dr_without_b_hh":
            dr = dhh_pre * np.dot(U[2 * n_a:3 * n_a], h_prev)
        else:
            dr = dhh_pre * uh
        if bug == "dz_with_next_z":
            z_n = cache["z"][(t + 1) % T_x]
            dz_pre = dz * z_n * (1 - z_n)
        else:
            dz_pre = dz * z * (1 - z)
        if bug == "dz_sigmoid_twice":
            dz_pre = dz_pre * z * (1 - z)
        dr_pre = dr * (1 - r ** 2) if bug == "dr_tanh_grad" else dr * r * (1 - r)
        duh = r * dhh_pre
        # input weights, z r h
        dW[0:n_a] += np.dot(dz_pre, xt.T)
        dW[n_a:2 * n_a] += np.dot(dr_pre, xt.T)
        dW[2 * n_a:3 * n_a] += np.dot(dhh_pre, xt.T)
        db_x[0:n_a] += dz_pre.sum(axis=1, keepdims=True)
        db_x[n_a:2 * n_a] += dr_pre.sum(axis=1, keepdims=True)
        db_x[2 * n_a:3 * n_a] += dhh_pre.sum(axis=1, keepdims=True)
        # recurrent weights, z r h
        if bug == "dU_assigned":
            dU = np.vstack([np.dot(dz_pre, h_prev.T), np.dot(dr_pre, h_prev.T), np.dot(duh, h_prev.T)])
        else:
            dU[0:n_a] += np.dot(dz_pre, h_prev.T)
            dU[n_a:2 * n_a] += np.dot(dr_pre, h_prev.T)
            dU[2 * n_a:3 * n_a] += np.dot(duh, h_prev.T)
        db_h[0:n_a] += dz_pre.sum(axis=1, keepdims=True)
        db_h[n_a:2 * n_a] += dr_pre.sum(axis=1, keepdims=True)
        if bug == "db_hh_n_block_without_r":
            db_h[2 * n_a:3 * n_a] += dhh_pre.sum(axis=1, keepdims=True)
        else:
            db_h[2 * n_a:3 * n_a] += duh.sum(axis=1, keepdims=True)
        # to x and h_prev
        if bug == "dx_stack_r_z_h":
            dx[:, :, t] = np.dot(W.T, np.vstack([dr_pre, dz_pre, dhh_pre]))
        else:
            dx[:, :, t] = np.dot(W.T, np.vstack([dz_pre, dr_pre, dhh_pre]))
        dh_prev += np.dot(U[0:n_a].T, dz_pre)
        if bug == "dh_prev_r_slice_unedited":
            dh_prev += np.dot(U[0:n_a].T, dr_pre)
        else:
            dh_prev += np.dot(U[n_a:2 * n_a].T, dr_pre)
        if bug == "U_h_not_transposed":
            dh_prev += np.dot(U[2 * n_a:3 * n_a], duh)
        else:
            dh_prev += np.dot(U[2 * n_a:3 * n_a].T, duh)
        dh_next = dh_prev
    if bug == "dW_over_m":
        dW = dW / m
    return dx, dh_next, dW, dU, db_x, db_h


_ZRH = (1, 0, 2)            # torch's blocks r, z, n -> this code's z, r, h


def _zrh(a, H):
    return np.concatenate([a[k * H:(k + 1) * H] for k in _ZRH])


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W": _zrh(p["weight_ih"], H), "U": _zrh(p["weight_hh"], H),
            "b_x": _zrh(p["bias_ih"], H)[:, None], "b_h": _zrh(p["bias_hh"], H)[:, None]}


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    back = {q: (_zrh(g[u], H) if u in g else None) for u, q in
            (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db_x", "dbias_ih"), ("db_h", "dbias_hh"))}
    return {q: (v[:, 0] if q.startswith("dbias") else v) for q, v in back.items() if v is not None}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cols_stacked_gru", cells=("gru",), axes="DNT",
                               gate_order="zrh", gate_letters={"h": "n"}, names={"h": "a"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, a0, W, U, b_x, b_h):
        return gru_forward(x, a0, W, U, b_x, b_h, bug)

    def backward(da, cache):
        return gru_backward(da, cache, bug)
    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A GRU written channels-first, as someone coming from Conv1d code holds sequences:
x (N, D, T), h (N, H, T), a step's slice x[:, :, t]; the parameters a plain list of
per-gate arrays, torch's reset-after form with the n biases kept apart:

    params = [W_z, W_r, W_n (H, D), U_z, U_r, U_n (H, H), b_z, b_r, b_in, b_hn (H,)]
    z = sigmoid(x_t @ W_z.T + h @ U_z.T + b_z)      r = sigmoid(x_t @ W_r.T + h @ U_r.T + b_r)
    hn = h @ U_n.T + b_hn       n = tanh(x_t @ W_n.T + b_in + r * hn)
    h' = (1 - z) * n + z * h

The backward keeps the upstream gradient in a (N, H, T) buffer ``dH`` and adds each step's
carry into its previous column. forward(x, h0, params) -> (h, cache); backward(dh, cache)
-> (dx, dh0, dW_z, ..., db_hn). Fourteenth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "da_z_at_preactivation": "derivative_wrong_point",   # da_z = dz * a_z * (1 - a_z): sigmoid' written with a_z for z
    "hn_from_h_t": "wrong_time",                         # dr = da_n * (hs[:, :, t] @ U_n.T + b_hn): h_t for h_{t-1}
    "dx_misses_n": "term_dropped",                       # dx = da_z @ W_z + da_r @ W_r
    "dr_sigmoid_grad_twice": "derivative_twice",         # dr = da_n * hn * r * (1 - r), then da_r = dr * r * (1 - r)
    "da_r_parens_missing": "derivative_miswritten",      # da_r = dr * r * 1 - r
    "da_z_sign": "wrong_sign",                           # da_z = dz * z * (z - 1)
    "dh_prev_from_dU_r": "gradient_for_weight",          # da_r @ dU_r in dh_prev (the running gradient)
    "carry_assigned_into_dH": "carry_overwrites",        # dH[:, :, t - 1] = dh_prev (= for +=)
    "grads_over_T": "reduction_scaled",                  # every parameter gradient divided by T
    "range_stops_at_1": "loop_skips_step",               # for t in range(T - 1, 0, -1)
    "dn_reads_z": "wrong_value",                         # dn = dh * z (z read for 1 - z)
    "hn_scaled_in_place": "inplace_corruption",          # rhn = hn; rhn *= r in the forward: the cached hn is r * hn
    "forward_z_on_candidate": "forward_mistake",         # h' = z * n + (1 - z) * h (the other convention), backward consistent
    "da_z_sign_and_dx_misses_n": "unknown",              # two mistakes: da_z_sign and dx_misses_n together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "da_z_at_preactivation": "z",
    "hn_from_h_t": "r",
    "dx_misses_n": "",
    "dr_sigmoid_grad_twice": "r",
    "da_r_parens_missing": "r",
    "da_z_sign": "z",
    "dh_prev_from_dU_r": "",
    "carry_assigned_into_dH": "",
    "grads_over_T": "",
    "range_stops_at_1": "",
    "dn_reads_z": "rn",
    "hn_scaled_in_place": "r",
    "forward_z_on_candidate": "",
    "da_z_sign_and_dx_misses_n": "z",
}

NAMES = ("W_z", "W_r", "W_n", "U_z", "U_r", "U_n", "b_z", "b_r", "b_in", "b_hn")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, params, bug=None):
    W_z, W_r, W_n, U_z, U_r, U_n, b_z, b_r, b_in, b_hn = params
    N, D, T = x.shape
    H = h0.shape[1]
    hs = np.zeros((N, H, T), dtype=x.dtype)
    h, cache = h0, []
    for t in range(T):
        x_t = x[:, :, t]
        a_z = x_t @ W_z.T + h @ U_z.T + b_z
        z = sigmoid(a_z)
        r = sigmoid(x_t @ W_r.T + h @ U_r.T + b_r)
        hn = h @ U_n.T + b_hn
        if bug == "hn_scaled_in_place":
            rhn = hn
            rhn *= r
        else:
            rhn = r * hn
        n = np.tanh(x_t @ W_n.T + b_in + rhn)
        cache.append((x_t, h, a_z, z, r, hn, n))
        h = z * n + (1 - z) * h if bug == "forward_z_on_candidate" else (1 - z) * n + z * h
        hs[:, :, t] = h
    return hs, (params, hs, cache)


def backward(dh, cache, bug=None):
    params, hs, steps = cache
    W_z, W_r, W_n, U_z, U_r, U_n, b_z, b_r, b_in, b_hn = params
    N, H, T = dh.shape
    grads = [np.zeros_like(p) for p in params]
    dW_z, dW_r, dW_n, dU_z, dU_r, dU_n, db_z, db_r, db_in, db_hn = grads
    dx = np.zeros((N, W_z.shape[1], T), dtype=dh.dtype)
    dH = dh.copy()
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, 0 if bug == "range_stops_at_1" else -1, -1):
        x_t, h, a_z, z, r, hn, n = steps[t]
        d = dH[:, :, t]
        if bug == "forward_z_on_candidate":
            dn, dz = d * z, d * (n - h)
        else:
            dn = d * (z if bug == "dn_reads_z" else 1 - z)
            dz = d * (h - n)
        da_n = dn * (1 - n ** 2)
        hn_used = hs[:, :, t] @ U_n.T + b_hn if bug == "hn_from_h_t" else hn
        dr = da_n * hn_used
        if bug == "dr_sigmoid_grad_twice":
            dr = dr * r * (1 - r)
        da_r = dr * r * 1 - r if bug == "da_r_parens_missing" else dr * r * (1 - r)
        if bug == "da_z_at_preactivation":
            da_z = dz * a_z * (1 - a_z)
        elif bug in ("da_z_sign", "da_z_sign_and_dx_misses_n"):
            da_z = dz * z * (z - 1)
        else:
            da_z = dz * z * (1 - z)
        dhn = da_n * r
        dW_z += da_z.T @ x_t
        dW_r += da_r.T @ x_t
        dW_n += da_n.T @ x_t
        dU_z += da_z.T @ h
        dU_r += da_r.T @ h
        dU_n += dhn.T @ h
        db_z += da_z.sum(axis=0)
        db_r += da_r.sum(axis=0)
        db_in += da_n.sum(axis=0)
        db_hn += dhn.sum(axis=0)
        dx[:, :, t] = da_z @ W_z + da_r @ W_r
        if bug not in ("dx_misses_n", "da_z_sign_and_dx_misses_n"):
            dx[:, :, t] += da_n @ W_n
        direct = d * (1 - z) if bug == "forward_z_on_candidate" else d * z
        dh_prev = direct + da_z @ U_z + da_r @ (dU_r if bug == "dh_prev_from_dU_r" else U_r) + dhn @ U_n
        if t > 0:
            if bug == "carry_assigned_into_dH":
                dH[:, :, t - 1] = dh_prev
            else:
                dH[:, :, t - 1] += dh_prev
    if bug == "grads_over_T":
        grads = [g / T for g in grads]
    return (dx, dh_prev, *grads)


def to_user(cell, p):
    W_r, W_z, W_n = np.split(p["weight_ih"], 3)
    U_r, U_z, U_n = np.split(p["weight_hh"], 3)
    bi_r, bi_z, bi_n = np.split(p["bias_ih"], 3)
    bh_r, bh_z, bh_n = np.split(p["bias_hh"], 3)
    return dict(zip(NAMES, (W_z, W_r, W_n, U_z, U_r, U_n, bi_z + bh_z, bi_r + bh_r, bi_n, bh_n)))


def to_canonical(cell, grads, p):
    g = {k[1:]: v for k, v in grads.items()}
    out = {}
    if all(k in g for k in ("W_r", "W_z", "W_n")):
        out["dweight_ih"] = np.concatenate([g["W_r"], g["W_z"], g["W_n"]])
    if all(k in g for k in ("U_r", "U_z", "U_n")):
        out["dweight_hh"] = np.concatenate([g["U_r"], g["U_z"], g["U_n"]])
    if all(k in g for k in ("b_r", "b_z", "b_in", "b_hn")):
        out["dbias_ih"] = np.concatenate([g["b_r"], g["b_z"], g["b_in"]])
        out["dbias_hh"] = np.concatenate([g["b_r"], g["b_z"], g["b_hn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="channels_first_gru", cells=("gru",), axes="NDT",
                               weights_as="list")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, params):
        return forward(x, h0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

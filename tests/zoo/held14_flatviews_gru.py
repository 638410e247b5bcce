"""A GRU whose parameters live in one flat vector ``theta`` (as for scipy.optimize or a
hand-rolled Adam), unpacked on every call with np.split + reshape into views; the backward
allocates ``dtheta``, unpacks it the same way and accumulates into the views, so the
gradients land in the flat vector. torch's reset-after form, blocks r, z, n, a bias pair:

    theta = [W (D, 3H) | U (H, 3H) | bx (3H,) | bh (3H,)]   (each raveled)
    ax = x_t @ W + bx      ah = h @ U + bh            (N, 3H), blocks r, z, n
    r = sigmoid(ax_r + ah_r)    z = sigmoid(ax_z + ah_z)    n = tanh(ax_n + r * ah_n)
    h' = (1 - z) * n + z * h

x (N, T, D), h0 (N, H); forward(x, h0, theta) -> (h, cache); backward(dh, cache) ->
(dx, dh0, dtheta). Fourteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dtanh_at_h_new": "derivative_wrong_point",          # da_n = dn * (1 - h_new ** 2): tanh' taken at h' (also a wrong_value)
    "dU_with_h_new": "wrong_time",                       # dU += h_new.T @ dah (h_t for h_{t-1})
    "dh_prev_misses_n_path": "term_dropped",             # dh_prev = dh * z + da_r @ U_r.T + da_z @ U_z.T
    "U_n_untransposed": "weight_transposed",             # dah_n @ U_n in dh_prev
    "U_r_for_U_z": "wrong_weight",                       # da_z @ U_r.T in dh_prev
    "dU_z_view_transposed": "gradient_transposed",       # dU[:, H:2H] += da_z.T @ h
    "dtheta_over_N": "reduction_scaled",                 # dtheta /= N, a batch mean
    "dz_in_place_on_dh": "inplace_corruption",           # dz = dh; dz *= h - n: dh itself changed before dn = dh * (1 - z)
    "walk_skips_last": "loop_skips_step",                # ts = list(range(T))[::-1][1:]
    "unpack_z_r_n": "gate_order",                        # r, z, n read from the blocks z, r, n (forward and backward alike)
    "forward_reset_before": "forward_mistake",           # n = tanh(ax_n + (r * h) @ U_n + bh_n), backward differentiates it
    "dn_tanh_grad_twice": "derivative_twice",            # dn = dh * (1 - z) * (1 - n ** 2), then da_n = dn * (1 - n ** 2)
    "dz_sign_and_over_N": "unknown",                     # two mistakes: dz = dh * (n - h) and dtheta_over_N
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dtanh_at_h_new": "rn",
    "dU_with_h_new": "",
    "dh_prev_misses_n_path": "",
    "U_n_untransposed": "",
    "U_r_for_U_z": "",
    "dU_z_view_transposed": "z",
    "dtheta_over_N": "",
    "dz_in_place_on_dh": "rn",
    "walk_skips_last": "",
    "unpack_z_r_n": "",
    "forward_reset_before": "",
    "dn_tanh_grad_twice": "rn",
    "dz_sign_and_over_N": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def unpack(theta, D, H):
    W, U, bx, bh = np.split(theta, np.cumsum([D * 3 * H, H * 3 * H, 3 * H]))
    return W.reshape(D, 3 * H), U.reshape(H, 3 * H), bx, bh


def blocks(a, H, bug=None):
    if bug == "unpack_z_r_n":
        return a[..., H:2 * H], a[..., :H], a[..., 2 * H:]
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:]


def forward(x, h0, theta, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    W, U, bx, bh = unpack(theta, D, H)
    h, hs, cache = h0, np.zeros((N, T, H), dtype=x.dtype), []
    for t in range(T):
        x_t = x[:, t]
        ax_r, ax_z, ax_n = blocks(x_t @ W + bx, H, bug)
        U_r, U_z, U_n = blocks(U, H, bug)
        bh_r, bh_z, bh_n = blocks(bh, H, bug)
        r = sigmoid(ax_r + h @ U_r + bh_r)
        z = sigmoid(ax_z + h @ U_z + bh_z)
        if bug == "forward_reset_before":
            ah_n = (r * h) @ U_n + bh_n
            n = np.tanh(ax_n + ah_n)
        else:
            ah_n = h @ U_n + bh_n
            n = np.tanh(ax_n + r * ah_n)
        h_new = (1 - z) * n + z * h
        cache.append((x_t, h, r, z, n, ah_n, h_new))
        hs[:, t] = h = h_new
    return hs, (theta, D, H, cache)


def backward(dh_seq, cache, bug=None):
    theta, D, H, steps = cache
    N, T, _ = dh_seq.shape
    W, U, bx, bh = unpack(theta, D, H)
    U_r, U_z, U_n = blocks(U, H, bug)
    dtheta = np.zeros_like(theta)
    dW, dU, dbx, dbh = unpack(dtheta, D, H)              # views into dtheta
    dx = np.zeros((N, T, D), dtype=dh_seq.dtype)
    carry = np.zeros((N, H), dtype=dh_seq.dtype)
    ts = list(range(T))[::-1]
    if bug == "walk_skips_last":
        ts = ts[1:]
    for t in ts:
        x_t, h, r, z, n, ah_n, h_new = steps[t]
        dh = dh_seq[:, t] + carry
        if bug == "dz_in_place_on_dh":
            dz = dh
            dz *= h - n
        elif bug == "dz_sign_and_over_N":
            dz = dh * (n - h)
        else:
            dz = dh * (h - n)
        dn = dh * (1 - z)
        if bug == "dn_tanh_grad_twice":
            dn = dn * (1 - n ** 2)
        da_n = dn * (1 - h_new ** 2) if bug == "dtanh_at_h_new" else dn * (1 - n ** 2)
        da_z = dz * z * (1 - z)
        if bug == "forward_reset_before":
            drh = da_n @ U_n.T
            da_r = drh * h * r * (1 - r)
            dah_n = da_n
        else:
            da_r = da_n * ah_n * r * (1 - r)
            dah_n = da_n * r
        dax = np.concatenate(blocks(np.concatenate([da_r, da_z, da_n], axis=1), H, bug), axis=1)
        dah = np.concatenate(blocks(np.concatenate([da_r, da_z, dah_n], axis=1), H, bug), axis=1)
        dW += x_t.T @ dax
        h_for_U = h_new if bug == "dU_with_h_new" else h
        dU_r, dU_z, dU_n = blocks(dU, H, bug)            # views into dU, itself a view into dtheta
        dU_r += h_for_U.T @ da_r
        dU_z += da_z.T @ h_for_U if bug == "dU_z_view_transposed" else h_for_U.T @ da_z
        dU_n += (r * h if bug == "forward_reset_before" else h_for_U).T @ dah_n
        dbx += dax.sum(axis=0)
        dbh += dah.sum(axis=0)
        dx[:, t] = dax @ W.T
        carry = dh * z + da_r @ U_r.T + da_z @ (U_r if bug == "U_r_for_U_z" else U_z).T
        if bug == "forward_reset_before":
            carry = carry + drh * r
        elif bug == "U_n_untransposed":
            carry = carry + dah_n @ U_n
        elif bug != "dh_prev_misses_n_path":
            carry = carry + dah_n @ U_n.T
    if bug in ("dtheta_over_N", "dz_sign_and_over_N"):
        dtheta /= N
    return dx, carry, dtheta


def to_user(cell, p):
    W, U = p["weight_ih"].T, p["weight_hh"].T
    return {"theta": np.concatenate([W.ravel(), U.ravel(), p["bias_ih"], p["bias_hh"]])}


def to_canonical(cell, grads, p):
    if "dtheta" not in grads:
        return {}
    H, D = p["weight_hh"].shape[1], p["weight_ih"].shape[1]
    dW, dU, dbx, dbh = unpack(grads["dtheta"], D, H)
    return {"dweight_ih": dW.T.copy(), "dweight_hh": dU.T.copy(), "dbias_ih": dbx.copy(), "dbias_hh": dbh.copy()}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flat_theta_views_gru", cells=("gru",), gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, theta):
        return forward(x, h0, theta, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

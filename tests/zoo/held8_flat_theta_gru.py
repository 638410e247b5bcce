"""A GRU whose parameters are one flat vector theta, as for scipy.optimize or a
gradient-check loop, with tanh and the sigmoid written out with np.exp and tanh' as
sech^2 = 4 / (e^a + e^-a)^2 from the cached pre-activation:

    theta = [kernel.ravel(), recurrent.ravel(), bias]   kernel (D, 3H), recurrent (H, 3H), bias (3H,)
    xz = x_t @ kernel + bias                             (N, 3H) blocks z, r, h
    z = s(xz_z + h_(t-1) @ R_z)      r = s(xz_r + h_(t-1) @ R_r)
    hh = tanh(xz_h + (r * h_(t-1)) @ R_h)                reset before the product
    h_t = z * h_(t-1) + (1 - z) * hh

x (N, T, D), forward(x, h0, theta); the backward returns dtheta in the same flat order.
Options reset_after=False. Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sech_not_squared": "derivative_miswritten",       # dtanh = 2 / (e^a + e^-a)
    "sech_of_input_part_only": "derivative_wrong_point",  # sech^2(xz_h): the recurrent part of a_h left out
    "z_grad_as_tanh": "derivative_wrong_function",     # da_z = dz * 4 / (e^a_z + e^-a_z) ** 2
    "dz_sign_flipped": "wrong_sign",                   # dz = dh * (hh - h_prev)
    "dx_without_h_block": "term_dropped",              # dx = da[:, :2H] @ kernel[:, :2H].T
    "dR_h_block_transposed": "gradient_transposed",    # dR[:, 2H:] += da_h.T @ (r * h_prev)
    "R_z_for_R_r": "wrong_weight",                     # dh_prev += da_r @ R_z.T
    "dR_from_h_t": "wrong_time",                       # dR[:, :2H] += h_t.T @ da_zr
    "hidden_carry_dropped": "carry_dropped",           # dh = dout[:, t] (dh_next never added)
    "a_h_built_in_xz": "inplace_corruption",           # a_h = xz[:, 2H:]; a_h += ... (a view: the cached xz changed)
    "dtheta_over_N": "reduction_scaled",               # dtheta / N ("the loss is a mean over the batch")
    "dtheta_clipped": "gradient_clipped",              # np.clip(dtheta, -0.5, 0.5)
    "forward_forgets_reset": "forward_mistake",        # hh = tanh(xz_h + h_prev @ R_h), backward consistent
    "kernel_grad_fortran_ravel": "unknown",            # dkernel.ravel(order="F") into theta
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "sech_not_squared": "rn",
    "sech_of_input_part_only": "rn",
    "z_grad_as_tanh": "z",
    "dz_sign_flipped": "z",
    "dx_without_h_block": "",
    "dR_h_block_transposed": "n",
    "R_z_for_R_r": "",
    "dR_from_h_t": "rz",
    "hidden_carry_dropped": "",
    "a_h_built_in_xz": "rn",
    "dtheta_over_N": "",
    "dtheta_clipped": "zn",
    "forward_forgets_reset": "",
    "kernel_grad_fortran_ravel": "",
}


def _tanh(a):
    return (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a))


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _sech2(a):
    return 4 / (np.exp(a) + np.exp(-a)) ** 2


def unpack(theta, D, H):
    k = D * 3 * H
    kernel = theta[:k].reshape(D, 3 * H)
    recurrent = theta[k:k + H * 3 * H].reshape(H, 3 * H)
    return kernel, recurrent, theta[k + H * 3 * H:]


def gru_forward(x, h0, theta, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    K, R, b = unpack(theta, D, H)
    h_prev = h0
    hs, cache = [], []
    for t in range(T):
        xz = x[:, t] @ K + b
        z = _sigmoid(xz[:, :H] + h_prev @ R[:, :H])
        r = _sigmoid(xz[:, H:2 * H] + h_prev @ R[:, H:2 * H])
        if bug == "a_h_built_in_xz":
            a_h = xz[:, 2 * H:]
            a_h += (r * h_prev) @ R[:, 2 * H:]
        elif bug == "forward_forgets_reset":
            a_h = xz[:, 2 * H:] + h_prev @ R[:, 2 * H:]
        else:
            a_h = xz[:, 2 * H:] + (r * h_prev) @ R[:, 2 * H:]
        hh = _tanh(a_h)
        h = z * h_prev + (1 - z) * hh
        cache.append((x[:, t], h_prev, xz, z, r, hh, h))
        hs.append(h)
        h_prev = h
    return np.stack(hs, axis=1), (cache, theta, D, H)


def gru_backward(dout, cache_all, bug=None):
    cache, theta, D, H = cache_all
    K, R, b = unpack(theta, D, H)
    N, T, _ = dout.shape
    dK, dR, db = np.zeros_like(K), np.zeros_like(R), np.zeros_like(b)
    dx = np.zeros((N, T, D), dtype=dout.dtype)
    dh_next = np.zeros((N, H), dtype=dout.dtype)
    for t in reversed(range(T)):
        x_t, h_prev, xz, z, r, hh, h_t = cache[t]
        dh = dout[:, t] if bug == "hidden_carry_dropped" else dout[:, t] + dh_next
        dhh = dh * (1 - z)
        dz = dh * ((hh - h_prev) if bug == "dz_sign_flipped" else (h_prev - hh))
        dh_prev = dh * z
        if bug == "forward_forgets_reset":
            a_h = xz[:, 2 * H:] + h_prev @ R[:, 2 * H:]
        elif bug == "sech_of_input_part_only":
            a_h = xz[:, 2 * H:]
        else:
            a_h = xz[:, 2 * H:] + (r * h_prev) @ R[:, 2 * H:]
        da_h = dhh * (2 / (np.exp(a_h) + np.exp(-a_h)) if bug == "sech_not_squared" else _sech2(a_h))
        if bug == "forward_forgets_reset":
            dR[:, 2 * H:] += h_prev.T @ da_h
            dh_prev = dh_prev + da_h @ R[:, 2 * H:].T
            dr = np.zeros_like(r)
        else:
            rh = r * h_prev
            dR[:, 2 * H:] += da_h.T @ rh if bug == "dR_h_block_transposed" else rh.T @ da_h
            drh = da_h @ R[:, 2 * H:].T
            dr = drh * h_prev
            dh_prev = dh_prev + drh * r
        a_z = xz[:, :H] + h_prev @ R[:, :H]
        da_z = dz * _sech2(a_z) if bug == "z_grad_as_tanh" else dz * z * (1 - z)
        da_r = dr * r * (1 - r)
        da_zr = np.concatenate([da_z, da_r], axis=1)
        da = np.concatenate([da_zr, da_h], axis=1)
        dK += x_t.T @ da
        db += da.sum(axis=0)
        dR[:, :2 * H] += (h_t if bug == "dR_from_h_t" else h_prev).T @ da_zr
        if bug == "dx_without_h_block":
            dx[:, t] = da[:, :2 * H] @ K[:, :2 * H].T
        else:
            dx[:, t] = da @ K.T
        dh_prev = dh_prev + da_z @ R[:, :H].T
        dh_prev = dh_prev + da_r @ (R[:, :H] if bug == "R_z_for_R_r" else R[:, H:2 * H]).T
        dh_next = dh_prev
    dK_flat = dK.ravel(order="F") if bug == "kernel_grad_fortran_ravel" else dK.ravel()
    dtheta = np.concatenate([dK_flat, dR.ravel(), db])
    if bug == "dtheta_over_N":
        dtheta = dtheta / N
    if bug == "dtheta_clipped":
        dtheta = np.clip(dtheta, -0.5, 0.5)
    return dx, dh_next, dtheta


def _zrh(a, axis):
    """Canonical blocks r, z, n -> z, r, h (the swap is its own inverse)."""
    r, z, n = np.split(np.asarray(a), 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    kernel = _zrh(p["weight_ih"], 0).T
    recurrent = _zrh(p["weight_hh"], 0).T
    bias = _zrh(p["bias_ih"] + p["bias_hh"], 0)
    return {"theta": np.concatenate([kernel.ravel(), recurrent.ravel(), bias])}


def to_canonical(cell, grads, p):
    if "dtheta" not in grads:
        return {}
    H, D = p["weight_hh"].shape[1], p["weight_ih"].shape[1]
    dK, dR, db = unpack(grads["dtheta"], D, H)
    return {"dweight_ih": _zrh(dK.T, 0), "dweight_hh": _zrh(dR.T, 0), "dbias_ih": _zrh(db, 0)}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flat_theta_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, theta):
        return gru_forward(x, h0, theta, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

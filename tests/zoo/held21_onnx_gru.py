"""A GRU written from the ONNX operator spec (``GRU``, linear_before_reset=1), time-major,
with ONNX's names and a num_directions axis of 1: X (T, N, D), initial_h (N, H) (the user
adds the direction axis), W (1, 3H, D), R (1, 3H, H), B (1, 6H) = [Wb | Rb], gate blocks
z, r, h (declared):

    z = sigmoid(X_t W_z^T + H_(t-1) R_z^T + Wb_z + Rb_z)
    r = sigmoid(X_t W_r^T + H_(t-1) R_r^T + Wb_r + Rb_r)
    h = tanh(X_t W_h^T + r * (H_(t-1) R_h^T + Rb_h) + Wb_h)
    H_t = (1 - z) * h + z * H_(t-1)

The forward fills Y (T, 1, N, H) and returns Y[:, 0]; the backward splits W, R, B into
per-gate views and keeps per-gate gradient lists. Twenty-first held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_sign_flipped": "wrong_sign",                # dz = dH * (h - H_prev): ONNX's (1 - z) on h read the other way
    "dh_times_z": "wrong_value",                    # dh = dH * z (z read in place of 1 - z)
    "dH_prev_misses_z_path": "term_dropped",        # dH_prev = (gate products) only: the + dH * z path left out
    "dah_at_H_new": "derivative_wrong_point",       # dah = dh * (1 - H_t ** 2): tanh' at the new state, not at h (also wrong_value)
    "daz_tanh_form": "derivative_wrong_function",   # daz = dz * (1 - z ** 2)
    "dah_tanh_twice": "derivative_twice",           # dh already holds (1 - h ** 2) and dah multiplies it again
    "dar_double_star": "derivative_miswritten",     # dar = dr * r ** (1 - r)   (one * too many)
    "Rh_slice_from_r_block": "wrong_weight",        # Rh taken as R[0][H:2H] in the backward (the r block)
    "dar_through_Rz": "wrong_weight",               # dH_prev = daz @ Rz + dar @ Rz (copy-paste: Rz for Rr)
    "Rh_untransposed": "weight_transposed",         # dH_prev += dhr @ Rh.T
    "dRz_for_Rz": "gradient_for_weight",            # dH_prev += daz @ dRz (the running gradient for the weight)
    "dRbh_copied_from_dWbh": "wrong_value",         # dB = [dWb | dWb]: Rb's gradient taken equal to Wb's, so dRb_h = sum(dah), not sum(dah * r)
    "dW_blocks_r_z_h": "gate_order",                # dW, dR, dB gates stacked r, z, h (torch's order)
    "forward_Rbh_outside_r": "forward_mistake",     # h = tanh(X W_h^T + r * (H_prev R_h^T) + Rb_h + Wb_h); consistent
    "daz_halved": "unknown",                        # daz = 0.5 * dz * z * (1 - z): an arbitrary constant
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dz_sign_flipped": "z",
    "dh_times_z": "rn",
    "dH_prev_misses_z_path": "",
    "dah_at_H_new": "rn",
    "daz_tanh_form": "z",
    "dah_tanh_twice": "rn",
    "dar_double_star": "r",
    "Rh_slice_from_r_block": "",
    "dar_through_Rz": "",
    "Rh_untransposed": "",
    "dRz_for_Rz": "",
    "dRbh_copied_from_dWbh": "n",
    "dW_blocks_r_z_h": "rz",
    "forward_Rbh_outside_r": "",
    "daz_halved": "z",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def GRU(X, initial_h, W, R, B, bug=None):
    T, N, _ = X.shape
    Hs = R.shape[2]
    Wz, Wr, Wh = np.split(W[0], 3)
    Rz, Rr, Rh = np.split(R[0], 3)
    Wbz, Wbr, Wbh, Rbz, Rbr, Rbh = np.split(B[0], 6)
    Y = np.zeros((T, 1, N, Hs), dtype=X.dtype)
    H_t = initial_h[None][0]
    steps = []
    for t in range(T):
        H_prev = H_t
        z = sigmoid(X[t] @ Wz.T + H_prev @ Rz.T + Wbz + Rbz)
        r = sigmoid(X[t] @ Wr.T + H_prev @ Rr.T + Wbr + Rbr)
        if bug == "forward_Rbh_outside_r":
            hr = H_prev @ Rh.T
            h = np.tanh(X[t] @ Wh.T + r * hr + Rbh + Wbh)
        else:
            hr = H_prev @ Rh.T + Rbh
            h = np.tanh(X[t] @ Wh.T + r * hr + Wbh)
        H_t = (1 - z) * h + z * H_prev
        Y[t, 0] = H_t
        steps.append({"X": X[t], "H_prev": H_prev, "z": z, "r": r, "h": h, "hr": hr, "H": H_t})
    return Y[:, 0], {"steps": steps, "W": W, "R": R}


def GRU_backward(dY, cache, bug=None):
    steps, W, R = cache["steps"], cache["W"], cache["R"]
    T, N, Hs = dY.shape
    Wz, Wr, Wh = np.split(W[0], 3)
    Rz, Rr, Rh = np.split(R[0], 3)
    if bug == "Rh_slice_from_r_block":
        Rh = R[0][Hs:2 * Hs]
    dWz, dWr, dWh = (np.zeros_like(Wz) for _ in range(3))
    dRz, dRr, dRh = (np.zeros_like(Rz) for _ in range(3))
    dWb = [np.zeros(Hs, dtype=dY.dtype) for _ in range(3)]
    dRb = [np.zeros(Hs, dtype=dY.dtype) for _ in range(3)]
    dX = np.zeros((T, N, W.shape[2]), dtype=dY.dtype)
    dH_next = np.zeros((N, Hs), dtype=dY.dtype)
    for t in reversed(range(T)):
        s = steps[t]
        z, r, h, hr, H_prev = s["z"], s["r"], s["h"], s["hr"], s["H_prev"]
        dH = dY[t] + dH_next
        dh = dH * (z if bug == "dh_times_z" else 1 - z)
        dz = dH * (h - H_prev) if bug == "dz_sign_flipped" else dH * (H_prev - h)
        if bug == "dah_tanh_twice":
            dh = dh * (1 - h ** 2)
        dah = dh * (1 - (s["H"] if bug == "dah_at_H_new" else h) ** 2)
        dr = dah * hr
        dhr = dah * r
        if bug == "daz_tanh_form":
            daz = dz * (1 - z ** 2)
        elif bug == "daz_halved":
            daz = 0.5 * dz * z * (1 - z)
        else:
            daz = dz * z * (1 - z)
        dar = dr * r ** (1 - r) if bug == "dar_double_star" else dr * r * (1 - r)
        dWz += daz.T @ s["X"]
        dWr += dar.T @ s["X"]
        dWh += dah.T @ s["X"]
        dRz += daz.T @ H_prev
        dRr += dar.T @ H_prev
        dRh += dhr.T @ H_prev
        for k, (gx, gh) in enumerate(((daz, daz), (dar, dar), (dah, dhr))):
            dWb[k] += gx.sum(axis=0)
            dRb[k] += (dah if k == 2 and bug == "forward_Rbh_outside_r" else gh).sum(axis=0)
        dX[t] = daz @ Wz + dar @ Wr + dah @ Wh
        dH_prev = daz @ (dRz if bug == "dRz_for_Rz" else Rz) + dar @ (Rz if bug == "dar_through_Rz" else Rr)
        dH_prev = dH_prev + dhr @ (Rh.T if bug == "Rh_untransposed" else Rh)
        if bug != "dH_prev_misses_z_path":
            dH_prev = dH_prev + dH * z
        dH_next = dH_prev
    if bug == "dRbh_copied_from_dWbh":
        dRb = [g.copy() for g in dWb]
    order = (1, 0, 2) if bug == "dW_blocks_r_z_h" else (0, 1, 2)
    dW_g, dR_g = (dWz, dWr, dWh), (dRz, dRr, dRh)
    dW = np.concatenate([dW_g[k] for k in order])[None]
    dR = np.concatenate([dR_g[k] for k in order])[None]
    dB = np.concatenate([dWb[k] for k in order] + [dRb[k] for k in order])[None]
    return dX, dH_next, dW, dR, dB


def _swap_rz(a):
    """Canonical blocks r, z, n <-> ONNX's z, r, h (swapping the first two is its own inverse)."""
    first, second, third = np.split(a, 3, axis=0)
    return np.concatenate([second, first, third], axis=0)


def to_user(cell, p):
    return {"W": _swap_rz(p["weight_ih"])[None], "R": _swap_rz(p["weight_hh"])[None],
            "B": np.concatenate([_swap_rz(p["bias_ih"]), _swap_rz(p["bias_hh"])])[None]}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = _swap_rz(grads["dW"][0])
    if "dR" in grads:
        out["dweight_hh"] = _swap_rz(grads["dR"][0])
    if "dB" in grads:
        wb, rb = np.split(grads["dB"][0], 2)
        out["dbias_ih"], out["dbias_hh"] = _swap_rz(wb), _swap_rz(rb)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="onnx_gru", cells=("gru",), axes="TND",
                               gate_order="zrh", gate_letters={"h": "n"}, names={"h": "H"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(X, initial_h, W, R, B):
        return GRU(X, initial_h, W, R, B, bug)

    def backward(dY, cache):
        return GRU_backward(dY, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

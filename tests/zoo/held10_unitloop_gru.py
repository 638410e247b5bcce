"""A GRU by a beginner who does the matrix products with numpy but writes every elementwise
part as an explicit Python loop over the H hidden units (column j of an (N, H) array at a time).
One weight per gate, cs231n orientation: Wz, Wr, Wh (D, H), Uz, Ur, Uh (H, H), bz, br, bh (H,);
the candidate is called h~ ("hh"), the reset gate applied before the recurrent product
(reset_after=False, TF1's GRUCell):

    z = sigmoid(x Wz + h Uz + bz)     r = sigmoid(x Wr + h Ur + br)
    hh = tanh(x Wh + (r * h) Uh + bh)
    h_new = (1 - z) * hh + z * h

x (N, T, D), h0 (N, H). Tenth held-out zoo: written without reading the diagnosis.
"""

import math

import numpy as np

import harness

BUGS = {
    "dz_unit_off_by_one": "wrong_value",                 # dz[:, j] = dh[:, j] * (h[:, j] - hh[:, j - 1]): the neighbour unit's hh
    "dr_with_hh": "wrong_value",                         # dr[:, j] = drh[:, j] * hh[:, j] (h~ read for h_{t-1})
    "dprev_without_z_path": "term_dropped",              # dprev[:, j] = drh[:, j] * r[:, j]: dh * z left out
    "z_tanh_grad": "derivative_wrong_function",          # daz = dz * (1 - z * z)
    "dz_sign": "wrong_sign",                             # dz = dh * (hh - h)
    "carry_through_Uz": "weight_transposed",             # dprev += daz @ Uz (Uz for Uz.T)
    "dprev_r_through_Uz": "wrong_weight",                # dprev += dar @ Uz.T (Uz for Ur)
    "dUh_without_r": "term_dropped",                     # dUh += h.T @ dah: r of r * h left out (also wrong_value)
    "driver_forgets_carry": "carry_dropped",             # dh_t = dh[:, t] in the driver
    "dbh_mean": "reduction_scaled",                      # dbh += dah.mean(axis=0)
    "hh_squared_in_place": "inplace_corruption",         # hh_sq = hh; hh_sq **= 2 for tanh': the cached hh is now hh**2 (read by dz)
    "z_grad_one_step_early": "wrong_time",               # daz = dz * zp * (1 - zp) with zp = caches[t - 1]["z"]
    "forward_z_convention_swapped": "forward_mistake",   # h_new = z * hh + (1 - z) * h; backward consistent
    "dz_sign_and_no_tanh_grad": "unknown",               # dz = dh * (hh - h) and dah = dhh (no tanh')
    "dr_hh_and_no_z_path": "unknown",                    # dr with hh for h_{t-1} and dprev without dh * z: two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dz_unit_off_by_one": "z",
    "dr_with_hh": "r",
    "dprev_without_z_path": "",
    "z_tanh_grad": "z",
    "dz_sign": "z",
    "carry_through_Uz": "",
    "dprev_r_through_Uz": "",
    "dUh_without_r": "n",
    "driver_forgets_carry": "",
    "dbh_mean": "n",
    "hh_squared_in_place": "z",
    "z_grad_one_step_early": "",
    "forward_z_convention_swapped": "",
    "dz_sign_and_no_tanh_grad": "",
    "dr_hh_and_no_z_path": "r",
}


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def gru_step(x, h, Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh, bug=None):
    N, H = h.shape
    az = x @ Wz + h @ Uz + bz
    ar = x @ Wr + h @ Ur + br
    z, r = np.zeros_like(az), np.zeros_like(ar)
    for n in range(N):
        for j in range(H):
            z[n, j] = sig(az[n, j])
            r[n, j] = sig(ar[n, j])
    rh = h.copy()
    for j in range(H):
        rh[:, j] *= r[:, j]
    hh = np.tanh(x @ Wh + rh @ Uh + bh)
    h_new = np.zeros_like(h)
    for j in range(H):
        if bug == "forward_z_convention_swapped":
            h_new[:, j] = z[:, j] * hh[:, j] + (1 - z[:, j]) * h[:, j]
        else:
            h_new[:, j] = (1 - z[:, j]) * hh[:, j] + z[:, j] * h[:, j]
    return h_new, {"x": x, "h": h, "z": z, "r": r, "rh": rh, "hh": hh}


def gru_step_back(dh, c, zp, W, bug=None):
    """One step back; zp: the z whose sigmoid' daz takes (this step's)."""
    x, h, z, r, rh, hh = c["x"], c["h"], c["z"], c["r"], c["rh"], c["hh"]
    if bug == "hh_squared_in_place":
        hh_sq = hh
        hh_sq **= 2
    else:
        hh_sq = hh ** 2
    Wz, Wr, Wh, Uz, Ur, Uh = W
    N, H = h.shape
    dz, dhh, dah, daz = (np.zeros_like(h) for _ in range(4))
    for j in range(H):
        if bug == "forward_z_convention_swapped":
            dhh[:, j] = dh[:, j] * z[:, j]
            dz[:, j] = dh[:, j] * (hh[:, j] - h[:, j])
        else:
            dhh[:, j] = dh[:, j] * (1 - z[:, j])
            if bug == "dz_unit_off_by_one":
                dz[:, j] = dh[:, j] * (h[:, j] - hh[:, j - 1])
            elif bug in ("dz_sign", "dz_sign_and_no_tanh_grad"):
                dz[:, j] = dh[:, j] * (hh[:, j] - h[:, j])
            else:
                dz[:, j] = dh[:, j] * (h[:, j] - hh[:, j])
        dah[:, j] = dhh[:, j] if bug == "dz_sign_and_no_tanh_grad" else dhh[:, j] * (1 - hh_sq[:, j])
        daz[:, j] = dz[:, j] * (1 - zp[:, j] * zp[:, j]) if bug == "z_tanh_grad" else dz[:, j] * zp[:, j] * (1 - zp[:, j])
    drh = dah @ Uh.T
    dar, dprev = np.zeros_like(h), np.zeros_like(h)
    for j in range(H):
        dr_j = drh[:, j] * (hh[:, j] if bug in ("dr_with_hh", "dr_hh_and_no_z_path") else h[:, j])
        dar[:, j] = dr_j * r[:, j] * (1 - r[:, j])
        z_path = dh[:, j] * (1 - z[:, j]) if bug == "forward_z_convention_swapped" else dh[:, j] * z[:, j]
        if bug in ("dprev_without_z_path", "dr_hh_and_no_z_path"):
            dprev[:, j] = drh[:, j] * r[:, j]
        else:
            dprev[:, j] = z_path + drh[:, j] * r[:, j]
    dprev += daz @ (Uz if bug == "carry_through_Uz" else Uz.T)
    dprev += dar @ (Uz.T if bug == "dprev_r_through_Uz" else Ur.T)
    dx = daz @ Wz.T + dar @ Wr.T + dah @ Wh.T
    g = {"Wz": x.T @ daz, "Wr": x.T @ dar, "Wh": x.T @ dah, "Uz": h.T @ daz, "Ur": h.T @ dar,
         "Uh": (h if bug == "dUh_without_r" else rh).T @ dah, "bz": daz.sum(axis=0), "br": dar.sum(axis=0),
         "bh": dah.mean(axis=0) if bug == "dbh_mean" else dah.sum(axis=0)}
    return dx, dprev, g


def gru_forward(x, h0, Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh, bug=None):
    N, T, D = x.shape
    hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    caches, h = [], h0.copy()
    for t in range(T):
        h, c = gru_step(x[:, t], h, Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh, bug)
        hs[:, t] = h
        caches.append(c)
    return hs, (caches, (Wz, Wr, Wh, Uz, Ur, Uh))


def gru_backward(dhs, cache, bug=None):
    caches, W = cache
    N, T, H = dhs.shape
    dx = np.zeros((N, T, W[0].shape[0]), dtype=dhs.dtype)
    grads = {k: 0 for k in ("Wz", "Wr", "Wh", "Uz", "Ur", "Uh", "bz", "br", "bh")}
    dnext = np.zeros((N, H), dtype=dhs.dtype)
    for t in reversed(range(T)):
        dh_t = dhs[:, t] if bug == "driver_forgets_carry" else dhs[:, t] + dnext
        zp = caches[t - 1]["z"] if bug == "z_grad_one_step_early" else caches[t]["z"]
        dx[:, t], dnext, g = gru_step_back(dh_t, caches[t], zp, W, bug)
        for k in grads:
            grads[k] = grads[k] + g[k]
    return (dx, dnext) + tuple(grads[k] for k in ("Wz", "Wr", "Wh", "Uz", "Ur", "Uh", "bz", "br", "bh"))


def to_user(cell, p):
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    br, bz, bn = np.split(p["bias_ih"] + p["bias_hh"], 3)
    return {"Wz": Wz.T, "Wr": Wr.T, "Wh": Wn.T, "Uz": Uz.T, "Ur": Ur.T, "Uh": Un.T, "bz": bz, "br": br, "bh": bn}


def to_canonical(cell, g, p):
    out = {}
    if all(f"d{k}" in g for k in ("Wr", "Wz", "Wh")):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWh"].T])
    if all(f"d{k}" in g for k in ("Ur", "Uz", "Uh")):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUh"].T])
    if all(f"d{k}" in g for k in ("br", "bz", "bh")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbh"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="unit_loop_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh):
        return gru_forward(x, h0, Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

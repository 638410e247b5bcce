"""A GRU the way someone porting a Keras model writes it: batch-major, packed kernels with
Keras's gate order z, r, h: kernel (D, 3H), recurrent_kernel (H, 3H), and Keras's
reset_after bias (2, 3H) (row 0 input side, row 1 recurrent side; b_h's recurrent part sits
inside r * (...)). h' = z * h + (1 - z) * hh. Checked through a Layout.custom (below).

``bug`` plants one mistake (see BUGS); None is the correct code.
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "dz_sign": "wrong_sign",                     # dz = dh * (hh - h_prev)
    "dhh_no_tanh": "derivative_missing",         # the candidate's tanh' left out
    "dr_sig_as_tanh": "derivative_wrong_function",
    "reset_inside_dropped": "term_dropped",      # dr = dhh_pre * (h @ U_h) without the recurrent bias
    "carry_z_dropped": "term_dropped",           # dh_prev misses dh * z
    "carry_dropped": "carry_dropped",            # dh_prev never added to the next step's dh
    "uh_not_transposed": "weight_transposed",    # the h block of the recurrent kernel, square (H, H)
    "skip_first": "loop_skips_step",
    "bias_mean_N": "reduction_scaled",
    "h_next_for_prev": "wrong_time",             # dU from h_t instead of h_(t-1)
    "reset_before": "forward_mistake",           # the forward and backward of TF1's GRUCell
    "swap_zr_backward": "gate_order",            # dz and dr written into each other's block
    "input_bias_h_from_rec": "wrong_value",      # db[0]'s h block from the recurrent side's dpre_h * r
    "dU_from_hh": "wrong_value",                 # dU += hh.T @ drec: the candidate read for h_(t-1)
}
# The grammar cannot express this one (the recurrent bias left out of a cached pre-activation):
# the diagnosis must say "unknown cause" (with the gate), never a wrong name.
UNNAMED = {"reset_inside_dropped"}
TOUCHES = {"dz_sign": "z", "dhh_no_tanh": "rn", "dr_sig_as_tanh": "r", "reset_inside_dropped": "r",
           "carry_z_dropped": "", "carry_dropped": "", "uh_not_transposed": "", "skip_first": "",
           "bias_mean_N": "", "h_next_for_prev": "", "reset_before": "", "swap_zr_backward": "rz",
           "input_bias_h_from_rec": "n", "dU_from_hh": ""}


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def forward(x, h0, kernel, recurrent_kernel, bias, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache."""
    N, T, D = x.shape
    H = h0.shape[1]
    hs, cache, h = np.zeros((N, T, H), dtype=x.dtype), [], h0
    for t in range(T):
        xz, xr, xh = np.split(x[:, t] @ kernel + bias[0], 3, axis=1)
        if bug == "reset_before":
            hz, hr = np.split(h @ recurrent_kernel[:, :2 * H] + bias[1, :2 * H], 2, axis=1)
            z, r = sig(xz + hz), sig(xr + hr)
            rec = (r * h) @ recurrent_kernel[:, 2 * H:] + bias[1, 2 * H:]
            hh = np.tanh(xh + rec)
        else:
            hz, hr, rec = np.split(h @ recurrent_kernel + bias[1], 3, axis=1)
            z, r = sig(xz + hz), sig(xr + hr)
            hh = np.tanh(xh + r * rec)
        cache.append((x[:, t], h, z, r, hh, rec))
        h = z * h + (1 - z) * hh
        hs[:, t] = h
    return hs, (cache, kernel, recurrent_kernel)


def backward(dhs, cache, bug=None):
    """dhs (N, T, H) upstream -> dx, dh0, dkernel, drecurrent_kernel, dbias."""
    steps, kernel, U = cache
    N, T, H = dhs.shape
    dx = np.zeros((N, T, kernel.shape[0]), dtype=dhs.dtype)
    dK, dU, db = np.zeros_like(kernel), np.zeros_like(U), np.zeros((2, 3 * H), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    ts = range(T - 1, 0, -1) if bug == "skip_first" else range(T - 1, -1, -1)
    for t in ts:
        xt, h_prev, z, r, hh, rec = steps[t]
        dh = dhs[:, t] if bug == "carry_dropped" else dhs[:, t] + dh_next
        dz = dh * ((hh - h_prev) if bug == "dz_sign" else (h_prev - hh))
        dhh = dh * (1 - z)
        dpre_h = dhh if bug == "dhh_no_tanh" else dhh * (1 - hh ** 2)
        if bug == "reset_before":
            drh = dpre_h @ U[:, 2 * H:].T
            dr = drh * h_prev
        else:
            dr = dpre_h * (h_prev @ U[:, 2 * H:] if bug == "reset_inside_dropped" else rec)
        dpre_z = dz * z * (1 - z)
        dpre_r = dr * (1 - r ** 2) if bug == "dr_sig_as_tanh" else dr * r * (1 - r)
        if bug == "swap_zr_backward":
            dpre_z, dpre_r = dpre_r, dpre_z
        dxin = np.concatenate([dpre_z, dpre_r, dpre_h], axis=1)                # (N, 3H)
        drec = dxin if bug == "reset_before" else np.concatenate([dpre_z, dpre_r, dpre_h * r], axis=1)
        dK += xt.T @ dxin
        db[0] += (drec if bug == "input_bias_h_from_rec" else dxin).sum(axis=0)
        db[1] += drec.sum(axis=0)
        h_for_dU = (z * h_prev + (1 - z) * hh) if bug == "h_next_for_prev" else h_prev      # h_t for h_(t-1)
        if bug == "dU_from_hh":
            h_for_dU = hh
        if bug == "reset_before":
            dU[:, :2 * H] += h_for_dU.T @ drec[:, :2 * H]
            dU[:, 2 * H:] += (r * h_for_dU).T @ drec[:, 2 * H:]
            dh_prev = drec[:, :2 * H] @ U[:, :2 * H].T + drh * r
        else:
            dU += h_for_dU.T @ drec
            Uc = U.copy()
            if bug == "uh_not_transposed":
                Uc[:, 2 * H:] = U[:, 2 * H:].T
            dh_prev = drec @ Uc.T
        if bug != "carry_z_dropped":
            dh_prev = dh_prev + dh * z
        dx[:, t] = dxin @ kernel.T
        dh_next = dh_prev
    if bug == "bias_mean_N":
        db /= N
    return dx, dh_next, dK, dU, db


def to_user(cell, p):
    """Canonical (torch rows r, z, n) -> Keras kernels (columns z, r, h) and the (2, 3H) bias."""
    order = [1, 0, 2]
    def cols(w):
        return np.concatenate([b.T for b in (np.split(w, 3)[k] for k in order)], axis=1)
    def vec(b):
        return np.concatenate([np.split(b, 3)[k] for k in order])
    return {"kernel": cols(p["weight_ih"]), "recurrent_kernel": cols(p["weight_hh"]),
            "bias": np.stack([vec(p["bias_ih"]), vec(p["bias_hh"])])}


def to_canonical(cell, g, p):
    order = [1, 0, 2]                            # z, r, h -> r, z, n is the same swap
    def rows(w):
        return np.concatenate([b.T for b in (np.split(w, 3, axis=1)[k] for k in order)], axis=0)
    def vec(b):
        return np.concatenate([np.split(b, 3)[k] for k in order])
    out = {}
    if "dkernel" in g:
        out["dweight_ih"] = rows(g["dkernel"])
    if "drecurrent_kernel" in g:
        out["dweight_hh"] = rows(g["drecurrent_kernel"])
    if "dbias" in g:
        out.update(dbias_ih=vec(g["dbias"][0]), dbias_hh=vec(g["dbias"][1]))
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), partial(backward, bug=bug),
            {"cell": "gru", "layout": LAYOUT})

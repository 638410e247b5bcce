"""A GRU written with np.split: both projections (x_t Wx + bx and h Wh + bh, each (N, 3H))
are split into three (N, H) arrays z, r, h in that order, the reset gate applied after the
recurrent product (Keras's reset_after=True, with Keras's two biases bx = input bias,
bh = recurrent bias), and a small helper dsig(s) = s (1 - s) for the sigmoid's derivative
from its output. x (N, T, D), Wx (D, 3H), Wh (H, 3H), bx, bh (3H,).

    xz, xr, xh = split(x_t Wx + bx)      hz, hr, hh = split(h Wh + bh)
    z = sigmoid(xz + hz)    r = sigmoid(xr + hr)    n = tanh(xh + r * hh)
    h_new = z * h + (1 - z) * n

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dsig_of_r_logit": "derivative_wrong_point",        # dr_pre = dr * dsig(xr + hr): s' at the logit, not at r
    "dz_n_minus_h": "wrong_sign",                       # dz = dh * (n - h_prev)
    "dn_no_tanh_prime": "derivative_missing",           # dn_pre = dn
    "dprev_without_z_path": "term_dropped",             # dh_prev leaves out dh * z (the direct path)
    "dr_hh_without_bias": "term_dropped",               # dr = dn_pre * (h_prev @ Wh_h): the recurrent bias left out of hh
    "dprev_Whh_block_untransposed": "weight_transposed",  # dhh @ Wh_h for dhh @ Wh_h.T in dh_prev
    "dWh_h_block_transposed": "gradient_transposed",    # the h block of dWh as dhh.T @ h_prev
    "dx_z_through_r_weights": "wrong_weight",           # dx takes dz_pre @ Wx_r.T (r's block for z)
    "dbh_assigned": "carry_overwrites",                 # dbh = ... (= for +=): only the last walked step kept
    "no_step_zero": "loop_skips_step",                  # for t in range(T - 1, 0, -1)
    "dWx_mean_over_NT": "reduction_scaled",             # dWx /= N * T ("average over the batch and the sequence")
    "views_scaled_in_place": "inplace_corruption",      # hh *= r on the np.split view: the cached hh becomes r * hh
    "backward_split_order_r_z": "gate_order",           # the backward joins [dr_pre, dz_pre, dn_pre]
    "forward_reset_before": "forward_mistake",          # n = tanh(xh + (r * h) @ Wh_h + bh_h); backward consistent
    "dz_sign_and_no_tanh_prime": "unknown",             # two at once: dz = dh * (n - h_prev) and dn_pre = dn
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "dsig_of_r_logit": "r",
    "dz_n_minus_h": "z",
    "dn_no_tanh_prime": "rn",
    "dprev_without_z_path": "",
    "dr_hh_without_bias": "r",
    "dprev_Whh_block_untransposed": "",
    "dWh_h_block_transposed": "n",
    "dx_z_through_r_weights": "",
    "dbh_assigned": "",
    "no_step_zero": "",
    "dWx_mean_over_NT": "",
    "views_scaled_in_place": "r",
    "backward_split_order_r_z": "rz",
    "forward_reset_before": "",
    "dz_sign_and_no_tanh_prime": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def dsig(s):
    return s * (1 - s)


def forward(x, h0, Wx, Wh, bx, bh, bug=None):
    N, T, _ = x.shape
    h, out, steps = h0, [], []
    Wh_z, Wh_r, Wh_h = np.split(Wh, 3, axis=1)
    for t in range(T):
        xz, xr, xh = np.split(x[:, t] @ Wx + bx, 3, axis=1)
        hz, hr, hh = np.split(h @ Wh + bh, 3, axis=1)
        z, r = sigmoid(xz + hz), sigmoid(xr + hr)
        if bug == "forward_reset_before":
            hh = (r * h) @ Wh_h + np.split(bh, 3)[2]
            n = np.tanh(xh + hh)
        elif bug == "views_scaled_in_place":
            hh *= r
            n = np.tanh(xh + hh)
        else:
            n = np.tanh(xh + r * hh)
        steps.append((x[:, t], h, z, r, n, hh, xr + hr))
        h = z * h + (1 - z) * n
        out.append(h)
    return np.stack(out, axis=1), (steps, Wx, Wh, bh)


def backward(dh, cache, bug=None):
    steps, Wx, Wh, bh = cache
    N, T, H = dh.shape
    Wx_z, Wx_r, Wx_h = np.split(Wx, 3, axis=1)
    Wh_z, Wh_r, Wh_h = np.split(Wh, 3, axis=1)
    bh_h = np.split(bh, 3)[2]
    dWx, dWh, dbx, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(bh), np.zeros_like(bh)
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dnext = np.zeros((N, H), dtype=dh.dtype)
    stop = 0 if bug == "no_step_zero" else -1
    for t in range(T - 1, stop, -1):
        x_t, h_prev, z, r, n, hh, r_logit = steps[t]
        d = dh[:, t] + dnext
        if bug in ("dz_n_minus_h", "dz_sign_and_no_tanh_prime"):
            dz = d * (n - h_prev)
        else:
            dz = d * (h_prev - n)
        dn = d * (1 - z)
        dn_pre = dn if bug in ("dn_no_tanh_prime", "dz_sign_and_no_tanh_prime") else dn * (1 - n ** 2)
        if bug == "forward_reset_before":
            dhh = dn_pre
            drh = dhh @ Wh_h.T
            dr = drh * h_prev
        else:
            dhh = dn_pre * r
            dr = dn_pre * (h_prev @ Wh_h if bug == "dr_hh_without_bias" else hh)
        dr_pre = dr * dsig(r_logit if bug == "dsig_of_r_logit" else r)
        dz_pre = dz * dsig(z)
        parts = [dr_pre, dz_pre, dn_pre] if bug == "backward_split_order_r_z" else [dz_pre, dr_pre, dn_pre]
        dxp = np.concatenate(parts, axis=1)
        dhp = np.concatenate([parts[0], parts[1], dhh], axis=1)
        dWx += x_t.T @ dxp
        dbx += dxp.sum(axis=0)
        if bug == "forward_reset_before":
            dWh += np.concatenate([h_prev.T @ dz_pre, h_prev.T @ dr_pre, (r * h_prev).T @ dhh], axis=1)
        elif bug == "dWh_h_block_transposed":
            dWh += np.concatenate([h_prev.T @ dhp[:, :2 * H], dhh.T @ h_prev], axis=1)
        else:
            dWh += h_prev.T @ dhp
        if bug == "dbh_assigned":
            dbh = dhp.sum(axis=0)
        else:
            dbh += dhp.sum(axis=0)
        if bug == "dx_z_through_r_weights":
            dx[:, t] = dz_pre @ Wx_r.T + dr_pre @ Wx_r.T + dn_pre @ Wx_h.T
        else:
            dx[:, t] = dxp @ Wx.T
        dprev = 0 if bug == "dprev_without_z_path" else d * z
        dprev = dprev + dz_pre @ Wh_z.T + dr_pre @ Wh_r.T
        if bug == "forward_reset_before":
            dprev = dprev + drh * r
        elif bug == "dprev_Whh_block_untransposed":
            dprev = dprev + dhh @ Wh_h
        else:
            dprev = dprev + dhh @ Wh_h.T
        dnext = dprev
    if bug == "dWx_mean_over_NT":
        dWx /= N * T
    return dx, dnext, dWx, dWh, dbx, dbh


def _zrn(a, axis):
    """Canonical r, z, n <-> the author's z, r, h (the swap is its own inverse)."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    return {"Wx": _zrn(p["weight_ih"], 0).T, "Wh": _zrn(p["weight_hh"], 0).T,
            "bx": _zrn(p["bias_ih"], 0), "bh": _zrn(p["bias_hh"], 0)}


def to_canonical(cell, grads, p):
    out = {}
    for user, canon in (("dWx", "dweight_ih"), ("dWh", "dweight_hh")):
        if user in grads:
            out[canon] = _zrn(grads[user].T, 0)
    for user, canon in (("dbx", "dbias_ih"), ("dbh", "dbias_hh")):
        if user in grads:
            out[canon] = _zrn(grads[user], 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="split_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wx, Wh, bx, bh):
        return forward(x, h0, Wx, Wh, bx, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

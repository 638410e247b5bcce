"""A GRU written in the "interpolation" form h' = h + (1 - z) * (n - h) (the same cell as
torch's h' = z * h + (1 - z) * n, derived by hand from this form), reset after the recurrent
product (reset_after=True, torch's form), params in a dict with two biases:
x (N, T, D), h0 (N, H), P = {"Wx": (D, 3H), "Uh": (H, 3H), "bx": (3H,), "bh": (3H,)}, column
blocks r, z, n (declared):

    gx = x_t @ Wx + bx      gh = h @ Uh + bh
    r = sigmoid(gx_r + gh_r)     z = sigmoid(gx_z + gh_z)     n = tanh(gx_n + r * gh_n)
    h' = h + (1 - z) * (n - h)

Gradients go into a dict ``grads`` keyed like P. Eleventh held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "identity_path_dropped": "term_dropped",              # dprev = -dh * (1 - z): the "h +" of h + (1 - z)(n - h) forgotten
    "dz_sign": "wrong_sign",                              # dz = dh * (n - h) (d(1 - z) = -dz forgotten)
    "dn_times_z": "wrong_value",                          # dn = dh * z (z read for 1 - z)
    "dn_tanh_grad_miswritten": "derivative_miswritten",   # (1 - n) * (1 - n) for (1 - n) * (1 + n)
    "dr_without_bh_n": "term_dropped",                    # dr = da_n * (h @ Uh_n): gh_n recomputed without bh_n
    "Uh_n_untransposed": "weight_transposed",             # dprev += (da_n * r) @ Uh[:, 2H:]
    "Uh_z_block_for_r": "wrong_weight",                   # dprev += da_r @ Uh[:, H:2H].T (z's block for r)
    "dr_sigmoid_grad_at_preactivation": "derivative_wrong_point",  # da_r = dr * a_r * (1 - a_r): the cached pre-activation
    "loop_skips_first_step": "loop_skips_step",           # for t in range(T - 1, 0, -1)
    "dUh_assigned": "carry_overwrites",                   # grads["Uh"] = h.T @ dgh (= for +=)
    "grads_clipped": "gradient_clipped",                  # np.clip(g, -0.1, 0.1, out=g) for every gradient in grads
    "n_minus_h_in_place": "inplace_corruption",           # nm = n; nm -= h in the forward: the cached n is n - h
    "forward_reset_before_product": "forward_mistake",    # n = tanh(gx_n + (r * h) @ Uh_n + bh_n); backward consistent
    "dz_sign_and_no_tanh_grad": "unknown",                # dz sign flipped AND da_n = dn (two mistakes)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "identity_path_dropped": "",
    "dz_sign": "z",
    "dn_times_z": "rn",
    "dn_tanh_grad_miswritten": "rn",
    "dr_without_bh_n": "r",
    "Uh_n_untransposed": "",
    "Uh_z_block_for_r": "",
    "dr_sigmoid_grad_at_preactivation": "r",
    "loop_skips_first_step": "",
    "dUh_assigned": "",
    "grads_clipped": "",
    "n_minus_h_in_place": "rn",
    "forward_reset_before_product": "",
    "dz_sign_and_no_tanh_grad": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, P, bug=None):
    Wx, Uh, bx, bh = P["Wx"], P["Uh"], P["bx"], P["bh"]
    N, T, D = x.shape
    H = h0.shape[1]
    out = np.empty((N, T, H), dtype=x.dtype)
    cache, h = [], h0
    for t in range(T):
        gx = x[:, t] @ Wx + bx
        gh = h @ Uh + bh
        a_r = gx[:, :H] + gh[:, :H]
        r, z = sigmoid(a_r), sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        if bug == "forward_reset_before_product":
            n = np.tanh(gx[:, 2 * H:] + (r * h) @ Uh[:, 2 * H:] + bh[2 * H:])
        else:
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
        if bug == "n_minus_h_in_place":
            nm = n
            nm -= h
        else:
            nm = n - h
        h_new = h + (1 - z) * nm
        cache.append((x[:, t], h, a_r, r, z, n, gh[:, 2 * H:], nm))
        out[:, t] = h_new
        h = h_new
    return out, (cache, P)


def gru_backward(dhs, cache, bug=None):
    steps, P = cache
    Wx, Uh = P["Wx"], P["Uh"]
    N, T, H = dhs.shape
    grads = {k: np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dhs.dtype)
    dnext = np.zeros((N, H), dtype=dhs.dtype)
    for t in (range(T - 1, 0, -1) if bug == "loop_skips_first_step" else range(T - 1, -1, -1)):
        xt, h, a_r, r, z, n, gh_n, nm = steps[t]
        dh = dhs[:, t] + dnext
        dn = dh * (z if bug == "dn_times_z" else 1 - z)
        dz = dh * nm if bug in ("dz_sign", "dz_sign_and_no_tanh_grad") else -dh * nm
        dprev = -dh * (1 - z) if bug == "identity_path_dropped" else dh - dh * (1 - z)
        if bug == "dn_tanh_grad_miswritten":
            da_n = dn * (1 - n) * (1 - n)
        elif bug == "dz_sign_and_no_tanh_grad":
            da_n = dn
        else:
            da_n = dn * (1 - n) * (1 + n)
        if bug == "forward_reset_before_product":
            d_rh = da_n @ Uh[:, 2 * H:].T
            dr = d_rh * h
        else:
            dr = da_n * (h @ Uh[:, 2 * H:] if bug == "dr_without_bh_n" else gh_n)
        if bug == "dr_sigmoid_grad_at_preactivation":
            da_r = dr * a_r * (1 - a_r)
        else:
            da_r = dr * r * (1 - r)
        da_z = dz * z * (1 - z)
        dgx = np.concatenate([da_r, da_z, da_n], axis=1)
        if bug == "forward_reset_before_product":
            dgh = np.concatenate([da_r, da_z, np.zeros_like(da_n)], axis=1)
            grads["Uh"][:, 2 * H:] += (r * h).T @ da_n
            grads["bh"][2 * H:] += da_n.sum(axis=0)
            dprev = dprev + d_rh * r
        else:
            dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)
        grads["Wx"] += xt.T @ dgx
        if bug == "dUh_assigned":
            grads["Uh"] = h.T @ dgh
        else:
            grads["Uh"] += h.T @ dgh
        grads["bx"] += dgx.sum(axis=0)
        grads["bh"] += dgh.sum(axis=0)
        dx[:, t] = dgx @ Wx.T
        if bug == "Uh_n_untransposed":
            dprev = dprev + dgh[:, :2 * H] @ Uh[:, :2 * H].T + dgh[:, 2 * H:] @ Uh[:, 2 * H:]
        elif bug == "Uh_z_block_for_r":
            dprev = dprev + da_r @ Uh[:, H:2 * H].T + dgh[:, H:] @ Uh[:, H:].T
        else:
            dprev = dprev + dgh @ Uh.T
        dnext = dprev
    if bug == "grads_clipped":
        for g in grads.values():
            np.clip(g, -0.1, 0.1, out=g)
    return {"dx": dx, "dh0": dnext, **{"d" + k: g for k, g in grads.items()}}


def to_user(cell, p):
    return {"Wx": p["weight_ih"].T.copy(), "Uh": p["weight_hh"].T.copy(), "bx": p["bias_ih"].copy(),
            "bh": p["bias_hh"].copy()}


def to_canonical(cell, grads, p):
    pairs = (("dWx", "dweight_ih", True), ("dUh", "dweight_hh", True), ("dbx", "dbias_ih", False),
             ("dbh", "dbias_hh", False))
    return {q: (grads[u].T if transpose else grads[u]) for u, q, transpose in pairs if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="interp_gru", cells=("gru",), weights_as="dict",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, P):
        return gru_forward(x, h0, P, bug)

    def backward(dhs, cache):
        return gru_backward(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

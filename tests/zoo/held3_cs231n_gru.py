"""A GRU written in the cs231n assignment style: step functions and a sequence driver,
x (N, T, D), Wx (D, 3H), Wh (H, 3H), with the gate blocks in the order z, r, n (declared),
the reset gate applied after the recurrent product (torch's form, reset_after=True):

    ax = x @ Wx + b         ah = prev_h @ Wh        (both (N, 3H), blocks z, r, n)
    z = sigmoid(ax_z + ah_z)     r = sigmoid(ax_r + ah_r)
    hn = ah_n + bhn              n = tanh(ax_n + r * hn)
    next_h = z * prev_h + (1 - z) * n

Two biases, so that the map to torch is exact: b (3H,) holds bias_ih + bias_hh for z and r
and bias_ih for n; bhn (H,) is torch's recurrent n bias (bias_hh of n), which sits inside
r * (...). The backward recomputes hn from prev_h. Third held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "da_r_sigmoid_grad_sign": "wrong_sign",               # dr * r * (r - 1)
    "dhn_without_r": "term_dropped",                      # dhn = da_n: the factor r left out
    "dx_misses_n_block": "term_dropped",                  # dx = da_zr @ Wx[:, :2H].T only
    "da_r_grad_at_z": "derivative_wrong_point",           # dr * z * (1 - z): z's sigmoid' for r
    "da_n_sigmoid_grad": "derivative_wrong_function",     # dn * n * (1 - n)
    "da_n_no_tanh_grad": "derivative_missing",            # da_n = dn
    "da_r_sigmoid_grad_twice": "derivative_twice",        # r * (1 - r) in dr and again in da_r
    "da_n_star_typo": "derivative_miswritten",            # 1 - n * 2 (one * for **)
    "Wh_n_untransposed": "weight_transposed",             # dhn @ Wh[:, 2H:] in dprev_h
    "Wh_r_block_for_n": "wrong_weight",                   # dhn @ Wh[:, H:2H].T in dprev_h
    "dprev_h_from_dWh": "gradient_for_weight",            # da_zr @ dWh[:, :2H].T (dWh computed just above)
    "hn_from_next_h": "wrong_time",                       # hn recomputed as next_h @ Wh_n + bhn
    "dz_with_next_h": "wrong_time",                       # dz = dnext_h * (next_h - n)
    "dprev_typo_in_driver": "carry_dropped",              # the step's dprev_h stored in a name never read
    "dbhn_assigned": "carry_overwrites",                  # dbhn = dbhn_t (= for +=)
    "loop_skips_last": "loop_skips_step",                 # for t in reversed(range(T - 1))
    "dWh_over_T": "reduction_scaled",                     # dWh / T
    "r_times_hn_in_place": "inplace_corruption",          # rhn = r; rhn *= hn in the forward: the cached r is r * hn
    "backward_blocks_r_z": "gate_order",                  # da_zr = [da_r, da_z]: torch's order in the backward
    "forward_r_ignores_h": "forward_mistake",             # r = sigmoid(ax_r); backward consistent
    "forward_bhn_outside_r": "forward_mistake",           # n = tanh(ax_n + r * (prev_h @ Wh_n) + bhn); consistent
    "da_z_quarter": "unknown",                            # da_z = dz * 0.25 (sigmoid' at 0 for every z)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "da_r_sigmoid_grad_sign": "r",
    "dhn_without_r": "n",
    "dx_misses_n_block": "",
    "da_r_grad_at_z": "r",
    "da_n_sigmoid_grad": "rn",
    "da_n_no_tanh_grad": "rn",
    "da_r_sigmoid_grad_twice": "r",
    "da_n_star_typo": "rn",
    "Wh_n_untransposed": "",
    "Wh_r_block_for_n": "",
    "dprev_h_from_dWh": "",
    "hn_from_next_h": "r",
    "dz_with_next_h": "z",
    "dprev_typo_in_driver": "",
    "dbhn_assigned": "",
    "loop_skips_last": "",
    "dWh_over_T": "",
    "r_times_hn_in_place": "rn",
    "backward_blocks_r_z": "rz",
    "forward_r_ignores_h": "",
    "forward_bhn_outside_r": "",
    "da_z_quarter": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_step_forward(x, prev_h, Wx, Wh, b, bhn, bug=None):
    """One step: x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
    H = prev_h.shape[1]
    ax = x @ Wx + b
    ah = prev_h @ Wh
    z = sigmoid(ax[:, :H] + ah[:, :H])
    r = sigmoid(ax[:, H:2 * H] + (0 if bug == "forward_r_ignores_h" else ah[:, H:2 * H]))
    if bug == "forward_bhn_outside_r":
        n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:] + bhn)
    elif bug == "r_times_hn_in_place":
        rhn = r
        rhn *= ah[:, 2 * H:] + bhn
        n = np.tanh(ax[:, 2 * H:] + rhn)
    else:
        n = np.tanh(ax[:, 2 * H:] + r * (ah[:, 2 * H:] + bhn))
    next_h = z * prev_h + (1 - z) * n
    return next_h, (x, prev_h, Wx, Wh, bhn, z, r, n, next_h)


def gru_step_backward(dnext_h, cache, bug=None):
    """One step: dnext_h (N, H) -> dx, dprev_h, dWx, dWh, db, dbhn."""
    x, prev_h, Wx, Wh, bhn, z, r, n, next_h = cache
    H = prev_h.shape[1]
    dz = dnext_h * ((next_h if bug == "dz_with_next_h" else prev_h) - n)
    dn = dnext_h * (1 - z)
    if bug == "da_n_sigmoid_grad":
        da_n = dn * n * (1 - n)
    elif bug == "da_n_no_tanh_grad":
        da_n = dn
    elif bug == "da_n_star_typo":
        da_n = dn * (1 - n * 2)
    else:
        da_n = dn * (1 - n ** 2)
    hn = (next_h if bug == "hn_from_next_h" else prev_h) @ Wh[:, 2 * H:]
    if bug != "forward_bhn_outside_r":
        hn = hn + bhn
    dr = da_n * hn
    dhn = da_n if bug == "dhn_without_r" else da_n * r
    if bug == "da_r_sigmoid_grad_twice":
        dr = dr * r * (1 - r)
    if bug == "da_r_sigmoid_grad_sign":
        da_r = dr * r * (r - 1)
    elif bug == "da_r_grad_at_z":
        da_r = dr * z * (1 - z)
    else:
        da_r = dr * r * (1 - r)
    da_z = dz * 0.25 if bug == "da_z_quarter" else dz * z * (1 - z)
    da_zr = np.concatenate([da_r, da_z] if bug == "backward_blocks_r_z" else [da_z, da_r], axis=1)
    dax = np.concatenate([da_zr, da_n], axis=1)
    if bug == "forward_r_ignores_h":
        dah = np.concatenate([da_z, np.zeros_like(da_r), dhn], axis=1)
    else:
        dah = np.concatenate([da_zr, dhn], axis=1)
    dWx = x.T @ dax
    dWh = prev_h.T @ dah
    db = dax.sum(axis=0)
    dbhn = da_n.sum(axis=0) if bug == "forward_bhn_outside_r" else dhn.sum(axis=0)
    dx = da_zr @ Wx[:, :2 * H].T
    if bug != "dx_misses_n_block":
        dx = dx + da_n @ Wx[:, 2 * H:].T
    W_hn = Wh[:, 2 * H:].T
    if bug == "Wh_n_untransposed":
        W_hn = Wh[:, 2 * H:]
    elif bug == "Wh_r_block_for_n":
        W_hn = Wh[:, H:2 * H].T
    W_hzr = dWh[:, :2 * H].T if bug == "dprev_h_from_dWh" else Wh[:, :2 * H].T
    dprev_h = dnext_h * z + dah[:, :2 * H] @ W_hzr + dhn @ W_hn
    return dx, dprev_h, dWx, dWh, db, dbhn


def gru_forward(x, h0, Wx, Wh, b, bhn, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, cache = h0, []
    for t in range(T):
        prev_h, step_cache = gru_step_forward(x[:, t], prev_h, Wx, Wh, b, bhn, bug)
        h[:, t] = prev_h
        cache.append(step_cache)
    return h, cache


def gru_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, dh0, dWx, dWh, db, dbhn."""
    N, T, H = dh.shape
    x, _, Wx, Wh, bhn = cache[0][:5]
    dx = np.zeros((N, T, x.shape[1]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db, dbhn = np.zeros(3 * H, dtype=dh.dtype), np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T - 1 if bug == "loop_skips_last" else T)):
        dx_t, dprev, dWx_t, dWh_t, db_t, dbhn_t = gru_step_backward(dh[:, t] + dprev_h, cache[t], bug)
        if bug != "dprev_typo_in_driver":
            dprev_h = dprev
        dx[:, t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        if bug == "dbhn_assigned":
            dbhn = dbhn_t
        else:
            dbhn += dbhn_t
    if bug == "dWh_over_T":
        dWh /= T
    return dx, dprev_h, dWx, dWh, db, dbhn


def _zrn(a, axis):
    """Canonical blocks r, z, n -> z, r, n (and back: the swap is its own inverse)."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    b[2 * H:] = p["bias_ih"][2 * H:]
    return {"Wx": _zrn(p["weight_ih"], 0).T, "Wh": _zrn(p["weight_hh"], 0).T, "b": _zrn(b, 0),
            "bhn": p["bias_hh"][2 * H:].copy()}


def to_canonical(cell, grads, p):
    out = {}
    if "dWx" in grads:
        out["dweight_ih"] = _zrn(grads["dWx"].T, 0)
    if "dWh" in grads:
        out["dweight_hh"] = _zrn(grads["dWh"].T, 0)
    if "db" in grads:
        out["dbias_ih"] = _zrn(grads["db"], 0)
        if "dbhn" in grads:
            H = grads["dbhn"].shape[0]
            out["dbias_hh"] = np.concatenate([out["dbias_ih"][:2 * H], grads["dbhn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cs231n_gru", cells=("gru",), gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b, bhn):
        return gru_forward(x, h0, Wx, Wh, b, bhn, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

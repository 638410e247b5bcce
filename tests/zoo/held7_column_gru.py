"""A GRU one example at a time with column vectors (x (T, D, 1), h0 (H, 1) -> h (T, H, 1)),
nine separate weights as arguments, W_ (H, D), U_ (H, H), b_ (H, 1) for z, r and the
candidate hh, the reset applied to the state before the product (reset_after=False) and
the update as in d2l (z keeps the old state):

    z = s(Wz x + Uz h + bz)      r = s(Wr x + Ur h + br)
    hh = tanh(Wh x + Uh (r * h) + bh)
    h' = z * h + (1 - z) * hh

The cache is a list of per-step tuples. Custom layout, per_example=True. Seventh held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dx_misses_reset_term": "term_dropped",               # dx[t] = Wh.T @ dhh_raw + Wz.T @ dz_raw (Wr's term left out)
    "Uh_untransposed": "weight_transposed",               # drh = Uh @ dhh_raw
    "dUz_outer_flipped": "gradient_transposed",           # dUz += h_prev @ dz_raw.T
    "Ur_for_Uz": "wrong_weight",                          # dh_next += Ur.T @ dz_raw
    "dz_sign": "wrong_sign",                              # dz = dh * (hh - h_prev)
    "dr_with_z_grad": "derivative_wrong_point",           # dr_raw = dr * z * (1 - z)
    "dhh_tanh_grad_twice": "derivative_twice",            # dhh = dh * (1 - z) * (1 - hh ** 2), then again
    "dz_sigmoid_grad_typo": "derivative_miswritten",      # dz_raw = dz * z * 1 - z
    "dz_with_new_h": "wrong_time",                        # dz = dh * (h_t - hh): the step's output for h_prev
    "dh_next_overwritten": "carry_overwrites",            # dh_next = Uz.T @ dz_raw + Ur.T @ dr_raw (= for +=)
    "clip_dh_next": "gradient_clipped",                   # dh_next = np.clip(dh_next, -1, 1) every step
    "forward_update_swapped": "forward_mistake",          # h' = (1 - z) * h + z * hh; backward consistent
    "dh_scaled_in_place": "inplace_corruption",           # dhh = dh; dhh *= 1 - z (dh then read for dz, dh_next)
    "skips_first": "loop_skips_step",                     # for t in reversed(range(1, T))
    "dz_sign_and_skips_first": "unknown",                 # both dz_sign and skips_first
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dx_misses_reset_term": "",
    "Uh_untransposed": "r",
    "dUz_outer_flipped": "z",
    "Ur_for_Uz": "",
    "dz_sign": "z",
    "dr_with_z_grad": "r",
    "dhh_tanh_grad_twice": "rn",
    "dz_sigmoid_grad_typo": "z",
    "dz_with_new_h": "z",
    "dh_next_overwritten": "",
    "clip_dh_next": "",
    "forward_update_swapped": "",
    "dh_scaled_in_place": "z",
    "skips_first": "",
    "dz_sign_and_skips_first": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh, bug=None):
    T = x.shape[0]
    h = h0
    hs, cache = [], []
    for t in range(T):
        xt = x[t]
        z = sigmoid(Wz @ xt + Uz @ h + bz)
        r = sigmoid(Wr @ xt + Ur @ h + br)
        hh = np.tanh(Wh @ xt + Uh @ (r * h) + bh)
        h_new = (1 - z) * h + z * hh if bug == "forward_update_swapped" else z * h + (1 - z) * hh
        cache.append((xt, h, z, r, hh, h_new))
        hs.append(h_new)
        h = h_new
    return np.array(hs), (cache, (Wz, Uz, Wr, Ur, Wh, Uh))


def gru_backward(dH, cache, bug=None):
    steps, (Wz, Uz, Wr, Ur, Wh, Uh) = cache
    T = len(steps)
    dWz, dUz, dWr, dUr, dWh, dUh = (np.zeros_like(w) for w in (Wz, Uz, Wr, Ur, Wh, Uh))
    dbz, dbr, dbh = (np.zeros((Uz.shape[0], 1), dtype=dH.dtype) for _ in range(3))
    dx = np.zeros((T, Wz.shape[1], 1), dtype=dH.dtype)
    dh_next = np.zeros((Uz.shape[0], 1), dtype=dH.dtype)
    first = 1 if bug in ("skips_first", "dz_sign_and_skips_first") else 0
    for t in reversed(range(first, T)):
        xt, h_prev, z, r, hh, h_new = steps[t]
        dh = dH[t] + dh_next
        if bug == "forward_update_swapped":
            dhh = dh * z
            dz = dh * (hh - h_prev)
            dh_next = dh * (1 - z)
        else:
            if bug == "dh_scaled_in_place":
                dhh = dh
                dhh *= 1 - z
            else:
                dhh = dh * (1 - z)
            if bug in ("dz_sign", "dz_sign_and_skips_first"):
                dz = dh * (hh - h_prev)
            elif bug == "dz_with_new_h":
                dz = dh * (h_new - hh)
            else:
                dz = dh * (h_prev - hh)
            dh_next = dh * z
        if bug == "dhh_tanh_grad_twice":
            dhh = dhh * (1 - hh ** 2)
        dhh_raw = dhh * (1 - hh ** 2)
        dWh += dhh_raw @ xt.T
        dUh += dhh_raw @ (r * h_prev).T
        dbh += dhh_raw
        drh = (Uh if bug == "Uh_untransposed" else Uh.T) @ dhh_raw
        dr = drh * h_prev
        dh_next += drh * r
        if bug == "dz_sigmoid_grad_typo":
            dz_raw = dz * z * 1 - z
        else:
            dz_raw = dz * z * (1 - z)
        dr_raw = dr * z * (1 - z) if bug == "dr_with_z_grad" else dr * r * (1 - r)
        dWz += dz_raw @ xt.T
        dUz += h_prev @ dz_raw.T if bug == "dUz_outer_flipped" else dz_raw @ h_prev.T
        dbz += dz_raw
        dWr += dr_raw @ xt.T
        dUr += dr_raw @ h_prev.T
        dbr += dr_raw
        if bug == "dx_misses_reset_term":
            dx[t] = Wh.T @ dhh_raw + Wz.T @ dz_raw
        else:
            dx[t] = Wh.T @ dhh_raw + Wz.T @ dz_raw + Wr.T @ dr_raw
        if bug == "Ur_for_Uz":
            dh_next += Ur.T @ dz_raw + Ur.T @ dr_raw
        elif bug == "dh_next_overwritten":
            dh_next = Uz.T @ dz_raw + Ur.T @ dr_raw
        else:
            dh_next += Uz.T @ dz_raw + Ur.T @ dr_raw
        if bug == "clip_dh_next":
            dh_next = np.clip(dh_next, -1, 1)
    return dx, dh_next, dWz, dUz, dbz, dWr, dUr, dbr, dWh, dUh, dbh


def to_user(cell, p):
    w = {}
    b = p["bias_ih"] + p["bias_hh"]
    for k, gate in enumerate("rzh"):
        rows = slice(k * p["weight_hh"].shape[1], (k + 1) * p["weight_hh"].shape[1])
        w["W" + gate] = p["weight_ih"][rows].copy()
        w["U" + gate] = p["weight_hh"][rows].copy()
        w["b" + gate] = b[rows][:, None].copy()
    return {k: w[k] for k in ("Wz", "Uz", "bz", "Wr", "Ur", "br", "Wh", "Uh", "bh")}


def to_canonical(cell, grads, p):
    out = {}
    for name, q in (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db", "dbias_ih")):
        parts = [grads.get(name + gate) for gate in "rzh"]
        if all(g is not None for g in parts):
            out[q] = np.concatenate(parts)[:, 0] if name == "db" else np.concatenate(parts)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="column_gru", cells=("gru",), per_example=True,
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh):
        return gru_forward(x, h0, Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh, bug)

    def backward(dH, cache):
        return gru_backward(dH, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

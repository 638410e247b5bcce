"""A GRU written like Karpathy's min-char-rnn: one example at a time, column vectors, the
states kept in dicts keyed by t (hs[-1] the initial state), the weights per gate:

    z = sigmoid(Wz x + Uz h + bz)      r = sigmoid(Wr x + Ur h + br)          (H, 1) each
    hh = tanh(Wh x + bh + r * (Uh h + bhh))                                   (reset after, as torch)
    h' = z * h + (1 - z) * hh

Wz, Wr, Wh (H, D); Uz, Ur, Uh (H, H); bz, br, bh, bhh (H, 1). bz and br hold both of torch's
biases; bh is torch's input-side n bias and bhh its recurrent one (inside r * (...)).
Sixth held-out zoo: written without reading the diagnosis. "[own]" marks mistakes of the
writer's own invention (beyond issue 8's list).
"""

import numpy as np

import harness

BUGS = {
    "Uz_not_transposed": "weight_transposed",          # Uz @ dz_raw in dhnext (for Uz.T)
    "dUr_outer_reversed": "gradient_transposed",       # np.dot(hs[t-1], dr_raw.T)
    "Ur_for_Uz_in_carry": "wrong_weight",              # np.dot(Ur.T, dz_raw) in dhnext
    "dhnext_from_dUh": "gradient_for_weight",          # np.dot(dUh.T, dhh_in) in dhnext
    "dr_sigmoid_grad_sign": "wrong_sign",              # dr * r * (r - 1)
    "dr_from_hs_t": "wrong_time",                      # Uh h + bhh recomputed with hs[t] for hs[t-1]
    "dhh_tanh_grad_at_pre": "derivative_wrong_point",  # 1 - ahh[t] ** 2 (the cached pre-activation)
    "dr_tanh_grad": "derivative_wrong_function",       # dr_raw = dr * (1 - r ** 2)
    "dz_sigmoid_grad_twice": "derivative_twice",       # dz_raw = dz * z * (1 - z), then dz_raw * z * (1 - z) again
    "dh_plus_dhnext_discarded": "carry_dropped",       # [own] `dh + dhnext` as a statement: the sum thrown away
    "loop_from_1": "loop_skips_step",                  # reversed(range(1, T)): step 0 skipped
    "loop_forward": "loop_direction",                  # [own] for t in range(T)
    "clip_like_min_char_rnn": "gradient_clipped",      # [own] np.clip(dparam, -0.5, 0.5, out=dparam) before returning
    "forward_z_on_candidate": "forward_mistake",       # [own] h' = z * hh + (1 - z) * h (the other paper's convention); consistent
    "dr_sign_and_Uh_transposed": "unknown",            # two mistakes at once
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "Uz_not_transposed": "",
    "dUr_outer_reversed": "r",
    "Ur_for_Uz_in_carry": "",
    "dhnext_from_dUh": "",
    "dr_sigmoid_grad_sign": "r",
    "dr_from_hs_t": "r",
    "dhh_tanh_grad_at_pre": "rn",
    "dr_tanh_grad": "r",
    "dz_sigmoid_grad_twice": "z",
    "dh_plus_dhnext_discarded": "",
    "loop_from_1": "",
    "loop_forward": "",
    "clip_like_min_char_rnn": "zn",
    "forward_z_on_candidate": "",
    "dr_sign_and_Uh_transposed": "r",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(inputs, hprev, Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh, bhh, bug=None):
    """inputs (T, D, 1), hprev (H, 1) -> hs stacked (T, H, 1), cache."""
    xs, hs, zs, rs, hhs, ahh = {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    for t in range(len(inputs)):
        xs[t] = inputs[t]
        zs[t] = sigmoid(np.dot(Wz, xs[t]) + np.dot(Uz, hs[t - 1]) + bz)
        rs[t] = sigmoid(np.dot(Wr, xs[t]) + np.dot(Ur, hs[t - 1]) + br)
        ahh[t] = np.dot(Wh, xs[t]) + bh + rs[t] * (np.dot(Uh, hs[t - 1]) + bhh)
        hhs[t] = np.tanh(ahh[t])
        if bug == "forward_z_on_candidate":
            hs[t] = zs[t] * hhs[t] + (1 - zs[t]) * hs[t - 1]
        else:
            hs[t] = zs[t] * hs[t - 1] + (1 - zs[t]) * hhs[t]
    weights = (Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh, bhh)
    return np.stack([hs[t] for t in range(len(inputs))]), (xs, hs, zs, rs, hhs, ahh, weights)


def backward(dhs, cache, bug=None):
    xs, hs, zs, rs, hhs, ahh, weights = cache
    Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh, bhh = weights
    grads = [np.zeros_like(w) for w in weights]
    dWz, dUz, dbz, dWr, dUr, dbr, dWh, dUh, dbh, dbhh = grads
    T = len(xs)
    dxs = np.zeros((T,) + xs[0].shape, dtype=dhs.dtype)
    dhnext = np.zeros_like(hs[0])
    if bug == "loop_from_1":
        order = reversed(range(1, T))
    elif bug == "loop_forward":
        order = range(T)
    else:
        order = reversed(range(T))
    for t in order:
        dh = np.copy(dhs[t])
        if bug == "dh_plus_dhnext_discarded":
            dh + dhnext
        else:
            dh = dh + dhnext
        z, r, hh, hp = zs[t], rs[t], hhs[t], hs[t - 1]
        if bug == "forward_z_on_candidate":
            dhh, dz = dh * z, dh * (hh - hp)
        else:
            dhh, dz = dh * (1 - z), dh * (hp - hh)
        dhh_raw = dhh * (1 - ahh[t] ** 2) if bug == "dhh_tanh_grad_at_pre" else dhh * (1 - hh * hh)
        uh = np.dot(Uh, hs[t] if bug == "dr_from_hs_t" else hp) + bhh
        dr = dhh_raw * uh
        dhh_in = dhh_raw * r
        if bug == "dr_tanh_grad":
            dr_raw = dr * (1 - r ** 2)
        elif bug in ("dr_sigmoid_grad_sign", "dr_sign_and_Uh_transposed"):
            dr_raw = dr * r * (r - 1)
        else:
            dr_raw = dr * r * (1 - r)
        dz_raw = dz * z * (1 - z)
        if bug == "dz_sigmoid_grad_twice":
            dz_raw = dz_raw * z * (1 - z)
        dWz += np.dot(dz_raw, xs[t].T)
        dUz += np.dot(dz_raw, hp.T)
        dbz += dz_raw
        dWr += np.dot(dr_raw, xs[t].T)
        dUr += np.dot(hp, dr_raw.T) if bug == "dUr_outer_reversed" else np.dot(dr_raw, hp.T)
        dbr += dr_raw
        dWh += np.dot(dhh_raw, xs[t].T)
        dbh += dhh_raw
        dUh += np.dot(dhh_in, hp.T)
        dbhh += dhh_in
        dxs[t] = np.dot(Wz.T, dz_raw) + np.dot(Wr.T, dr_raw) + np.dot(Wh.T, dhh_raw)
        through_z = np.dot(Uz, dz_raw) if bug == "Uz_not_transposed" else np.dot(Uz.T, dz_raw)
        through_r = np.dot(Ur.T, dr_raw)
        if bug == "Ur_for_Uz_in_carry":
            through_z = np.dot(Ur.T, dz_raw)
        if bug == "dhnext_from_dUh":
            through_hh = np.dot(dUh.T, dhh_in)
        elif bug == "dr_sign_and_Uh_transposed":
            through_hh = np.dot(Uh, dhh_in)
        else:
            through_hh = np.dot(Uh.T, dhh_in)
        direct = dh * (1 - z) if bug == "forward_z_on_candidate" else dh * z
        dhnext = direct + through_z + through_r + through_hh
    grads = [dWz, dUz, dbz, dWr, dUr, dbr, dWh, dUh, dbh, dbhh]
    if bug == "clip_like_min_char_rnn":
        for dparam in grads:
            np.clip(dparam, -0.5, 0.5, out=dparam)
    return (dxs, dhnext, *grads)


def to_user(cell, p):
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    bir, biz, bin_ = np.split(p["bias_ih"], 3)
    bhr, bhz, bhn = np.split(p["bias_hh"], 3)
    return {"Wz": Wz, "Uz": Uz, "bz": (biz + bhz)[:, None], "Wr": Wr, "Ur": Ur, "br": (bir + bhr)[:, None],
            "Wh": Wn, "Uh": Un, "bh": bin_[:, None], "bhh": bhn[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if all(k in g for k in ("dWr", "dWz", "dWh")):
        out["dweight_ih"] = np.concatenate([g["dWr"], g["dWz"], g["dWh"]])
    if all(k in g for k in ("dUr", "dUz", "dUh")):
        out["dweight_hh"] = np.concatenate([g["dUr"], g["dUz"], g["dUh"]])
    if all(k in g for k in ("dbr", "dbz", "dbh")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbh"]])[:, 0]
        if "dbhh" in g:
            out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g["dbhh"]])[:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="minchar_gru", cells=("gru",), per_example=True,
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(inputs, hprev, *weights):
        return forward(inputs, hprev, *weights, bug=bug)

    def bwd(dhs, cache):
        return backward(dhs, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

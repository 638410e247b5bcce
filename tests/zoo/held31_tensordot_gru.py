"""A GRU with one kernel K (D+H, 3, H) whose middle axis is the gate (z, r, h~ in that
order) and a bias B (3, H), written by an engineer fond of np.tensordot: the input
projections of all steps are taken at once, the reset is applied before the recurrent
product (reset_after=False), and the weight gradients are taken after the loop from the
stored pre-activation gradients dP (N, T, 3, H):

    P = tensordot(x, K[:D]) + B                       (N, T, 3, H)
    z, r = s(P[:, t, :2] + tensordot(h, K[D:, :2]))    h~ = tanh(P[:, t, 2] + (r h) K[D:, 2])
    h_t = z h_(t-1) + (1 - z) h~

Thirty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "carry_tensordot_axes_transposed": "weight_transposed",  # tensordot(dP_zr, Kh_zr, axes=([1, 2], [1, 0])): Kh^T's
                                                             # blocks
    "drh_through_r_block": "wrong_weight",               # drh = dP_h @ Kh[:, 1].T (r's block for h~'s)
    "z_sign_convention": "wrong_sign",                   # dP_z = g * (h~ - h_prev) * z (1 - z)
    "candidate_derivative_at_h": "derivative_wrong_point",  # dP_h = g (1 - z)(1 - h_t**2): h_t for h~ (also
                                                            # wrong_value)
    "direct_path_dropped": "term_dropped",               # carry without g * z
    "dB_mean": "reduction_scaled",                       # dB = dP.mean(axis=(0, 1))
    "one_minus_z_in_place": "inplace_corruption",        # h = h * z; z -= 1; z *= -1 (z is a view): the cached z is 1 -
                                                         # z
    "loop_stops_at_one": "loop_skips_step",              # for t in range(T - 1, 0, -1)
    "dP_blocks_r_z": "gate_order",                       # dr written into dP[:, t, 0] and dz into dP[:, t, 1]
    "rh_carry_with_z": "wrong_value",                    # carry gets drh * z for drh * r
    "forward_candidate_bias_twice": "forward_mistake",   # h~ = tanh(P[:, t, 2] + B[2] + ...): B's h~ row twice;
                                                         # backward follows
    "r_derivative_missing": "derivative_missing",        # dP_r = drh * h_prev
    "dKh_candidate_transposed": "gradient_transposed",   # dKh[:, 2] = tensordot(dP_h, RH, ...) (H_out, H_in)
    "z_sign_and_dB_mean": "unknown",                     # two mistakes: z_sign_convention and dB_mean
    "dB_doubled": "unknown",                             # dB = 2 * dP.sum(...) (counted once for b_ih, once for b_hh)
}

TOUCHES = {                          # computed: blind_index.touched_gates(module, bug)
    "carry_tensordot_axes_transposed": "",
    "drh_through_r_block": "r",
    "z_sign_convention": "z",
    "candidate_derivative_at_h": "rn",
    "direct_path_dropped": "",
    "dB_mean": "",
    "one_minus_z_in_place": "rn",
    "loop_stops_at_one": "",
    "dP_blocks_r_z": "rz",
    "rh_carry_with_z": "",
    "forward_candidate_bias_twice": "",
    "r_derivative_missing": "r",
    "dKh_candidate_transposed": "n",
    "z_sign_and_dB_mean": "",
    "dB_doubled": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, K, B, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    Kx, Kh = K[:D], K[D:]
    P = np.tensordot(x, Kx, axes=([2], [0])) + B                          # (N, T, 3, H)
    hs, Z, R, C = (np.zeros((N, T, H), dtype=x.dtype) for _ in range(4))
    h = h0
    for t in range(T):
        zr = sigmoid(P[:, t, :2] + np.tensordot(h, Kh[:, :2], axes=([1], [0])))   # (N, 2, H)
        z, r = zr[:, 0], zr[:, 1]
        a_h = P[:, t, 2] + (r * h) @ Kh[:, 2]
        if bug == "forward_candidate_bias_twice":
            a_h = a_h + B[2]
        hc = np.tanh(a_h)
        if bug == "one_minus_z_in_place":
            h = h * z
            z -= 1
            z *= -1
            h += z * hc
        else:
            h = z * h + (1 - z) * hc
        hs[:, t], Z[:, t], R[:, t], C[:, t] = h, z, r, hc
    return hs, (x, h0, K, hs, Z, R, C)


def gru_backward(dh, cache, bug=None):
    x, h0, K, hs, Z, R, C = cache
    N, T, D = x.shape
    H = h0.shape[1]
    Kx, Kh = K[:D], K[D:]
    dP = np.zeros((N, T, 3, H), dtype=dh.dtype)
    HP, RH = np.zeros((N, T, H), dtype=dh.dtype), np.zeros((N, T, H), dtype=dh.dtype)
    carry = np.zeros_like(h0)
    last = 0 if bug == "loop_stops_at_one" else -1
    for t in range(T - 1, last, -1):
        hp = hs[:, t - 1] if t > 0 else h0
        z, r, hc = Z[:, t], R[:, t], C[:, t]
        g = dh[:, t] + carry
        if bug == "candidate_derivative_at_h":
            dP_h = g * (1 - z) * (1 - hs[:, t] ** 2)
        else:
            dP_h = g * (1 - z) * (1 - hc ** 2)
        drh = dP_h @ Kh[:, 1 if bug == "drh_through_r_block" else 2].T
        dP_r = drh * hp if bug == "r_derivative_missing" else drh * hp * r * (1 - r)
        if bug in ("z_sign_convention", "z_sign_and_dB_mean"):
            dP_z = g * (hc - hp) * z * (1 - z)
        else:
            dP_z = g * (hp - hc) * z * (1 - z)
        dP[:, t, 2] = dP_h
        if bug == "dP_blocks_r_z":
            dP[:, t, 0], dP[:, t, 1] = dP_r, dP_z
        else:
            dP[:, t, 0], dP[:, t, 1] = dP_z, dP_r
        axes = ([1, 2], [1, 0]) if bug == "carry_tensordot_axes_transposed" else ([1, 2], [1, 2])
        carry = drh * (z if bug == "rh_carry_with_z" else r) + np.tensordot(dP[:, t, :2], Kh[:, :2], axes=axes)
        if bug != "direct_path_dropped":
            carry = carry + g * z
        HP[:, t] = hp
        RH[:, t] = r * hp
    dKx = np.tensordot(x, dP, axes=([0, 1], [0, 1]))                     # (D, 3, H)
    dKh = np.tensordot(HP, dP, axes=([0, 1], [0, 1]))                    # (H, 3, H)
    if bug == "dKh_candidate_transposed":
        dKh[:, 2] = np.tensordot(dP[:, :, 2], RH, axes=([0, 1], [0, 1]))
    else:
        dKh[:, 2] = np.tensordot(RH, dP[:, :, 2], axes=([0, 1], [0, 1]))
    dK = np.concatenate([dKx, dKh], axis=0)
    if bug in ("dB_mean", "z_sign_and_dB_mean"):
        dB = dP.mean(axis=(0, 1))
    elif bug == "dB_doubled":
        dB = 2 * dP.sum(axis=(0, 1))
    elif bug == "forward_candidate_bias_twice":
        dB = dP.sum(axis=(0, 1))
        dB[2] *= 2
    else:
        dB = dP.sum(axis=(0, 1))
    dx = np.tensordot(dP, Kx, axes=([2, 3], [1, 2]))                     # (N, T, D)
    return dx, carry, dK, dB


USER = (1, 0, 2)                                   # my blocks z, r, h~ are canonical blocks 1, 0, 2 (r, z, n)


def to_user(cell, p):
    Wih, Whh = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    b = np.split(p["bias_ih"] + p["bias_hh"], 3)
    K = np.stack([np.concatenate([Wih[k].T, Whh[k].T], axis=0) for k in USER], axis=1)     # (D+H, 3, H)
    return {"K": K, "B": np.stack([b[k] for k in USER])}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    back = [USER.index(k) for k in range(3)]       # canonical block k sits at my index back[k]
    out = {}
    if "dK" in grads:
        dK = grads["dK"]
        out["dweight_ih"] = np.concatenate([dK[:D, j].T for j in back])
        out["dweight_hh"] = np.concatenate([dK[D:, j].T for j in back])
    if "dB" in grads:
        out["dbias_ih"] = np.concatenate([grads["dB"][j] for j in back])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tensordot_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, K, B):
        return gru_forward(x, h0, K, B, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

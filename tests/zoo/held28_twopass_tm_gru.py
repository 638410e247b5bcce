"""A GRU with the reset gate applied before the recurrent product (reset_after=False, as TF1's
GRUCell), time-major (x (T, N, D), h (T, N, H)), parameters in a dict {"W" (D, 3H), "U"
(H, 3H), "b" (3H,)} with the blocks in the order z, r, h (h the candidate), and
next_h = z * h + (1 - z) * hh. The input projection of the whole sequence is one einsum
before the loop; the backward loop only carries the state and stores each step's
pre-activation gradients in one (T, N, 3H) array, and every weight gradient is an einsum
over (T, N) after the loop. Twenty-eighth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_sign_convention": "wrong_sign",                  # dz = g * (hh - h_prev) * z * (1 - z): the other convention's sign
    "dr_with_hh": "wrong_value",                         # dr = drh * hh * r * (1 - r) (hh read for h_prev)
    "drh_Uh_untransposed": "weight_transposed",          # drh = dhh @ Uh
    "carry_drh_without_r": "term_dropped",               # carry += drh (the factor r left out)
    "carry_dz_through_Ur": "wrong_weight",               # carry += dz @ Ur.T (r's block for z's)
    "dU_h_block_without_r": "term_dropped",              # dU's h block from h_prev instead of r * h_prev
    "dhh_no_tanh_grad": "derivative_missing",            # dhh = g * (1 - z)
    "dz_sigmoid_grad_of_r": "derivative_wrong_point",    # dz = g * (h_prev - hh) * r * (1 - r)
    "reversed_range_T_minus_1": "loop_skips_step",       # reversed(range(T - 1)): the last step never visited
    "db_mean_over_time": "reduction_scaled",             # db = dA.sum(axis=1).mean(axis=0)
    "h_updated_in_place": "inplace_corruption",          # h = h0.copy(); h *= z; h += (1 - z) * hh: the cached h_prev changes
    "dA_r_before_z": "gate_order",                       # dA[t] = [dr, dz, dhh] while W, U, b are z, r, h
    "carry_norm_clipped": "gradient_clipped",            # carry *= min(1, 0.1 / ||carry||) each step
    "forward_reset_after_product": "forward_mistake",    # hh = tanh(xw_h + r * (h @ Uh)) (reset after); backward consistent
    "dhh_unsquared_and_no_direct_path": "unknown",       # two mistakes: (1 - hh) for (1 - hh**2) and carry without g * z
    "Uh_untransposed_and_dU_h_without_r": "unknown",     # two mistakes: drh = dhh @ Uh and dU's h block from h_prev
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "dz_sign_convention": "z",
    "dr_with_hh": "r",
    "drh_Uh_untransposed": "r",
    "carry_drh_without_r": "",
    "carry_dz_through_Ur": "",
    "dU_h_block_without_r": "n",
    "dhh_no_tanh_grad": "rn",
    "dz_sigmoid_grad_of_r": "z",
    "reversed_range_T_minus_1": "",
    "db_mean_over_time": "",
    "h_updated_in_place": "",
    "dA_r_before_z": "rz",
    "carry_norm_clipped": "",
    "forward_reset_after_product": "",
    "dhh_unsquared_and_no_direct_path": "rn",
    "Uh_untransposed_and_dU_h_without_r": "rn",
}

ORDER = "zrn"                                            # the user's z, r, h blocks, h being the candidate n
sig = lambda v: 1 / (1 + np.exp(-v))                     # noqa: E731


def gru_forward(x, h0, params, bug=None):
    W, U, b = params["W"], params["U"], params["b"]
    H = h0.shape[1]
    XW = np.einsum("tnd,dk->tnk", x, W) + b
    Uz, Ur, Uh = U[:, :H], U[:, H:2 * H], U[:, 2 * H:]
    h = h0.copy()
    hs, rec = [], []
    for xw in XW:
        z = sig(xw[:, :H] + h @ Uz)
        r = sig(xw[:, H:2 * H] + h @ Ur)
        if bug == "forward_reset_after_product":
            hh = np.tanh(xw[:, 2 * H:] + r * (h @ Uh))
        else:
            hh = np.tanh(xw[:, 2 * H:] + (r * h) @ Uh)
        rec.append((h, z, r, hh))
        if bug == "h_updated_in_place":
            h *= z
            h += (1 - z) * hh
        else:
            h = z * h + (1 - z) * hh
        hs.append(h.copy())
    return np.array(hs), {"x": x, "rec": rec, "W": W, "U": U}


def gru_backward(dh, cache, bug=None):
    x, rec, W, U = cache["x"], cache["rec"], cache["W"], cache["U"]
    T, N, H = dh.shape
    Uz, Ur, Uh = U[:, :H], U[:, H:2 * H], U[:, 2 * H:]
    dA = np.zeros((T, N, 3 * H), dh.dtype)
    carry = np.zeros((N, H), dh.dtype)
    for t in reversed(range(T - 1 if bug == "reversed_range_T_minus_1" else T)):
        h_prev, z, r, hh = rec[t]
        g = dh[t] + carry
        zgrad = r * (1 - r) if bug == "dz_sigmoid_grad_of_r" else z * (1 - z)
        dz = g * ((hh - h_prev) if bug == "dz_sign_convention" else (h_prev - hh)) * zgrad
        if bug == "dhh_no_tanh_grad":
            dhh = g * (1 - z)
        elif bug == "dhh_unsquared_and_no_direct_path":
            dhh = g * (1 - z) * (1 - hh)
        else:
            dhh = g * (1 - z) * (1 - hh ** 2)
        if bug == "forward_reset_after_product":
            dr = dhh * (h_prev @ Uh) * r * (1 - r)
            carry_h = (dhh * r) @ Uh.T
        else:
            drh = dhh @ (Uh if bug in ("drh_Uh_untransposed", "Uh_untransposed_and_dU_h_without_r") else Uh.T)
            dr = drh * (hh if bug == "dr_with_hh" else h_prev) * r * (1 - r)
            carry_h = drh if bug == "carry_drh_without_r" else drh * r
        dA[t] = np.concatenate([dr, dz, dhh] if bug == "dA_r_before_z" else [dz, dr, dhh], axis=1)
        carry = carry_h + dz @ (Ur.T if bug == "carry_dz_through_Ur" else Uz.T) + dr @ Ur.T
        if bug != "dhh_unsquared_and_no_direct_path":
            carry = carry + g * z
        if bug == "carry_norm_clipped":
            carry = carry * min(1.0, 0.1 / np.linalg.norm(carry))
    Hprev = np.array([rc[0] for rc in rec])
    R = np.array([rc[2] for rc in rec])
    hh_in = Hprev if bug in ("dU_h_block_without_r", "forward_reset_after_product",
                             "Uh_untransposed_and_dU_h_without_r") else R * Hprev
    dA_h = dA[..., 2 * H:] * R if bug == "forward_reset_after_product" else dA[..., 2 * H:]
    dW = np.einsum("tnd,tnk->dk", x, dA)
    dU = np.concatenate([np.einsum("tni,tnk->ik", Hprev, dA[..., :2 * H]),
                         np.einsum("tni,tnk->ik", hh_in, dA_h)], axis=1)
    db = dA.sum(axis=1).mean(axis=0) if bug == "db_mean_over_time" else dA.sum(axis=(0, 1))
    return {"dx": dA @ W.T, "dh0": carry, "dW": dW, "dU": dU, "db": db}


def _to(a, src, dst, axis):
    parts = np.split(a, 3, axis=axis)
    return np.concatenate([parts[src.index(q)] for q in dst], axis=axis)


def to_user(cell, p):
    return {"W": _to(p["weight_ih"], "rzn", ORDER, 0).T, "U": _to(p["weight_hh"], "rzn", ORDER, 0).T,
            "b": _to(p["bias_ih"] + p["bias_hh"], "rzn", ORDER, 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = _to(grads["dW"].T, ORDER, "rzn", 0)
    if "dU" in grads:
        out["dweight_hh"] = _to(grads["dU"].T, ORDER, "rzn", 0)
    if "db" in grads:
        out["dbias_ih"] = _to(grads["db"], ORDER, "rzn", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="twopass_tm_gru", cells=("gru",), axes="TND",
                               weights_as="dict", gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU that projects the whole input sequence at once before its loop, in Keras's kernel
layout and gate order (z, r, h) with the reset applied after the recurrent product
(reset_after=True) and Keras's (2, 3H) bias, batch-major x (N, T, D) (a custom layout):

    A_x = einsum('ntd,dk->tnk', x, W_x) + bias[0]           (T, N, 3H), computed once
    A_h = h @ U + bias[1]                                    (N, 3H), each step
    z = s(A_x[t]_z + A_h_z)   r = s(A_x[t]_r + A_h_r)   hh = tanh(A_x[t]_h + r * A_h_h)
    h_t = z * h_(t-1) + (1 - z) * hh

W_x (D, 3H), U (H, 3H). The backward stores every step's dA_x in a stacked (T, N, 3H)
array and forms dW_x, dbias[0] and dx from it after the loop. Sixteenth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dA_x_stored_one_slot_early": "wrong_time",          # dA_x[t - 1] = ... (x_(t+1) paired with step t's gradient)
    "dz_with_h_t": "wrong_time",                         # dz = dh * (h_t - hh) for h_(t-1) - hh
    "backward_blocks_r_z": "gate_order",                 # dA = [dr_pre, dz_pre, dhh_pre]: r, z order in the backward
    "dr_from_A_x_h": "wrong_value",                      # dr = dhh_pre * A_x[t]_h (the input part) for A_h_h
    "dA_h_h_without_r": "term_dropped",                  # dA_h h block = dhh_pre: the factor r left out
    "dh_prev_through_dU": "gradient_for_weight",         # dA_h @ dU.T (the running gradient) in dh_prev
    "dz_pre_no_sigmoid_grad": "derivative_missing",      # dz_pre = dz
    "dhh_tanh_grad_at_preact": "derivative_wrong_point",  # 1 - a_h ** 2 with a_h the pre-activation of hh
    "dbias_h_over_N": "reduction_scaled",                # dbias[1] += dA_h.mean(axis=0)
    "loop_skips_first": "loop_skips_step",               # for t in reversed(range(1, T))
    "dA_x_clipped": "gradient_clipped",                  # np.clip(dA_x, -0.05, 0.05) before dW_x is formed
    "forward_z_ignores_h": "forward_mistake",            # z = s(A_x[t]_z): the recurrent z term left out; consistent
    "dz_sign_and_dbias_h_mean": "unknown",               # dz = dh * (hh - h_prev) and dbias[1] mean: two mistakes
    "dr_pre_tanh_grad_and_no_z_carry": "unknown",        # dr * (1 - r ** 2) and dh_next without d * z: two
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dA_x_stored_one_slot_early": "",
    "dz_with_h_t": "z",
    "backward_blocks_r_z": "rz",
    "dr_from_A_x_h": "r",
    "dA_h_h_without_r": "n",
    "dh_prev_through_dU": "",
    "dz_pre_no_sigmoid_grad": "z",
    "dhh_tanh_grad_at_preact": "rn",
    "dbias_h_over_N": "",
    "loop_skips_first": "",
    "dA_x_clipped": "",
    "forward_z_ignores_h": "",
    "dz_sign_and_dbias_h_mean": "",
    "dr_pre_tanh_grad_and_no_z_carry": "r",
}

USER = [1, 0, 2]        # canonical blocks r, z, n -> Keras z, r, h (the swap is its own inverse)


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _zrh(a, axis):
    parts = np.split(np.asarray(a), 3, axis=axis)
    return np.concatenate([parts[k] for k in USER], axis=axis)


def to_user(cell, p):
    return {"W_x": _zrh(p["weight_ih"], 0).T, "U": _zrh(p["weight_hh"], 0).T,
            "bias": np.stack([_zrh(p["bias_ih"], 0), _zrh(p["bias_hh"], 0)])}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_x" in grads:
        out["dweight_ih"] = _zrh(grads["dW_x"].T, 0)
    if "dU" in grads:
        out["dweight_hh"] = _zrh(grads["dU"].T, 0)
    if "dbias" in grads:
        out["dbias_ih"], out["dbias_hh"] = _zrh(grads["dbias"][0], 0), _zrh(grads["dbias"][1], 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="preproj_keras_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    z_no_h = bug == "forward_z_ignores_h"

    def forward(x, h0, W_x, U, bias):
        H = U.shape[0]
        A_x = np.einsum("ntd,dk->tnk", x, W_x) + bias[0]
        h, hs, steps = h0, [], []
        for t in range(A_x.shape[0]):
            A_h = h @ U + bias[1]
            z = sigmoid(A_x[t][:, :H] + (0 if z_no_h else A_h[:, :H]))
            r = sigmoid(A_x[t][:, H:2 * H] + A_h[:, H:2 * H])
            a_h = A_x[t][:, 2 * H:] + r * A_h[:, 2 * H:]
            hh = np.tanh(a_h)
            h_new = z * h + (1 - z) * hh
            steps.append((h, A_h, z, r, a_h, hh, h_new))
            h = h_new
            hs.append(h)
        return np.stack(hs, axis=1), (x, A_x, steps, W_x, U)

    def backward(dh, cache):
        x, A_x, steps, W_x, U = cache
        N, T, H = dh.shape
        dA_x = np.zeros_like(A_x)
        dU, dbias_h = np.zeros_like(U), np.zeros(3 * H, dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(1 if bug == "loop_skips_first" else 0, T)):
            h_prev, A_h, z, r, a_h, hh, h_t = steps[t]
            d = dh[:, t] + dh_next
            if bug == "dz_with_h_t":
                dz = d * (h_t - hh)
            elif bug == "dz_sign_and_dbias_h_mean":
                dz = d * (hh - h_prev)
            else:
                dz = d * (h_prev - hh)
            dhh = d * (1 - z)
            dhh_pre = dhh * (1 - a_h ** 2) if bug == "dhh_tanh_grad_at_preact" else dhh * (1 - hh ** 2)
            dr = dhh_pre * (A_x[t][:, 2 * H:] if bug == "dr_from_A_x_h" else A_h[:, 2 * H:])
            dr_pre = dr * (1 - r ** 2) if bug == "dr_pre_tanh_grad_and_no_z_carry" else dr * r * (1 - r)
            dz_pre = dz if bug == "dz_pre_no_sigmoid_grad" else dz * z * (1 - z)
            blocks = [dr_pre, dz_pre, dhh_pre] if bug == "backward_blocks_r_z" else [dz_pre, dr_pre, dhh_pre]
            dA = np.concatenate(blocks, axis=1)
            dA_x[t - 1 if bug == "dA_x_stored_one_slot_early" else t] = dA
            dA_h = dA.copy()
            if z_no_h:
                dA_h[:, :H] = 0
            if bug != "dA_h_h_without_r":
                dA_h[:, 2 * H:] *= r
            dU += h_prev.T @ dA_h
            dbias_h += dA_h.mean(axis=0) if bug in ("dbias_h_over_N", "dz_sign_and_dbias_h_mean") else dA_h.sum(axis=0)
            dh_next = dA_h @ (dU.T if bug == "dh_prev_through_dU" else U.T)
            if bug != "dr_pre_tanh_grad_and_no_z_carry":
                dh_next = dh_next + d * z
        if bug == "dA_x_clipped":
            dA_x = np.clip(dA_x, -0.05, 0.05)
        dW_x = np.einsum("ntd,tnk->dk", x, dA_x)
        dbias = np.stack([dA_x.sum(axis=(0, 1)), dbias_h])
        dx = np.einsum("tnk,dk->ntd", dA_x, W_x)
        return dx, dh_next, dW_x, dU, dbias

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

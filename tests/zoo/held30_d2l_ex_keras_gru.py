"""A GRU written for a d2l exercise ("make your scratch GRU load Keras weights, then write
its backward"): time-major x (T, N, D) as d2l's ``inputs``, ``params`` a list
[kernel (D, 3H), recurrent_kernel (H, 3H), bias (2, 3H)] in Keras's block order z, r, h,
reset_after=True (Keras's default: bias[1] and the recurrent product inside r * (...)),
a state tuple ``(H,)`` as d2l keeps it, and the outputs collected in a list:

    xz, xr, xh = split(x_t @ kernel + bias[0]);  hz, hr, hh = split(H @ recurrent_kernel + bias[1])
    z = s(xz + hz);  r = s(xr + hr);  h~ = tanh(xh + r * hh);  H = z * H + (1 - z) * h~

Thirtieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "dcand_grad_at_preact": "derivative_wrong_point",   # dah = dcand * (1 - a_h**2) (the pre-activation for h~)
    "dar_no_sigmoid_grad": "derivative_missing",        # dar = dr
    "daz_precedence_typo": "derivative_miswritten",     # daz = dz * z * 1 - z (for z * (1 - z))
    "dhh_without_r": "term_dropped",                    # dhh = dah (the factor r left out)
    "rec_z_block_for_r": "wrong_weight",                # dhr carried back through recurrent_kernel's z block
    "dH_from_drec": "gradient_for_weight",              # dH_prev = d_rec_part @ grads[1].T
    "upstream_overwritten": "carry_overwrites",         # dY[t - 1] = dH_prev (= for +=)
    "dbias_mean": "reduction_scaled",                   # dbias rows from np.mean over the batch
    "dx_without_h_block": "term_dropped",               # dx = dgx[:, :2H] @ kernel[:, :2H].T (the h~ block left out)
    "clip_carry_norm": "gradient_clipped",              # dH_prev rescaled to norm 1 when larger
    "direct_path_one_minus_z": "wrong_value",           # dH_prev = dH * (1 - z) + ... (1 - z read for z)
    "forward_bias1_h_twice": "forward_mistake",         # h~ = tanh(xh + r * hh + bias[1]_h): the bias added twice; consistent
    "hh_proj_in_place": "inplace_corruption",           # rhh = hh; rhh *= r: the cached hh becomes r * hh
    "rec_untransposed_h_and_dz_sign": "unknown",        # two at once
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "dcand_grad_at_preact": "rn",
    "dar_no_sigmoid_grad": "r",
    "daz_precedence_typo": "z",
    "dhh_without_r": "n",
    "rec_z_block_for_r": "",
    "dH_from_drec": "",
    "upstream_overwritten": "",
    "dbias_mean": "",
    "dx_without_h_block": "",
    "clip_carry_norm": "",
    "direct_path_one_minus_z": "",
    "forward_bias1_h_twice": "",
    "hh_proj_in_place": "r",
    "rec_untransposed_h_and_dz_sign": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru(inputs, state, params, bug=None):
    kernel, rec, bias = params
    H, = state
    Hn = H.shape[1]
    outputs, tape = [], []
    for X in inputs:
        xz, xr, xh = np.split(X @ kernel + bias[0], 3, axis=1)
        hz, hr, hh = np.split(H @ rec + bias[1], 3, axis=1)
        z = sigmoid(xz + hz)
        r = sigmoid(xr + hr)
        if bug == "hh_proj_in_place":
            rhh = hh
            rhh *= r
        else:
            rhh = r * hh
        a_h = xh + rhh
        if bug == "forward_bias1_h_twice":
            a_h = a_h + bias[1][2 * Hn:]
        cand = np.tanh(a_h)
        H_new = z * H + (1 - z) * cand
        tape.append((X, H, z, r, hh, cand, a_h))
        outputs.append(H_new)
        H = H_new
    return np.stack(outputs), (tape, params)


def gru_backward(dY, cache, bug=None):
    tape, (kernel, rec, bias) = cache
    dY = dY.copy()
    T, N, Hn = dY.shape
    grads = [np.zeros_like(kernel), np.zeros_like(rec), np.zeros_like(bias)]
    dX = np.zeros((T, N, kernel.shape[0]), dtype=dY.dtype)
    dH_prev = np.zeros((N, Hn), dtype=dY.dtype)
    for t in reversed(range(T)):
        X, H_prev, z, r, hh, cand, a_h = tape[t]
        dH = dY[t]
        dcand = dH * (1 - z)
        dz = dH * (cand - H_prev) if bug == "rec_untransposed_h_and_dz_sign" else dH * (H_prev - cand)
        dah = dcand * (1 - a_h ** 2) if bug == "dcand_grad_at_preact" else dcand * (1 - cand ** 2)
        dr = dah * hh
        dhh = dah if bug == "dhh_without_r" else dah * r
        dar = dr if bug == "dar_no_sigmoid_grad" else dr * r * (1 - r)
        daz = dz * z * 1 - z if bug == "daz_precedence_typo" else dz * z * (1 - z)
        dgx = np.concatenate([daz, dar, dah], axis=1)
        dgh = np.concatenate([daz, dar, dhh], axis=1)
        grads[0] += X.T @ dgx
        grads[1] += H_prev.T @ dgh
        if bug == "dbias_mean":
            grads[2][0] += dgx.mean(axis=0)
            grads[2][1] += dgh.mean(axis=0)
        else:
            grads[2][0] += dgx.sum(axis=0)
            grads[2][1] += dgh.sum(axis=0)
            if bug == "forward_bias1_h_twice":
                grads[2][1, 2 * Hn:] += dah.sum(axis=0)
        if bug == "dx_without_h_block":
            dX[t] = dgx[:, :2 * Hn] @ kernel[:, :2 * Hn].T
        else:
            dX[t] = dgx @ kernel.T
        W = grads[1] if bug == "dH_from_drec" else rec
        W_r = W[:, :Hn] if bug == "rec_z_block_for_r" else W[:, Hn:2 * Hn]
        W_h = W[:, 2 * Hn:]
        back_h = dhh @ W_h if bug == "rec_untransposed_h_and_dz_sign" else dhh @ W_h.T
        direct = dH * (1 - z) if bug == "direct_path_one_minus_z" else dH * z
        dH_prev = direct + daz @ W[:, :Hn].T + dar @ W_r.T + back_h
        if bug == "clip_carry_norm":
            norm = np.linalg.norm(dH_prev)
            if norm > 1:
                dH_prev = dH_prev / norm
        if t > 0:
            if bug == "upstream_overwritten":
                dY[t - 1] = dH_prev
            else:
                dY[t - 1] += dH_prev
    return (dX, dH_prev, *grads)


ORDER = "zrn"


def to_user(cell, p):
    return {"kernel": reorder(p["weight_ih"], "rzn", ORDER, 0).T,
            "recurrent_kernel": reorder(p["weight_hh"], "rzn", ORDER, 0).T,
            "bias": np.stack([reorder(p["bias_ih"], "rzn", ORDER, 0), reorder(p["bias_hh"], "rzn", ORDER, 0)])}


def to_canonical(cell, g, p):
    out = {}
    if "dkernel" in g:
        out["dweight_ih"] = reorder(g["dkernel"].T, ORDER, "rzn", 0)
    if "drecurrent_kernel" in g:
        out["dweight_hh"] = reorder(g["drecurrent_kernel"].T, ORDER, "rzn", 0)
    if "dbias" in g:
        out["dbias_ih"] = reorder(g["dbias"][0], ORDER, "rzn", 0)
        out["dbias_hh"] = reorder(g["dbias"][1], ORDER, "rzn", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="d2l_keras_gru", cells=("gru",), axes="TND",
                               weights_as="list", gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda inputs, h0, params: gru(inputs, (h0,), params, bug), lambda dY, cache: gru_backward(dY, cache, bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

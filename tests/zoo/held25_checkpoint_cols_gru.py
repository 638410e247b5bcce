"""A checkpointing GRU in column vectors, time-major (x (T, D, N): one column per example):
the forward keeps only the hidden states hs (T+1, H, N); the backward calls the same cell()
again on (x_t, h_(t-1)) to get z, r and n back before differentiating the step. Reset before
the recurrent product (Cho's / TF1's form); the weights come as one list, W (H, D), U (H, H),
b (H, 1), applied on the left:

    params = [Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh]
    z = s(Wz x + Uz h + bz)   r = s(Wr x + Ur h + br)   n = tanh(Wh x + Uh (r * h) + bh)
    h_t = z * h_(t-1) + (1 - z) * n

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "recompute_r_with_Uz": "wrong_weight",          # the backward's recompute: r = s(Wr x + Uz h + br)
    "recompute_from_h_t": "wrong_time",             # cell(x_t, hs[t + 1]) recomputed from h_t for h_(t-1)
    "dUh_without_r": "term_dropped",                # dUh += da_n @ h_prev.T (r * h_prev's r dropped)
    "Uh_untransposed": "weight_transposed",         # drh = Uh @ da_n
    "da_z_tanh_grad": "derivative_wrong_function",  # da_z = dz * (1 - z ** 2)
    "da_n_no_grad": "derivative_missing",           # da_n = dn
    "da_n_square_typo": "derivative_miswritten",    # da_n = dn * (1 - n) ** 2 for dn * (1 - n ** 2)
    "da_r_sign": "wrong_sign",                      # da_r = dr * r * (r - 1)
    "dUz_transposed": "gradient_transposed",        # dUz += h_prev @ da_z.T
    "loop_skips_first": "loop_skips_step",          # for t in range(T - 1, 0, -1)
    "db_mean_over_batch": "reduction_scaled",       # db += da.mean(axis=1, keepdims=True)
    "clip_norm_per_step": "gradient_clipped",       # dh_t rescaled to norm 0.1 when larger
    "fwd_reset_after": "forward_mistake",           # n = tanh(Wh x + r * (Uh h) + bh); backward consistent
    "da_z_hard_sigmoid_slope": "unknown",           # da_z = dz * 0.2 (an arbitrary constant for s')
    "Uh_untransposed_and_da_r_sign": "unknown",     # two at once: Uh_untransposed and da_r_sign
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "recompute_r_with_Uz": "",
    "recompute_from_h_t": "",
    "dUh_without_r": "n",
    "Uh_untransposed": "r",
    "da_z_tanh_grad": "z",
    "da_n_no_grad": "rn",
    "da_n_square_typo": "rn",
    "da_r_sign": "r",
    "dUz_transposed": "z",
    "loop_skips_first": "",
    "db_mean_over_batch": "",
    "clip_norm_per_step": "",
    "fwd_reset_after": "",
    "da_z_hard_sigmoid_slope": "z",
    "Uh_untransposed_and_da_r_sign": "r",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def cell(x_t, h, params, bug=None, in_backward=False):
    Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh = params
    z = sigmoid(Wz @ x_t + Uz @ h + bz)
    r = sigmoid(Wr @ x_t + (Uz if in_backward and bug == "recompute_r_with_Uz" else Ur) @ h + br)
    if bug == "fwd_reset_after":
        n = np.tanh(Wh @ x_t + r * (Uh @ h) + bh)
    else:
        n = np.tanh(Wh @ x_t + Uh @ (r * h) + bh)
    return z, r, n


def gru_forward(x, h0, params, bug=None):
    T = x.shape[0]
    hs = np.empty((T + 1,) + h0.shape, dtype=x.dtype)
    hs[0] = h0
    for t in range(T):
        z, r, n = cell(x[t], hs[t], params, bug)
        hs[t + 1] = z * hs[t] + (1 - z) * n
    return hs[1:].copy(), (x, hs, params)


def gru_backward(dh, cache, bug=None):
    x, hs, params = cache
    Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh = params
    T = x.shape[0]
    dWz, dWr, dWh, dUz, dUr, dUh, dbz, dbr, dbh = (np.zeros_like(p) for p in params)
    dx = np.zeros_like(x)
    dnext = np.zeros_like(hs[0])
    red = (lambda a: a.mean(axis=1, keepdims=True)) if bug == "db_mean_over_batch" else \
        (lambda a: a.sum(axis=1, keepdims=True))
    for t in range(T - 1, 0 if bug == "loop_skips_first" else -1, -1):
        h_prev = hs[t]
        z, r, n = cell(x[t], hs[t + 1] if bug == "recompute_from_h_t" else h_prev, params, bug, in_backward=True)
        dh_t = dh[t] + dnext
        if bug == "clip_norm_per_step":
            norm = np.linalg.norm(dh_t)
            if norm > 0.1:
                dh_t = dh_t * (0.1 / norm)
        dz = dh_t * (h_prev - n)
        dn = dh_t * (1 - z)
        if bug == "da_n_no_grad":
            da_n = dn
        elif bug == "da_n_square_typo":
            da_n = dn * (1 - n) ** 2
        else:
            da_n = dn * (1 - n ** 2)
        if bug == "fwd_reset_after":
            dr, drh_carry = da_n * (Uh @ h_prev), Uh.T @ (da_n * r)
        else:
            drh = (Uh if bug in ("Uh_untransposed", "Uh_untransposed_and_da_r_sign") else Uh.T) @ da_n
            dr, drh_carry = drh * h_prev, drh * r
        da_r = dr * r * (r - 1) if bug in ("da_r_sign", "Uh_untransposed_and_da_r_sign") else dr * r * (1 - r)
        if bug == "da_z_tanh_grad":
            da_z = dz * (1 - z ** 2)
        elif bug == "da_z_hard_sigmoid_slope":
            da_z = dz * 0.2
        else:
            da_z = dz * z * (1 - z)
        dWz += da_z @ x[t].T
        dWr += da_r @ x[t].T
        dWh += da_n @ x[t].T
        dUz += h_prev @ da_z.T if bug == "dUz_transposed" else da_z @ h_prev.T
        dUr += da_r @ h_prev.T
        if bug == "fwd_reset_after":
            dUh += (da_n * r) @ h_prev.T
        else:
            dUh += da_n @ (h_prev if bug == "dUh_without_r" else r * h_prev).T
        dbz += red(da_z)
        dbr += red(da_r)
        dbh += red(da_n)
        dx[t] = Wz.T @ da_z + Wr.T @ da_r + Wh.T @ da_n
        dnext = dh_t * z + Uz.T @ da_z + Ur.T @ da_r + drh_carry
    return dx, dnext, dWz, dWr, dWh, dUz, dUr, dUh, dbz, dbr, dbh


def to_user(cell_name, p):
    (Wr, Wz, Wh), (Ur, Uz, Uh) = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    br, bz, bh = np.split(p["bias_ih"] + p["bias_hh"], 3)
    return {"Wz": Wz.copy(), "Wr": Wr.copy(), "Wh": Wh.copy(), "Uz": Uz.copy(), "Ur": Ur.copy(),
            "Uh": Uh.copy(), "bz": bz[:, None], "br": br[:, None], "bh": bh[:, None]}


def to_canonical(cell_name, g, p):
    out = {}
    if all(k in g for k in ("dWr", "dWz", "dWh")):
        out["dweight_ih"] = np.concatenate([g["dWr"], g["dWz"], g["dWh"]])
    if all(k in g for k in ("dUr", "dUz", "dUh")):
        out["dweight_hh"] = np.concatenate([g["dUr"], g["dUz"], g["dUh"]])
    if all(k in g for k in ("dbr", "dbz", "dbh")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbh"]])[:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="checkpoint_cols_gru", cells=("gru",), axes="TDN",
                               weights_as="list", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

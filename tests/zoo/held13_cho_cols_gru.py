"""A GRU in Cho et al.'s own convention, where the update gate z means "take the new
candidate" (h_t = z n + (1 - z) h_(t-1)), reset before the recurrent product, written with
column vectors and time-major batches (x (T, D, N), h0 (H, N)), stacked weights W (3H, D),
U (3H, H), b (3H, 1) with blocks z, r, n:

    z = s(W_z x + U_z h + b_z)     r = s(W_r x + U_r h + b_r)
    n = tanh(W_n x + U_n (r * h) + b_n)
    h_t = z * n + (1 - z) * h_(t-1)

(z here is 1 - z of torch's GRU, so its weights are torch's z weights negated.)
Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dn_with_one_minus_z": "wrong_value",                 # dn = dh * (1 - z) (torch's convention for Cho's z)
    "dz_h_minus_n": "wrong_sign",                         # dz = dh * (h_prev - n)
    "drh_through_U_r": "wrong_weight",                    # drh = U_r.T @ da_n (U_r for U_n)
    "dU_n_without_r": "term_dropped",                     # dU_n += da_n @ h_prev.T (r * h_prev meant)
    "dr_with_h_t": "wrong_time",                          # dr = drh * h_t
    "no_reset_path_in_dh": "term_dropped",                # dh_prev without drh * r
    "truncated_three_back": "truncated_bptt",             # the carry is zeroed three steps back from the end
    "skip_last_slice": "loop_skips_step",                 # for t in range(T)[-2::-1]
    "db_mean_over_columns": "reduction_scaled",           # db += dA.mean(axis=1, keepdims=True)
    "U_z_untransposed": "weight_transposed",              # U_z @ da_z in dh_prev (U_z.T meant)
    "da_n_sigmoid_grad": "derivative_wrong_function",     # da_n = dn * n * (1 - n)
    "da_r_miswritten": "derivative_miswritten",           # da_r = dr * r * (1 - r * r)
    "carry_written_over_dh": "carry_overwrites",          # dhs[t - 1] = dh_prev into a copy of dh (= for +=)
    "forward_z_ignores_h": "forward_mistake",             # z = s(W_z x + b_z), backward consistent
    "dA_clipped": "gradient_clipped",                     # np.clip(dA, -0.05, 0.05) every step
    "da_n_times_1p5": "unknown",                          # da_n * 1.5: an arbitrary constant
}


def s(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, W, U, b, bug=None):
    T = x.shape[0]
    H = h0.shape[0]
    h, hs, cache = h0, [], []
    for t in range(T):
        a = W @ x[t] + b
        az = a[:H] if bug == "forward_z_ignores_h" else a[:H] + U[:H] @ h
        z = s(az)
        r = s(a[H:2 * H] + U[H:2 * H] @ h)
        n = np.tanh(a[2 * H:] + U[2 * H:] @ (r * h))
        h_new = z * n + (1 - z) * h
        cache.append((x[t], h, z, r, n, h_new))
        hs.append(h_new)
        h = h_new
    return np.stack(hs), (cache, W, U)


def gru_backward(dh, everything, bug=None):
    cache, W, U = everything
    T, H, N = dh.shape
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros((3 * H, 1), dtype=dh.dtype)
    dx = np.zeros((T, W.shape[1], N), dtype=dh.dtype)
    U_z, U_r, U_n = U[:H], U[H:2 * H], U[2 * H:]
    dh_prev = np.zeros((H, N), dtype=dh.dtype)
    dhs = dh.copy()
    steps = range(T)[-2::-1] if bug == "skip_last_slice" else range(T)[::-1]
    for t in steps:
        xt, hp, z, r, n, ht = cache[t]
        d = dhs[t] if bug == "carry_written_over_dh" else dh[t] + dh_prev
        dn = d * ((1 - z) if bug == "dn_with_one_minus_z" else z)
        dz = d * ((hp - n) if bug == "dz_h_minus_n" else (n - hp))
        da_n = dn * n * (1 - n) if bug == "da_n_sigmoid_grad" else dn * (1 - n ** 2)
        if bug == "da_n_times_1p5":
            da_n = da_n * 1.5
        drh = (U_r if bug == "drh_through_U_r" else U_n).T @ da_n
        dr = drh * (ht if bug == "dr_with_h_t" else hp)
        da_r = dr * r * (1 - r * r) if bug == "da_r_miswritten" else dr * r * (1 - r)
        da_z = dz * z * (1 - z)
        if bug == "forward_z_ignores_h":
            dzr_h = U_r.T @ da_r
        else:
            dzr_h = (U_z @ da_z if bug == "U_z_untransposed" else U_z.T @ da_z) + U_r.T @ da_r
        dA = np.vstack([da_z, da_r, da_n])
        if bug == "dA_clipped":
            dA = np.clip(dA, -0.05, 0.05)
            da_z, da_r, da_n = dA[:H], dA[H:2 * H], dA[2 * H:]
        dW += dA @ xt.T
        db += dA.mean(axis=1, keepdims=True) if bug == "db_mean_over_columns" else dA.sum(axis=1, keepdims=True)
        if bug != "forward_z_ignores_h":
            dU[:H] += da_z @ hp.T
        dU[H:2 * H] += da_r @ hp.T
        dU[2 * H:] += da_n @ (hp if bug == "dU_n_without_r" else r * hp).T
        dx[t] = W.T @ dA
        dh_prev = d * (1 - z) + dzr_h
        if bug != "no_reset_path_in_dh":
            dh_prev = dh_prev + drh * r
        if bug == "carry_written_over_dh" and t > 0:
            dhs[t - 1] = dh_prev
        if bug == "truncated_three_back" and t == T - 3:
            dh_prev = np.zeros_like(dh_prev)
    return dx, dh_prev, dW, dU, db


def _cho(a, H, axis=0):
    """Canonical blocks r, z, n -> Cho's z, r, n with z negated (1 - s(a) = s(-a))."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([-z, r, n], axis=axis)


def _canon(a):
    z, r, n = np.split(a, 3, axis=0)
    return np.concatenate([r, -z, n], axis=0)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W": _cho(p["weight_ih"], H), "U": _cho(p["weight_hh"], H),
            "b": _cho(p["bias_ih"] + p["bias_hh"], H)[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if "dW" in g:
        out["dweight_ih"] = _canon(g["dW"])
    if "dU" in g:
        out["dweight_hh"] = _canon(g["dU"])
    if "db" in g:
        out["dbias_ih"] = _canon(g["db"][:, 0])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cho_cols_gru", cells=("gru",), axes="TDN",
                               gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, b):
        return gru_forward(x, h0, W, U, b, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dn_with_one_minus_z": "rn",
    "dz_h_minus_n": "z",
    "drh_through_U_r": "r",
    "dU_n_without_r": "n",
    "dr_with_h_t": "r",
    "no_reset_path_in_dh": "",
    "truncated_three_back": "",
    "skip_last_slice": "",
    "db_mean_over_columns": "",
    "U_z_untransposed": "",
    "da_n_sigmoid_grad": "rn",
    "da_r_miswritten": "r",
    "carry_written_over_dh": "",
    "forward_z_ignores_h": "",
    "dA_clipped": "",
    "da_n_times_1p5": "rn",
}

"""A GRU whose weights are stacked per gate into tensors and applied with einsum: W (3, D, H)
on the input, U (3, H, H) on the state, bx and bh (3, H), index 0, 1, 2 = z, r, n, torch's
reset-after form (bh[2] sits inside r * (...)):

    ax = einsum("nd,gdh->gnh", x_t, W) + bx[:, None]      (3, N, H)
    ah = einsum("nk,gkh->gnh", h, U) + bh[:, None]        (3, N, H)
    z = sigmoid(ax[0] + ah[0])   r = sigmoid(ax[1] + ah[1])   n = tanh(ax[2] + r * ah[2])
    h_t = z * h + (1 - z) * n

x (N, T, D), h0 (N, H). Ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dh_prev_einsum_ghk": "weight_transposed",         # einsum("gnh,ghk->nk", dah, U) (for "gnh,gkh->nk")
    "dU_einsum_ghk": "gradient_transposed",            # dU += einsum("nk,gnh->ghk", h_prev, dah)
    "dh_prev_through_dU": "gradient_for_weight",       # einsum("gnh,gkh->nk", dah, dU): the running dU for U
    "n_term_through_U1": "wrong_weight",               # the n term of dh_prev through U[1] (r's) for U[2]
    "dbh_n_without_r": "term_dropped",                 # dbh[2] += dan.sum(0) (for (dan * r).sum(0))
    "daz_no_sigmoid_grad": "derivative_missing",       # daz = dz
    "dah_n_tanh_grad_twice": "derivative_twice",       # dah[2] = dan * r * (1 - n**2): tanh' again on the recurrent path
    "dax_stacked_r_z": "gate_order",                   # dax = stack([dar, daz, dan]) (torch's order; the tensors are z, r, n)
    "dbx_over_N": "reduction_scaled",                  # dbx /= N at the end (a batch mean)
    "dU_with_h_t": "wrong_time",                       # dU += einsum(h_t, dah) (the step's own output for h_(t-1))
    "carry_not_summed": "carry_dropped",               # dnext = dh[:, t]: the step's dh_prev computed, never added
    "cho_update_forward": "forward_mistake",           # h_t = (1 - z) * h + z * n; backward consistent
    "dz_sign_and_dbx_mean": "unknown",                 # dz = dnext * (n - h) AND dbx /= N
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_prev_einsum_ghk":     "",
    "dU_einsum_ghk":          "",
    "dh_prev_through_dU":     "",
    "n_term_through_U1":      "",
    "dbh_n_without_r":        "n",
    "daz_no_sigmoid_grad":    "z",
    "dah_n_tanh_grad_twice":  "n",
    "dax_stacked_r_z":        "rz",
    "dbx_over_N":             "",
    "dU_with_h_t":            "",
    "carry_not_summed":       "",
    "cho_update_forward":     "",
    "dz_sign_and_dbx_mean":   "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, W, U, bx, bh, bug=None):
    N, T, D = x.shape
    h = h0
    out = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    steps = []
    for t in range(T):
        ax = np.einsum("nd,gdh->gnh", x[:, t], W) + bx[:, None]
        ah = np.einsum("nk,gkh->gnh", h, U) + bh[:, None]
        z = sigmoid(ax[0] + ah[0])
        r = sigmoid(ax[1] + ah[1])
        n = np.tanh(ax[2] + r * ah[2])
        h_new = (1 - z) * h + z * n if bug == "cho_update_forward" else z * h + (1 - z) * n
        steps.append({"x": x[:, t], "h": h, "z": z, "r": r, "n": n, "ah_n": ah[2], "h_new": h_new})
        out[:, t] = h_new
        h = h_new
    return out, {"steps": steps, "W": W, "U": U}


def gru_backward(dh, cache, bug=None):
    steps, W, U = cache["steps"], cache["W"], cache["U"]
    N, T, H = dh.shape
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    dbx, dbh = np.zeros_like(U[:, 0]), np.zeros_like(U[:, 0])
    dx = np.zeros((N, T, W.shape[1]), dtype=dh.dtype)
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        s = steps[t]
        z, r, n = s["z"], s["r"], s["n"]
        dnext = dh[:, t] if bug == "carry_not_summed" else dh[:, t] + dh_prev
        if bug == "cho_update_forward":
            dz, dn, direct = dnext * (n - s["h"]), dnext * z, dnext * (1 - z)
        elif bug == "dz_sign_and_dbx_mean":
            dz, dn, direct = dnext * (n - s["h"]), dnext * (1 - z), dnext * z
        else:
            dz, dn, direct = dnext * (s["h"] - n), dnext * (1 - z), dnext * z
        dan = dn * (1 - n ** 2)
        dr = dan * s["ah_n"]
        dar = dr * r * (1 - r)
        daz = dz if bug == "daz_no_sigmoid_grad" else dz * z * (1 - z)
        dax = np.stack([dar, daz, dan] if bug == "dax_stacked_r_z" else [daz, dar, dan])
        dah_n = dan * r * (1 - n ** 2) if bug == "dah_n_tanh_grad_twice" else dan * r
        dah = np.stack([dax[0], dax[1], dah_n])
        dW += np.einsum("nd,gnh->gdh", s["x"], dax)
        h_for_dU = s["h_new"] if bug == "dU_with_h_t" else s["h"]
        dU += np.einsum("nk,gnh->ghk" if bug == "dU_einsum_ghk" else "nk,gnh->gkh", h_for_dU, dah)
        dbx += dax.sum(axis=1)
        if bug == "dbh_n_without_r":
            dbh[:2] += dah[:2].sum(axis=1)
            dbh[2] += dan.sum(axis=0)
        else:
            dbh += dah.sum(axis=1)
        dx[:, t] = np.einsum("gnh,gdh->nd", dax, W)
        if bug == "dh_prev_einsum_ghk":
            back = np.einsum("gnh,ghk->nk", dah, U)
        elif bug == "dh_prev_through_dU":
            back = np.einsum("gnh,gkh->nk", dah, dU)
        elif bug == "n_term_through_U1":
            back = np.einsum("gnh,gkh->nk", dah[:2], U[:2]) + dah[2] @ U[1].T
        else:
            back = np.einsum("gnh,gkh->nk", dah, U)
        dh_prev = direct + back
    if bug in ("dbx_over_N", "dz_sign_and_dbx_mean"):
        dbx /= N
    return dx, dh_prev, dW, dU, dbx, dbh


ORDER = "zrn"


def _stack(a, transpose):
    parts = np.split(a, 3, axis=0)
    return np.stack([parts["rzn".index(k)].T if transpose else parts["rzn".index(k)] for k in ORDER])


def _unstack(a, transpose):
    return np.concatenate([a[ORDER.index(k)].T if transpose else a[ORDER.index(k)] for k in "rzn"], axis=0)


def to_user(cell, p):
    return {"W": _stack(p["weight_ih"], True), "U": _stack(p["weight_hh"], True),
            "bx": _stack(p["bias_ih"], False), "bh": _stack(p["bias_hh"], False)}


def to_canonical(cell, grads, p):
    names = {"dW": ("dweight_ih", True), "dU": ("dweight_hh", True), "dbx": ("dbias_ih", False),
             "dbh": ("dbias_hh", False)}
    return {q: _unstack(grads[k], tr) for k, (q, tr) in names.items() if k in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tensor3_gru", cells=("gru",), gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, bx, bh):
        return gru_forward(x, h0, W, U, bx, bh, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

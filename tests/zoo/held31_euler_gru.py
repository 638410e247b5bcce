"""A GRU written by a numerical-ODE person as explicit Euler steps of a right-hand side,
h_t = h_(t-1) + f(h_(t-1), x_t), with the backward as the discrete adjoint of the scheme,
lam_(t-1) = lam_t + (df/dh)^T lam_t. Columns everywhere: x (D, T, N), h (H, T, N),
h0 (H, N); the weights are one list theta = [Wx (3H, D), Uh (3H, H), bx (3H, 1),
bh (3H, 1)] with the rows in the order z, r, n and torch's reset-after form:

    ax = Wx x_t + bx        ah = Uh h + bh
    z = s(ax_z + ah_z)      r = s(ax_r + ah_r)      n = tanh(ax_n + r * ah_n)
    f(h, x_t) = (1 - z) * (n - h)

The forward keeps a tape of (z, r, n, ah_n) per step. Thirty-first held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "euler_identity_dropped": "term_dropped",            # lam = -lam (1 - z) + Uh^T ah: the identity of h + f(h) left
                                                         # out
    "g_z_sign_flipped": "wrong_sign",                    # g_z = lam * (n - h) for -lam * (n - h)
    "Un_not_transposed": "weight_transposed",            # Uh[2H:] @ a_hn in the carry (only the n block)
    "carry_from_dUh": "gradient_for_weight",             # grads[1][:2H].T @ ah_zr in the carry (dUh, next to Uh)
    "prev_state_from_hs_t": "wrong_time",                # h = hs[:, t] for hs[:, t-1] in the backward
    "a_z_derivative_missing": "derivative_missing",      # a_z = g_z
    "a_n_derivative_twice": "derivative_twice",          # g_n = lam (1 - z)(1 - n^2), then a_n = g_n (1 - n^2)
    "dtanh_star_typo": "derivative_miswritten",          # a_n = g_n * (1 - n * 2)
    "adjoint_walks_forward": "loop_direction",           # for t in range(T): the tape read from the front
    "dbh_mean": "reduction_scaled",                      # dbh += ah.mean(axis=1) (np.mean for np.sum)
    "ax_rows_r_z": "gate_order",                         # ax = vstack([a_r, a_z, a_n]) (the rows of Wx are z, r, n)
    "forward_z_convention": "forward_mistake",           # f = z (n - h) (the other convention); backward follows it
    "grads_clipped_elementwise": "gradient_clipped",     # invention: np.clip(g, -1, 1, out=g) on the four gradients at
                                                         # the end
    "a_z_missing_and_dbh_mean": "unknown",               # two mistakes: a_z_derivative_missing and dbh_mean
}

TOUCHES = {                    # computed: blind_index.touched_gates(module, bug)
    "euler_identity_dropped": "",
    "g_z_sign_flipped": "z",
    "Un_not_transposed": "",
    "carry_from_dUh": "",
    "prev_state_from_hs_t": "",
    "a_z_derivative_missing": "z",
    "a_n_derivative_twice": "rn",
    "dtanh_star_typo": "rn",
    "adjoint_walks_forward": "",
    "dbh_mean": "",
    "ax_rows_r_z": "rz",
    "forward_z_convention": "",
    "grads_clipped_elementwise": "zn",
    "a_z_missing_and_dbh_mean": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def rhs(h, xt, theta, H, bug=None):
    Wx, Uh, bx, bh = theta
    ax = Wx @ xt + bx
    ah = Uh @ h + bh
    z = sigmoid(ax[:H] + ah[:H])
    r = sigmoid(ax[H:2 * H] + ah[H:2 * H])
    n = np.tanh(ax[2 * H:] + r * ah[2 * H:])
    keep = z if bug == "forward_z_convention" else 1 - z
    return keep * (n - h), (z, r, n, ah[2 * H:])


def gru_euler(x, h0, theta, bug=None):
    D, T, N = x.shape
    H = h0.shape[0]
    hs = np.zeros((H, T, N), dtype=x.dtype)
    tape = []
    h = h0
    for t in range(T):
        dh, aux = rhs(h, x[:, t], theta, H, bug)
        tape.append(aux)
        h = h + dh
        hs[:, t] = h
    return hs, (x, h0, list(theta), tape, hs)


def gru_adjoint(dhs, cache, bug=None):
    x, h0, theta, tape, hs = cache
    Wx, Uh, bx, bh = theta
    D, T, N = x.shape
    H = h0.shape[0]
    grads = [np.zeros_like(w) for w in theta]
    dx = np.zeros_like(x)
    lam = np.zeros_like(h0)
    steps = range(T) if bug == "adjoint_walks_forward" else range(T - 1, -1, -1)
    for t in steps:
        lam = lam + dhs[:, t]
        z, r, n, hn = tape[t]
        if bug == "prev_state_from_hs_t":
            h = hs[:, t]
        else:
            h = hs[:, t - 1] if t > 0 else h0
        keep = z if bug == "forward_z_convention" else 1 - z
        g_n = lam * keep
        g_z = lam * (n - h) if bug in ("g_z_sign_flipped", "forward_z_convention") else -lam * (n - h)
        if bug == "a_n_derivative_twice":
            g_n = g_n * (1 - n ** 2)
        a_n = g_n * (1 - n * 2) if bug == "dtanh_star_typo" else g_n * (1 - n ** 2)
        a_r = a_n * hn * r * (1 - r)
        a_z = g_z if bug in ("a_z_derivative_missing", "a_z_missing_and_dbh_mean") else g_z * z * (1 - z)
        a_hn = a_n * r
        ax = np.vstack([a_r, a_z, a_n] if bug == "ax_rows_r_z" else [a_z, a_r, a_n])
        ah = np.vstack([a_z, a_r, a_hn])
        grads[0] += ax @ x[:, t].T
        grads[1] += ah @ h.T
        grads[2] += ax.sum(axis=1, keepdims=True)
        if bug in ("dbh_mean", "a_z_missing_and_dbh_mean"):
            grads[3] += ah.mean(axis=1, keepdims=True)
        else:
            grads[3] += ah.sum(axis=1, keepdims=True)
        dx[:, t] = Wx.T @ ax
        U_zr = grads[1][:2 * H] if bug == "carry_from_dUh" else Uh[:2 * H]
        U_n = Uh[2 * H:] if bug == "Un_not_transposed" else Uh[2 * H:].T
        back = U_zr.T @ ah[:2 * H] + U_n @ a_hn - lam * keep
        lam = back if bug == "euler_identity_dropped" else lam + back
    if bug == "grads_clipped_elementwise":
        for g in grads:
            np.clip(g, -1.0, 1.0, out=g)
    return (dx, lam, *grads)


def to_user(cell, p):
    return {"Wx": reorder(p["weight_ih"], "rzn", "zrn", 0), "Uh": reorder(p["weight_hh"], "rzn", "zrn", 0),
            "bx": reorder(p["bias_ih"], "rzn", "zrn", 0)[:, None],
            "bh": reorder(p["bias_hh"], "rzn", "zrn", 0)[:, None]}


def to_canonical(cell, grads, p):
    out = {}
    for user, q in (("dWx", "dweight_ih"), ("dUh", "dweight_hh")):
        if user in grads:
            out[q] = reorder(grads[user], "zrn", "rzn", 0)
    for user, q in (("dbx", "dbias_ih"), ("dbh", "dbias_hh")):
        if user in grads:
            out[q] = reorder(grads[user][:, 0], "zrn", "rzn", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="euler_gru", cells=("gru",), axes="DTN",
                               weights_as="list", gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, theta):
        return gru_euler(x, h0, theta, bug)

    def backward(dhs, cache):
        return gru_adjoint(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

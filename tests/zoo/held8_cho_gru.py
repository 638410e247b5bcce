"""A GRU in Cho et al. (2014)'s notation and convention, column vectors with the batch along
the columns and the sequence time-major: x (T, D, N), h (T, H, N), h0 (H, N).

    u = s(W_u x_t + U_u h_(t-1) + b_u)                 update gate (H, N)
    r = s(W_r x_t + U_r h_(t-1) + b_r)                 reset gate
    h~ = tanh(W_h x_t + U_h (r * h_(t-1)) + b_h)       reset before the product
    h_t = (1 - u) * h_(t-1) + u * h~                   the new state where u is large

The update gate is the other convention's (1 - z): u = s(-a_z), so the layout negates the z
block's weights and bias (to_user and to_canonical). W_* (H, D), U_* (H, H), b_* (H, 1),
forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h), options reset_after=False.
Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "du_sign_flipped": "wrong_sign",                   # du = dh * (h_prev - h_tilde)
    "carry_keeps_u": "wrong_value",                    # dh_prev = dh * u (u read for 1 - u)
    "reset_path_dropped": "term_dropped",              # dh_prev misses drh * r
    "dU_h_with_h_prev": "wrong_value",                 # dU_h += da_h @ h_prev.T (h_prev read for r * h_prev)
    "U_h_not_transposed": "weight_transposed",         # drh = U_h @ da_h
    "dU_r_transposed": "gradient_transposed",          # dU_r += h_prev @ da_r.T
    "U_r_for_U_u": "wrong_weight",                     # dh_prev += U_r.T @ da_u
    "h_tilde_tanh_grad_missing": "derivative_missing", # da_h = dh_tilde
    "r_sigmoid_grad_twice": "derivative_twice",        # dr = drh * h_prev * r * (1 - r), then da_r = dr * r * (1 - r)
    "loop_runs_forward": "loop_direction",             # for t in range(T)
    "carry_kept_3_steps": "truncated_bptt",            # dh_next zeroed once 3 steps have been carried back
    "biases_mean_over_batch": "reduction_scaled",      # db_* += da_*.mean(axis=1, keepdims=True)
    "state_updated_in_place": "inplace_corruption",    # h = h_prev; h *= 1 - u; h += u * h_tilde (h_prev cached)
    "forward_reset_after": "forward_mistake",          # h~ = tanh(W_h x + r * (U_h h) + b_h), backward consistent
    "backward_in_other_convention": "unknown",         # dh_tilde = dh (1 - u), du = dh (h_prev - h~), dh_prev = dh u
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "du_sign_flipped": "z",
    "carry_keeps_u": "",
    "reset_path_dropped": "",
    "dU_h_with_h_prev": "n",
    "U_h_not_transposed": "r",
    "dU_r_transposed": "r",
    "U_r_for_U_u": "",
    "h_tilde_tanh_grad_missing": "rn",
    "r_sigmoid_grad_twice": "r",
    "loop_runs_forward": "",
    "carry_kept_3_steps": "",
    "biases_mean_over_batch": "",
    "state_updated_in_place": "",
    "forward_reset_after": "",
    "backward_in_other_convention": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h, bug=None):
    T = x.shape[0]
    H, N = h0.shape
    hs = np.zeros((T, H, N), dtype=x.dtype)
    caches = []
    h_prev = h0
    for t in range(T):
        xt = x[t]
        u = sigmoid(W_u @ xt + U_u @ h_prev + b_u)
        r = sigmoid(W_r @ xt + U_r @ h_prev + b_r)
        Uh = U_h @ h_prev
        if bug == "forward_reset_after":
            h_tilde = np.tanh(W_h @ xt + r * Uh + b_h)
        else:
            h_tilde = np.tanh(W_h @ xt + U_h @ (r * h_prev) + b_h)
        if bug == "state_updated_in_place":
            h = h_prev
            h *= 1 - u
            h += u * h_tilde
        else:
            h = (1 - u) * h_prev + u * h_tilde
        hs[t] = h
        caches.append((xt, h_prev, u, r, h_tilde, Uh))
        h_prev = h
    return hs, (caches, (W_u, U_u, W_r, U_r, W_h, U_h))


def gru_backward(dhs, cache, bug=None):
    caches, (W_u, U_u, W_r, U_r, W_h, U_h) = cache
    T, H, N = dhs.shape
    names = ("W_u", "U_u", "b_u", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h")
    shapes = {"W": W_u.shape, "U": U_u.shape, "b": (H, 1)}
    g = {k: np.zeros(shapes[k[0]], dtype=dhs.dtype) for k in names}
    dx = np.zeros((T, W_u.shape[1], N), dtype=dhs.dtype)
    dh_next = np.zeros((H, N), dtype=dhs.dtype)
    for k, t in enumerate(range(T) if bug == "loop_runs_forward" else reversed(range(T))):
        xt, h_prev, u, r, h_tilde, Uh = caches[t]
        dh = dhs[t] + dh_next
        if bug == "backward_in_other_convention":
            d_tilde, du, dh_prev = dh * (1 - u), dh * (h_prev - h_tilde), dh * u
        else:
            d_tilde = dh * u
            du = dh * ((h_prev - h_tilde) if bug == "du_sign_flipped" else (h_tilde - h_prev))
            dh_prev = dh * u if bug == "carry_keeps_u" else dh * (1 - u)
        da_h = d_tilde if bug == "h_tilde_tanh_grad_missing" else d_tilde * (1 - h_tilde ** 2)
        g["W_h"] += da_h @ xt.T
        if bug == "forward_reset_after":
            g["U_h"] += (da_h * r) @ h_prev.T
            dr = da_h * Uh
            dh_prev = dh_prev + U_h.T @ (da_h * r)
        else:
            g["U_h"] += da_h @ (h_prev if bug == "dU_h_with_h_prev" else r * h_prev).T
            drh = (U_h if bug == "U_h_not_transposed" else U_h.T) @ da_h
            dr = drh * h_prev
            if bug == "r_sigmoid_grad_twice":
                dr = dr * r * (1 - r)
            if bug != "reset_path_dropped":
                dh_prev = dh_prev + drh * r
        da_r = dr * r * (1 - r)
        da_u = du * u * (1 - u)
        for gate, da in (("u", da_u), ("r", da_r), ("h", da_h)):
            if gate != "h":
                g["W_" + gate] += da @ xt.T
                g["U_" + gate] += h_prev @ da.T if (bug == "dU_r_transposed" and gate == "r") else da @ h_prev.T
            if bug == "biases_mean_over_batch":
                g["b_" + gate] += da.mean(axis=1, keepdims=True)
            else:
                g["b_" + gate] += da.sum(axis=1, keepdims=True)
        dx[t] = W_u.T @ da_u + W_r.T @ da_r + W_h.T @ da_h
        dh_next = dh_prev + (U_r if bug == "U_r_for_U_u" else U_u).T @ da_u + U_r.T @ da_r
        if bug == "carry_kept_3_steps" and k >= 2:
            dh_next = np.zeros_like(dh_next)
    return (dx, dh_next) + tuple(g[k] for k in names)


def _blocks(a):
    return np.split(np.asarray(a), 3, axis=0)          # canonical r, z, n


def to_user(cell, p):
    Wr, Wz, Wn = _blocks(p["weight_ih"])
    Ur, Uz, Un = _blocks(p["weight_hh"])
    br, bz, bn = _blocks(p["bias_ih"] + p["bias_hh"])
    return {"W_u": -Wz, "U_u": -Uz, "b_u": -bz[:, None], "W_r": Wr, "U_r": Ur, "b_r": br[:, None],
            "W_h": Wn, "U_h": Un, "b_h": bn[:, None]}


def to_canonical(cell, grads, p):
    out = {}
    if all(k in grads for k in ("dW_r", "dW_u", "dW_h")):
        out["dweight_ih"] = np.concatenate([grads["dW_r"], -grads["dW_u"], grads["dW_h"]])
    if all(k in grads for k in ("dU_r", "dU_u", "dU_h")):
        out["dweight_hh"] = np.concatenate([grads["dU_r"], -grads["dU_u"], grads["dU_h"]])
    if all(k in grads for k in ("db_r", "db_u", "db_h")):
        out["dbias_ih"] = np.concatenate([grads["db_r"], -grads["db_u"], grads["db_h"]])[:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cho_gru", cells=("gru",), axes="TDN",
                               gate_letters={"u": "z", "h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h):
        return gru_forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

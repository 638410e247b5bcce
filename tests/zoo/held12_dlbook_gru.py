"""A GRU in the Deep Learning book's notation (Goodfellow et al., 10.10.2): update gate u,
reset gate r, candidate h~, input weights W (H, D) and recurrent weights U (H, H) per gate,
biases (H, 1), column vectors, the data column-major x (D, N, T) -> h (H, N, T):

    u = s(W_u x + U_u h + b_u)      r = s(W_r x + U_r h + b_r)
    h~ = tanh(W_h x + U_h (r * h) + b_h)                       (reset before the product)
    h_t = u * h_(t-1) + (1 - u) * h~

forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h) -> (h, cache);
backward -> (dx, dh0, dW_u, dU_u, db_u, ...). Twelfth held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dr_from_h_t": "wrong_time",                          # dr = drh * h_t for drh * h_(t-1)
    "U_r_not_transposed": "weight_transposed",            # dh_prev += U_r @ da_r (U_r.T @ da_r)
    "U_u_for_U_r": "wrong_weight",                        # dh_prev += U_u.T @ da_r
    "dU_r_written_transposed": "gradient_transposed",     # dU_r += h_prev @ da_r.T
    "dh_prev_from_dU_u": "gradient_for_weight",           # dh_prev += dU_u.T @ da_u (the running gradient)
    "du_flipped": "wrong_sign",                           # du = dh * (h~ - h_prev)
    "dh_prev_misses_u_path": "term_dropped",              # dh_prev without dh * u
    "dhtilde_times_u": "wrong_value",                     # dh~ = dh * u for dh * (1 - u)
    "tanh_grad_at_preact": "derivative_wrong_point",      # 1 - a_h ** 2 from the cached pre-activation
    "dU_h_without_r": "term_dropped",                     # dU_h += da_h @ h_prev.T (the r of r * h left out)
    "db_over_N": "reduction_scaled",                      # db_* = sum / N (a batch mean)
    "for_t_in_range_T": "loop_direction",                 # for t in range(T) in the backward
    "clip_dh_next": "gradient_clipped",                   # np.clip(dh_next, -0.5, 0.5) each step
    "h_update_swapped": "forward_mistake",                # h_t = (1 - u) h_(t-1) + u h~; backward consistent
    "du_flipped_and_dr_h_t": "unknown",                   # two at once: du sign and dr from h_t
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dr_from_h_t": "r",
    "U_r_not_transposed": "",
    "U_u_for_U_r": "",
    "dU_r_written_transposed": "r",
    "dh_prev_from_dU_u": "",
    "du_flipped": "z",
    "dh_prev_misses_u_path": "",
    "dhtilde_times_u": "rn",
    "tanh_grad_at_preact": "rn",
    "dU_h_without_r": "n",
    "db_over_N": "",
    "for_t_in_range_T": "",
    "clip_dh_next": "",
    "h_update_swapped": "",
    "du_flipped_and_dr_h_t": "rz",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h, bug=None):
    D, N, T = x.shape
    H = h0.shape[0]
    h = h0
    hs = np.zeros((H, N, T), dtype=x.dtype)
    caches = []
    for t in range(T):
        xt = x[:, :, t]
        u = sigmoid(W_u @ xt + U_u @ h + b_u)
        r = sigmoid(W_r @ xt + U_r @ h + b_r)
        a_h = W_h @ xt + U_h @ (r * h) + b_h
        h_tilde = np.tanh(a_h)
        if bug == "h_update_swapped":
            h_new = (1 - u) * h + u * h_tilde
        else:
            h_new = u * h + (1 - u) * h_tilde
        caches.append((xt, h, u, r, a_h, h_tilde, h_new))
        h = h_new
        hs[:, :, t] = h
    return hs, (caches, (W_u, U_u, W_r, U_r, W_h, U_h))


def gru_backward(dh, cache, bug=None):
    caches, (W_u, U_u, W_r, U_r, W_h, U_h) = cache
    H, N, T = dh.shape
    D = W_u.shape[1]
    grads = {k: np.zeros_like(v) for k, v in (("dW_u", W_u), ("dU_u", U_u), ("dW_r", W_r), ("dU_r", U_r),
                                              ("dW_h", W_h), ("dU_h", U_h))}
    for k in ("db_u", "db_r", "db_h"):
        grads[k] = np.zeros((H, 1), dtype=dh.dtype)
    dx = np.zeros((D, N, T), dtype=dh.dtype)
    dh_next = np.zeros((H, N), dtype=dh.dtype)
    for t in (range(T) if bug == "for_t_in_range_T" else reversed(range(T))):
        xt, h_prev, u, r, a_h, h_tilde, h_t = caches[t]
        dht = dh[:, :, t] + dh_next
        if bug in ("du_flipped", "du_flipped_and_dr_h_t"):
            du = dht * (h_tilde - h_prev)
        elif bug == "h_update_swapped":
            du = dht * (h_tilde - h_prev)
        else:
            du = dht * (h_prev - h_tilde)
        if bug == "dhtilde_times_u":
            dh_tilde = dht * u
        else:
            dh_tilde = dht * (u if bug == "h_update_swapped" else 1 - u)
        da_h = dh_tilde * ((1 - a_h ** 2) if bug == "tanh_grad_at_preact" else (1 - h_tilde ** 2))
        drh = U_h.T @ da_h
        dr = drh * (h_t if bug in ("dr_from_h_t", "du_flipped_and_dr_h_t") else h_prev)
        da_r = dr * r * (1 - r)
        da_u = du * u * (1 - u)
        grads["dW_h"] += da_h @ xt.T
        grads["dU_h"] += da_h @ (h_prev if bug == "dU_h_without_r" else r * h_prev).T
        grads["dW_r"] += da_r @ xt.T
        grads["dU_r"] += h_prev @ da_r.T if bug == "dU_r_written_transposed" else da_r @ h_prev.T
        grads["dW_u"] += da_u @ xt.T
        grads["dU_u"] += da_u @ h_prev.T
        scale = N if bug == "db_over_N" else 1
        grads["db_h"] += da_h.sum(axis=1, keepdims=True) / scale
        grads["db_r"] += da_r.sum(axis=1, keepdims=True) / scale
        grads["db_u"] += da_u.sum(axis=1, keepdims=True) / scale
        dx[:, :, t] = W_u.T @ da_u + W_r.T @ da_r + W_h.T @ da_h
        direct = 0 if bug == "dh_prev_misses_u_path" else dht * ((1 - u) if bug == "h_update_swapped" else u)
        through_r = U_r @ da_r if bug == "U_r_not_transposed" else (U_u if bug == "U_u_for_U_r" else U_r).T @ da_r
        through_u = grads["dU_u"].T @ da_u if bug == "dh_prev_from_dU_u" else U_u.T @ da_u
        dh_next = direct + drh * r + through_r + through_u
        if bug == "clip_dh_next":
            dh_next = np.clip(dh_next, -0.5, 0.5)
    return (dx, dh_next, grads["dW_u"], grads["dU_u"], grads["db_u"], grads["dW_r"], grads["dU_r"], grads["db_r"],
            grads["dW_h"], grads["dU_h"], grads["db_h"])


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for mine, k in (("u", 1), ("r", 0), ("h", 2)):                # canonical blocks r, z, n
        rows = slice(k * H, (k + 1) * H)
        user.update({f"W_{mine}": p["weight_ih"][rows], f"U_{mine}": p["weight_hh"][rows], f"b_{mine}": b[rows, None]})
    return user


def to_canonical(cell, g, p):
    out = {}
    for mine, theirs in (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db", "dbias_ih")):
        if all(f"{mine}_{k}" in g for k in "urh"):
            blocks = [g[f"{mine}_{k}"] for k in "ruh"]
            out[theirs] = np.concatenate(blocks)[:, 0] if mine == "db" else np.concatenate(blocks)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="dlbook_gru", cells=("gru",), axes="DNT",
                               gate_order="urh", gate_letters={"u": "z", "h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h):
        return gru_forward(x, h0, W_u, U_u, b_u, W_r, U_r, b_r, W_h, U_h, b_h, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

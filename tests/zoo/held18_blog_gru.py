"""A GRU as the "GRU from scratch" blog posts write it: three matrices W_z, W_r, W_h, each
(H, H+D), applied to np.hstack([h, x]) (h first), biases b_z, b_r, b_h (H,), the reset
gate applied before the candidate's matrix, a per-step tuple cache, and the blog's own
convention that z weights the *new* candidate:

    z = sigmoid([h, x] W_z^T + b_z)      r = sigmoid([h, x] W_r^T + b_r)
    h_tilde = tanh([r * h, x] W_h^T + b_h)
    h_new = (1 - z) * h + z * h_tilde

(so the blog's z is torch's 1 - z: W_z and b_z are minus torch's). x (N, T, D).
Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_h_minus_tilde": "wrong_sign",                   # dz = dh * (h_prev - h_tilde) (the other convention's sign)
    "dtilde_no_tanh_prime": "derivative_missing",       # dpre_h = dh_tilde
    "dr_prime_of_z": "derivative_wrong_point",          # dpre_r = dr * z * (1 - z)
    "dtilde_tanh_of_output": "derivative_miswritten",   # 1 - np.tanh(h_tilde) ** 2: tanh applied to its own output
    "dW_h_on_plain_h": "wrong_value",                   # dW_h from hstack([h_prev, x]): h read for r * h (the r factor dropped)
    "dx_slice_off_by_one": "wrong_value",               # dx = dconcat[:, H - 1:-1]: the x slice one column early
    "dprev_no_direct_path": "term_dropped",             # dh_prev leaves out dh * (1 - z)
    "driver_zeroes_carry": "carry_dropped",             # the driver sets dh_next = 0 after each step
    "dconcat_from_dW_z": "gradient_for_weight",         # dconcat += dpre_z @ dW_z (the step's gradient for W_z)
    "dconcat_z_through_W_r": "wrong_weight",            # dconcat += dpre_z @ W_r
    "carry_cut_after_3": "truncated_bptt",              # dh_next zeroed once 3 steps have been walked back
    "last_step_skipped": "loop_skips_step",             # for t in reversed(range(T - 1))
    "grads_over_batch": "reduction_scaled",             # every weight and bias gradient divided by N (batch mean)
    "forward_tilde_without_r": "forward_mistake",       # h_tilde = tanh([h, x] W_h^T + b_h): r unused; backward consistent
    "sign_and_skip_last": "unknown",                    # two at once: dz = dh * (h_prev - h_tilde) and the last step skipped
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "dz_h_minus_tilde": "z",
    "dtilde_no_tanh_prime": "rn",
    "dr_prime_of_z": "r",
    "dtilde_tanh_of_output": "rn",
    "dW_h_on_plain_h": "n",
    "dx_slice_off_by_one": "",
    "dprev_no_direct_path": "",
    "driver_zeroes_carry": "",
    "dconcat_from_dW_z": "",
    "dconcat_z_through_W_r": "",
    "carry_cut_after_3": "",
    "last_step_skipped": "",
    "grads_over_batch": "",
    "forward_tilde_without_r": "",
    "sign_and_skip_last": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_step(x_t, h, W_z, W_r, W_h, b_z, b_r, b_h, bug=None):
    concat = np.hstack([h, x_t])
    z = sigmoid(concat @ W_z.T + b_z)
    r = sigmoid(concat @ W_r.T + b_r)
    gated = h if bug == "forward_tilde_without_r" else r * h
    concat_r = np.hstack([gated, x_t])
    h_tilde = np.tanh(concat_r @ W_h.T + b_h)
    h_new = (1 - z) * h + z * h_tilde
    return h_new, (x_t, h, concat, concat_r, z, r, h_tilde)


def forward(x, h0, W_z, W_r, W_h, b_z, b_r, b_h, bug=None):
    h, hs, caches = h0, [], []
    for t in range(x.shape[1]):
        h, cache = gru_step(x[:, t], h, W_z, W_r, W_h, b_z, b_r, b_h, bug)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), (caches, (W_z, W_r, W_h))


def gru_step_backward(dh, cache, weights, bug=None):
    x_t, h_prev, concat, concat_r, z, r, h_tilde = cache
    W_z, W_r, W_h = weights
    H = h_prev.shape[1]
    dz = dh * ((h_prev - h_tilde) if bug in ("dz_h_minus_tilde", "sign_and_skip_last") else (h_tilde - h_prev))
    dh_tilde = dh * z
    if bug == "dtilde_no_tanh_prime":
        dpre_h = dh_tilde
    elif bug == "dtilde_tanh_of_output":
        dpre_h = dh_tilde * (1 - np.tanh(h_tilde) ** 2)
    else:
        dpre_h = dh_tilde * (1 - h_tilde ** 2)
    dconcat_r = dpre_h @ W_h
    dgated = dconcat_r[:, :H]
    if bug == "forward_tilde_without_r":
        dr = np.zeros_like(r)
    else:
        dr = dgated * h_prev
    dpre_r = dr * (z * (1 - z) if bug == "dr_prime_of_z" else r * (1 - r))
    dpre_z = dz * z * (1 - z)
    g = {"dW_z": dpre_z.T @ concat, "dW_r": dpre_r.T @ concat,
         "dW_h": dpre_h.T @ (np.hstack([h_prev, x_t]) if bug == "dW_h_on_plain_h" else concat_r),
         "db_z": dpre_z.sum(axis=0), "db_r": dpre_r.sum(axis=0), "db_h": dpre_h.sum(axis=0)}
    if bug == "dconcat_from_dW_z":
        dconcat = dpre_z @ g["dW_z"] + dpre_r @ W_r
    elif bug == "dconcat_z_through_W_r":
        dconcat = dpre_z @ W_r + dpre_r @ W_r
    else:
        dconcat = dpre_z @ W_z + dpre_r @ W_r
    dh_prev = dconcat[:, :H] + dgated * (1 if bug == "forward_tilde_without_r" else r)
    if bug != "dprev_no_direct_path":
        dh_prev = dh_prev + dh * (1 - z)
    if bug == "dx_slice_off_by_one":
        dx_t = dconcat[:, H - 1:-1] + dconcat_r[:, H - 1:-1]
    else:
        dx_t = dconcat[:, H:] + dconcat_r[:, H:]
    return dx_t, dh_prev, g


def backward(dhs, cache, bug=None):
    caches, weights = cache
    N, T, H = dhs.shape
    grads = {k: np.zeros_like(w) for k, w in zip(("dW_z", "dW_r", "dW_h"), weights)}
    grads.update({k: np.zeros(H, dtype=dhs.dtype) for k in ("db_z", "db_r", "db_h")})
    dx = np.zeros((N, T, weights[0].shape[1] - H), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    last = T - 1 if bug in ("last_step_skipped", "sign_and_skip_last") else T
    for walked, t in enumerate(reversed(range(last))):
        dx[:, t], dh_next, g = gru_step_backward(dhs[:, t] + dh_next, caches[t], weights, bug)
        for k in grads:
            grads[k] += g[k]
        if bug == "driver_zeroes_carry" or (bug == "carry_cut_after_3" and walked + 1 >= 3):
            dh_next = np.zeros_like(dh_next)
    if bug == "grads_over_batch":
        grads = {k: v / N for k, v in grads.items()}
    return (dx, dh_next, grads["dW_z"], grads["dW_r"], grads["dW_h"], grads["db_z"], grads["db_r"], grads["db_h"])


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    W = np.concatenate([p["weight_hh"], p["weight_ih"]], axis=1)          # (3H, H+D) on [h, x], blocks r, z, n
    b = p["bias_ih"] + p["bias_hh"]
    return {"W_z": -W[H:2 * H], "W_r": W[:H], "W_h": W[2 * H:],
            "b_z": -b[H:2 * H], "b_r": b[:H], "b_h": b[2 * H:]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if {"dW_z", "dW_r", "dW_h"} <= set(grads):
        W = np.concatenate([grads["dW_r"], -grads["dW_z"], grads["dW_h"]], axis=0)
        out["dweight_hh"], out["dweight_ih"] = W[:, :H], W[:, H:]
    if {"db_z", "db_r", "db_h"} <= set(grads):
        out["dbias_ih"] = np.concatenate([grads["db_r"], -grads["db_z"], grads["db_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="blog_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, W_z, W_r, W_h, b_z, b_r, b_h):
        return forward(x, h0, W_z, W_r, W_h, b_z, b_r, b_h, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

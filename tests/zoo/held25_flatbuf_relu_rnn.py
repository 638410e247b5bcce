"""A ReLU RNN whose parameters live in one flat buffer, written for an optimizer that steps
a single vector: ``theta`` holds [Wxh (H, D) row-major | Whh (H, H) | bh (H,)] and the
forward takes reshaped views of it; the backward writes into one flat ``dtheta`` through
views of the same shapes and returns the buffer. Time-major: x (T, N, D), h0 (N, H),
h (T, N, H); weights stored (out, in) as torch does.

    h_t = relu(x_t Wxh^T + h_(t-1) Whh^T + bh)        bh = bias_ih + bias_hh

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "relu_mask_prev_step": "wrong_time",            # mask (hs[t - 1] > 0): h_(t-1)'s units for h_t's (hs[-1] at t = 0)
    "relu_grad_missing": "derivative_missing",      # da = dh_t (the mask never applied)
    "relu_grad_as_tanh": "derivative_wrong_function",  # da = dh_t * (1 - h_t ** 2), kept from a tanh RNN
    "Whh_view_transposed": "weight_transposed",     # dh_prev = da @ Whh.T (Whh is applied as h @ Whh.T)
    "dWhh_outer_swapped": "gradient_transposed",    # dWhh += h_prev.T @ da (for da.T @ h_prev)
    "dbh_assigned": "carry_overwrites",             # dbh[:] = da.sum(0): the view assigned, not added to
    "dWhh_subtracted": "wrong_sign",                # dWhh -= da.T @ h_prev (an SGD step's sign in the gradient)
    "loop_stops_at_1": "loop_skips_step",           # for t in range(T - 1, 0, -1): step 0 never walked back
    "upstream_dropped": "term_dropped",             # dh_t = dh_next: the loss's dh[t] left out
    "fwd_bias_view_off_by_one": "forward_mistake",  # bias view theta[-H-1:-1] in forward and dtheta alike (consistent)
    "dtheta_over_T": "reduction_scaled",            # dtheta /= T at the end ("average over time")
    "clip_global_norm": "gradient_clipped",         # dtheta rescaled to norm 0.5 when larger
    "no_mask_and_minus": "unknown",                 # two at once: relu_grad_missing and dWhh_subtracted
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "relu_mask_prev_step": "",
    "relu_grad_missing": "",
    "relu_grad_as_tanh": "",
    "Whh_view_transposed": "",
    "dWhh_outer_swapped": "",
    "dbh_assigned": "",
    "dWhh_subtracted": "",
    "loop_stops_at_1": "",
    "upstream_dropped": "",
    "fwd_bias_view_off_by_one": "",
    "dtheta_over_T": "",
    "clip_global_norm": "",
    "no_mask_and_minus": "",
}


def views(theta, D, H):
    """Wxh (H, D), Whh (H, H), bh (H,) as views of the flat buffer."""
    Wxh = theta[:H * D].reshape(H, D)
    Whh = theta[H * D:H * D + H * H].reshape(H, H)
    return Wxh, Whh, theta[H * D + H * H:]


def bias_view(theta, H, bug):
    return theta[-H - 1:-1] if bug == "fwd_bias_view_off_by_one" else theta[-H:]


def forward(x, h0, theta, bug=None):
    T, N, D = x.shape
    H = h0.shape[1]
    Wxh, Whh, _ = views(theta, D, H)
    bh = bias_view(theta, H, bug)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    for t in range(T):
        hs[t + 1] = np.maximum(x[t] @ Wxh.T + hs[t] @ Whh.T + bh, 0)
    return hs[1:].copy(), {"x": x, "hs": hs, "theta": theta}


def backward(dh, cache, bug=None):
    x, hs, theta = cache["x"], cache["hs"], cache["theta"]
    T, N, D = x.shape
    H = dh.shape[2]
    Wxh, Whh, _ = views(theta, D, H)
    dtheta = np.zeros_like(theta)
    dWxh, dWhh, _ = views(dtheta, D, H)
    dbh = bias_view(dtheta, H, bug)
    dx = np.empty_like(x)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    stop = 0 if bug == "loop_stops_at_1" else -1
    for t in range(T - 1, stop, -1):
        dh_t = dh_next if bug == "upstream_dropped" else dh[t] + dh_next
        h_t, h_prev = hs[t + 1], hs[t]
        if bug in ("relu_grad_missing", "no_mask_and_minus"):
            da = dh_t
        elif bug == "relu_grad_as_tanh":
            da = dh_t * (1 - h_t ** 2)
        elif bug == "relu_mask_prev_step":
            da = dh_t * (hs[t - 1] > 0)
        else:
            da = dh_t * (h_t > 0)
        dWxh += da.T @ x[t]
        if bug in ("dWhh_subtracted", "no_mask_and_minus"):
            dWhh -= da.T @ h_prev
        elif bug == "dWhh_outer_swapped":
            dWhh += h_prev.T @ da
        else:
            dWhh += da.T @ h_prev
        if bug == "dbh_assigned":
            dbh[:] = da.sum(axis=0)
        else:
            dbh += da.sum(axis=0)
        dx[t] = da @ Wxh
        dh_next = da @ (Whh.T if bug == "Whh_view_transposed" else Whh)
    if bug == "loop_stops_at_1":
        dx[0] = 0
    if bug == "dtheta_over_T":
        dtheta /= T
    if bug == "clip_global_norm":
        norm = np.linalg.norm(dtheta)
        if norm > 0.5:
            dtheta *= 0.5 / norm
    return dx, dh_next, dtheta


def to_user(cell, p):
    b = p["bias_ih"] + p["bias_hh"]
    return {"theta": np.concatenate([p["weight_ih"].ravel(), p["weight_hh"].ravel(), b])}


def to_canonical(cell, grads, p):
    H, D = p["weight_ih"].shape
    if "dtheta" not in grads:
        return {}
    dWxh, dWhh, dbh = views(grads["dtheta"], D, H)
    return {"dweight_ih": dWxh.copy(), "dweight_hh": dWhh.copy(), "dbias_ih": dbh.copy()}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flatbuf_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, theta):
        return forward(x, h0, theta, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

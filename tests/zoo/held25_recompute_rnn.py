"""A memory-lean vanilla RNN in the cs231n layout that caches only the hidden states: the
forward keeps hs (N, T+1, H) with h0 at index 0 and the inputs, nothing else; the backward
recomputes each step's pre-activation a_t = x_t Wx + h_(t-1) Wh + b and takes tanh'(a_t)
from it (1 - tanh(a_t)^2) instead of reading a stored value.

    x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)     h_t = tanh(x_t Wx + h_(t-1) Wh + b)

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dWh_with_h_t": "wrong_time",                   # dWh += hs[:, t + 1].T @ da (h_t for h_(t-1))
    "dWx_with_x_prev": "wrong_time",                # dWx += x[:, t - 1].T @ da (x_(t-1) for x_t; x[:, -1] at t = 0)
    "dtanh_of_preact": "derivative_wrong_point",    # da = dh_t * (1 - a ** 2): the output formula used on a
    "recompute_without_b": "derivative_wrong_point",  # recomputed a leaves out b: tanh' at x Wx + h Wh
    "Wh_not_transposed": "weight_transposed",       # dcarry = da @ Wh
    "dWh_returned_transposed": "gradient_transposed",  # return ..., dWh.T, ...
    "carry_not_added": "carry_dropped",             # dh_t = dh[:, t]: the carry computed, never added
    "loop_runs_forward": "loop_direction",          # for t in range(T): the carry flows forward in time
    "db_mean": "reduction_scaled",                  # db += da.mean(axis=0) (np.mean for np.sum)
    "dcarry_from_dWh": "gradient_for_weight",       # dcarry = da @ dWh.T (the running dWh for Wh)
    "truncated_after_3": "truncated_bptt",          # the carry is zeroed once 3 steps have been walked back
    "clip_dcarry": "gradient_clipped",              # np.clip(dcarry, -0.05, 0.05) each step
    "fwd_bias_twice": "forward_mistake",            # a = x Wx + b + h Wh + b; recompute and db = 2 sum(da) consistent
    "dWh_T_and_db_mean": "unknown",                 # two at once: dWh returned transposed and db as a mean
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "dWh_with_h_t": "",
    "dWx_with_x_prev": "",
    "dtanh_of_preact": "",
    "recompute_without_b": "",
    "Wh_not_transposed": "",
    "dWh_returned_transposed": "",
    "carry_not_added": "",
    "loop_runs_forward": "",
    "db_mean": "",
    "dcarry_from_dWh": "",
    "truncated_after_3": "",
    "clip_dcarry": "",
    "fwd_bias_twice": "",
    "dWh_T_and_db_mean": "",
}


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache (x, hs, Wx, Wh, b)."""
    N, T, _ = x.shape
    hs = np.empty((N, T + 1, h0.shape[1]), dtype=x.dtype)
    hs[:, 0] = h0
    for t in range(T):
        a = x[:, t] @ Wx + hs[:, t] @ Wh + b
        if bug == "fwd_bias_twice":
            a = x[:, t] @ Wx + b + hs[:, t] @ Wh + b
        hs[:, t + 1] = np.tanh(a)
    return hs[:, 1:].copy(), (x, hs, Wx, Wh, b)


def rnn_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, dh0, dWx, dWh, db."""
    x, hs, Wx, Wh, b = cache
    N, T, H = dh.shape
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dcarry = np.zeros((N, H), dtype=dh.dtype)
    steps = range(T) if bug == "loop_runs_forward" else range(T - 1, -1, -1)
    for walked, t in enumerate(steps):
        if bug == "truncated_after_3" and walked == 3:
            dcarry = np.zeros_like(dcarry)
        a = x[:, t] @ Wx + hs[:, t] @ Wh                 # recompute the pre-activation
        if bug == "fwd_bias_twice":
            a = a + 2 * b
        elif bug != "recompute_without_b":
            a = a + b
        dh_t = dh[:, t] if bug == "carry_not_added" else dh[:, t] + dcarry
        if bug == "dtanh_of_preact":
            da = dh_t * (1 - a ** 2)
        else:
            da = dh_t * (1 - np.tanh(a) ** 2)
        dx[:, t] = da @ Wx.T
        dWx += x[:, t - 1].T @ da if bug == "dWx_with_x_prev" else x[:, t].T @ da
        dWh += hs[:, t + 1].T @ da if bug == "dWh_with_h_t" else hs[:, t].T @ da
        if bug in ("db_mean", "dWh_T_and_db_mean"):
            db += da.mean(axis=0)
        elif bug == "fwd_bias_twice":
            db += 2 * da.sum(axis=0)
        else:
            db += da.sum(axis=0)
        if bug == "Wh_not_transposed":
            dcarry = da @ Wh
        elif bug == "dcarry_from_dWh":
            dcarry = da @ dWh.T
        else:
            dcarry = da @ Wh.T
        if bug == "clip_dcarry":
            dcarry = np.clip(dcarry, -0.05, 0.05)
    if bug in ("dWh_returned_transposed", "dWh_T_and_db_mean"):
        dWh = dWh.T
    return dx, dcarry, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

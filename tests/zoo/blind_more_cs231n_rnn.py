"""More mistakes in a cs231n-style vanilla RNN (rnn_layers.py: step functions, then sequence
functions), written fresh: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,).

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "dtanh_one_minus_h": "derivative_miswritten",     # (1 - next_h) for (1 - next_h**2)
    "dtanh_left_out": "derivative_missing",           # dnext_h passed straight to the products
    "dtanh_cached_and_recomputed": "derivative_twice",  # forward caches 1 - h^2, backward multiplies again
    "dprev_h_from_dWh": "gradient_for_weight",        # dprev_h = dnext @ dWh.T
    "dWh_assigned": "carry_overwrites",               # dWh = dWh_t in the driver
    "dnext_assigned": "carry_overwrites",             # dnext = dprev_h for t < T-1 (not dh[:, t] + dprev_h)
    "dWx_over_T": "reduction_scaled",                 # dWx /= T
    "dWx_x_next": "wrong_time",                       # x[:, t + 1, :] (the last step keeps its own) in dWx
    "relu_cell": "forward_mistake",                   # ReLU forward, backward consistent, tanh expected
    "loop_forward_in_time": "loop_direction",         # the backward loop runs t = 0 .. T-1
}
TOUCHES = {b: "" for b in BUGS}


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    """x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
    pre = x.dot(Wx) + prev_h.dot(Wh) + b
    next_h = np.maximum(pre, 0) if bug == "relu_cell" else np.tanh(pre)
    local = 1 - next_h ** 2 if bug == "dtanh_cached_and_recomputed" else None
    return next_h, {"prev_h": prev_h, "Wx": Wx, "Wh": Wh, "next_h": next_h, "local": local}


def rnn_step_backward(dnext_h, x, cache, bug=None):
    """dnext_h (N, H), x (N, D) the step's input -> dx, dprev_h, dWx, dWh, db."""
    next_h = cache["next_h"]
    if bug == "dtanh_one_minus_h":
        dpre = dnext_h * (1 - next_h)
    elif bug == "dtanh_left_out":
        dpre = dnext_h
    elif bug == "dtanh_cached_and_recomputed":
        dpre = dnext_h * cache["local"] * (1 - next_h ** 2)
    elif bug == "relu_cell":
        dpre = dnext_h * (next_h > 0)
    else:
        dpre = dnext_h * (1 - next_h ** 2)
    dx = dpre.dot(cache["Wx"].T)
    dWx = x.T.dot(dpre)
    dWh = cache["prev_h"].T.dot(dpre)
    dprev_h = dpre.dot(dWh.T if bug == "dprev_h_from_dWh" else cache["Wh"].T)
    db = np.sum(dpre, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    caches, prev_h = [], h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        caches.append(step_cache)
    return h, {"steps": caches, "x": x}


def rnn_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx, dWh, db."""
    steps, x = cache["steps"], cache["x"]
    N, T, H = dh.shape
    D = x.shape[2]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, H), dtype=dh.dtype)
    dWh = np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "loop_forward_in_time" else reversed(range(T))
    for t in order:
        if bug == "dnext_assigned":
            dnext = dprev_h if t < T - 1 else dh[:, t, :]
        else:
            dnext = dh[:, t, :] + dprev_h
        x_t = x[:, min(t + 1, T - 1), :] if bug == "dWx_x_next" else x[:, t, :]
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dnext, x_t, steps[t], bug)
        dx[:, t, :] = dx_t
        dWx += dWx_t
        if bug == "dWh_assigned":
            dWh = dWh_t
        else:
            dWh += dWh_t
        db += db_t
    if bug == "dWx_over_T":
        dWx /= T
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(rnn_forward, bug=bug), partial(rnn_backward, bug=bug), {"cell": "rnn", "layout": "cs231n"}

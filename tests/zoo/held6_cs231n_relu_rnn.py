"""A ReLU RNN in the cs231n assignment style (step functions, a sequence driver, layout
cs231n: x (N, T, D), Wx (D, H), Wh (H, H), b (H,)), activation="relu". The step caches the
pre-activation and the backward masks with it, as the ReLU lecture notes do:

    a = x @ Wx + prev_h @ Wh + b        next_h = max(0, a)        da = dnext_h * (a > 0)

Sixth held-out zoo: written without reading the diagnosis. "[own]" marks mistakes of the
writer's own invention (beyond issue 8's list).
"""

import numpy as np

BUGS = {
    "mask_from_prev_h": "wrong_time",                  # [own] da = dnext_h * (prev_h > 0): step t-1's mask
    "relu_grad_tanh_style": "derivative_wrong_function",   # da = dnext_h * (1 - next_h ** 2), copied from the tanh RNN
    "mask_left_out": "derivative_missing",             # da = dnext_h
    "mask_inverted": "derivative_miswritten",          # da = dnext_h * (a <= 0)
    "Wh_not_transposed": "weight_transposed",          # dprev_h = da @ Wh
    "dWh_transposed": "gradient_transposed",           # dWh = da.T @ prev_h
    "dprev_h_from_dWh": "gradient_for_weight",         # dprev_h = da @ dWh.T (dWh computed one line above)
    "driver_drops_carry": "carry_dropped",             # step_backward(dh[:, t], ...): dprev_h never added
    "driver_dWh_assigned": "carry_overwrites",         # dWh = dWh_t in the driver (= for +=)
    "loop_stops_at_1": "loop_skips_step",              # for t in range(T - 1, 0, -1): step 0 never run
    "loss_mean_over_T": "reduction_scaled",            # dh = dh / T at the top of the driver
    "loop_forward_in_time": "loop_direction",          # [own] for t in range(T), carrying dprev_h along
    "clip_carry_each_step": "gradient_clipped",        # [own] np.clip(dprev_h, -0.1, 0.1) after every step (exploding-ReLU guard)
    "forward_uses_Wh_T": "forward_mistake",            # [own] a = x @ Wx + prev_h @ Wh.T + b; the backward matches it
    "Wh_untransposed_and_mean_T": "unknown",           # two mistakes at once: dprev_h = da @ Wh and dh / T
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "mask_from_prev_h": "",
    "relu_grad_tanh_style": "",
    "mask_left_out": "",
    "mask_inverted": "",
    "Wh_not_transposed": "",
    "dWh_transposed": "",
    "dprev_h_from_dWh": "",
    "driver_drops_carry": "",
    "driver_dWh_assigned": "",
    "loop_stops_at_1": "",
    "loss_mean_over_T": "",
    "loop_forward_in_time": "",
    "clip_carry_each_step": "",
    "forward_uses_Wh_T": "",
    "Wh_untransposed_and_mean_T": "",
}


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    Whh = Wh.T if bug == "forward_uses_Wh_T" else Wh
    a = x.dot(Wx) + prev_h.dot(Whh) + b
    next_h = np.maximum(0, a)
    cache = (x, prev_h, Wx, Wh, a, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, a, next_h = cache
    if bug == "mask_from_prev_h":
        da = dnext_h * (prev_h > 0)
    elif bug == "relu_grad_tanh_style":
        da = dnext_h * (1 - next_h ** 2)
    elif bug == "mask_left_out":
        da = dnext_h
    elif bug == "mask_inverted":
        da = dnext_h * (a <= 0)
    else:
        da = dnext_h * (a > 0)
    dx = da.dot(Wx.T)
    dWx = x.T.dot(da)
    if bug == "forward_uses_Wh_T":
        dWh = da.T.dot(prev_h)
    elif bug == "dWh_transposed":
        dWh = da.T.dot(prev_h)
    else:
        dWh = prev_h.T.dot(da)
    if bug in ("Wh_not_transposed", "Wh_untransposed_and_mean_T", "forward_uses_Wh_T"):
        dprev_h = da.dot(Wh)
    elif bug == "dprev_h_from_dWh":
        dprev_h = da.dot(dWh.T)
    else:
        dprev_h = da.dot(Wh.T)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(c)
    return h, cache


def rnn_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    if bug in ("loss_mean_over_T", "Wh_untransposed_and_mean_T"):
        dh = dh / T
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, H), dtype=dh.dtype)
    dWh = np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    if bug == "loop_stops_at_1":
        steps = range(T - 1, 0, -1)
    elif bug == "loop_forward_in_time":
        steps = range(T)
    else:
        steps = range(T - 1, -1, -1)
    for t in steps:
        upstream = dh[:, t, :] if bug == "driver_drops_carry" else dh[:, t, :] + dprev_h
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(upstream, cache[t], bug)
        if bug == "clip_carry_each_step":
            np.clip(dprev_h, -0.1, 0.1, out=dprev_h)
        dWx += dWx_t
        if bug == "driver_dWh_assigned":
            dWh = dWh_t
        else:
            dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n", "activation": "relu"}

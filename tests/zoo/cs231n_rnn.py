"""A vanilla RNN the cs231n way: step functions, then sequence functions looping over them.

The input data has dimension D, the hidden state dimension H, minibatch size N, T steps.
``bug`` plants one classic mistake (see BUGS); None is the correct code.
"""

from functools import partial

import numpy as np

BUGS = {
    "carry_T": "weight_transposed",            # dprev_h = da @ Wh
    "act_preact": "derivative_wrong_point",         # 1 - a^2 with a the pre-activation
    "act_prev": "derivative_wrong_point",           # 1 - prev_h^2
    "carry_dropped": "carry_dropped",             # dh[:, t] alone, dprev_h never added
    "pair_x_prev": "wrong_time",          # dWx from x_{t-1}
    "pair_h_next": "wrong_time",          # dWh from h_t instead of h_{t-1}
    "skip_first": "loop_skips_step",              # for t in range(T-1, 0, -1)
    "skip_last": "loop_skips_step",               # for t in range(T-2, -1, -1)
    "bias_mean_N": "reduction_scaled",               # db / N
    "bias_mean_NT": "reduction_scaled",              # db / (N*T)
    "bias_sign": "wrong_sign",               # db -= ...
    "dWh_outer_reversed": "gradient_transposed",  # dWh = da.T @ prev_h: the square gradient transposed
    "loop_forward": "loop_direction",             # for t in range(T): the carry goes forward in time
    "bptt_truncate_2": "truncated_bptt",          # each dh[:, t] backpropagated 2 steps back at most
    "clip_elementwise": "gradient_clipped",       # np.clip(dW, -0.05, 0.05, out=dW) for dWx, dWh, db
    "forward_bias_twice": "forward_mistake",      # a = x Wx + h Wh + b + b; the backward unchanged
    "carry_after_derivative": "derivative_missing",   # da = dh[:, t] * (1 - h^2) + dprev_h: the carry skips tanh'
    "act_from_cache_before": "wrong_time",        # tanh' from cache[t - 1]'s next_h (at t = 0: cache[-1], the last)
}


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    """x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H), cache."""
    a = x @ Wx + prev_h @ Wh + b                # (N, H)
    if bug == "forward_bias_twice":
        a = a + b
    next_h = np.tanh(a)
    return next_h, (x, prev_h, Wx, Wh, a, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    """dnext_h (N, H) -> dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)."""
    x, prev_h, Wx, Wh, a, next_h = cache
    if bug == "act_preact":
        da = dnext_h * (1 - a ** 2)
    elif bug == "act_prev":
        da = dnext_h * (1 - prev_h ** 2)
    else:
        da = dnext_h * (1 - next_h ** 2)        # tanh'(a) = 1 - tanh(a)^2
    dx = da @ Wx.T                              # (N, D)
    dprev_h = da @ (Wh if bug == "carry_T" else Wh.T)
    dWx = x.T @ da                              # (D, H)
    dWh = (next_h if bug == "pair_h_next" else prev_h).T @ da
    if bug == "dWh_outer_reversed":
        dWh = da.T @ prev_h
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache (the list of step caches)."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    caches = []
    prev_h = h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward(dh, cache, bug=None):
    """dh (N, T, H): upstream gradients of every step, NOT the ones passed between steps."""
    N, T, H = dh.shape
    x0, _, Wx, Wh, _, _ = cache[0]
    D = x0.shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    if bug == "bptt_truncate_2":
        return _truncated_backward(dh, cache, 2)
    steps = {"skip_first": range(T - 1, 0, -1), "skip_last": range(T - 2, -1, -1),
             "loop_forward": range(T)}.get(bug, range(T - 1, -1, -1))
    for t in steps:
        step_cache = cache[t]
        if bug == "act_from_cache_before":      # off by one: next_h of cache[t - 1]
            step_cache = step_cache[:5] + (cache[t - 1][5],)
        if bug == "pair_x_prev":                # off by one: the input of the step before
            x_prev = cache[t - 1][0] if t > 0 else np.zeros_like(x0)
            step_cache = (x_prev,) + step_cache[1:]
        dnext = dh[:, t, :] if bug in ("carry_dropped", "carry_after_derivative") else dh[:, t, :] + dprev_h
        if bug == "carry_after_derivative":     # the carry joins after tanh' (a step cache with a fake h: 1-h^2 = 1)
            dx_a, dprev_a, dWx_a, dWh_a, db_a = rnn_step_backward(dprev_h, step_cache[:5] + (np.zeros_like(dprev_h),))
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dnext, step_cache, bug)
        if bug == "carry_after_derivative":
            dx[:, t, :] += dx_a
            dprev_h, dWx_t, dWh_t, db_t = dprev_h + dprev_a, dWx_t + dWx_a, dWh_t + dWh_a, db_t + db_a
        dWx += dWx_t
        dWh += dWh_t
        if bug == "bias_sign":
            db -= db_t
        else:
            db += db_t
    if bug == "bias_mean_N":
        db /= N
    elif bug == "bias_mean_NT":
        db /= N * T
    elif bug == "clip_elementwise":
        for grad in (dWx, dWh, db):
            np.clip(grad, -0.05, 0.05, out=grad)
    return dx, dprev_h, dWx, dWh, db


def _truncated_backward(dh, cache, bptt_truncate):
    """The tutorials' truncated BPTT: each step's upstream gradient goes back bptt_truncate steps."""
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache[0][0].shape[1]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(cache[0][2]), np.zeros_like(cache[0][3]), np.zeros(H, dtype=dh.dtype)
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T):
        delta = dh[:, t]
        for step in range(t, max(-1, t - bptt_truncate - 1), -1):
            dx_s, delta, dWx_s, dWh_s, db_s = rnn_step_backward(delta, cache[step])
            dx[:, step] += dx_s
            dWx += dWx_s
            dWh += dWh_s
            db += db_s
            if step == 0:
                dh0 += delta
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(rnn_forward, bug=bug), partial(rnn_backward, bug=bug), {"cell": "rnn", "layout": "cs231n"}

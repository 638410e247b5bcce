"""A vanilla RNN in the cs231n layout written the way the assignment's layer_utils invite:
the course hands out ``affine_forward/affine_backward`` and ``tanh_forward/tanh_backward``
(each returning/taking a cache) and the student composes them between
``### START CODE HERE ###`` markers:

    ax = x @ Wx + b          ah = prev_h @ Wh          next_h = tanh(ax + ah)

x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,). Thirtieth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "tanh_cache_is_preact": "derivative_wrong_point",     # the tanh cache holds a = ax + ah: da = dout * (1 - a**2)
    "dprev_h_Wh_untransposed": "weight_transposed",        # dprev_h = da @ Wh (inline, not the helper)
    "tanh_backward_sign": "wrong_sign",                    # da = dout * (out**2 - 1)
    "tanh_backward_skipped": "derivative_missing",         # da = dnext_h: tanh_backward never called
    "driver_ignores_carry": "carry_dropped",               # dh_t = dh[:, t] (+ dprev_h forgotten)
    "dWh_assigned": "carry_overwrites",                    # dWh = dWh_t in the driver (= for +=)
    "loop_skips_t0": "loop_skips_step",                    # for t in reversed(range(1, T))
    "db_mean": "reduction_scaled",                         # db = da.mean(axis=0) in the student's own affine_backward
    "forward_b_twice": "forward_mistake",                  # affine_forward(prev_h, Wh, b) too; db gets both parts
    "loop_forward_in_time": "loop_direction",              # for t in range(T): the carry flows forward
    "clip_dh_total": "gradient_clipped",                   # np.clip(dh[:, t] + dprev_h, -1, 1) before the step
    "da_times_0_7": "unknown",                             # da = 0.7 * tanh_backward(...): an arbitrary constant
    "cache_one_back": "wrong_time",                        # rnn_step_backward(..., cache[t - 1]): the cache read one step early
    "dWh_returned_transposed": "gradient_transposed",      # dWh_t = da.T @ prev_h ((H, H), transposed)
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "tanh_cache_is_preact": "",
    "dprev_h_Wh_untransposed": "",
    "tanh_backward_sign": "",
    "tanh_backward_skipped": "",
    "driver_ignores_carry": "",
    "dWh_assigned": "",
    "loop_skips_t0": "",
    "db_mean": "",
    "forward_b_twice": "",
    "loop_forward_in_time": "",
    "clip_dh_total": "",
    "da_times_0_7": "",
    "cache_one_back": "",
    "dWh_returned_transposed": "",
}


# ---- given by the course (layers.py) ----
def affine_forward(x, w, b):
    out = x @ w
    if b is not None:
        out = out + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def tanh_forward(a):
    out = np.tanh(a)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)


# ---- student code ----
def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    ### START CODE HERE ###
    ax, cache_x = affine_forward(x, Wx, b)
    ah, cache_h = affine_forward(prev_h, Wh, b if bug == "forward_b_twice" else None)
    next_h, cache_t = tanh_forward(ax + ah)
    if bug == "tanh_cache_is_preact":
        cache_t = ax + ah
    ### END CODE HERE ###
    return next_h, (cache_x, cache_h, cache_t)


def rnn_step_backward(dnext_h, cache, bug=None):
    cache_x, cache_h, cache_t = cache
    ### START CODE HERE ###
    if bug == "tanh_backward_sign":
        da = dnext_h * (cache_t ** 2 - 1)
    elif bug == "tanh_backward_skipped":
        da = dnext_h
    else:
        da = tanh_backward(dnext_h, cache_t)
    if bug == "da_times_0_7":
        da = 0.7 * da
    if bug == "db_mean":
        x, w = cache_x
        dx, dWx, db = da @ w.T, x.T @ da, da.mean(axis=0)
    else:
        dx, dWx, db = affine_backward(da, cache_x)
    dprev_h, dWh, db_h = affine_backward(da, cache_h)
    if bug == "dprev_h_Wh_untransposed":
        dprev_h = da @ cache_h[1]
    if bug == "dWh_returned_transposed":
        dWh = da.T @ cache_h[0]
    if bug == "forward_b_twice":
        db = db + db_h
    ### END CODE HERE ###
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    cache, prev_h = [], h0
    for t in range(T):
        prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(c)
    return h, cache


def rnn_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    (_, Wx), (_, Wh) = cache[0][0], cache[0][1]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    if bug == "loop_skips_t0":
        steps = reversed(range(1, T))
    elif bug == "loop_forward_in_time":
        steps = range(T)
    else:
        steps = reversed(range(T))
    for t in steps:
        dh_t = dh[:, t, :] if bug == "driver_ignores_carry" else dh[:, t, :] + dprev_h
        if bug == "clip_dh_total":
            dh_t = np.clip(dh_t, -1, 1)
        step_cache = cache[t - 1] if bug == "cache_one_back" else cache[t]
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh_t, step_cache, bug)
        dWx += dWx_t
        if bug == "dWh_assigned":
            dWh = dWh_t
        else:
            dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

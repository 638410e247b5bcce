"""cs231n's RNN as a CSDN blog solution ("cs231n assignment3 RNN 详解") writes it: the
built-in cs231n layout (x (N, T, D), Wx (D, H), Wh (H, H), b (H,)), step functions with a
cache tuple, and a sequence backward that adds each step's dprev_h into the upstream
gradient of the step before (``dh[:, t - 1] += dprev_h``) instead of carrying a variable.
Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dtanh_of_prev_h": "derivative_wrong_point",     # dtanh = (1 - prev_h ** 2) * dnext_h
    "tanh_grad_twice": "derivative_twice",           # the driver hands the step (dh_t) * (1 - h_t^2); the step multiplies again
    "dtanh_square_typo": "derivative_miswritten",    # (1 - next_h) * (1 - next_h) for (1 - next_h) * (1 + next_h)
    "dh_written_back_with_eq": "carry_overwrites",   # dh[:, t - 1] = dprev_h (= for +=)
    "dWx_batch_mean": "reduction_scaled",            # dWx = x.T @ dtanh / N
    "db_before_tanh_grad": "derivative_missing",     # db = dnext_h.sum(axis=0): the bias skips tanh'
    "enumerate_cache": "loop_direction",             # for t, step_cache in enumerate(cache): walked forward in time
    "cache_index_minus_one": "wrong_time",           # rnn_step_backward(dh[:, t], cache[t - 1]): the step before's cache
    "clip_dprev_h": "gradient_clipped",              # dprev_h = np.clip(dprev_h, -0.1, 0.1) ("exploding gradients")
    "forward_prev_h_not_updated": "forward_mistake",  # every step reads h0 (prev_h never reassigned); dh0 sums the steps
    "dtanh_prev_and_db_mean": "unknown",             # two mistakes: tanh' at prev_h and db / N
}

TOUCHES = {b: "" for b in BUGS}


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, next_h = cache
    if bug in ("dtanh_of_prev_h", "dtanh_prev_and_db_mean"):
        dtanh = (1 - prev_h ** 2) * dnext_h
    elif bug == "dtanh_square_typo":
        dtanh = (1 - next_h) * (1 - next_h) * dnext_h
    else:
        dtanh = (1 - next_h ** 2) * dnext_h              # 激活函数的导数 (tanh')
    dx = dtanh.dot(Wx.T)
    dprev_h = dtanh.dot(Wh.T)
    N = x.shape[0]
    dWx = x.T.dot(dtanh) / N if bug == "dWx_batch_mean" else x.T.dot(dtanh)
    dWh = prev_h.T.dot(dtanh)
    if bug == "db_before_tanh_grad":
        db = dnext_h.sum(axis=0)
    elif bug == "dtanh_prev_and_db_mean":
        db = dtanh.sum(axis=0) / N
    else:
        db = dtanh.sum(axis=0)
    if bug == "clip_dprev_h":
        dprev_h = np.clip(dprev_h, -0.1, 0.1)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    cache = []
    prev_h = h0
    for t in range(T):
        next_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = next_h
        if bug != "forward_prev_h_not_updated":
            prev_h = next_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    dWx = np.zeros((D, H), dtype=dh.dtype)
    dWh = np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dh = dh.copy()
    if bug == "enumerate_cache":
        steps = list(enumerate(cache))
    else:
        steps = [(t, cache[t]) for t in reversed(range(T))]
    for t, step_cache in steps:
        if bug == "cache_index_minus_one":
            step_cache = cache[t - 1]
        dnext_h = dh[:, t, :]
        if bug == "tanh_grad_twice":
            dnext_h = dnext_h * (1 - step_cache[4] ** 2)
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dnext_h, step_cache, bug)
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        if bug == "forward_prev_h_not_updated":
            dh0 += dprev_h                                   # every step's prev_h is h0
        elif t > 0:
            if bug == "dh_written_back_with_eq":
                dh[:, t - 1, :] = dprev_h
            else:
                dh[:, t - 1, :] += dprev_h
        else:
            dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

"""A cs231n-layout RNN by someone who only trusts their sigmoid: tanh is computed as
2 * sigmoid(2a) - 1, the step caches sig = sigmoid(2a), and the derivative is written from
that form, d tanh/da = 4 * sig * (1 - sig):

    a = x @ Wx + prev_h @ Wh + b      sig = sigmoid(2 a)      next_h = 2 sig - 1

Step functions and a sequence driver as in the assignment. x (N, T, D), h0 (N, H), Wx (D, H),
Wh (H, H), b (H,); forward(x, h0, Wx, Wh, b) -> (h, cache); backward(dh, cache) ->
(dx, dh0, dWx, dWh, db). Fourteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "inner_two_forgotten": "derivative_miswritten",      # dtanh = 2 * sig * (1 - sig): the chain rule's inner 2 left out
    "dtanh_as_sigmoid_grad": "derivative_wrong_function",  # dtanh = next_h * (1 - next_h), sigmoid's from the output
    "sig_of_a_not_2a": "derivative_wrong_point",         # s1 = sigmoid(a); 4 * s1 * (1 - s1): sigmoid taken at a, not 2a
    "driver_applies_dtanh_too": "derivative_twice",      # the driver multiplies by 1 - h ** 2 before the step does
    "dtanh_sign": "wrong_sign",                          # 4 * sig * (sig - 1)
    "no_dtanh": "derivative_missing",                    # da = dnext_h
    "Wh_not_transposed": "weight_transposed",            # dprev_h = da @ Wh
    "dprev_from_dWh": "gradient_for_weight",             # dprev_h = da @ dWh.T (dWh computed the line before)
    "carry_not_added": "carry_dropped",                  # the driver passes dh[:, t] alone
    "loop_forward_in_time": "loop_direction",            # for t in range(T) in the backward
    "dWx_over_N": "reduction_scaled",                    # dWx /= N at the end, a batch mean
    "dWh_clipped": "gradient_clipped",                   # np.clip(dWh, -0.5, 0.5, out=dWh) before returning
    "forward_inner_2_missing": "forward_mistake",        # next_h = 2 * sigmoid(a) - 1; backward 2 * sig * (1 - sig): consistent
    "dtanh_three_quarters": "unknown",                   # 3 * sig * (1 - sig): a wrong constant
    "carry_dropped_and_Wh_untransposed": "unknown",      # two mistakes: carry_not_added and Wh_not_transposed together
}

TOUCHES = {b: "" for b in BUGS}                          # computed: blind_index.touched_gates(module, bug) ("" for an RNN)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    a = x @ Wx + prev_h @ Wh + b
    if bug == "forward_inner_2_missing":
        sig = sigmoid(a)
    else:
        sig = sigmoid(2 * a)
    next_h = 2 * sig - 1
    return next_h, (x, prev_h, Wx, Wh, a, sig, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, a, sig, next_h = cache
    if bug in ("inner_two_forgotten", "forward_inner_2_missing"):
        dtanh = 2 * sig * (1 - sig)
    elif bug == "dtanh_as_sigmoid_grad":
        dtanh = next_h * (1 - next_h)
    elif bug == "sig_of_a_not_2a":
        s1 = sigmoid(a)
        dtanh = 4 * s1 * (1 - s1)
    elif bug == "dtanh_sign":
        dtanh = 4 * sig * (sig - 1)
    elif bug == "dtanh_three_quarters":
        dtanh = 3 * sig * (1 - sig)
    else:
        dtanh = 4 * sig * (1 - sig)
    da = dnext_h if bug == "no_dtanh" else dnext_h * dtanh
    dx = da @ Wx.T
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    if bug in ("Wh_not_transposed", "carry_dropped_and_Wh_untransposed"):
        dprev_h = da @ Wh
    elif bug == "dprev_from_dWh":
        dprev_h = da @ dWh.T
    else:
        dprev_h = da @ Wh.T
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, H), dtype=dh.dtype)
    dWh = np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "loop_forward_in_time" else reversed(range(T))
    for t in order:
        if bug in ("carry_not_added", "carry_dropped_and_Wh_untransposed"):
            dnext = dh[:, t, :]
        else:
            dnext = dh[:, t, :] + dprev_h
        if bug == "driver_applies_dtanh_too":
            dnext = dnext * (1 - cache[t][-1] ** 2)
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dnext, cache[t], bug)
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if bug == "dWx_over_N":
        dWx /= N
    if bug == "dWh_clipped":
        np.clip(dWh, -0.5, 0.5, out=dWh)
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

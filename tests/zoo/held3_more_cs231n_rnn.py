"""Fresh mistakes in a vanilla RNN on the built-in ``cs231n`` layout, written as the
assignment's step functions and driver: x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,),

    next_h = tanh(x_t @ Wx + prev_h @ Wh + b)

the step cache a tuple (x, prev_h, Wx, Wh, next_h). Third held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dtanh_h2_minus_1": "wrong_sign",                     # dnext_h * (next_h ** 2 - 1)
    "dtanh_sigmoid_form": "derivative_wrong_function",    # dnext_h * next_h * (1 - next_h)
    "dx_from_dnext_h": "derivative_missing",              # dx = dnext_h @ Wx.T (before tanh')
    "step_grads_unpacked_into_totals": "carry_overwrites",  # dx[:, t], dprev_h, dWx, dWh, db = step(...)
    "db_over_T": "reduction_scaled",                      # db / T
    "forward_tanh_on_recurrent_part": "forward_mistake",  # next_h = x @ Wx + tanh(prev_h @ Wh + b); consistent
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dtanh_h2_minus_1": "",
    "dtanh_sigmoid_form": "",
    "dx_from_dnext_h": "",
    "step_grads_unpacked_into_totals": "",
    "db_over_T": "",
    "forward_tanh_on_recurrent_part": "",
}


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    if bug == "forward_tanh_on_recurrent_part":
        next_h = x @ Wx + np.tanh(prev_h @ Wh + b)
    else:
        next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, next_h = cache
    if bug == "forward_tanh_on_recurrent_part":    # the tanh acts on the recurrent part only
        dtanh = dnext_h * (1 - (next_h - x @ Wx) ** 2)
        return dnext_h @ Wx.T, dtanh @ Wh.T, x.T @ dnext_h, prev_h.T @ dtanh, dtanh.sum(axis=0)
    if bug == "dtanh_h2_minus_1":
        dtanh = dnext_h * (next_h ** 2 - 1)
    elif bug == "dtanh_sigmoid_form":
        dtanh = dnext_h * next_h * (1 - next_h)
    else:
        dtanh = dnext_h * (1 - next_h ** 2)
    dx = (dnext_h if bug == "dx_from_dnext_h" else dtanh) @ Wx.T
    dprev_h = dtanh @ Wh.T
    dWx = x.T @ dtanh
    dWh = prev_h.T @ dtanh
    db = np.sum(dtanh, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    h, cache, prev_h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype), [], h0
    for t in range(T):
        prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(c)
    return h, cache


def rnn_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dWx, dWh, db = np.zeros((D, H), dh.dtype), np.zeros((H, H), dh.dtype), np.zeros(H, dh.dtype)
    for t in reversed(range(T)):
        if bug == "step_grads_unpacked_into_totals":
            dx[:, t, :], dprev_h, dWx, dWh, db = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t], bug)
            continue
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t], bug)
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if bug == "db_over_T":
        db = db / T
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

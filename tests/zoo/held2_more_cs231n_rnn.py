"""Fresh mistakes in a cs231n-style vanilla RNN (built-in layout ``cs231n``): x (N, T, D),
h0 (N, H), Wx (D, H), Wh (H, H), b (H,); step functions and sequence functions with the
step cache a tuple. Second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dprev_h_before_tanh_grad": "derivative_missing",    # dprev_h = dnext_h @ Wh.T: tanh' missing there only
    "sech2_of_next_h": "derivative_wrong_point",         # 1 / cosh(next_h)**2: the right formula at h, not the pre-activation
    "dWh_over_N": "reduction_scaled",                    # dWh / N (a batch-mean loss, for Wh only)
    "dWx_assigned": "carry_overwrites",                  # dWx = dWx_t in the driver (= for +=)
    "forward_residual_state": "forward_mistake",         # next_h = prev_h + tanh(...), backward consistent
    "dh_read_at_loop_counter": "unknown",                # dh[:, i] with i = T-1-t the loop counter: upstream reversed in time
}

TOUCHES = {bug: "" for bug in BUGS}                       # an RNN: no gates (blind_index.touched_gates)


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    act = np.tanh(x @ Wx + prev_h @ Wh + b)
    next_h = prev_h + act if bug == "forward_residual_state" else act
    return next_h, (x, prev_h, Wx, Wh, act)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, act = cache
    if bug == "sech2_of_next_h":
        dpre = dnext_h / np.cosh(act) ** 2
    else:
        dpre = dnext_h * (1 - act * act)
    dx = dpre @ Wx.T
    dprev_h = (dnext_h if bug == "dprev_h_before_tanh_grad" else dpre) @ Wh.T
    if bug == "forward_residual_state":
        dprev_h = dprev_h + dnext_h
    return dx, dprev_h, x.T @ dpre, prev_h.T @ dpre, dpre.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    h = np.zeros((N, T, Wh.shape[0]), dtype=x.dtype)
    prev_h = h0
    cache = []
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    Wx = cache[0][2]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    for i in range(T):
        t = T - 1 - i
        upstream = dh[:, i, :] if bug == "dh_read_at_loop_counter" else dh[:, t, :]
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(upstream + dprev_h, cache[t], bug)
        if bug == "dWx_assigned":
            dWx = dWx_t
        else:
            dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if bug == "dWh_over_N":
        dWh /= N
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n", "activation": "tanh"}

"""An LSTM whose gates are stacked along a new leading axis: the step splits the (N, 4H)
pre-activation with np.split and np.stack's it into A (4, N, H) in the cs231n block order
i, f, o, g, applies sigmoid to A[:3] and tanh to A[3], and the backward builds dgates
(4, N, H) the same way and concatenates it back to (N, 4H). Built-in cs231n layout: x
(N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), c0 = 0. Twenty-fourth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "sigmoid_prime_on_all_four": "derivative_wrong_function",  # dA = dgates * gates * (1 - gates) for g too
    "dgates_concat_ifgo": "gate_order",                # da = concatenate(dA[[0, 1, 3, 2]]): torch's i, f, g, o
    "dc_without_tanh_prime": "derivative_missing",     # dc = dnext_c + dnext_h * o
    "dtanh_c_one_minus_tc": "derivative_miswritten",   # dc = ... * (1 - tc) (square missing)
    "df_with_c_t": "wrong_time",                       # dgates[1] = dc * c (c_t for c_(t-1))
    "do_times_c": "wrong_value",                       # dgates[2] = dnext_h * c (c for tanh(c))
    "dprev_c_times_i": "wrong_value",                  # dprev_c = dc * i (i read for f)
    "dc_carry_not_passed": "carry_dropped",            # the driver never hands dprev_c to the next step back
    "dWh_assigned_in_driver": "carry_overwrites",      # grads["Wh"] = dWh_t (= for +=)
    "dprev_h_from_step_dWh": "gradient_for_weight",    # dprev_h = da @ dWh_t.T
    "db_mean_over_batch": "reduction_scaled",          # db = da.mean(axis=0)
    "sigmoid_prime_sign": "wrong_sign",                # dA[:3] = dgates[:3] * s * (s - 1)
    "dgates_aliases_gates": "inplace_corruption",      # dgates = gates (no copy): the gates are overwritten while read
    "loop_skips_first_step": "loop_skips_step",        # for t in reversed(range(1, T))
    "df_c_t_and_db_mean": "unknown",                   # df with c_t and db.mean: two mistakes
    "forward_h_without_tanh": "forward_mistake",       # h = o * c; backward consistent
}

TOUCHES = {
    "sigmoid_prime_on_all_four": "g",
    "dgates_concat_ifgo": "go",
    "dc_without_tanh_prime": "ig",
    "dtanh_c_one_minus_tc": "ig",
    "df_with_c_t": "f",
    "do_times_c": "o",
    "dprev_c_times_i": "",
    "dc_carry_not_passed": "",
    "dWh_assigned_in_driver": "",
    "dprev_h_from_step_dWh": "",
    "db_mean_over_batch": "",
    "sigmoid_prime_sign": "io",
    "dgates_aliases_gates": "",
    "loop_skips_first_step": "",
    "df_c_t_and_db_mean": "",
    "forward_h_without_tanh": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    a = x @ Wx + prev_h @ Wh + b
    A = np.stack(np.split(a, 4, axis=1))                # (4, N, H): i, f, o, g
    gates = np.empty_like(A)
    gates[:3] = sigmoid(A[:3])
    gates[3] = np.tanh(A[3])
    i, f, o, g = gates
    next_c = f * prev_c + i * g
    tc = next_c if bug == "forward_h_without_tanh" else np.tanh(next_c)
    next_h = o * tc
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, gates, next_c, tc)


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    x, prev_h, prev_c, Wx, Wh, gates, c, tc = cache
    i, f, o, g = gates
    if bug == "forward_h_without_tanh":
        dc = dnext_c + dnext_h * o
    elif bug == "dc_without_tanh_prime":
        dc = dnext_c + dnext_h * o
    elif bug == "dtanh_c_one_minus_tc":
        dc = dnext_c + dnext_h * o * (1 - tc)
    else:
        dc = dnext_c + dnext_h * o * (1 - tc ** 2)
    dgates = gates if bug == "dgates_aliases_gates" else np.empty_like(gates)
    dgates[0] = dc * g
    dgates[1] = dc * (c if bug in ("df_with_c_t", "df_c_t_and_db_mean") else prev_c)
    dgates[2] = dnext_h * (c if bug == "do_times_c" else tc)
    dgates[3] = dc * i
    dA = np.empty_like(dgates)
    s = gates[:3]
    if bug == "sigmoid_prime_sign":
        dA[:3] = dgates[:3] * s * (s - 1)
    else:
        dA[:3] = dgates[:3] * s * (1 - s)
    if bug == "sigmoid_prime_on_all_four":
        dA[3] = dgates[3] * gates[3] * (1 - gates[3])
    else:
        dA[3] = dgates[3] * (1 - gates[3] ** 2)
    da = np.concatenate(dA[[0, 1, 3, 2]] if bug == "dgates_concat_ifgo" else dA, axis=1)
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.mean(axis=0) if bug in ("db_mean_over_batch", "df_c_t_and_db_mean") else da.sum(axis=0)
    dx = da @ Wx.T
    dprev_h = da @ (dWh.T if bug == "dprev_h_from_step_dWh" else Wh.T)
    dprev_c = dc * (gates[0] if bug == "dprev_c_times_i" else gates[1])
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    cache = []
    for t in range(T):
        prev_h, prev_c, step = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b, bug)
        h[:, t] = prev_h
        cache.append(step)
    return h, cache


def lstm_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    Wx, Wh = cache[0][3], cache[0][4]
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    grads = {"Wx": np.zeros_like(Wx), "Wh": np.zeros_like(Wh), "b": np.zeros(4 * H, dtype=dh.dtype)}
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    steps = reversed(range(1, T)) if bug == "loop_skips_first_step" else reversed(range(T))
    for t in steps:
        dx[:, t], dprev_h, dc_back, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dprev_c,
                                                                             cache[t], bug)
        if bug != "dc_carry_not_passed":
            dprev_c = dc_back
        grads["Wx"] += dWx_t
        if bug == "dWh_assigned_in_driver":
            grads["Wh"] = dWh_t
        else:
            grads["Wh"] += dWh_t
        grads["b"] += db_t
    return dx, dprev_h, grads["Wx"], grads["Wh"], grads["b"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

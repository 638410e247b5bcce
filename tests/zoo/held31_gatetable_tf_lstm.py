"""An LSTM in the tf_kernel layout (kernel (D+H, 4H) on [x, h], columns i, j, f, o; bias
(4H,); c0 an argument) written by a scientist who keeps the gates in a table of
(name, block index, activation) rows and loops over it Fortran-style, stores the inputs
[x_t, h_(t-1)] of every step in XH (N, T, D+H) and the pre-activation gradients in
DA (N, T, 4H), and takes the weight gradients once after the loop with np.tensordot:

    a = [x_t, h_(t-1)] kernel + bias;  i, j, f, o = s, tanh, s, s of the blocks
    C[:, t+1] = f C[:, t] + i j      h_t = o tanh(C[:, t+1])     (C[:, 0] = c0)
    dkernel = tensordot(XH, DA, axes=([0, 1], [0, 1])),  dbias = DA summed over N and T

Thirty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


ACT = {"sig": (_sigmoid, lambda y: y * (1 - y)), "tanh": (np.tanh, lambda y: 1 - y * y)}
TABLE = (("i", 0, "sig"), ("j", 1, "tanh"), ("f", 2, "sig"), ("o", 3, "sig"))

BUGS = {
    "forward_f_row_tanh": "forward_mistake",             # the table's f row says "tanh": f = tanh(a_f); backward
                                                         # follows
    "dh_slice_one_column_off": "wrong_weight",           # dh_next = dxh[:, D-1:D-1+H]: kernel rows of x_(D-1) and
                                                         # h_0..h_(H-2)
    "tanh_c_from_previous_cell": "wrong_time",           # tc = tanh(C[:, t]) for tanh(C[:, t+1]) in the backward
    "dct_without_tanh_derivative": "derivative_missing",  # dct = dc_next + dht * o
    "h_built_in_o": "inplace_corruption",                # o *= tanh(C[:, t+1]); h = o: the cached o (a view of Y)
                                                         # becomes h
    "dbias_mean_over_batch": "reduction_scaled",         # dbias = DA.sum(axis=1).mean(axis=0)
    "dc_next_without_f": "term_dropped",                 # dc_next = dct (the factor f left out)
    "loop_skips_last": "loop_skips_step",                # for t in range(T - 2, -1, -1)
    "local_order_ifjo": "gate_order",                    # local gradients listed (di, df, dj, do) against the table's
                                                         # i, j, f, o
    "sigmoid_prime_as_tanh_prime": "derivative_wrong_function",  # the table's "sig" derivative written 1 - y*y
    "carries_cut_every_2": "truncated_bptt",             # invention: dh_next and dc_next zeroed every 2 steps back
    "dj_derivative_twice": "derivative_twice",           # dj = dct * i * (1 - j*j), then the table's derivative again
    "dh_carry_dropped": "carry_dropped",                 # dht = dh[:, t] (dh_next never added)
    "dc_without_f_and_tanh_derivative": "unknown",       # two mistakes: dc_next_without_f and
                                                         # dct_without_tanh_derivative
}

TOUCHES = {                           # computed: blind_index.touched_gates(module, bug)
    "forward_f_row_tanh": "",
    "dh_slice_one_column_off": "",
    "tanh_c_from_previous_cell": "",
    "dct_without_tanh_derivative": "ifg",
    "h_built_in_o": "",
    "dbias_mean_over_batch": "",
    "dc_next_without_f": "",
    "loop_skips_last": "",
    "local_order_ifjo": "fg",
    "sigmoid_prime_as_tanh_prime": "ifo",
    "carries_cut_every_2": "",
    "dj_derivative_twice": "g",
    "dh_carry_dropped": "",
    "dc_without_f_and_tanh_derivative": "ifg",
}


def _table(bug):
    if bug == "forward_f_row_tanh":
        return tuple((n, k, "tanh" if n == "f" else a) for n, k, a in TABLE)
    return TABLE


def _dact(act, y, bug):
    if bug == "sigmoid_prime_as_tanh_prime" and act == "sig":
        return 1 - y * y
    return ACT[act][1](y)


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    XH = np.zeros((N, T, D + H), dtype=x.dtype)
    Y = np.zeros((N, T, 4, H), dtype=x.dtype)
    C = np.zeros((N, T + 1, H), dtype=x.dtype)
    C[:, 0] = c0
    hs = np.zeros((N, T, H), dtype=x.dtype)
    h = h0
    for t in range(T):
        XH[:, t, :D] = x[:, t]
        XH[:, t, D:] = h
        a = XH[:, t] @ kernel + bias
        for name, k, act in _table(bug):
            Y[:, t, k] = ACT[act][0](a[:, k * H:(k + 1) * H])
        i, j, f, o = (Y[:, t, k] for k in range(4))
        C[:, t + 1] = f * C[:, t] + i * j
        if bug == "h_built_in_o":
            o *= np.tanh(C[:, t + 1])
            h = o
        else:
            h = o * np.tanh(C[:, t + 1])
        hs[:, t] = h
    return hs, (XH, Y, C, kernel, D)


def lstm_backward(dh, cache, bug=None):
    XH, Y, C, kernel, D = cache
    N, T, H = dh.shape
    DA = np.zeros((N, T, 4 * H), dtype=dh.dtype)
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    first = T - 2 if bug == "loop_skips_last" else T - 1
    for t in range(first, -1, -1):
        dht = dh[:, t] if bug == "dh_carry_dropped" else dh[:, t] + dh_next
        i, j, f, o = (Y[:, t, k] for k in range(4))
        tc = np.tanh(C[:, t] if bug == "tanh_c_from_previous_cell" else C[:, t + 1])
        if bug in ("dct_without_tanh_derivative", "dc_without_f_and_tanh_derivative"):
            dct = dc_next + dht * o
        else:
            dct = dc_next + dht * o * (1 - tc * tc)
        dj = dct * i
        if bug == "dj_derivative_twice":
            dj = dj * (1 - j * j)
        local = {"i": dct * j, "j": dj, "f": dct * C[:, t], "o": dht * tc}
        names = "ifjo" if bug == "local_order_ifjo" else "ijfo"
        for (name, k, act), g in zip(_table(bug), (local[n] for n in names)):
            DA[:, t, k * H:(k + 1) * H] = g * _dact(act, Y[:, t, k], bug)
        dxh = DA[:, t] @ kernel.T
        dx[:, t] = dxh[:, :D]
        dh_next = dxh[:, D - 1:D - 1 + H] if bug == "dh_slice_one_column_off" else dxh[:, D:]
        dc_next = dct if bug in ("dc_next_without_f", "dc_without_f_and_tanh_derivative") else dct * f
        if bug == "carries_cut_every_2" and (T - t) % 2 == 0:
            dh_next = np.zeros_like(dh_next)
            dc_next = np.zeros_like(dc_next)
    dkernel = np.tensordot(XH, DA, axes=([0, 1], [0, 1]))               # (D+H, 4H)
    if bug == "dbias_mean_over_batch":
        dbias = DA.sum(axis=1).mean(axis=0)
    else:
        dbias = DA.sum(axis=(0, 1))
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel"}

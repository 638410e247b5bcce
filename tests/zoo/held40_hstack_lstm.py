"""A BasicLSTMCell-style LSTM (tf_kernel layout: kernel (D+H, 4H) on [x, h], columns i, j,
f, o, forget_bias 1.0, c0 an argument) in pre-2017 np.matrix code: each step does
``xh = np.hstack([x_t, h])`` on matrices and ``xh * kernel``, gate products with np.multiply,
the states kept in lists, and ``.A`` / ``.A1`` on the way out.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

mat = np.asmatrix
FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_left_out": "forget_bias",        # forward: f = sigmoid(zf), the 1.0 forgotten
    "do_one_minus_o": "derivative_miswritten",    # dzo = np.multiply(do, 1 - o)
    "df_no_sigmoid_grad": "derivative_missing",   # dzf = df
    "dj_tanh_grad_twice": "derivative_twice",     # (1 - j^2) applied to dj and again to dzj
    "dxh_split_h_first": "wrong_value",           # dx = dxh[:, H:], dh_prev = dxh[:, :H]
    "tc_view_squared": "inplace_corruption",      # tca = tc.A; tca **= 2 before do reads tc
    "xh_with_h_t": "wrong_time",                  # dkernel from np.hstack([x_t, h_t])
    "dkernel_assigned": "carry_overwrites",       # dkernel = xh.T * dz
    "dbias_over_T": "reduction_scaled",           # dbias / float(T)
    "stack_i_f_j_o": "gate_order",                # np.hstack([dzi, dzf, dzj, dzo])
    "dh_next_never_added": "carry_dropped",       # dh_t = dh[t]: the carried dh_next left out
    "do_grad_at_tc": "derivative_wrong_point",    # sigmoid'(.) taken on tanh(c): tc (1 - tc)
    "df_sign": "wrong_sign",                      # np.multiply(f, f - 1)
    "dxh_from_dkernel": "gradient_for_weight",    # dxh = dz * dkernel.T
    "j_sigmoid": "forward_mistake",               # j = sigmoid(zj), backward consistent with it
}
TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "do_one_minus_o": "o",
    "df_no_sigmoid_grad": "f",
    "dj_tanh_grad_twice": "g",
    "dxh_split_h_first": "",
    "tc_view_squared": "o",
    "xh_with_h_t": "",
    "dkernel_assigned": "",
    "dbias_over_T": "",
    "stack_i_f_j_o": "fg",
    "dh_next_never_added": "",
    "do_grad_at_tc": "o",
    "df_sign": "f",
    "dxh_from_dkernel": "",
    "j_sigmoid": "",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(x, h0, c0, kernel, bias, bug=None):
    """x (N, T, D), h0, c0 (N, H) -> h (N, T, H) ndarray, cache."""
    N, T, D = x.shape
    H = h0.shape[1]
    kernel, bias = mat(kernel), mat(bias)
    h, c = mat(h0), mat(c0)
    fb = 0.0 if bug == "forget_bias_left_out" else FORGET_BIAS
    out = np.zeros((N, T, H), dtype=x.dtype)
    cache = []
    for t in range(T):
        xh = np.hstack([mat(x[:, t, :]), h])
        z = xh * kernel + bias
        i = sigmoid(z[:, 0:H])
        j = sigmoid(z[:, H:2 * H]) if bug == "j_sigmoid" else np.tanh(z[:, H:2 * H])
        f = sigmoid(z[:, 2 * H:3 * H] + fb)
        o = sigmoid(z[:, 3 * H:4 * H])
        c_new = np.multiply(c, f) + np.multiply(i, j)
        tc = np.tanh(c_new)
        h_new = np.multiply(o, tc)
        cache.append((xh, c, i, j, f, o, tc, h_new))
        h, c = h_new, c_new
        out[:, t, :] = h.A
    return out, (cache, kernel, D)


def backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx (N, T, D), dh0, dc0 (N, H), dkernel (D+H, 4H), dbias (4H,)."""
    steps, kernel, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel, dbias = np.zeros_like(kernel), mat(np.zeros((1, 4 * H), dtype=dh.dtype))
    dh_next = mat(np.zeros((N, H), dtype=dh.dtype))
    dc_next = mat(np.zeros((N, H), dtype=dh.dtype))
    for t in range(T - 1, -1, -1):
        xh, c_prev, i, j, f, o, tc, h_t = steps[t]
        dh_t = mat(dh[:, t, :]) if bug == "dh_next_never_added" else mat(dh[:, t, :]) + dh_next
        if bug == "tc_view_squared":
            tca = tc.A
            tca **= 2
            dc = dc_next + np.multiply(np.multiply(dh_t, o), 1 - tc)
        else:
            dc = dc_next + np.multiply(np.multiply(dh_t, o), 1 - np.multiply(tc, tc))
        do = np.multiply(dh_t, tc)
        di = np.multiply(dc, j)
        dj = np.multiply(dc, i)
        df = np.multiply(dc, c_prev)
        if bug == "do_one_minus_o":
            dzo = np.multiply(do, 1 - o)
        elif bug == "do_grad_at_tc":
            dzo = np.multiply(do, np.multiply(tc, 1 - tc))
        else:
            dzo = np.multiply(do, np.multiply(o, 1 - o))
        dzi = np.multiply(di, np.multiply(i, 1 - i))
        if bug == "df_no_sigmoid_grad":
            dzf = df
        elif bug == "df_sign":
            dzf = np.multiply(df, np.multiply(f, f - 1))
        else:
            dzf = np.multiply(df, np.multiply(f, 1 - f))
        if bug == "j_sigmoid":
            dzj = np.multiply(dj, np.multiply(j, 1 - j))
        elif bug == "dj_tanh_grad_twice":
            dj = np.multiply(dj, 1 - np.multiply(j, j))
            dzj = np.multiply(dj, 1 - np.multiply(j, j))
        else:
            dzj = np.multiply(dj, 1 - np.multiply(j, j))
        if bug == "stack_i_f_j_o":
            dz = np.hstack([dzi, dzf, dzj, dzo])
        else:
            dz = np.hstack([dzi, dzj, dzf, dzo])
        if bug == "xh_with_h_t":
            xh = np.hstack([xh[:, :D], h_t])
        if bug == "dkernel_assigned":
            dkernel = xh.T * dz
        else:
            dkernel += xh.T * dz
        dbias += dz.sum(0)
        dxh = dz * (dkernel if bug == "dxh_from_dkernel" else kernel).T
        if bug == "dxh_split_h_first":
            dx[:, t, :], dh_next = dxh[:, H:].A, dxh[:, :H]
        else:
            dx[:, t, :], dh_next = dxh[:, :D].A, dxh[:, D:]
        dc_next = np.multiply(dc, f)
    if bug == "dbias_over_T":
        dbias = dbias / float(T)
    return dx, dh_next.A, dc_next.A, dkernel.A, dbias.A1


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), partial(backward, bug=bug),
            {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS})

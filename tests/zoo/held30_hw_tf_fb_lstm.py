"""An LSTM in the tf_kernel layout from a homework ("implement BasicLSTMCell's backward"):
the course gives ``split_gates`` (TF's i, j, f, o column blocks of the kernel) and the
sigmoid; the forget gate gets TF's ``forget_bias = 1.0`` in the forward; the student fills
``TODO`` blocks in a step forward/backward pair and a sequence driver:

    z = [x, h] @ kernel + bias;  i, j, f, o = split_gates(z)
    c' = c * sigmoid(f + 1.0) + sigmoid(i) * tanh(j);   h' = tanh(c') * sigmoid(o)

x (N, T, D), h0, c0 (N, H), kernel (D+H, 4H), bias (4H,). Thirtieth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "do_with_c": "wrong_value",                  # do = dh * c_new (for dh * tanh(c_new))
    "dc_without_tanh_grad": "derivative_missing",  # dc = dc_next + dh * o
    "df_with_c_new": "wrong_time",               # df = dc * c_new (c_t for c_(t-1))
    "dj_sigmoid_grad": "derivative_wrong_function",  # dzj = dj * j * (1 - j)
    "forward_without_forget_bias": "forget_bias",   # f = sigmoid(f_pre): TF's forget_bias forgotten
    "dh_prev_slice_off_by_one": "wrong_value",   # dh_prev = dxh[:, D - 1:D - 1 + H] (columns one off)
    "c_carry_never_set": "carry_dropped",        # dc_prev computed but dc_next stays zero in the driver
    "dkernel_assigned": "carry_overwrites",      # dkernel = xh.T @ dz in the driver (= for +=)
    "dz_blocks_i_f_j_o": "gate_order",           # dz = [dzi, dzf, dzj, dzo] (j and f swapped)
    "dc_prev_with_i": "wrong_value",             # dc_prev = dc * i (i read for f)
    "clip_dc": "gradient_clipped",               # dc = np.clip(dc, -0.5, 0.5) inside the step
    "loop_forward": "loop_direction",            # for t in range(T)
    "do_with_c_and_dc_no_o": "unknown",
    "dzf_times_2_5": "unknown",                  # dzf = 2.5 * df * f * (1 - f): an arbitrary constant          # two at once: do = dh * c_new and dc = dc_next + dh * (1 - tc**2)
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "do_with_c": "o",
    "dc_without_tanh_grad": "ifg",
    "df_with_c_new": "f",
    "dj_sigmoid_grad": "g",
    "forward_without_forget_bias": "",
    "dh_prev_slice_off_by_one": "",
    "c_carry_never_set": "",
    "dkernel_assigned": "",
    "dz_blocks_i_f_j_o": "fg",
    "dc_prev_with_i": "",
    "clip_dc": "ifg",
    "loop_forward": "",
    "do_with_c_and_dc_no_o": "",
    "dzf_times_2_5": "f",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def split_gates(z):                  # given: TF's column order i, j, f, o
    return np.split(z, 4, axis=1)


def lstm_step_forward(x, h, c, kernel, bias, bug=None):
    xh = np.concatenate([x, h], axis=1)
    z = xh @ kernel + bias
    i, j, f, o = split_gates(z)
    # TODO: gates and new state
    i, j, o = sigmoid(i), np.tanh(j), sigmoid(o)
    f = sigmoid(f) if bug == "forward_without_forget_bias" else sigmoid(f + FORGET_BIAS)
    c_new = c * f + i * j
    h_new = np.tanh(c_new) * o
    return h_new, c_new, (xh, c, i, j, f, o, c_new)


def lstm_step_backward(dh, dc_next, cache, kernel, bug=None):
    xh, c, i, j, f, o, c_new = cache
    D = xh.shape[1] - dh.shape[1]
    H = dh.shape[1]
    # TODO: backward of one step
    tc = np.tanh(c_new)
    do = dh * c_new if bug in ("do_with_c", "do_with_c_and_dc_no_o") else dh * tc
    if bug == "dc_without_tanh_grad":
        dc = dc_next + dh * o
    elif bug == "do_with_c_and_dc_no_o":
        dc = dc_next + dh * (1 - tc ** 2)
    else:
        dc = dc_next + dh * o * (1 - tc ** 2)
    if bug == "clip_dc":
        dc = np.clip(dc, -0.5, 0.5)
    di, dj = dc * j, dc * i
    df = dc * c_new if bug == "df_with_c_new" else dc * c
    dc_prev = dc * i if bug == "dc_prev_with_i" else dc * f
    dzi = di * i * (1 - i)
    dzj = dj * j * (1 - j) if bug == "dj_sigmoid_grad" else dj * (1 - j ** 2)
    dzf = df * f * (1 - f)
    if bug == "dzf_times_2_5":
        dzf = 2.5 * dzf
    dzo = do * o * (1 - o)
    parts = [dzi, dzf, dzj, dzo] if bug == "dz_blocks_i_f_j_o" else [dzi, dzj, dzf, dzo]
    dz = np.concatenate(parts, axis=1)
    dkernel = xh.T @ dz
    dbias = dz.sum(axis=0)
    dxh = dz @ kernel.T
    dx = dxh[:, :D]
    dh_prev = dxh[:, D - 1:D - 1 + H] if bug == "dh_prev_slice_off_by_one" else dxh[:, D:]
    return dx, dh_prev, dc_prev, dkernel, dbias


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    hc, cc, caches = h0, c0, []
    for t in range(T):
        hc, cc, cache = lstm_step_forward(x[:, t], hc, cc, kernel, bias, bug)
        h[:, t] = hc
        caches.append(cache)
    return h, (caches, kernel)


def lstm_backward(dh, cache, bug=None):
    caches, kernel = cache
    N, T, H = dh.shape
    D = kernel.shape[0] - H
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel = np.zeros_like(kernel)
    dbias = np.zeros(kernel.shape[1], dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        dx_t, dh_prev, dc_prev, dk, db = lstm_step_backward(dh[:, t] + dh_next, dc_next, caches[t], kernel, bug)
        dx[:, t] = dx_t
        dh_next = dh_prev
        if bug != "c_carry_never_set":
            dc_next = dc_prev
        if bug == "dkernel_assigned":
            dkernel = dk
        else:
            dkernel += dk
        dbias += db
    if bug == "c_carry_never_set":
        dc_next = dc_prev
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, c0, kernel, bias: lstm_forward(x, h0, c0, kernel, bias, bug),
            lambda dh, cache: lstm_backward(dh, cache, bug),
            {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS})

"""A tf_kernel LSTM (kernel (D+H, 4H) on [x, h], columns i, j, f, o, bias (4H,), BasicLSTMCell's
forget_bias = 1.0) written around a preallocated design buffer: XH (N, T, D+H) gets x once
(XH[:, :, :D] = x) and each step writes its h_(t-1) into XH[:, t, D:] before the one matmul
of the step. The backward fills dZ (N, T, 4H) step by step (the h carry added into a copy
of dh one step back) and then does dkernel, dbias and dx with ``np.einsum`` along contraction
paths computed once by ``np.einsum_path``.

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_on_second_block": "forget_bias",       # z[:, H:2H] += FORGET_BIAS (j, torch's f place) for the
                                                        # f columns z[:, 2H:3H]; backward unchanged
    "dj_tanh_grad_unsquared": "derivative_miswritten",  # dj = dc * i * (1 - j) (for 1 - j ** 2)
    "h_written_over_own_slot": "inplace_corruption",    # after the step, XH[:, t, D:] = h: the cached h_(t-1)
                                                        # that dkernel reads becomes h_t (the forward is right)
    "dz_clipped": "gradient_clipped",                   # np.clip(dz, -0.02, 0.02, out=dz) before storing it
    "df_no_sigmoid_grad": "derivative_missing",         # df = dc * c_prev
    "dH_assigned_back": "carry_overwrites",             # dH[:, t - 1] = dh_prev (for +=): dh at t-1 lost
    "dbias_over_N": "reduction_scaled",                 # dbias = dZ.sum((0, 1)) / N
    "dj_reads_f": "wrong_value",                        # dj = dc * f * (1 - j ** 2): f read for i
    "loop_runs_forward": "loop_direction",              # for t in range(T)
    "do_sigmoid_grad_twice": "derivative_twice",        # do = dh_t * tc * o(1-o) * o(1-o)
    "tanh_c_from_prev_c": "wrong_time",                 # tc = tanh(cs[:, t]) in the backward: c_(t-1) for c_t
    "forward_sigmoid_on_all_blocks": "forward_mistake", # one sigmoid over all 4H columns (j too); backward
                                                        # consistent (dj = dc * i * j (1 - j))
    "df_no_sig_and_dbias_over_N": "unknown",            # df_no_sigmoid_grad and dbias_over_N together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_on_second_block": "",
    "dj_tanh_grad_unsquared": "g",
    "h_written_over_own_slot": "",
    "dz_clipped": "",
    "df_no_sigmoid_grad": "f",
    "dH_assigned_back": "",
    "dbias_over_N": "",
    "dj_reads_f": "g",
    "loop_runs_forward": "",
    "do_sigmoid_grad_twice": "o",
    "tanh_c_from_prev_c": "",
    "forward_sigmoid_on_all_blocks": "",
    "df_no_sig_and_dbias_over_N": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    """x (N, T, D), h0, c0 (N, H) -> h (N, T, H), cache."""
    N, T, D = x.shape
    H = h0.shape[1]
    XH = np.zeros((N, T, D + H), dtype=x.dtype)
    XH[:, :, :D] = x
    acts = np.empty((N, T, 4 * H), dtype=x.dtype)      # i, j, f, o after their nonlinearities
    cs = np.empty((N, T + 1, H), dtype=x.dtype)
    hs = np.empty((N, T, H), dtype=x.dtype)
    cs[:, 0] = c0
    h = h0
    for t in range(T):
        XH[:, t, D:] = h
        z = XH[:, t] @ kernel + bias
        z[:, (H if bug == "forget_bias_on_second_block" else 2 * H):][:, :H] += FORGET_BIAS
        a = acts[:, t]
        if bug == "forward_sigmoid_on_all_blocks":
            a[:] = sigmoid(z)
        else:
            a[:] = sigmoid(z)
            a[:, H:2 * H] = np.tanh(z[:, H:2 * H])
        i, j, f, o = np.split(a, 4, axis=1)
        cs[:, t + 1] = f * cs[:, t] + i * j
        h = o * np.tanh(cs[:, t + 1])
        hs[:, t] = h
        if bug == "h_written_over_own_slot":
            XH[:, t, D:] = h
    return hs, (XH, acts, cs, kernel, D)


def lstm_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, dh0, dc0, dkernel, dbias."""
    XH, acts, cs, kernel, D = cache
    N, T, H = dh.shape
    dZ = np.zeros_like(acts)
    dH = dh.copy()
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    K_h = kernel[D:]
    for t in (range(T) if bug == "loop_runs_forward" else reversed(range(T))):
        i, j, f, o = np.split(acts[:, t], 4, axis=1)
        c_prev = cs[:, t]
        tc = np.tanh(cs[:, t] if bug == "tanh_c_from_prev_c" else cs[:, t + 1])
        dh_t = dH[:, t]
        do = dh_t * tc * o * (1 - o)
        if bug == "do_sigmoid_grad_twice":
            do = do * o * (1 - o)
        dc = dc_next + dh_t * o * (1 - tc ** 2)
        di = dc * j * i * (1 - i)
        if bug == "dj_tanh_grad_unsquared":
            dj = dc * i * (1 - j)
        elif bug == "dj_reads_f":
            dj = dc * f * (1 - j ** 2)
        elif bug == "forward_sigmoid_on_all_blocks":
            dj = dc * i * j * (1 - j)
        else:
            dj = dc * i * (1 - j ** 2)
        if bug in ("df_no_sigmoid_grad", "df_no_sig_and_dbias_over_N"):
            df = dc * c_prev
        else:
            df = dc * c_prev * f * (1 - f)
        dz = np.concatenate([di, dj, df, do], axis=1)
        if bug == "dz_clipped":
            np.clip(dz, -0.02, 0.02, out=dz)
        dZ[:, t] = dz
        dc_next = dc * f
        dh_prev = dz @ K_h.T
        if t > 0:
            if bug == "dH_assigned_back":
                dH[:, t - 1] = dh_prev
            else:
                dH[:, t - 1] += dh_prev
    path_w = np.einsum_path("ntk,ntg->kg", XH, dZ, optimize="optimal")[0]
    path_x = np.einsum_path("ntg,dg->ntd", dZ, kernel[:D], optimize="optimal")[0]
    dkernel = np.einsum("ntk,ntg->kg", XH, dZ, optimize=path_w)
    dbias = dZ.sum(axis=(0, 1))
    if bug in ("dbias_over_N", "df_no_sig_and_dbias_over_N"):
        dbias = dbias / N
    dx = np.einsum("ntg,dg->ntd", dZ, kernel[:D], optimize=path_x)
    return dx, dh_prev, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

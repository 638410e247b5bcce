"""An LSTM from a Korean blog post ("numpy로 LSTM 역전파 구현하기") that ports TensorFlow's
BasicLSTMCell: the built-in tf_kernel layout (kernel (D+H, 4H) applied to [x, h], columns
i, j, f, o, bias (4H,), c0 an argument) with TF's forget_bias = 1.0. The forward caches the
raw gate pre-activations as a per-step tuple, and the backward recomputes the gates from
them with np.split:

    i, j, f, o = split([x, h_prev] @ kernel + bias, 4)
    c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * tanh(j)
    h = sigmoid(o) * tanh(c)

Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "f_recomputed_without_forget_bias": "forget_bias",    # backward: f = sigmoid(f_pre) (the + forget_bias left out)
    "forward_forget_bias_twice": "forget_bias",           # gates[:, 2H:3H] += forget_bias, then sigmoid(f_pre + forget_bias)
    "dj_sigmoid_grad": "derivative_wrong_function",       # dj_pre = dj * j * (1 - j)
    "di_grad_at_pre": "derivative_wrong_point",           # di_pre = di * i_pre * (1 - i_pre): sigmoid' of the pre-activation
    "dc_prev_times_f_pre": "wrong_value",                 # dc_prev = dc * f_pre (the raw pre-activation read for f)
    "xh_rebuilt_with_h_t": "wrong_time",                  # backward rebuilds [x_t, h_t] for [x_t, h_(t-1)]
    "dxh_from_dkernel": "gradient_for_weight",            # dxh = dgates @ dkernel.T (the running gradient)
    "range_from_T_minus_2": "loop_skips_step",            # for t in range(T - 2, -1, -1): "the last step has no next"
    "dc_from_future_only": "carry_overwrites",            # dc = dc_next below the last step, else dh * o * tanh'(c)
    "dbias_np_mean": "reduction_scaled",                  # dbias += dgates.mean(axis=0)
    "clip_by_global_norm_1": "gradient_clipped",          # dkernel, dbias scaled to global norm 1 (tf.clip_by_global_norm)
    "do_sigmoid_grad_twice": "derivative_twice",          # do = dh * tanh_c * o * (1 - o), then do * o * (1 - o) again
    "chunked_bptt_2": "truncated_bptt",                   # dh_next, dc_next zeroed every second step walked back
    "dj_sigmoid_and_dbias_mean": "unknown",               # two mistakes: j's sigmoid' and np.mean for the bias
}

TOUCHES = {
    "f_recomputed_without_forget_bias": "f",
    "forward_forget_bias_twice": "",
    "dj_sigmoid_grad": "g",
    "di_grad_at_pre": "i",
    "dc_prev_times_f_pre": "",
    "xh_rebuilt_with_h_t": "",
    "dxh_from_dkernel": "",
    "range_from_T_minus_2": "",
    "dc_from_future_only": "",
    "dbias_np_mean": "",
    "clip_by_global_norm_1": "",
    "do_sigmoid_grad_twice": "o",
    "chunked_bptt_2": "",
    "dj_sigmoid_and_dbias_mean": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    h_all = np.zeros((N, T, H), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    cache = []
    for t in range(T):
        xh = np.concatenate([x[:, t], h_prev], axis=1)
        gates = xh @ kernel + bias
        if bug == "forward_forget_bias_twice":
            gates[:, 2 * H:3 * H] += FORGET_BIAS
        i_pre, j_pre, f_pre, o_pre = np.split(gates, 4, axis=1)
        c = sigmoid(f_pre + FORGET_BIAS) * c_prev + sigmoid(i_pre) * np.tanh(j_pre)
        h = sigmoid(o_pre) * np.tanh(c)
        cache.append((xh, i_pre, j_pre, f_pre, o_pre, c_prev, c))
        h_all[:, t] = h
        h_prev, c_prev = h, c
    return h_all, (cache, kernel, h_all)


def lstm_backward(dh_all, cache_all, bug=None):
    cache, kernel, h_all = cache_all
    N, T, H = dh_all.shape
    D = kernel.shape[0] - H
    dx = np.zeros((N, T, D), dtype=dh_all.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh_all.dtype)
    dh_next = np.zeros((N, H), dtype=dh_all.dtype)
    dc_next = np.zeros((N, H), dtype=dh_all.dtype)
    steps = range(T - 2, -1, -1) if bug == "range_from_T_minus_2" else range(T - 1, -1, -1)
    for t in steps:
        xh, i_pre, j_pre, f_pre, o_pre, c_prev, c = cache[t]
        if bug == "xh_rebuilt_with_h_t":
            xh = np.concatenate([xh[:, :D], h_all[:, t]], axis=1)
        i, j, o = sigmoid(i_pre), np.tanh(j_pre), sigmoid(o_pre)
        f = sigmoid(f_pre) if bug == "f_recomputed_without_forget_bias" else sigmoid(f_pre + FORGET_BIAS)
        tanh_c = np.tanh(c)
        dh = dh_all[:, t] + dh_next
        do = dh * tanh_c
        if bug == "do_sigmoid_grad_twice":
            do = do * o * (1 - o)
        if bug == "dc_from_future_only" and t < T - 1:
            dc = dc_next
        else:
            dc = dc_next + dh * o * (1 - tanh_c ** 2)
        di, dj, df = dc * j, dc * i, dc * c_prev
        di_pre = di * i_pre * (1 - i_pre) if bug == "di_grad_at_pre" else di * i * (1 - i)
        if bug in ("dj_sigmoid_grad", "dj_sigmoid_and_dbias_mean"):
            dj_pre = dj * j * (1 - j)
        else:
            dj_pre = dj * (1 - j ** 2)
        df_pre = df * f * (1 - f)
        do_pre = do * o * (1 - o)
        dgates = np.concatenate([di_pre, dj_pre, df_pre, do_pre], axis=1)
        dkernel += xh.T @ dgates
        if bug in ("dbias_np_mean", "dj_sigmoid_and_dbias_mean"):
            dbias += dgates.mean(axis=0)
        else:
            dbias += dgates.sum(axis=0)
        dxh = dgates @ (dkernel if bug == "dxh_from_dkernel" else kernel).T
        dx[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
        dc_next = dc * (f_pre if bug == "dc_prev_times_f_pre" else f)
        if bug == "chunked_bptt_2" and (T - t) % 2 == 0:
            dh_next = np.zeros_like(dh_next)
            dc_next = np.zeros_like(dc_next)
    if bug == "clip_by_global_norm_1":
        global_norm = np.sqrt(np.sum(dkernel ** 2) + np.sum(dbias ** 2))
        if global_norm > 1.0:
            dkernel *= 1.0 / global_norm
            dbias *= 1.0 / global_norm
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

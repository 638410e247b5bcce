"""A NumPy port of TF1's tf.nn.rnn_cell.LSTMCell (not BasicLSTMCell) with
use_peepholes=False, num_proj=None, cell_clip=None and forget_bias=1.0, in the tf_kernel
layout: kernel (D+H, 4H) on concat([inputs, m_prev]), bias (4H,), the gates split as
i, j, f, o, TF's names c for the cell state and m for the output. Run time-major over
tf.unstack-like slices, the state kept as an (c, m) tuple, the backward walking the
stored tuples.

    lstm_matrix = [x_t, m_prev] kernel + bias;  i, j, f, o = split(lstm_matrix, 4)
    c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * tanh(j)
    m = sigmoid(o) * tanh(c)

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forward_without_forget_bias": "forget_bias",       # c = sigmoid(f) * c_prev + ... in the forward (and its backward)
    "backward_forget_gate_no_bias": "forget_bias",      # the backward recomputes sigmoid(f) without + forget_bias
    "dj_no_tanh_prime": "derivative_missing",           # d_j = dc * sig_i
    "df_sigmoid_prime_of_i": "derivative_wrong_point",  # d_f = dsig_f * sig_i * (1 - sig_i)
    "m_carry_dropped": "carry_dropped",                 # dm = dout[t] (the m_prev gradient from step t+1 never added)
    "dc_prev_times_f_logit": "wrong_value",             # dc_prev = dc * f (the logit) for dc * sigmoid(f + forget_bias)
    "backward_split_i_f_j_o": "gate_order",             # the backward stacks [d_i, d_f, d_j, d_o]
    "dbias_batch_mean": "reduction_scaled",             # dbias += np.mean(d_matrix, axis=0)
    "walk_forward_in_time": "loop_direction",           # for t in range(T), the carries handed on forward
    "dc_minus_tanh_path": "wrong_sign",                 # dc = dc_next - dm * sig_o * (1 - tanh(c) ** 2)
    "dinputs_without_f": "term_dropped",                # the f block left out of the matrix that makes dx and dm_prev
    "dc_prev_aliases_dc": "inplace_corruption",         # dc_prev = dc; dc_prev *= sig_f before di, dj read dc
    "tanh_prime_of_c_squared": "derivative_miswritten", # 1 - np.tanh(c ** 2) for 1 - np.tanh(c) ** 2
    "mean_bias_and_no_dj_prime": "unknown",             # two at once: dbias as a batch mean and d_j without tanh'
    "c_carry_halved": "unknown",                        # dc_prev = 0.5 * dc * sig_f: an arbitrary factor on the c carry
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "forward_without_forget_bias": "",
    "backward_forget_gate_no_bias": "f",
    "dj_no_tanh_prime": "g",
    "df_sigmoid_prime_of_i": "f",
    "m_carry_dropped": "",
    "dc_prev_times_f_logit": "",
    "backward_split_i_f_j_o": "fg",
    "dbias_batch_mean": "",
    "walk_forward_in_time": "",
    "dc_minus_tanh_path": "ifg",
    "dinputs_without_f": "",
    "dc_prev_aliases_dc": "ifg",
    "tanh_prime_of_c_squared": "ifg",
    "mean_bias_and_no_dj_prime": "",
    "c_carry_halved": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_cell(inputs, state, kernel, bias, bug=None):
    c_prev, m_prev = state
    lstm_matrix = np.concatenate([inputs, m_prev], axis=1) @ kernel + bias
    i, j, f, o = np.split(lstm_matrix, 4, axis=1)
    fb = 0.0 if bug == "forward_without_forget_bias" else FORGET_BIAS
    c = sigmoid(f + fb) * c_prev + sigmoid(i) * np.tanh(j)
    m = sigmoid(o) * np.tanh(c)
    return m, (c, m), (inputs, c_prev, m_prev, i, j, f, o, c)


def forward(x, h0, c0, kernel, bias, bug=None):
    state, outputs, saved = (c0, h0), [], []
    for inputs in np.transpose(x, (1, 0, 2)):
        m, state, record = lstm_cell(inputs, state, kernel, bias, bug)
        outputs.append(m)
        saved.append(record)
    return np.stack(outputs, axis=1), (saved, kernel)


def backward(dout, cache, bug=None):
    saved, kernel = cache
    N, T, H = dout.shape
    D = kernel.shape[0] - H
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dout.dtype)
    dx = np.zeros((N, T, D), dtype=dout.dtype)
    dm_next, dc_next = np.zeros((N, H), dtype=dout.dtype), np.zeros((N, H), dtype=dout.dtype)
    steps = range(T) if bug == "walk_forward_in_time" else reversed(range(T))
    for t in steps:
        inputs, c_prev, m_prev, i, j, f, o, c = saved[t]
        fb = 0.0 if bug in ("forward_without_forget_bias", "backward_forget_gate_no_bias") else FORGET_BIAS
        sig_i, sig_f, sig_o, tanh_j = sigmoid(i), sigmoid(f + fb), sigmoid(o), np.tanh(j)
        dm = dout[:, t] if bug == "m_carry_dropped" else dout[:, t] + dm_next
        tanh_c = np.tanh(c)
        dprime = 1 - np.tanh(c ** 2) if bug == "tanh_prime_of_c_squared" else 1 - tanh_c ** 2
        if bug == "dc_minus_tanh_path":
            dc = dc_next - dm * sig_o * dprime
        else:
            dc = dc_next + dm * sig_o * dprime
        if bug == "dc_prev_aliases_dc":
            dc_prev = dc
            dc_prev *= sig_f
        dsig_i, dsig_f, dsig_o = dc * tanh_j, dc * c_prev, dm * tanh_c
        d_j = dc * sig_i if bug in ("dj_no_tanh_prime", "mean_bias_and_no_dj_prime") else dc * sig_i * (1 - tanh_j ** 2)
        d_i = dsig_i * sig_i * (1 - sig_i)
        d_f = dsig_f * (sig_i * (1 - sig_i) if bug == "df_sigmoid_prime_of_i" else sig_f * (1 - sig_f))
        d_o = dsig_o * sig_o * (1 - sig_o)
        order = [d_i, d_f, d_j, d_o] if bug == "backward_split_i_f_j_o" else [d_i, d_j, d_f, d_o]
        d_matrix = np.concatenate(order, axis=1)
        dkernel += np.concatenate([inputs, m_prev], axis=1).T @ d_matrix
        if bug in ("dbias_batch_mean", "mean_bias_and_no_dj_prime"):
            dbias += np.mean(d_matrix, axis=0)
        else:
            dbias += d_matrix.sum(axis=0)
        if bug == "dinputs_without_f":
            d_matrix = np.concatenate([d_i, d_j, np.zeros_like(d_f), d_o], axis=1)
        dinputs = d_matrix @ kernel.T
        dx[:, t], dm_next = dinputs[:, :D], dinputs[:, D:]
        if bug == "dc_prev_aliases_dc":
            dc_next = dc_prev
        elif bug == "dc_prev_times_f_logit":
            dc_next = dc * f
        elif bug == "c_carry_halved":
            dc_next = 0.5 * dc * sig_f
        else:
            dc_next = dc * sig_f
    return dx, dm_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

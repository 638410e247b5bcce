"""A port of TF1's ``tf.nn.rnn_cell.LSTMCell`` (no peepholes, no projection) to NumPy, in the
tf_kernel layout: one kernel (D+H, 4H) applied to concat([inputs, m_prev]), a bias (4H,),
the four column blocks i, j, f, o, the hidden state called m as TF1 calls it, and the
forget bias a constructor argument, here 0.0 (the check is told forget_bias=0):

    lstm_matrix = concat([inputs, m_prev], 1) @ kernel + bias
    i, j, f, o = split(lstm_matrix, 4, axis=1)
    c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * tanh(j)      m = sigmoid(o) * tanh(c)

The forward caches the raw blocks and the backward recomputes the activations from them.
Sixth held-out zoo: written without reading the diagnosis. "[own]" marks mistakes of the
writer's own invention (beyond issue 8's list).
"""

import numpy as np

BUGS = {
    "dj_sigmoid_grad": "derivative_wrong_function",    # dj * sj * (1 - sj) where sj = tanh(j)
    "df_grad_at_raw_f": "derivative_wrong_point",      # df * f * (1 - f) with f the raw block, not sigmoid(f)
    "do_sigmoid_grad_sign": "wrong_sign",              # do * so * (so - 1)
    "dc_tanh_grad_twice": "derivative_twice",          # dm * so * (1 - tanh_c ** 2) * (1 - tanh_c ** 2)
    "dkernel_concat_with_m_t": "wrong_time",           # dkernel += concat([inputs, m]).T @ d: m_t for m_prev
    "dc_prev_reset_each_step": "carry_dropped",        # dc_prev = zeros at the top of every step
    "dbias_assigned": "carry_overwrites",              # dbias = dlstm.sum(0) (= for +=)
    "dlstm_blocks_jifo": "gate_order",                 # [own] dlstm = [dj, di, df, do] for columns i, j, f, o
    "forget_bias_tf_default": "forget_bias",           # forget_bias=1.0 (TF1's default) in forward and backward; check told 0
    "stop_gradient_every_2": "truncated_bptt",         # [own] the carries (dm, dc) zeroed at every even t, as a truncated unroll
    "clip_by_global_norm_1": "gradient_clipped",       # [own] tf.clip_by_global_norm(grads, 1.0) inside the backward
    "forward_concat_m_first": "forward_mistake",       # [own] concat([m_prev, inputs]) with the kernel made for [x, h];
                                                       # the backward matches it
    "dx_misses_f_block": "term_dropped",               # dinputs = di @ k_i.T + dj @ k_j.T + do @ k_o.T: the f block forgotten
    "dj_sigmoid_and_dbias_assigned": "unknown",        # two mistakes at once
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dj_sigmoid_grad": "g",
    "df_grad_at_raw_f": "f",
    "do_sigmoid_grad_sign": "o",
    "dc_tanh_grad_twice": "ifg",
    "dkernel_concat_with_m_t": "",
    "dc_prev_reset_each_step": "",
    "dbias_assigned": "",
    "dlstm_blocks_jifo": "ig",
    "forget_bias_tf_default": "",
    "stop_gradient_every_2": "",
    "clip_by_global_norm_1": "",
    "forward_concat_m_first": "",
    "dx_misses_f_block": "",
    "dj_sigmoid_and_dbias_assigned": "g",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_cell_call(inputs, state, kernel, bias, forget_bias, bug=None):
    c_prev, m_prev = state
    parts = [m_prev, inputs] if bug == "forward_concat_m_first" else [inputs, m_prev]
    lstm_matrix = np.concatenate(parts, axis=1) @ kernel + bias
    i, j, f, o = np.split(lstm_matrix, 4, axis=1)
    c = sigmoid(f + forget_bias) * c_prev + sigmoid(i) * np.tanh(j)
    m = sigmoid(o) * np.tanh(c)
    return m, (c, m), dict(inputs=inputs, c_prev=c_prev, m_prev=m_prev, i=i, j=j, f=f, o=o, c=c, m=m)


def dynamic_rnn(x, h0, c0, kernel, bias, bug=None):
    forget_bias = 1.0 if bug == "forget_bias_tf_default" else 0.0
    state = (c0, h0)
    outputs, saved = [], []
    for t in range(x.shape[1]):
        m, state, s = lstm_cell_call(x[:, t], state, kernel, bias, forget_bias, bug)
        outputs.append(m)
        saved.append(s)
    return np.stack(outputs, axis=1), (saved, kernel, forget_bias)


def clip_by_global_norm(grads, clip_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    scale = clip_norm / max(norm, clip_norm)
    return [g * scale for g in grads]


def dynamic_rnn_backward(doutputs, cache, bug=None):
    saved, kernel, forget_bias = cache
    N, T, H = doutputs.shape
    D = kernel.shape[0] - H
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=doutputs.dtype)
    dinputs = np.zeros((N, T, D), dtype=doutputs.dtype)
    dm_prev = np.zeros((N, H), dtype=doutputs.dtype)
    dc_prev = np.zeros((N, H), dtype=doutputs.dtype)
    for t in reversed(range(T)):
        s = saved[t]
        if bug == "dc_prev_reset_each_step":
            dc_prev = np.zeros((N, H), dtype=doutputs.dtype)
        si, sf, so, tj = sigmoid(s["i"]), sigmoid(s["f"] + forget_bias), sigmoid(s["o"]), np.tanh(s["j"])
        tanh_c = np.tanh(s["c"])
        dm = doutputs[:, t] + dm_prev
        dc = dc_prev + dm * so * (1 - tanh_c ** 2)
        if bug == "dc_tanh_grad_twice":
            dc = dc_prev + dm * so * (1 - tanh_c ** 2) * (1 - tanh_c ** 2)
        di = dc * tj * si * (1 - si)
        if bug in ("dj_sigmoid_grad", "dj_sigmoid_and_dbias_assigned"):
            dj = dc * si * tj * (1 - tj)
        else:
            dj = dc * si * (1 - tj ** 2)
        if bug == "df_grad_at_raw_f":
            df = dc * s["c_prev"] * s["f"] * (1 - s["f"])
        else:
            df = dc * s["c_prev"] * sf * (1 - sf)
        do = dm * tanh_c * so * ((so - 1) if bug == "do_sigmoid_grad_sign" else (1 - so))
        blocks = [dj, di, df, do] if bug == "dlstm_blocks_jifo" else [di, dj, df, do]
        dlstm = np.concatenate(blocks, axis=1)
        if bug == "forward_concat_m_first":
            concat = np.concatenate([s["m_prev"], s["inputs"]], axis=1)
        elif bug == "dkernel_concat_with_m_t":
            concat = np.concatenate([s["inputs"], s["m"]], axis=1)
        else:
            concat = np.concatenate([s["inputs"], s["m_prev"]], axis=1)
        dkernel += concat.T @ dlstm
        if bug in ("dbias_assigned", "dj_sigmoid_and_dbias_assigned"):
            dbias = dlstm.sum(axis=0)
        else:
            dbias += dlstm.sum(axis=0)
        dconcat = dlstm @ kernel.T
        if bug == "forward_concat_m_first":
            dm_prev, dinputs[:, t] = dconcat[:, :H], dconcat[:, H:]
        else:
            dinputs[:, t], dm_prev = dconcat[:, :D], dconcat[:, D:]
        if bug == "dx_misses_f_block":
            k_x = kernel[:D]
            dinputs[:, t] = di @ k_x[:, :H].T + dj @ k_x[:, H:2 * H].T + do @ k_x[:, 3 * H:].T
        dc_prev = dc * sf
        if bug == "stop_gradient_every_2" and t % 2 == 0:
            dm_prev, dc_prev = np.zeros_like(dm_prev), np.zeros_like(dc_prev)
    if bug == "clip_by_global_norm_1":
        dkernel, dbias = clip_by_global_norm([dkernel, dbias], 1.0)
    return dinputs, dm_prev, dc_prev, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return dynamic_rnn(x, h0, c0, kernel, bias, bug)

    def backward(doutputs, cache):
        return dynamic_rnn_backward(doutputs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": 0.0}

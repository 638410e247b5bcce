"""Fresh mistakes in a cs231n-style LSTM (built-in layout ``cs231n``): x (N, T, D), h0 (N, H),
c0 = 0, Wx (D, 4H), Wh (H, 4H), b (4H,), column blocks i, f, o, g. The step backward takes
dx and dprev_h gate by gate through the blocks of Wx and Wh (np.split), as students who
derive it one gate at a time write it. Second held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

BUGS = {
    "Wh_f_for_Wh_i": "wrong_weight",                     # dprev_h: dai @ Wh_f.T (copy-paste) for dai @ Wh_i.T
    "Wh_o_untransposed": "weight_transposed",            # dprev_h: dao @ Wh_o
    "dprev_h_misses_o_term": "term_dropped",             # dprev_h: the dao @ Wh_o.T term left out
    "declared_forget_bias_for_init": "forget_bias",      # b_f initialised to 1 and the check told forget_bias=1.0
    "da_in_torch_order": "gate_order",                   # da = [dai, daf, dag, dao] (torch's i, f, g, o) for i, f, o, g
    "do_with_prev_c": "wrong_time",                      # do = dnext_h * tanh(prev_c) for tanh(next_c)
    "dWh_over_T": "reduction_scaled",                    # dWh / T
    "df_no_sigmoid_grad": "derivative_missing",          # daf = df
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "Wh_f_for_Wh_i": "",
    "Wh_o_untransposed": "",
    "dprev_h_misses_o_term": "",
    "declared_forget_bias_for_init": "",
    "da_in_torch_order": "go",
    "do_with_prev_c": "o",
    "dWh_over_T": "",
    "df_no_sigmoid_grad": "",
}


def sigmoid(v):
    return 0.5 * (np.tanh(0.5 * v) + 1)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def _gate_grads(dnext_h, dnext_c, cache, bug):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    do = dnext_h * (np.tanh(prev_c) if bug == "do_with_prev_c" else tanh_c)
    di, df, dg = dc * g, dc * prev_c, dc * i
    dai = di * i * (1 - i)
    daf = df if bug == "df_no_sigmoid_grad" else df * f * (1 - f)
    dao = do * o * (1 - o)
    dag = dg * (1 - g ** 2)
    return dai, daf, dao, dag, dc * f


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    dai, daf, dao, dag, dprev_c = _gate_grads(dnext_h, dnext_c, cache, bug)
    Wx_i, Wx_f, Wx_o, Wx_g = np.split(Wx, 4, axis=1)
    Wh_i, Wh_f, Wh_o, Wh_g = np.split(Wh, 4, axis=1)
    dx = dai @ Wx_i.T + daf @ Wx_f.T + dao @ Wx_o.T + dag @ Wx_g.T
    dprev_h = dai @ (Wh_f if bug == "Wh_f_for_Wh_i" else Wh_i).T + daf @ Wh_f.T + dag @ Wh_g.T
    if bug == "Wh_o_untransposed":
        dprev_h += dao @ Wh_o
    elif bug != "dprev_h_misses_o_term":
        dprev_h += dao @ Wh_o.T
    blocks = [dai, daf, dag, dao] if bug == "da_in_torch_order" else [dai, daf, dao, dag]
    da = np.hstack(blocks)
    return dx, dprev_h, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    prev_h, prev_c, cache = h0, np.zeros_like(h0), []
    for t in range(T):
        prev_h, prev_c, step = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step)
    return h, cache


def lstm_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, 4 * H), dtype=dh.dtype)
    dWh = np.zeros((H, 4 * H), dtype=dh.dtype)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dnext_h, dnext_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        dx[:, t, :], dnext_h, dnext_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dnext_h, dnext_c,
                                                                                cache[t], bug)
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    if bug == "dWh_over_T":
        dWh = dWh / T
    return dx, dnext_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    forget_bias = 1.0 if bug == "declared_forget_bias_for_init" else 0.0
    return forward, backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": forget_bias}

"""An LSTM in the style of the deeplearning.net Theano tutorial (lstm.py): ``state_below``
(x projected for all steps at once, bias included), a ``_step(x_, h_, c_)`` function run
over the sequence by a scan-like loop, ``_slice(preact, n, dim)`` for the gate blocks, the
pre-activations saved and the gates *recomputed* from them in the backward. Held in TF's
kernel layout (BasicLSTMCell: columns i, j, f, o, and forget_bias = 1.0 added to the f
pre-activation at call time):

    preact = state_below[t] + h_(t-1) @ kernel[D:]
    i = s(preact_i)  j = tanh(preact_j)  f = s(preact_f + 1.0)  o = s(preact_o)
    c_t = f * c_(t-1) + i * j          h_t = o * tanh(c_t)

x (N, T, D), h0, c0 (N, H), kernel (D+H, 4H), bias (4H,).
Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "forget_bias_left_out": "forget_bias",              # forward f = s(preact_f) (no + 1.0); backward consistent
    "recompute_f_without_forget_bias": "forget_bias",   # the backward recomputes f = s(preact_f), forgetting the 1.0
    "dj_tanh_grad_of_i": "derivative_wrong_point",      # dj_pre = dj * (1 - i ** 2): tanh' at i's value
    "df_no_sigmoid_grad": "derivative_missing",         # df_pre = df
    "di_sigmoid_grad_squared": "derivative_miswritten", # i * (1 - i) written (1 - i) * (1 - i)
    "U_blocks_transposed": "weight_transposed",         # dh_prev += dpre_k @ U_k (per gate block, no .T)
    "dh_prev_from_dkernel": "gradient_for_weight",      # dh_prev = dpreact @ dkernel[D:].T (the accumulator)
    "dtanh_c_with_c_prev": "wrong_time",                # dc gets o * (1 - tanh(c_(t-1))^2)
    "h_carry_not_added": "carry_dropped",               # dh = dh_seq[:, t]: dh_prev never added
    "loop_runs_forward": "loop_direction",              # for t in range(T) in the backward
    "dbias_over_NT": "reduction_scaled",                # dbias / (N * T)
    "clip_dh_at_1": "gradient_clipped",                 # np.clip(dh, -1, 1) every step
    "dc_prev_times_i": "wrong_value",                   # dc_prev = dc * i (i_t read for f_t)
    "j_tanh_in_place": "inplace_corruption",            # np.tanh(preact_j, out=preact_j): the saved preact holds j, tanh'd twice later
    "dj_grad_of_i_and_dbias_over_NT": "unknown",        # two at once: dj_tanh_grad_of_i and dbias_over_NT
}

TOUCHES = {
    "forget_bias_left_out": "",
    "recompute_f_without_forget_bias": "f",
    "dj_tanh_grad_of_i": "g",
    "df_no_sigmoid_grad": "f",
    "di_sigmoid_grad_squared": "i",
    "U_blocks_transposed": "",
    "dh_prev_from_dkernel": "",
    "dtanh_c_with_c_prev": "ifg",
    "h_carry_not_added": "",
    "loop_runs_forward": "",
    "dbias_over_NT": "",
    "clip_dh_at_1": "",
    "dc_prev_times_i": "",
    "j_tanh_in_place": "ig",
    "dj_grad_of_i_and_dbias_over_NT": "",
}

FORGET_BIAS = 1.0


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _slice(_x, n, dim):
    return _x[:, n * dim:(n + 1) * dim]


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    fb_forward = 0.0 if bug == "forget_bias_left_out" else FORGET_BIAS
    fb_backward = 0.0 if bug in ("forget_bias_left_out", "recompute_f_without_forget_bias") else FORGET_BIAS

    def _step(x_, h_, c_, U, dim):
        preact = h_ @ U
        preact += x_
        if bug == "j_tanh_in_place":
            j = np.tanh(_slice(preact, 1, dim), out=_slice(preact, 1, dim))
        else:
            j = np.tanh(_slice(preact, 1, dim))
        i = sigmoid(_slice(preact, 0, dim))
        f = sigmoid(_slice(preact, 2, dim) + fb_forward)
        o = sigmoid(_slice(preact, 3, dim))
        c = f * c_ + i * j
        h = o * np.tanh(c)
        return h, c, preact

    def forward(x, h0, c0, kernel, bias):
        N, T, D = x.shape
        dim = h0.shape[1]
        state_below = x @ kernel[:D] + bias                      # (N, T, 4H)
        U = kernel[D:]
        h_, c_ = h0, c0
        hs, cs, preacts = [h0], [c0], []
        for t in range(T):
            h_, c_, preact = _step(state_below[:, t], h_, c_, U, dim)
            hs.append(h_)
            cs.append(c_)
            preacts.append(preact)
        return np.stack(hs[1:], axis=1), (x, kernel, hs, cs, preacts)

    def backward(dh_seq, cache):
        x, kernel, hs, cs, preacts = cache
        N, T, dim = dh_seq.shape
        D = x.shape[2]
        U = kernel[D:]
        dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * dim, dtype=dh_seq.dtype)
        dx = np.zeros_like(x)
        dh_prev, dc_prev = np.zeros((N, dim), dh_seq.dtype), np.zeros((N, dim), dh_seq.dtype)
        for t in (range(T) if bug == "loop_runs_forward" else reversed(range(T))):
            preact = preacts[t]
            i = sigmoid(_slice(preact, 0, dim))
            j = np.tanh(_slice(preact, 1, dim))
            f = sigmoid(_slice(preact, 2, dim) + fb_backward)
            o = sigmoid(_slice(preact, 3, dim))
            c, c_prev, h_prev = cs[t + 1], cs[t], hs[t]
            dh = dh_seq[:, t] if bug == "h_carry_not_added" else dh_seq[:, t] + dh_prev
            if bug == "clip_dh_at_1":
                dh = np.clip(dh, -1, 1)
            tanh_c = np.tanh(c)
            dtc = 1 - np.tanh(c_prev) ** 2 if bug == "dtanh_c_with_c_prev" else 1 - tanh_c ** 2
            dc = dc_prev + dh * o * dtc
            di, dj, df, do = dc * j, dc * i, dc * c_prev, dh * tanh_c
            if bug == "di_sigmoid_grad_squared":
                di_pre = di * (1 - i) * (1 - i)
            else:
                di_pre = di * i * (1 - i)
            if bug in ("dj_tanh_grad_of_i", "dj_grad_of_i_and_dbias_over_NT"):
                dj_pre = dj * (1 - i ** 2)
            else:
                dj_pre = dj * (1 - j ** 2)
            df_pre = df if bug == "df_no_sigmoid_grad" else df * f * (1 - f)
            do_pre = do * o * (1 - o)
            dpreact = np.concatenate([di_pre, dj_pre, df_pre, do_pre], axis=1)
            dkernel[:D] += x[:, t].T @ dpreact
            dkernel[D:] += h_prev.T @ dpreact
            dbias += dpreact.sum(axis=0)
            dx[:, t] = dpreact @ kernel[:D].T
            if bug == "U_blocks_transposed":
                dh_prev = sum(_slice(dpreact, k, dim) @ _slice(U, k, dim) for k in range(4))
            elif bug == "dh_prev_from_dkernel":
                dh_prev = dpreact @ dkernel[D:].T
            else:
                dh_prev = dpreact @ U.T
            dc_prev = dc * (i if bug == "dc_prev_times_i" else f)
        if bug in ("dbias_over_NT", "dj_grad_of_i_and_dbias_over_NT"):
            dbias /= N * T
        return dx, dh_prev, dc_prev, dkernel, dbias

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

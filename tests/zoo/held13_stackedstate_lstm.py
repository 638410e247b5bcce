"""An LSTM in TF's kernel layout (kernel (D+H, 4H) on concat([x, h]), bias (4H,), columns
i, j, f, o, c0 an argument) written time-major with both states kept in one array
S (2, T+1, N, H): S[0] the h's and S[1] the c's, S[:, 0] the initial states, and the
pre-activations of every step in A (T, N, 4H); the backward recomputes the gates from A:

    [i, j, f, o] = split(concat([x_t, h_(t-1)]) @ kernel + bias)
    c_t = s(f) c_(t-1) + s(i) tanh(j)        h_t = s(o) tanh(c_t)

Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "df_reads_S_next": "wrong_time",                      # df = dc * S[1, t + 1] (c_t for c_(t-1))
    "f_from_j_columns": "wrong_value",                    # f recomputed from A[..., H:2H] (j's block) in the backward
    "c_carry_without_f": "term_dropped",                  # dc_prev = dc (the factor f left out)
    "h_carry_lost": "carry_dropped",                      # dh_prev never reaches step t-1
    "forward_time_order_backward": "loop_direction",      # for t in range(T)
    "forward_adds_forget_bias": "forget_bias",            # f = s(a_f + 1.0) in the forward (TF's default), not declared
    "c_updated_in_S_view": "inplace_corruption",          # c = S[1, t]; c *= f; c += i j: S[1, t] (c_(t-1)) overwritten
    "dxh_from_dkernel": "gradient_for_weight",            # dxh = dA @ dkernel.T
    "o_sig_grad_twice": "derivative_twice",               # da_o = do * o (1 - o) * o (1 - o)
    "j_tanh_grad_sign": "wrong_sign",                     # da_j = dj * (j**2 - 1)
    "f_sig_grad_missing": "derivative_missing",           # da_f = df
    "dA_columns_ifjo": "gate_order",                      # dA = [da_i, da_f, da_j, da_o]: forward is i, j, f, o
    "i_no_grad_and_f_late": "unknown",                    # da_i = di and df = dc * c_t: two mistakes
    "dc_from_dh_halved": "unknown",                       # dc gets 0.5 * dh * o * tanh'(c): an arbitrary constant
}


def s(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    xs = np.swapaxes(x, 0, 1)
    S = np.zeros((2, T + 1, N, H), dtype=x.dtype)
    S[0, 0], S[1, 0] = h0, c0
    A = np.zeros((T, N, 4 * H), dtype=x.dtype)
    for t in range(T):
        A[t] = np.concatenate([xs[t], S[0, t]], axis=1) @ kernel + bias
        i, j, f, o = np.split(A[t], 4, axis=1)
        fb = 1.0 if bug == "forward_adds_forget_bias" else 0.0
        if bug == "c_updated_in_S_view":
            c = S[1, t]
            c *= s(f + fb)
            c += s(i) * np.tanh(j)
        else:
            c = s(f + fb) * S[1, t] + s(i) * np.tanh(j)
        S[1, t + 1] = c
        S[0, t + 1] = s(o) * np.tanh(c)
    return np.swapaxes(S[0, 1:], 0, 1).copy(), (xs, S, A, kernel, bias)


def backward(dh, cache, bug=None):
    xs, S, A, kernel, bias = cache
    T, N, D = xs.shape
    H = S.shape[-1]
    dhs = np.swapaxes(dh, 0, 1)
    dkernel, dbias = np.zeros_like(kernel), np.zeros_like(bias)
    dx = np.zeros_like(xs)
    dS = np.zeros((2, N, H), dtype=dh.dtype)
    order = range(T) if bug == "forward_time_order_backward" else range(T - 1, -1, -1)
    for t in order:
        i, j, f, o = np.split(A[t], 4, axis=1)
        if bug == "f_from_j_columns":
            f = j
        fb = 1.0 if bug == "forward_adds_forget_bias" else 0.0
        i, j, f, o = s(i), np.tanh(j), s(f + fb), s(o)
        c_prev, c = S[1, t], S[1, t + 1]
        tc = np.tanh(c)
        dht = dhs[t] + dS[0]
        do = dht * tc
        dc = dS[1] + (0.5 if bug == "dc_from_dh_halved" else 1.0) * dht * o * (1 - tc ** 2)
        di, dj = dc * j, dc * i
        df = dc * (c if bug in ("df_reads_S_next", "i_no_grad_and_f_late") else c_prev)
        da_i = di if bug == "i_no_grad_and_f_late" else di * i * (1 - i)
        da_j = dj * (j ** 2 - 1) if bug == "j_tanh_grad_sign" else dj * (1 - j ** 2)
        da_f = df if bug == "f_sig_grad_missing" else df * f * (1 - f)
        da_o = do * o * (1 - o)
        if bug == "o_sig_grad_twice":
            da_o = da_o * o * (1 - o)
        cols = [da_i, da_f, da_j, da_o] if bug == "dA_columns_ifjo" else [da_i, da_j, da_f, da_o]
        dA = np.concatenate(cols, axis=1)
        xh = np.concatenate([xs[t], S[0, t]], axis=1)
        dkernel += xh.T @ dA
        dbias += dA.sum(axis=0)
        dxh = dA @ (dkernel if bug == "dxh_from_dkernel" else kernel).T
        dx[t] = dxh[:, :D]
        if bug != "h_carry_lost":
            dS[0] = dxh[:, D:]
        dS[1] = dc if bug == "c_carry_without_f" else dc * f
    return np.swapaxes(dx, 0, 1), dS[0].copy(), dS[1].copy(), dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel"}


TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "df_reads_S_next": "f",
    "f_from_j_columns": "f",
    "c_carry_without_f": "",
    "h_carry_lost": "",
    "forward_time_order_backward": "",
    "forward_adds_forget_bias": "",
    "c_updated_in_S_view": "f",
    "dxh_from_dkernel": "",
    "o_sig_grad_twice": "o",
    "j_tanh_grad_sign": "g",
    "f_sig_grad_missing": "f",
    "dA_columns_ifjo": "fg",
    "i_no_grad_and_f_late": "if",
    "dc_from_dh_halved": "ifg",
}

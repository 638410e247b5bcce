"""A TF-kernel LSTM (kernel (D+H, 4H) on concat([x, h]), columns i, j, f, o, TF's
forget_bias = 1.0 added at call time) whose step returns a (c, h) tuple and whose backward
carries a ``Carry`` namedtuple (dh, dc) from step to step:

    a = [x_t, h] @ kernel + bias;   i, j, f, o = split(a, 4)
    c = sigmoid(f + 1.0) * c + sigmoid(i) * tanh(j);   h = sigmoid(o) * tanh(c)

Nineteenth held-out zoo: written without reading the diagnosis.
"""

from collections import namedtuple

import numpy as np

FORGET_BIAS = 1.0

Carry = namedtuple("Carry", "dh dc")

BUGS = {
    "forward_omits_forget_bias": "forget_bias",         # f = sigmoid(a_f) in the forward (backward consistent with it)
    "backward_f_without_forget_bias": "forget_bias",    # the backward recomputes f = sigmoid(a_f) from the cached a
    "carry_dc_zeroed": "carry_dropped",                 # Carry(dh_prev, np.zeros_like(dc)): dc never carried
    "dbias_assigned": "carry_overwrites",               # dbias = da.sum(0) (= for +=)
    "xh_from_next_step_cache": "wrong_time",            # dkernel += xh of cache[t + 1] (cache read one index late)
    "dj_no_tanh_grad": "derivative_missing",            # d_aj = dj
    "di_reads_i": "wrong_value",                        # di = dc * i (i read in place of j)
    "o_sigmoid_grad_twice": "derivative_twice",         # d_ao = do * o(1-o) * o(1-o)
    "f_sigmoid_grad_sign": "wrong_sign",                # d_af = df * f * (f - 1)
    "da_columns_i_f_j_o": "gate_order",                 # da = concat([d_ai, d_af, d_aj, d_ao]): j and f swapped
    "dkernel_over_T": "reduction_scaled",               # dkernel / T
    "range_T_minus_one": "loop_skips_step",             # for t in reversed(range(T - 1))
    "dkernel_clip_by_value": "gradient_clipped",        # np.clip(dkernel, -0.2, 0.2)
    "f_sign_and_skip": "unknown",                       # two at once: f's sigmoid' sign and the last step skipped
}

TOUCHES = {
    "forward_omits_forget_bias": "",
    "backward_f_without_forget_bias": "f",
    "carry_dc_zeroed": "",
    "dbias_assigned": "",
    "xh_from_next_step_cache": "",
    "dj_no_tanh_grad": "g",
    "di_reads_i": "i",
    "o_sigmoid_grad_twice": "o",
    "f_sigmoid_grad_sign": "f",
    "da_columns_i_f_j_o": "fg",
    "dkernel_over_T": "",
    "range_T_minus_one": "",
    "dkernel_clip_by_value": "igo",
    "f_sign_and_skip": "",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_step(x_t, state, kernel, bias, bug=None):
    c, h = state
    xh = np.concatenate([x_t, h], axis=1)
    a = xh @ kernel + bias
    ai, aj, af, ao = np.split(a, 4, axis=1)
    fb = 0.0 if bug == "forward_omits_forget_bias" else FORGET_BIAS
    i, j, f, o = sigmoid(ai), np.tanh(aj), sigmoid(af + fb), sigmoid(ao)
    new_c = f * c + i * j
    new_h = o * np.tanh(new_c)
    return (new_c, new_h), {"xh": xh, "a": a, "c_prev": c, "c": new_c, "i": i, "j": j, "o": o}


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    state = (c0, h0)
    hs, caches = [], []
    for t in range(x.shape[1]):
        state, cache = lstm_step(x[:, t], state, kernel, bias, bug)
        hs.append(state[1])
        caches.append(cache)
    return np.stack(hs, axis=1), (caches, kernel)


def lstm_backward(dh_all, cache, bug=None):
    caches, kernel = cache
    N, T, H = dh_all.shape
    D = kernel.shape[0] - H
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh_all.dtype)
    dx = np.zeros((N, T, D), dtype=dh_all.dtype)
    carry = Carry(np.zeros((N, H), dtype=dh_all.dtype), np.zeros((N, H), dtype=dh_all.dtype))
    skip = bug in ("range_T_minus_one", "f_sign_and_skip")
    for t in reversed(range(T - 1 if skip else T)):
        k = caches[t]
        fb = 0.0 if bug in ("forward_omits_forget_bias", "backward_f_without_forget_bias") else FORGET_BIAS
        f = sigmoid(k["a"][:, 2 * H:3 * H] + fb)
        i, j, o = k["i"], k["j"], k["o"]
        dh = dh_all[:, t] + carry.dh
        tc = np.tanh(k["c"])
        do = dh * tc
        dc = carry.dc + dh * o * (1 - tc ** 2)
        di = dc * (i if bug == "di_reads_i" else j)
        dj = dc * i
        df = dc * k["c_prev"]
        d_ai = di * i * (1 - i)
        d_aj = dj if bug == "dj_no_tanh_grad" else dj * (1 - j ** 2)
        d_af = df * f * (f - 1) if bug in ("f_sigmoid_grad_sign", "f_sign_and_skip") else df * f * (1 - f)
        d_ao = do * o * (1 - o)
        if bug == "o_sigmoid_grad_twice":
            d_ao = d_ao * o * (1 - o)
        parts = [d_ai, d_af, d_aj, d_ao] if bug == "da_columns_i_f_j_o" else [d_ai, d_aj, d_af, d_ao]
        da = np.concatenate(parts, axis=1)
        xh = caches[t + 1]["xh"] if (bug == "xh_from_next_step_cache" and t + 1 < T) else k["xh"]
        dkernel += xh.T @ da
        if bug == "dbias_assigned":
            dbias = da.sum(axis=0)
        else:
            dbias += da.sum(axis=0)
        dxh = da @ kernel.T
        dx[:, t] = dxh[:, :D]
        carry = Carry(dxh[:, D:], np.zeros_like(dc) if bug == "carry_dc_zeroed" else dc * f)
    if bug == "dkernel_over_T":
        dkernel = dkernel / T
    if bug == "dkernel_clip_by_value":
        dkernel = np.clip(dkernel, -0.2, 0.2)
    return dx, carry.dh, carry.dc, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

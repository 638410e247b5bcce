"""A TF-kernel LSTM (kernel (D+H, 4H) on concat([x, h]), bias (4H,), columns i, j, f, o,
forget_bias 1.0 as BasicLSTMCell, c0 an argument) written to avoid allocations: one
preallocated workspace ws (T, N, 6H) holds each step's [i | j | f | o | c | tanh(c)], the
matmul writes into it with out=, the activations run in place on its slices, and the weight
gradients are taken after the loop by one batched matmul over the stacked dA (T, N, 4H).

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_on_j": "forget_bias",              # + 1.0 added to the j slice, not f (backward reads stored gates)
    "o_slot_aliased_by_h": "inplace_corruption",    # h = ws[t, :, o]; h *= tanh_c: the cached o becomes h
    "dj_with_f": "wrong_value",                     # dj = dc * f (f read for i)
    "dc_tanh_prime_at_c": "derivative_wrong_point",  # dc uses 1 - c ** 2: tanh' at c, not tanh(c) (also wrong_value)
    "da_j_no_tanh_grad": "derivative_missing",      # dA_j = dj
    "da_f_miswritten": "derivative_miswritten",     # dA_f = df * f * (1 - f ** 2)
    "carry_j_block_from_f": "wrong_weight",         # per-block carry: da_j @ K_f.T for da_j @ K_j.T (kernel[D:] split)
    "xh_rebuilt_with_h_t": "wrong_time",            # dkernel from [x_t, h_t] rebuilt from the outputs
    "dprev_c_without_f": "term_dropped",            # dc_next = dc (the factor f dropped)
    "loop_runs_forward": "loop_direction",          # for t in range(T)
    "truncated_after_3": "truncated_bptt",          # both carries zeroed once 3 steps have been walked back
    "dbias_over_N": "reduction_scaled",             # dbias = dA.sum((0, 1)) / N
    "no_j_grad_no_c_carry": "unknown",              # two at once: da_j_no_tanh_grad and dc_next never added
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "forget_bias_on_j": "",
    "o_slot_aliased_by_h": "",
    "dj_with_f": "g",
    "dc_tanh_prime_at_c": "ifg",
    "da_j_no_tanh_grad": "g",
    "da_f_miswritten": "f",
    "carry_j_block_from_f": "",
    "xh_rebuilt_with_h_t": "",
    "dprev_c_without_f": "",
    "loop_runs_forward": "",
    "truncated_after_3": "",
    "dbias_over_N": "",
    "no_j_grad_no_c_carry": "g",
}


def sigmoid_(a):
    """In place: a <- 1 / (1 + exp(-a))."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    ws = np.empty((T, N, 6 * H), dtype=x.dtype)
    xh = np.empty((T, N, D + H), dtype=x.dtype)
    out = np.empty((N, T, H), dtype=x.dtype)
    h, c = h0, c0
    I, J, F, O, C, TC = (slice(k * H, (k + 1) * H) for k in range(6))
    for t in range(T):
        xh[t, :, :D], xh[t, :, D:] = x[:, t], h
        np.matmul(xh[t], kernel, out=ws[t, :, :4 * H])
        ws[t, :, :4 * H] += bias
        ws[t, :, J if bug == "forget_bias_on_j" else F] += FORGET_BIAS
        sigmoid_(ws[t, :, I])
        np.tanh(ws[t, :, J], out=ws[t, :, J])
        sigmoid_(ws[t, :, F])
        sigmoid_(ws[t, :, O])
        np.multiply(ws[t, :, F], c, out=ws[t, :, C])
        ws[t, :, C] += ws[t, :, I] * ws[t, :, J]
        np.tanh(ws[t, :, C], out=ws[t, :, TC])
        if bug == "o_slot_aliased_by_h":
            h = ws[t, :, O]
            h *= ws[t, :, TC]
        else:
            h = ws[t, :, O] * ws[t, :, TC]
        out[:, t] = h
        c = ws[t, :, C]
    return out, (x, c0, ws, xh, out, kernel)


def backward(dh, cache, bug=None):
    x, c0, ws, xh, hs, kernel = cache
    N, T, H = dh.shape
    D = x.shape[2]
    I, J, F, O, C, TC = (slice(k * H, (k + 1) * H) for k in range(6))
    dA = np.zeros((T, N, 4 * H), dtype=dh.dtype)
    K_i, K_j, K_f, K_o = np.split(kernel[D:], 4, axis=1)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "loop_runs_forward" else range(T - 1, -1, -1)
    for walked, t in enumerate(order):
        if bug == "truncated_after_3" and walked == 3:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        w = ws[t]
        i, j, f, o, c, tc = w[:, I], w[:, J], w[:, F], w[:, O], w[:, C], w[:, TC]
        c_prev = c0 if t == 0 else ws[t - 1, :, C]
        dh_t = dh[:, t] + dh_next
        do = dh_t * tc
        dtc = 1 - c ** 2 if bug == "dc_tanh_prime_at_c" else 1 - tc ** 2
        dc = dh_t * o * dtc
        if bug != "no_j_grad_no_c_carry":
            dc += dc_next
        di, df = dc * j, dc * c_prev
        dj = dc * (f if bug == "dj_with_f" else i)
        dc_next = dc if bug == "dprev_c_without_f" else dc * f
        dA[t, :, I] = di * i * (1 - i)
        dA[t, :, J] = dj if bug in ("da_j_no_tanh_grad", "no_j_grad_no_c_carry") else dj * (1 - j ** 2)
        dA[t, :, F] = df * f * (1 - f ** 2) if bug == "da_f_miswritten" else df * f * (1 - f)
        dA[t, :, O] = do * o * (1 - o)
        if bug == "carry_j_block_from_f":
            dh_next = dA[t, :, I] @ K_i.T + dA[t, :, J] @ K_f.T + dA[t, :, F] @ K_f.T + dA[t, :, O] @ K_o.T
        else:
            dh_next = dA[t, :, I] @ K_i.T + dA[t, :, J] @ K_j.T + dA[t, :, F] @ K_f.T + dA[t, :, O] @ K_o.T
    if bug == "xh_rebuilt_with_h_t":
        xh = np.concatenate([x.transpose(1, 0, 2), hs.transpose(1, 0, 2)], axis=2)
    dkernel = np.matmul(xh.transpose(0, 2, 1), dA).sum(axis=0)
    dbias = dA.sum(axis=(0, 1))
    if bug == "dbias_over_N":
        dbias /= N
    dx = np.matmul(dA, kernel[:D].T).transpose(1, 0, 2)
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

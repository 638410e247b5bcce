"""A ReLU RNN ported from a C file (``rnn_relu.c``) that works on flat row-major buffers with
index macros, TF's kernel layout: kernel (D+H, H) on [x, h] plus bias (H,). The port keeps
the C: every array is ``ravel()``-ed, reached through the macros below, the loops run over
time, batch rows and units explicitly, and the backward reuses two work rows ``dh_cur``
and ``dh_nxt`` (H floats per batch row) that it swaps after each step, as the C does with
pointers.

    #define X(n, t, k)   x[((n) * T + (t)) * D + (k)]
    #define HS(n, t, j)  hs[((n) * (T + 1) + (t)) * H + (j)]      // HS(n, 0, j) = h0
    #define KER(r, j)    kernel[(r) * H + (j)]                    // r < D: x rows, D + i: h rows

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

BUGS = {
    "relu_mask_missing": "derivative_missing",          # dpre = dh (the `pre > 0 ?` branch lost)
    "relu_grad_is_h": "derivative_miswritten",          # dpre = dh * h  (h for the 0/1 mask)
    "tanh_grad_copied": "derivative_wrong_function",    # dpre = dh * (1 - h * h) from the tanh version
    "ker_index_swapped_carry": "weight_transposed",     # KER(D + j, i) for KER(D + i, j) in dh_prev
    "dker_index_swapped": "gradient_transposed",        # dKER(D + j, i) += HS(n, t, i) * dpre[j]
    "dx_reads_dkernel": "gradient_for_weight",          # dX += dpre[j] * dker[KER(k, j)]
    "X_t_minus_1": "wrong_time",                        # dKER(k, j) += X(n, t - 1, k) * dpre[j]
    "carry_assign_not_add": "carry_overwrites",         # dh_prev[i] = dpre[j] * KER(D + i, j)
    "loop_t_gt_0": "loop_skips_step",                   # for (t = T - 1; t > 0; --t)
    "dbias_over_N": "reduction_scaled",                 # dbias[j] += dpre[j] / N
    "upstream_not_added": "term_dropped",               # dh = dh_nxt[j]: DH(n, t, j) left out
    "leaky_forward": "forward_mistake",                 # pre > 0 ? pre : 0.01f * pre, backward with it
    "work_row_not_cleared": "unknown",                  # no memset of dh_cur before the step: carries pile up
    "memset_wrong_buffer": "carry_dropped",             # memset(dh_nxt, ..) for memset(dh_cur, ..): carry cleared
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def forward(x, h0, kernel, bias, bug=None):
    """rnn_relu_forward(N, T, D, H, x, h0, kernel, bias, hs, pre): x (N, T, D) -> h (N, T, H)."""
    N, T, D = x.shape
    H = bias.shape[0]
    xf, ker = x.ravel(), kernel.ravel()
    hs = np.zeros(N * (T + 1) * H, dtype=x.dtype)
    pre = np.zeros(N * T * H, dtype=x.dtype)

    def X(n, t, k):
        return ((n * T + t) * D + k)

    def HS(n, t, j):
        return ((n * (T + 1) + t) * H + j)

    def P(n, t, j):
        return ((n * T + t) * H + j)

    for n in range(N):
        for j in range(H):
            hs[HS(n, 0, j)] = h0[n, j]
    for t in range(T):
        for n in range(N):
            for j in range(H):
                acc = bias[j]
                for k in range(D):
                    acc += xf[X(n, t, k)] * ker[k * H + j]
                for i in range(H):
                    acc += hs[HS(n, t, i)] * ker[(D + i) * H + j]
                pre[P(n, t, j)] = acc
                if bug == "leaky_forward":
                    hs[HS(n, t + 1, j)] = acc if acc > 0 else 0.01 * acc
                else:
                    hs[HS(n, t + 1, j)] = acc if acc > 0 else 0.0
    h = hs.reshape(N, T + 1, H)[:, 1:].copy()
    return h, (xf, hs, pre, ker, (N, T, D, H))


def backward(dh_in, cache, bug=None):
    """rnn_relu_backward(...): dh_in (N, T, H) -> dx, dh0, dkernel, dbias."""
    xf, hs, pre, ker, (N, T, D, H) = cache
    dhf = dh_in.ravel()
    dx = np.zeros(N * T * D, dtype=dh_in.dtype)
    dker = np.zeros((D + H) * H, dtype=dh_in.dtype)
    dbias = np.zeros(H, dtype=dh_in.dtype)
    dh_cur = np.zeros(N * H, dtype=dh_in.dtype)      # carried into step t - 1 (written during step t)
    dh_nxt = np.zeros(N * H, dtype=dh_in.dtype)      # carried from step t + 1
    dpre = np.zeros(H, dtype=dh_in.dtype)            # one row's work array

    def X(n, t, k):
        return ((n * T + t) * D + k)

    def HS(n, t, j):
        return ((n * (T + 1) + t) * H + j)

    def P(n, t, j):
        return ((n * T + t) * H + j)

    t_last = 0 if bug == "loop_t_gt_0" else -1
    for t in range(T - 1, t_last, -1):
        if bug == "memset_wrong_buffer":
            dh_nxt[:] = 0
        elif bug != "work_row_not_cleared":
            dh_cur[:] = 0                                 # memset(dh_cur, 0, N * H * sizeof(float))
        for n in range(N):
            for j in range(H):
                if bug == "upstream_not_added":
                    g = dh_nxt[n * H + j]
                else:
                    g = dhf[P(n, t, j)] + dh_nxt[n * H + j]
                hj = hs[HS(n, t + 1, j)]
                a = pre[P(n, t, j)]
                if bug == "relu_mask_missing":
                    dpre[j] = g
                elif bug == "relu_grad_is_h":
                    dpre[j] = g * hj
                elif bug == "tanh_grad_copied":
                    dpre[j] = g * (1 - hj * hj)
                elif bug == "leaky_forward":
                    dpre[j] = g if a > 0 else 0.01 * g
                else:
                    dpre[j] = g if a > 0 else 0.0
                dbias[j] += dpre[j] / N if bug == "dbias_over_N" else dpre[j]
            for j in range(H):
                for k in range(D):
                    xt = xf[X(n, t - 1, k)] if bug == "X_t_minus_1" else xf[X(n, t, k)]
                    dker[k * H + j] += xt * dpre[j]
                    w = dker[k * H + j] if bug == "dx_reads_dkernel" else ker[k * H + j]
                    dx[X(n, t, k)] += dpre[j] * w
                for i in range(H):
                    if bug == "dker_index_swapped":
                        dker[(D + j) * H + i] += hs[HS(n, t, i)] * dpre[j]
                    else:
                        dker[(D + i) * H + j] += hs[HS(n, t, i)] * dpre[j]
                    w = ker[(D + j) * H + i] if bug == "ker_index_swapped_carry" else ker[(D + i) * H + j]
                    if bug == "carry_assign_not_add":
                        dh_cur[n * H + i] = dpre[j] * w
                    else:
                        dh_cur[n * H + i] += dpre[j] * w
        dh_cur, dh_nxt = dh_nxt, dh_cur                   # float *tmp = dh_cur; dh_cur = dh_nxt; dh_nxt = tmp;
    dh0 = dh_nxt.reshape(N, H).copy()
    return dx.reshape(N, T, D), dh0, dker.reshape(D + H, H), dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), partial(backward, bug=bug), {"cell": "rnn", "layout": "tf_kernel",
                                                                   "activation": "relu"}

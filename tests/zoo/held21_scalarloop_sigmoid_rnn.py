"""A sigmoid Elman RNN written C-style, one scalar at a time (the user ported it from a
C/Fortran course and loops over every index: time, batch column, unit, input), in
time-major column layout: x (T, D, N), states s (T, H, N), s0 (H, N); W (H, D), U (H, H),
b (H,); options activation="sigmoid":

    a[t, j, n] = sum_d W[j, d] x[t, d, n] + sum_k U[j, k] s[t-1, k, n] + b[j]
    s[t, j, n] = 1 / (1 + exp(-a[t, j, n]))

The backward keeps a running ``ds_next`` (H, N) carry and a ``delta`` per unit.
Twenty-first held-out zoo: written without reading the diagnosis.
"""

import math

import numpy as np

import harness

BUGS = {
    "dsig_missing": "derivative_missing",           # delta = g: s * (1 - s) left out
    "dsig_as_tanh": "derivative_wrong_function",    # delta = g * (1 - s * s)
    "dsig_twice": "derivative_twice",               # delta = g * s * (1 - s) * s * (1 - s)
    "dsig_at_pre": "derivative_wrong_point",        # delta = g * a * (1 - a): taken at the cached pre-activation
    "U_index_swapped": "weight_transposed",         # ds_next[k, n] += U[k, j] * delta (U[j, k] meant)
    "x_from_previous_step": "wrong_time",           # dW[j, d] += delta * x[t - 1, d, n] (x_(t-1) for x_t)
    "h0_term_skipped": "term_dropped",              # if t > 0: dU[j, k] += ...: s0's part of dU left out
    "dU_assigned": "carry_overwrites",              # dU[j, k] = delta * s_prev (= for +=)
    "dU_indices_swapped": "gradient_transposed",    # dU[k, j] += delta * s_prev: the gradient of U written transposed
    "loop_from_1": "loop_skips_step",               # for t in range(T - 1, 0, -1)
    "db_mean_over_batch": "reduction_scaled",       # db[j] += delta / N
    "grads_clipped_to_1": "gradient_clipped",       # dW, dU, db clipped to [-1, 1] at the end
    "forward_ignores_s0": "forward_mistake",        # s_prev starts at zeros, s0 unused; backward consistent (ds0 = 0)
    "carry_sum_short": "unknown",                   # for k in range(H - 1) in the carry: the last unit's share lost
    "dsig_quarter": "unknown",                      # delta = g * 0.25 (sigmoid' at 0 for every unit)
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dsig_missing": "",
    "dsig_as_tanh": "",
    "dsig_twice": "",
    "dsig_at_pre": "",
    "U_index_swapped": "",
    "x_from_previous_step": "",
    "h0_term_skipped": "",
    "dU_assigned": "",
    "dU_indices_swapped": "",
    "loop_from_1": "",
    "db_mean_over_batch": "",
    "grads_clipped_to_1": "",
    "forward_ignores_s0": "",
    "carry_sum_short": "",
    "dsig_quarter": "",
}


def forward(x, s0, W, U, b, bug=None):
    T, D, N = x.shape
    H = s0.shape[0]
    s = np.zeros((T, H, N), dtype=x.dtype)
    a = np.zeros((T, H, N), dtype=x.dtype)
    for t in range(T):
        for n in range(N):
            for j in range(H):
                acc = b[j]
                for d in range(D):
                    acc += W[j, d] * x[t, d, n]
                for k in range(H):
                    if t > 0:
                        acc += U[j, k] * s[t - 1, k, n]
                    elif bug != "forward_ignores_s0":
                        acc += U[j, k] * s0[k, n]
                a[t, j, n] = acc
                s[t, j, n] = 1.0 / (1.0 + math.exp(-acc))
    return s, (x, s0, W, U, a, s)


def _delta(g, s_val, a_val, bug):
    if bug == "dsig_missing":
        return g
    if bug == "dsig_as_tanh":
        return g * (1 - s_val * s_val)
    if bug == "dsig_twice":
        return g * s_val * (1 - s_val) * s_val * (1 - s_val)
    if bug == "dsig_at_pre":
        return g * a_val * (1 - a_val)
    if bug == "dsig_quarter":
        return g * 0.25
    return g * s_val * (1 - s_val)


def backward(ds, cache, bug=None):
    x, s0, W, U, a, s = cache
    T, D, N = x.shape
    H = s0.shape[0]
    dx, dW, dU, db = np.zeros_like(x), np.zeros_like(W), np.zeros_like(U), np.zeros(H, dtype=ds.dtype)
    ds_next = np.zeros((H, N), dtype=ds.dtype)
    for t in (range(T - 1, 0, -1) if bug == "loop_from_1" else range(T - 1, -1, -1)):
        carry = np.zeros((H, N), dtype=ds.dtype)
        for n in range(N):
            for j in range(H):
                delta = _delta(ds[t, j, n] + ds_next[j, n], s[t, j, n], a[t, j, n], bug)
                db[j] += delta / N if bug == "db_mean_over_batch" else delta
                for d in range(D):
                    x_val = x[t - 1, d, n] if bug == "x_from_previous_step" and t > 0 else x[t, d, n]
                    dW[j, d] += delta * x_val
                    dx[t, d, n] += W[j, d] * delta
                for k in range(H):
                    if t > 0:
                        s_prev = s[t - 1, k, n]
                    elif bug in ("h0_term_skipped", "forward_ignores_s0"):
                        s_prev = 0.0
                    else:
                        s_prev = s0[k, n]
                    if bug == "dU_assigned":
                        dU[j, k] = delta * s_prev
                    elif bug == "dU_indices_swapped":
                        dU[k, j] += delta * s_prev
                    else:
                        dU[j, k] += delta * s_prev
                for k in range(H - 1 if bug == "carry_sum_short" else H):
                    carry[k, n] += (U[k, j] if bug == "U_index_swapped" else U[j, k]) * delta
        ds_next = carry
    if bug == "forward_ignores_s0":
        ds_next = np.zeros_like(ds_next)
    if bug == "grads_clipped_to_1":
        for g in (dW, dU, db):
            np.clip(g, -1.0, 1.0, out=g)
    return dx, ds_next, dW, dU, db


def to_user(cell, p):
    return {"W": p["weight_ih"], "U": p["weight_hh"], "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    for mine, canonical in (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db", "dbias_ih")):
        if mine in grads:
            out[canonical] = grads[mine]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="scalar_loop_rnn", cells=("rnn",), axes="TDN",
                               names={"h": "s"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, s0, W, U, b):
        return forward(x, s0, W, U, b, bug)

    def bwd(ds, cache):
        return backward(ds, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

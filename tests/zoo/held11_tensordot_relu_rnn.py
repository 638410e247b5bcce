"""A ReLU RNN with the batch as the LAST axis, written with np.tensordot (no einsum, no @):
x (D, T, N), h0 (H, N), W_in (H, D), W_rec (H, H), bias (H,) broadcast as bias[:, None],

    h[:, t] = max(0, W_in . x[:, t] + W_rec . h[:, t - 1] + bias)

The truncated variant is the WildML tutorial's bptt_truncate loop: every step's gradient is
walked back by an inner loop of at most K steps. Eleventh held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "relu_mask_dropped": "derivative_missing",            # da = g (no mask)
    "relu_mask_from_gradient": "derivative_wrong_point",  # mask = g > 0: the incoming gradient, not h (also a wrong_value)
    "relu_grad_as_tanh": "derivative_wrong_function",     # da = g * (1 - h ** 2)
    "dW_rec_axes_swapped": "gradient_transposed",         # tensordot(prev, da, axes=([1], [1]))
    "W_rec_contracted_on_wrong_axis": "weight_transposed",  # carry = tensordot(W_rec, da, axes=([1], [0]))
    "dW_rec_with_h_t": "wrong_time",                      # tensordot(da, h[:, t], ...): this step's h
    "dbias_mean_over_batch": "reduction_scaled",          # dbias += da.mean(axis=1)
    "loop_runs_forward": "loop_direction",                # for t in range(T), carry passed on forward
    "wildml_bptt_truncate_2": "truncated_bptt",           # every step walked back at most 2 steps (inner loop)
    "global_norm_clip": "gradient_clipped",               # dW_in, dW_rec, dbias rescaled to global norm 0.5
    "loop_skips_last_step": "loop_skips_step",            # for t in reversed(range(T - 1))
    "forward_leaky_relu": "forward_mistake",              # h = where(a > 0, a, 0.01 a); mask where(h > 0, 1, 0.01) (consistent)
    "carry_halved": "unknown",                            # carry = 0.5 * tensordot(W_rec, da, ...)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "relu_mask_dropped": "",
    "relu_mask_from_gradient": "",
    "relu_grad_as_tanh": "",
    "dW_rec_axes_swapped": "",
    "W_rec_contracted_on_wrong_axis": "",
    "dW_rec_with_h_t": "",
    "dbias_mean_over_batch": "",
    "loop_runs_forward": "",
    "wildml_bptt_truncate_2": "",
    "global_norm_clip": "",
    "loop_skips_last_step": "",
    "forward_leaky_relu": "",
    "carry_halved": "",
}


def forward(x, h0, W_in, W_rec, bias, bug=None):
    D, T, N = x.shape
    h = np.empty((h0.shape[0], T, N), dtype=x.dtype)
    prev = h0
    for t in range(T):
        a = np.tensordot(W_in, x[:, t], axes=([1], [0])) + np.tensordot(W_rec, prev, axes=([1], [0])) + bias[:, None]
        prev = np.where(a > 0, a, 0.01 * a) if bug == "forward_leaky_relu" else np.maximum(a, 0)
        h[:, t] = prev
    return h, (x, h0, h, W_in, W_rec, bias)


def _mask(h, bug):
    if bug == "forward_leaky_relu":
        return np.where(h > 0, 1.0, 0.01).astype(h.dtype)
    return (h > 0).astype(h.dtype)


def _wildml(dh, cache, K):
    """Each step's own gradient walked back at most K steps (WildML's bptt_truncate)."""
    x, h0, h, W_in, W_rec, bias = cache
    T = x.shape[1]
    dx, dW_in, dW_rec, dbias = np.zeros_like(x), np.zeros_like(W_in), np.zeros_like(W_rec), np.zeros_like(bias)
    dh0 = np.zeros_like(h0)
    for t in reversed(range(T)):
        da = dh[:, t] * _mask(h[:, t], None)
        for s in range(t, max(-1, t - K - 1), -1):
            prev = h[:, s - 1] if s > 0 else h0
            dW_in += np.tensordot(da, x[:, s], axes=([1], [1]))
            dW_rec += np.tensordot(da, prev, axes=([1], [1]))
            dbias += da.sum(axis=1)
            dx[:, s] += np.tensordot(W_in, da, axes=([0], [0]))
            back = np.tensordot(W_rec, da, axes=([0], [0]))
            if s == 0:
                dh0 += back
            else:
                da = back * _mask(h[:, s - 1], None)
    return dx, dh0, dW_in, dW_rec, dbias


def backward(dh, cache, bug=None):
    if bug == "wildml_bptt_truncate_2":
        return _wildml(dh, cache, 2)
    x, h0, h, W_in, W_rec, bias = cache
    T = x.shape[1]
    dx, dW_in, dW_rec, dbias = np.zeros_like(x), np.zeros_like(W_in), np.zeros_like(W_rec), np.zeros_like(bias)
    carry = np.zeros_like(h0)
    if bug == "loop_runs_forward":
        steps = range(T)
    elif bug == "loop_skips_last_step":
        steps = reversed(range(T - 1))
    else:
        steps = reversed(range(T))
    for t in steps:
        g = dh[:, t] + carry
        if bug == "relu_mask_dropped":
            da = g
        elif bug == "relu_mask_from_gradient":
            da = g * (g > 0)
        elif bug == "relu_grad_as_tanh":
            da = g * (1 - h[:, t] ** 2)
        else:
            da = g * _mask(h[:, t], bug)
        prev = h[:, t - 1] if t > 0 else h0
        dW_in += np.tensordot(da, x[:, t], axes=([1], [1]))
        if bug == "dW_rec_axes_swapped":
            dW_rec += np.tensordot(prev, da, axes=([1], [1]))
        elif bug == "dW_rec_with_h_t":
            dW_rec += np.tensordot(da, h[:, t], axes=([1], [1]))
        else:
            dW_rec += np.tensordot(da, prev, axes=([1], [1]))
        dbias += da.mean(axis=1) if bug == "dbias_mean_over_batch" else da.sum(axis=1)
        dx[:, t] = np.tensordot(W_in, da, axes=([0], [0]))
        if bug == "W_rec_contracted_on_wrong_axis":
            carry = np.tensordot(W_rec, da, axes=([1], [0]))
        else:
            carry = np.tensordot(W_rec, da, axes=([0], [0]))
        if bug == "carry_halved":
            carry = 0.5 * carry
    if bug == "global_norm_clip":
        norm = np.sqrt(sum(np.sum(g * g) for g in (dW_in, dW_rec, dbias)))
        if norm > 0.5:
            for g in (dW_in, dW_rec, dbias):
                g *= 0.5 / norm
    return dx, carry, dW_in, dW_rec, dbias


def to_user(cell, p):
    return {"W_in": p["weight_ih"].copy(), "W_rec": p["weight_hh"].copy(), "bias": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    pairs = (("dW_in", "dweight_ih"), ("dW_rec", "dweight_hh"), ("dbias", "dbias_ih"))
    return {q: grads[u] for u, q in pairs if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tensordot_batch_last", cells=("rnn",), axes="DTN")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, W_in, W_rec, bias):
        return forward(x, h0, W_in, W_rec, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

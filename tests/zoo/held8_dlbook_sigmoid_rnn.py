"""A sigmoid RNN in the notation of Goodfellow, Bengio and Courville's Deep Learning book
(eq. 10.8: a(t) = b + W h(t-1) + U x(t)), written like signal-processing code with time as
the last axis: x (N, D, T), h (N, H, T), h0 (N, H), and a history dict of preallocated arrays.

    a[..., t] = b + h(t-1) @ W.T + x[..., t] @ U.T        W (H, H), U (H, D), b (H,)
    h[..., t] = sigmoid(a[..., t])

The backward recomputes sigmoid' from the cached pre-activation a. forward(x, h0, U, W, b),
options activation="sigmoid". Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sigmoid_grad_of_a_itself": "derivative_wrong_point",   # da = dh * a * (1 - a) (s' written on a, not on s(a))
    "tanh_grad_for_sigmoid": "derivative_wrong_function",   # da = dh * (1 - s ** 2)
    "sigmoid_grad_twice": "derivative_twice",         # dh_t already times s'(a); da = dh_t * s' (1 - s) again
    "W_transposed_in_carry": "weight_transposed",     # dh_next = da @ W.T
    "dW_transposed": "gradient_transposed",           # dW += h_prev.T @ da
    "x_at_t_minus_1": "wrong_time",                   # dU += da.T @ x[..., t - 1] (x[..., -1] at t = 0)
    "loop_skips_first": "loop_skips_step",            # for t in range(T - 1, 0, -1)
    "dU_mean_over_time": "reduction_scaled",          # dU / T
    "sigmoid_in_place_on_a": "inplace_corruption",   # s = a[..., t]; s *= -1; np.exp(s, out=s) on a view of hist["a"]
    "grad_norm_clipped": "gradient_clipped",          # dU, dW, db rescaled to a global norm of 0.5
    "dh_next_from_dW": "gradient_for_weight",         # dh_next = da @ dW (the running dW)
    "forward_is_tanh": "forward_mistake",             # h = tanh(a) (the tanh RNN copied), backward consistent
    "W_transposed_and_dU_over_T": "unknown",          # W.T in the carry AND dU / T
    "carry_accumulated": "unknown",                   # dh_next += da @ W (+= for =: the carry keeps old steps)
}

TOUCHES = {b: "" for b in BUGS}                       # computed: blind_index.touched_gates (an RNN: always "")


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def rnn_forward(x, h0, U, W, b, bug=None):
    N, D, T = x.shape
    H = W.shape[0]
    hist = {"a": np.zeros((N, H, T), dtype=x.dtype), "h": np.zeros((N, H, T), dtype=x.dtype), "x": x, "h0": h0}
    h_prev = h0
    for t in range(T):
        hist["a"][..., t] = b + h_prev @ W.T + x[..., t] @ U.T
        if bug == "sigmoid_in_place_on_a":
            s = hist["a"][..., t]
            s *= -1
            np.exp(s, out=s)
            s += 1
            np.reciprocal(s, out=s)
            hist["h"][..., t] = s
        elif bug == "forward_is_tanh":
            hist["h"][..., t] = np.tanh(hist["a"][..., t])
        else:
            hist["h"][..., t] = _sigmoid(hist["a"][..., t])
        h_prev = hist["h"][..., t]
    return hist["h"].copy(), (hist, U, W, b)


def rnn_backward(dh, cache, bug=None):
    hist, U, W, b = cache
    N, H, T = dh.shape
    x, h0 = hist["x"], hist["h0"]
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    dx = np.zeros_like(x)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, 0 if bug == "loop_skips_first" else -1, -1):
        a = hist["a"][..., t]
        s = _sigmoid(a)
        h_prev = hist["h"][..., t - 1] if t > 0 else h0
        dh_t = dh[..., t] + dh_next
        if bug == "sigmoid_grad_of_a_itself":
            da = dh_t * a * (1 - a)
        elif bug == "tanh_grad_for_sigmoid":
            da = dh_t * (1 - s ** 2)
        elif bug == "forward_is_tanh":
            da = dh_t * (1 - np.tanh(a) ** 2)
        elif bug == "sigmoid_grad_twice":
            dh_t = dh_t * s * (1 - s)
            da = dh_t * s * (1 - s)
        else:
            da = dh_t * s * (1 - s)
        dU += da.T @ (x[..., t - 1] if bug == "x_at_t_minus_1" else x[..., t])
        dW += h_prev.T @ da if bug == "dW_transposed" else da.T @ h_prev
        db += da.sum(axis=0)
        dx[..., t] = da @ U
        if bug in ("W_transposed_in_carry", "W_transposed_and_dU_over_T"):
            dh_next = da @ W.T
        elif bug == "dh_next_from_dW":
            dh_next = da @ dW
        elif bug == "carry_accumulated":
            dh_next += da @ W
        else:
            dh_next = da @ W
    if bug in ("dU_mean_over_time", "W_transposed_and_dU_over_T"):
        dU = dU / T
    if bug == "grad_norm_clipped":
        norm = np.sqrt(sum((g ** 2).sum() for g in (dU, dW, db)))
        if norm > 0.5:
            dU, dW, db = (g * (0.5 / norm) for g in (dU, dW, db))
    return dx, dh_next, dU, dW, db


def to_user(cell, p):
    return {"U": p["weight_ih"], "W": p["weight_hh"], "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dU": "dweight_ih", "dW": "dweight_hh", "db": "dbias_ih"}
    return {q: grads[u] for u, q in names.items() if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="dlbook_rnn", cells=("rnn",), axes="NDT")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, U, W, b):
        return rnn_forward(x, h0, U, W, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

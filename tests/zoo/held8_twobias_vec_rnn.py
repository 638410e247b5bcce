"""An RNN with torch's two biases and torch's storage, its input product and its weight
gradients vectorised over time: only the recurrence loops.

    xw = x @ W_ih.T + b_ih                  (N, T, H) for every step at once
    h_t = tanh(xw[:, t] + h_(t-1) @ W_hh.T + b_hh)
    backward: the loop only carries dz (N, T, H) back; then
    dW_ih = dz^T x and dW_hh = dz^T h_prev as single matmuls over all N*T rows (h_prev is h
    shifted one step, h0 first), db_ih = db_hh = dz summed over N and T, dx = dz @ W_ih.

x (N, T, D), W_ih (H, D), W_hh (H, H), b_ih and b_hh (H,), forward(x, h0, W_ih, b_ih, W_hh,
b_hh). Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "h_prev_not_shifted": "wrong_time",                # h_prev = h (no shift): h_t for h_(t-1) in dW_hh
    "W_hh_transposed_in_carry": "weight_transposed",   # dnext = dz[:, t] @ W_hh.T
    "tanh_grad_on_pre": "derivative_wrong_point",      # (1 - a ** 2) with a the cached pre-activation
    "sigmoid_grad_for_tanh": "derivative_wrong_function",  # h * (1 - h)
    "tanh_grad_sign": "wrong_sign",                    # (h ** 2 - 1)
    "carry_without_tanh_grad": "derivative_missing",   # dnext = (dh[:, t] + dnext) @ W_hh: tanh' left out of the carry
    "dnext_seeded_with_last_dh": "carry_overwrites",   # dnext starts as dh[:, -1], each step uses dnext alone
    "loop_stops_at_1": "loop_skips_step",              # for t in range(T - 1, 0, -1)
    "db_ih_mean_for_sum": "reduction_scaled",          # db_ih = dz.mean(axis=(0, 1))
    "squared_h_view_in_place": "inplace_corruption",   # g = h[:, t]; g **= 2 (a view of the cached h)
    "carry_clipped": "gradient_clipped",               # dnext = np.clip(dz[:, t] @ W_hh, -0.2, 0.2)
    "carry_cut_2_from_end": "truncated_bptt",          # no carry flows back past 2 steps from the end
    "forward_relu_consistent": "forward_mistake",      # h = max(0, .) in the forward, (h > 0) in the backward
    "reshape_for_transpose": "unknown",                # dW_ih = dz.reshape(H, -1) @ x.reshape(-1, D)
}

TOUCHES = {b: "" for b in BUGS}                        # computed: blind_index.touched_gates (an RNN: always "")


def rnn_forward(x, h0, W_ih, b_ih, W_hh, b_hh, bug=None):
    N, T, D = x.shape
    H = W_hh.shape[0]
    xw = x @ W_ih.T + b_ih
    a = np.empty((N, T, H), dtype=x.dtype)
    h = np.empty((N, T, H), dtype=x.dtype)
    prev = h0
    for t in range(T):
        a[:, t] = xw[:, t] + prev @ W_hh.T + b_hh
        h[:, t] = np.maximum(a[:, t], 0) if bug == "forward_relu_consistent" else np.tanh(a[:, t])
        prev = h[:, t]
    return h, (x, h0, a, h, W_ih, W_hh)


def _local_grad(h, a, t, bug):
    """d h_t / d a_t, elementwise, (N, H)."""
    if bug == "tanh_grad_on_pre":
        return 1 - a[:, t] ** 2
    if bug == "sigmoid_grad_for_tanh":
        return h[:, t] * (1 - h[:, t])
    if bug == "tanh_grad_sign":
        return h[:, t] ** 2 - 1
    if bug == "forward_relu_consistent":
        return (h[:, t] > 0).astype(h.dtype)
    if bug == "squared_h_view_in_place":
        g = h[:, t]
        g **= 2
        return 1 - g
    return 1 - h[:, t] ** 2


def rnn_backward(dh, cache, bug=None):
    x, h0, a, h, W_ih, W_hh = cache
    N, T, H = dh.shape
    D = x.shape[2]
    dz = np.zeros_like(h)
    dnext = dh[:, -1].copy() if bug == "dnext_seeded_with_last_dh" else np.zeros_like(h0)
    stop = 0 if bug == "loop_stops_at_1" else -1
    for t in range(T - 1, stop, -1):
        if bug == "dnext_seeded_with_last_dh":
            dht = dnext
        else:
            dht = dh[:, t] + dnext
        dz[:, t] = dht * _local_grad(h, a, t, bug)
        if bug == "W_hh_transposed_in_carry":
            dnext = dz[:, t] @ W_hh.T
        elif bug == "carry_without_tanh_grad":
            dnext = dht @ W_hh
        elif bug == "carry_clipped":
            dnext = np.clip(dz[:, t] @ W_hh, -0.2, 0.2)
        else:
            dnext = dz[:, t] @ W_hh
        if bug == "carry_cut_2_from_end" and t <= T - 2:
            dnext = np.zeros_like(dnext)
    h_prev = h if bug == "h_prev_not_shifted" else np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    if bug == "reshape_for_transpose":
        dW_ih = dz.reshape(H, -1) @ x.reshape(-1, D)
    else:
        dW_ih = dz.reshape(-1, H).T @ x.reshape(-1, D)
    dW_hh = dz.reshape(-1, H).T @ h_prev.reshape(-1, H)
    db_ih = dz.mean(axis=(0, 1)) if bug == "db_ih_mean_for_sum" else dz.sum(axis=(0, 1))
    db_hh = dz.sum(axis=(0, 1))
    dx = dz @ W_ih
    return dx, dnext, dW_ih, db_ih, dW_hh, db_hh


def to_user(cell, p):
    return {"W_ih": p["weight_ih"], "b_ih": p["bias_ih"], "W_hh": p["weight_hh"], "b_hh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "db_ih": "dbias_ih", "dW_hh": "dweight_hh", "db_hh": "dbias_hh"}
    return {q: grads[u] for u, q in names.items() if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="two_bias_rnn", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_ih, b_ih, W_hh, b_hh):
        return rnn_forward(x, h0, W_ih, b_ih, W_hh, b_hh, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

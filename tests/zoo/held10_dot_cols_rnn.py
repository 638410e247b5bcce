"""A vanilla RNN written with np.dot everywhere, weights kept as the maths writes them (U (H, D),
W (H, H), b a column (H, 1)) and every state a column: time-major x (T, D, N) with one example
per column, h0 (H, N), h (T, H, N), as in lecture notes that write h_t = tanh(U x_t + W h_{t-1} + b)
for a whole minibatch of columns:

    a_t = np.dot(U, x[t]) + np.dot(W, h_{t-1}) + b        (H, N)
    h_t = tanh(a_t)

The forward keeps a list ``hs`` with h0 first and the pre-activations ``as_``. Tenth held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dW_with_current_h": "wrong_time",                  # dW += np.dot(da, hs[t + 1].T): h_t for h_{t-1}
    "dW_written_transposed": "gradient_transposed",     # dW += np.dot(hs[t], da.T)
    "carry_through_W": "weight_transposed",             # dh_next = np.dot(W, da) (W for W.T)
    "carry_through_dW": "gradient_for_weight",          # dh_next = np.dot(dW.T, da): dW accumulated so far
    "tanh_grad_at_a": "derivative_wrong_point",         # da = dh_t * (1 - as_[t] ** 2): tanh' at a_t, not h_t
    "tanh_grad_squared_wrong": "derivative_miswritten",  # da = dh_t * (1 - h) ** 2
    "no_tanh_grad": "derivative_missing",               # da = dh_t
    "carry_never_added": "carry_dropped",               # dh_t = dh[t]: dh_next computed, never used
    "carry_replaces_dh": "carry_overwrites",            # dh_t = dh_next (for t < T-1): dh[t] lost
    "stops_before_first": "loop_skips_step",            # for t in range(T - 1, 0, -1)
    "db_mean_over_batch": "reduction_scaled",           # db = np.mean(da, axis=1, keepdims=True) per step
    "backward_runs_forward": "loop_direction",          # for t in range(T) in the backward
    "bias_added_twice": "forward_mistake",              # a = U x + W h + b + b, db counts it twice
    "tanh_grad_and_W": "unknown",                       # da = dh_t * (1 - h) ** 2 and dh_next = np.dot(W, da)
    "carry_damped": "unknown",                          # dh_next = 0.9 * np.dot(W.T, da): an arbitrary "damping" constant
}

TOUCHES = {b: "" for b in BUGS}                          # an RNN: no gates


def rnn_forward(x, h0, U, W, b, bug=None):
    """x (T, D, N), h0 (H, N) -> h (T, H, N), cache."""
    T = x.shape[0]
    hs, as_ = [h0], []
    for t in range(T):
        a = np.dot(U, x[t]) + np.dot(W, hs[-1]) + b
        if bug == "bias_added_twice":
            a = a + b
        as_.append(a)
        hs.append(np.tanh(a))
    return np.array(hs[1:]), (x, U, W, b, hs, as_)


def rnn_backward(dh, cache, bug=None):
    """dh (T, H, N) -> dx, dh0, dU, dW, db."""
    x, U, W, b, hs, as_ = cache
    T = x.shape[0]
    dx = np.zeros_like(x)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    dh_next = np.zeros_like(hs[0])
    steps = range(T) if bug == "backward_runs_forward" else range(T - 1, 0 if bug == "stops_before_first" else -1, -1)
    for t in steps:
        if bug == "carry_never_added":
            dh_t = dh[t]
        elif bug == "carry_replaces_dh" and t < T - 1:
            dh_t = dh_next
        else:
            dh_t = dh[t] + dh_next
        h = hs[t + 1]
        if bug == "tanh_grad_at_a":
            da = dh_t * (1 - as_[t] ** 2)
        elif bug in ("tanh_grad_squared_wrong", "tanh_grad_and_W"):
            da = dh_t * (1 - h) ** 2
        elif bug == "no_tanh_grad":
            da = dh_t
        else:
            da = dh_t * (1 - h ** 2)
        dU += np.dot(da, x[t].T)
        if bug == "dW_with_current_h":
            dW += np.dot(da, hs[t + 1].T)
        elif bug == "dW_written_transposed":
            dW += np.dot(hs[t], da.T)
        else:
            dW += np.dot(da, hs[t].T)
        if bug == "db_mean_over_batch":
            db += np.mean(da, axis=1, keepdims=True)
        elif bug == "bias_added_twice":
            db += 2 * np.sum(da, axis=1, keepdims=True)
        else:
            db += np.sum(da, axis=1, keepdims=True)
        dx[t] = np.dot(U.T, da)
        if bug in ("carry_through_W", "tanh_grad_and_W"):
            dh_next = np.dot(W, da)
        elif bug == "carry_through_dW":
            dh_next = np.dot(dW.T, da)
        elif bug == "carry_damped":
            dh_next = 0.9 * np.dot(W.T, da)
        else:
            dh_next = np.dot(W.T, da)
    return dx, dh_next, dU, dW, db


def to_user(cell, p):
    user = {"U": p["weight_ih"], "W": p["weight_hh"]}
    user["b"] = (p["bias_ih"] + p["bias_hh"])[:, None]
    return user


def to_canonical(cell, grads, p):
    out = {}
    if "dU" in grads:
        out["dweight_ih"] = grads["dU"]
    if "dW" in grads:
        out["dweight_hh"] = grads["dW"]
    if "db" in grads:
        out["dbias_ih"] = grads["db"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="dot_columns_rnn", cells=("rnn",), axes="TDN")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, U, W, b):
        return rnn_forward(x, h0, U, W, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

"""A vanilla tanh RNN that takes a batch (x (N, T, D), h0 (N, H)) but is written with
explicit Python loops over the examples (``for n in range(N)``), one example's vectors at a
time, with the textbook's U (H, D) for input-to-hidden, W (H, H) for hidden-to-hidden and
b (H,), np.outer for the weight gradients:

    h[n, t] = tanh(U @ x[n, t] + W @ h[n, t - 1] + b)

Custom layout. Seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "W_untransposed": "weight_transposed",                # dh_next = W @ da
    "dW_outer_flipped": "gradient_transposed",            # dW += np.outer(h_prev, da)
    "h_prev_is_h_t": "wrong_time",                        # h_prev = h[n, t] in the backward
    "tanh_grad_of_h": "derivative_wrong_point",           # 1 - np.tanh(h[n, t]) ** 2: tanh applied to h again
    "sigmoid_grad": "derivative_wrong_function",          # h * (1 - h)
    "no_tanh_grad": "derivative_missing",                 # da = dh_tot
    "tanh_grad_sign": "wrong_sign",                       # (h ** 2 - 1)
    "carry_not_added": "carry_dropped",                   # da from dh[n, t] only
    "grads_over_NT": "reduction_scaled",                  # dU, dW, db /= N * T
    "skips_last_step": "loop_skips_step",                 # for t in reversed(range(T - 1))
    "dU_assigned": "carry_overwrites",                    # dU = np.outer(da, x[n, t])
    "forward_no_recurrence": "forward_mistake",           # h_prev never updated (every step sees h0); consistent
    "truncated_2": "truncated_bptt",                      # each output's error walked back 2 steps at most
    "da_half": "unknown",                                 # da = 0.5 * dh_tot * (1 - h ** 2)
    "W_untransposed_and_skips_last": "unknown",           # both W_untransposed and skips_last_step
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "W_untransposed": "",
    "dW_outer_flipped": "",
    "h_prev_is_h_t": "",
    "tanh_grad_of_h": "",
    "sigmoid_grad": "",
    "no_tanh_grad": "",
    "tanh_grad_sign": "",
    "carry_not_added": "",
    "grads_over_NT": "",
    "skips_last_step": "",
    "dU_assigned": "",
    "forward_no_recurrence": "",
    "truncated_2": "",
    "da_half": "",
    "W_untransposed_and_skips_last": "",
}


def rnn_forward(x, h0, U, W, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    for n in range(N):
        h_prev = h0[n]
        for t in range(T):
            h[n, t] = np.tanh(U @ x[n, t] + W @ h_prev + b)
            if bug != "forward_no_recurrence":
                h_prev = h[n, t]
    return h, {"x": x, "h0": h0, "h": h, "U": U, "W": W, "b": b}


def _dtanh(h, bug):
    if bug == "tanh_grad_of_h":
        return 1 - np.tanh(h) ** 2
    if bug == "sigmoid_grad":
        return h * (1 - h)
    if bug == "no_tanh_grad":
        return 1.0
    if bug == "tanh_grad_sign":
        return h ** 2 - 1
    if bug == "da_half":
        return 0.5 * (1 - h ** 2)
    return 1 - h ** 2


def rnn_backward(dh, cache, bug=None):
    x, h0, h, U, W = cache["x"], cache["h0"], cache["h"], cache["U"], cache["W"]
    N, T, H = dh.shape
    dx, dh0 = np.zeros_like(x), np.zeros_like(h0)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H, dtype=dh.dtype)
    if bug == "truncated_2":
        return _truncated_backward(dh, cache, 2)
    steps = range(T - 1) if bug in ("skips_last_step", "W_untransposed_and_skips_last") else range(T)
    for n in range(N):
        dh_next = np.zeros(H, dtype=dh.dtype)
        for t in reversed(steps):
            if bug == "h_prev_is_h_t":
                h_prev = h[n, t]
            elif bug == "forward_no_recurrence":
                h_prev = h0[n]
            else:
                h_prev = h0[n] if t == 0 else h[n, t - 1]
            dh_tot = dh[n, t] if bug == "carry_not_added" else dh[n, t] + dh_next
            da = dh_tot * _dtanh(h[n, t], bug)
            if bug == "dU_assigned":
                dU = np.outer(da, x[n, t])
            else:
                dU += np.outer(da, x[n, t])
            dW += np.outer(h_prev, da) if bug == "dW_outer_flipped" else np.outer(da, h_prev)
            db += da
            dx[n, t] = U.T @ da
            if bug in ("W_untransposed", "W_untransposed_and_skips_last"):
                dh_next = W @ da
            else:
                dh_next = W.T @ da
            if bug == "forward_no_recurrence":          # every step read h0 directly
                dh0[n] += dh_next
                dh_next = np.zeros(H, dtype=dh.dtype)
        if bug != "forward_no_recurrence":
            dh0[n] = dh_next
    if bug == "grads_over_NT":
        dU /= N * T
        dW /= N * T
        db /= N * T
    return dx, dh0, dU, dW, db


def _truncated_backward(dh, cache, bptt_truncate):
    """WildML-style: each step's error is walked back at most bptt_truncate steps."""
    x, h0, h, U, W = cache["x"], cache["h0"], cache["h"], cache["U"], cache["W"]
    N, T, H = dh.shape
    dx, dh0 = np.zeros_like(x), np.zeros_like(h0)
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros(H, dtype=dh.dtype)
    for n in range(N):
        for t_out in reversed(range(T)):
            delta = dh[n, t_out]
            for t in range(t_out, max(-1, t_out - bptt_truncate), -1):
                h_prev = h0[n] if t == 0 else h[n, t - 1]
                da = delta * (1 - h[n, t] ** 2)
                dU += np.outer(da, x[n, t])
                dW += np.outer(da, h_prev)
                db += da
                dx[n, t] += U.T @ da
                delta = W.T @ da
                if t == 0:
                    dh0[n] += delta
    return dx, dh0, dU, dW, db


def to_user(cell, p):
    return {"U": np.array(p["weight_ih"]), "W": np.array(p["weight_hh"]), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {q: grads[u] for u, q in (("dU", "dweight_ih"), ("dW", "dweight_hh")) if u in grads}
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="per_example_rnn", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, U, W, b):
        return rnn_forward(x, h0, U, W, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

"""A vanilla RNN in the cs231n layout (x (N, T, D), Wx (D, H), Wh (H, H), b (H,)) by someone who
writes tanh through the sigmoid, tanh(a) = 2 * sigmoid(2a) - 1, keeps s = sigmoid(2a) in the
cache, and writes the backward through time as a recursive function:

    s_t = sigmoid(2 (x_t Wx + h_{t-1} Wh + b))      h_t = 2 s_t - 1
    dh_t/da_t = 4 s_t (1 - s_t)

    def back(t, dnext): ...; return back(t - 1, dprev)      (base case t < 0: return dnext)

Tenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "chain_factor_two_lost": "derivative_miswritten",   # da = dnext * 2 * s * (1 - s): one factor 2 of the chain lost
    "sigmoid_grad_of_h": "derivative_wrong_function",   # da = dnext * h * (1 - h): sigmoid' applied to tanh's output
    "s_recomputed_at_a": "derivative_wrong_point",      # s = sigmoid(a) in the backward: s' at a, not at 2a
    "s_grad_sign": "wrong_sign",                        # da = dnext * 4 * s * (s - 1)
    "base_case_at_zero": "loop_skips_step",             # if t <= 0: return dnext (step 0 never processed)
    "recurse_without_carry": "carry_dropped",           # return back(t - 1, dh[:, t - 1]): dprev not passed on
    "cache_one_step_late": "wrong_time",                # s read from caches[t - 1] (the cache at the wrong index)
    "carry_with_Wh": "weight_transposed",               # dprev = da @ Wh
    "dx_from_dWx": "gradient_for_weight",               # dx = da @ dWx.T (dWx accumulated so far)
    "depth_limit_two": "truncated_bptt",                # dprev zeroed from the third recursion level on (carry cut after 2 steps)
    "dh_over_batch": "reduction_scaled",                # dh = dh / N first ("the loss is a mean")
    "s_doubled_in_place": "inplace_corruption",         # s *= 2; s -= 1; h = s: the cached s is h
    "forward_s_at_a": "forward_mistake",                # h = 2 * sigmoid(a) - 1 (no 2 inside); backward consistent
    "dWh_transposed_and_mean": "unknown",               # dWh written transposed and db a mean over the batch
}

TOUCHES = {b: "" for b in BUGS}                          # an RNN: no gates


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    caches, prev = [], h0
    for t in range(T):
        a = x[:, t] @ Wx + prev @ Wh + b
        s = sigmoid(a) if bug == "forward_s_at_a" else sigmoid(2 * a)
        if bug == "s_doubled_in_place":
            s *= 2
            s -= 1
            nxt = s
        else:
            nxt = 2 * s - 1
        caches.append({"x": x[:, t], "prev": prev, "a": a, "s": s, "h": nxt})
        h[:, t] = nxt
        prev = nxt
    return h, {"steps": caches, "Wx": Wx, "Wh": Wh}


def rnn_backward(dh, cache, bug=None):
    caches, Wx, Wh = cache["steps"], cache["Wx"], cache["Wh"]
    N, T, H = dh.shape
    if bug == "dh_over_batch":
        dh = dh / N
    grads = {"dx": np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype), "dWx": np.zeros_like(Wx),
             "dWh": np.zeros_like(Wh), "db": np.zeros(H, dtype=dh.dtype)}

    def back(t, dnext, depth=0):
        if t < 0 or (bug == "base_case_at_zero" and t <= 0):
            return dnext
        c = caches[t]
        s = caches[t - 1]["s"] if bug == "cache_one_step_late" else c["s"]
        if bug == "s_recomputed_at_a":
            s = sigmoid(c["a"])
        if bug == "chain_factor_two_lost":
            da = dnext * 2 * s * (1 - s)
        elif bug == "sigmoid_grad_of_h":
            da = dnext * c["h"] * (1 - c["h"])
        elif bug == "s_grad_sign":
            da = dnext * 4 * s * (s - 1)
        elif bug == "forward_s_at_a":
            da = dnext * 2 * s * (1 - s)
        else:
            da = dnext * 4 * s * (1 - s)
        grads["dWx"] += c["x"].T @ da
        if bug == "dWh_transposed_and_mean":
            grads["dWh"] += (c["prev"].T @ da).T
            grads["db"] += da.mean(axis=0)
        else:
            grads["dWh"] += c["prev"].T @ da
            grads["db"] += da.sum(axis=0)
        grads["dx"][:, t] = da @ grads["dWx"].T if bug == "dx_from_dWx" else da @ Wx.T
        dprev = da @ Wh if bug == "carry_with_Wh" else da @ Wh.T
        if bug == "depth_limit_two" and depth >= 2:
            dprev = np.zeros_like(dprev)
        if t == 0:
            return dprev
        if bug == "recurse_without_carry":
            return back(t - 1, dh[:, t - 1], depth + 1)
        return back(t - 1, dh[:, t - 1] + dprev, depth + 1)

    dh0 = back(T - 1, dh[:, T - 1])
    return grads["dx"], dh0, grads["dWx"], grads["dWh"], grads["db"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

"""A ReLU RNN from a university homework skeleton: time-major x (T, N, D), the weights in a
``params`` dict {"W_in" (D, H), "W_rec" (H, H), "b" (H,)}, ``forward(x, h0, params)`` and a
``backward(dh, cache)`` that returns a ``grads`` dict, the student's code between
``# YOUR CODE HERE`` markers; the carry is added into the upstream buffer (``dh[t-1] += ...``):

    h_t = relu(x_t @ W_in + h_(t-1) @ W_rec + b)

Thirtieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "mask_ge_zero": "derivative_missing",        # mask = h >= 0: always True on relu's output (numbers of no derivative)
    "relu_grad_is_h": "derivative_miswritten",   # da = dout * h (relu' written as relu)
    "W_rec_untransposed": "weight_transposed",   # dh[t-1] += da @ W_rec
    "dW_rec_with_h_t": "wrong_time",             # dW_rec += hs[t + 1].T @ da (h_t for h_(t-1))
    "dx_from_dW_in": "gradient_for_weight",      # dx[t] = da @ dW_in.T (the gradient so far for W_in)
    "carry_assigned": "carry_overwrites",        # dh[t-1] = da @ W_rec.T (= for +=): the upstream at t-1 lost
    "loop_stops_early": "loop_skips_step",       # for t in range(T - 1, 0, -1)
    "grads_over_batch": "reduction_scaled",      # every gradient divided by N at the end ("average over the batch")
    "mask_from_prev_h": "derivative_wrong_point",  # mask = hs[t] > 0: h_(t-1)'s mask for step t
    "leaky_forward": "forward_mistake",          # forward leaky relu (slope 0.01), backward consistent
    "carry_cut_after_3": "truncated_bptt",       # the carry stops after 3 steps back from the end
    "clip_by_norm": "gradient_clipped",          # each weight gradient rescaled to norm 1 at the end
    "W_rec_untransposed_and_no_db": "unknown",   # two at once: da @ W_rec and db never accumulated
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "mask_ge_zero": "",
    "relu_grad_is_h": "",
    "W_rec_untransposed": "",
    "dW_rec_with_h_t": "",
    "dx_from_dW_in": "",
    "carry_assigned": "",
    "loop_stops_early": "",
    "grads_over_batch": "",
    "mask_from_prev_h": "",
    "leaky_forward": "",
    "carry_cut_after_3": "",
    "clip_by_norm": "",
    "W_rec_untransposed_and_no_db": "",
}


def relu(a):
    return np.maximum(a, 0)


def forward(x, h0, params, bug=None):
    W_in, W_rec, b = params["W_in"], params["W_rec"], params["b"]
    T = x.shape[0]
    hs = np.zeros((T + 1,) + h0.shape, dtype=x.dtype)
    pre = np.zeros((T,) + h0.shape, dtype=x.dtype)
    hs[0] = h0
    # YOUR CODE HERE
    for t in range(T):
        pre[t] = x[t] @ W_in + hs[t] @ W_rec + b
        hs[t + 1] = np.where(pre[t] > 0, pre[t], 0.01 * pre[t]) if bug == "leaky_forward" else relu(pre[t])
    # END YOUR CODE
    return hs[1:].copy(), {"x": x, "hs": hs, "pre": pre, "params": params}


def backward(dh, cache, bug=None):
    x, hs, pre, params = cache["x"], cache["hs"], cache["pre"], cache["params"]
    W_in, W_rec = params["W_in"], params["W_rec"]
    T = x.shape[0]
    dh = dh.copy()
    grads = {"dW_in": np.zeros_like(W_in), "dW_rec": np.zeros_like(W_rec), "db": np.zeros_like(params["b"]),
             "dx": np.zeros_like(x), "dh0": np.zeros_like(hs[0])}
    # YOUR CODE HERE
    last = 0 if bug == "loop_stops_early" else -1
    for t in range(T - 1, last, -1):
        h = hs[t + 1]
        if bug == "mask_ge_zero":
            da = dh[t] * (h >= 0)
        elif bug == "relu_grad_is_h":
            da = dh[t] * h
        elif bug == "mask_from_prev_h":
            da = dh[t] * (hs[t] > 0)
        elif bug == "leaky_forward":
            da = dh[t] * np.where(pre[t] > 0, 1.0, 0.01).astype(dh.dtype)
        else:
            da = dh[t] * (h > 0)
        grads["dW_in"] += x[t].T @ da
        grads["dW_rec"] += (hs[t + 1] if bug == "dW_rec_with_h_t" else hs[t]).T @ da
        if bug != "W_rec_untransposed_and_no_db":
            grads["db"] += da.sum(axis=0)
        grads["dx"][t] = da @ (grads["dW_in"] if bug == "dx_from_dW_in" else W_in).T
        W_back = W_rec if bug in ("W_rec_untransposed", "W_rec_untransposed_and_no_db") else W_rec.T
        dprev = da @ W_back
        if bug == "carry_cut_after_3" and T - t >= 3:
            dprev = np.zeros_like(dprev)
        if t > 0:
            if bug == "carry_assigned":
                dh[t - 1] = dprev
            else:
                dh[t - 1] += dprev
        else:
            grads["dh0"] = dprev
    if bug == "grads_over_batch":
        N = x.shape[1]
        for k in ("dW_in", "dW_rec", "db"):
            grads[k] /= N
    if bug == "clip_by_norm":
        for k in ("dW_in", "dW_rec", "db"):
            norm = np.linalg.norm(grads[k])
            if norm > 1:
                grads[k] = grads[k] / norm
    # END YOUR CODE
    return grads


def to_user(cell, p):
    return {"W_in": p["weight_ih"].T.copy(), "W_rec": p["weight_hh"].T.copy(), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_in" in grads:
        out["dweight_ih"] = grads["dW_in"].T
    if "dW_rec" in grads:
        out["dweight_hh"] = grads["dW_rec"].T
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="skeleton_relu_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, params: forward(x, h0, params, bug), lambda dh, cache: backward(dh, cache, bug),
            {"cell": "rnn", "layout": LAYOUT, "activation": "relu"})

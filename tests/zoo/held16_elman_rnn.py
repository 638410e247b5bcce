"""An Elman RNN with a sigmoid hidden layer and a linear read-out with its own output bias,
time-major, in a parameters dict (a custom layout): x (T, N, D), h0 (N, H),

    params = {"W_in" (H, D), "W_rec" (H, H), "b_h" (H,), "W_out" (H, O), "b_out" (O,)}
    h_t = sigmoid(x_t @ W_in.T + h_(t-1) @ W_rec.T + b_h)        y_t = h_t @ W_out + b_out

The read-out is not part of the check: gradharness passes W_out and b_out along (zeros) and
the backward takes dh, the gradient of every h_t, and returns a dict of gradients in the
author's names. The caches are a list of per-step dicts. Sixteenth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sigmoid_grad_as_tanh": "derivative_wrong_function",  # delta = dtot * (1 - h ** 2)
    "sigmoid_grad_at_preact": "derivative_wrong_point",   # a * (1 - a) with a the pre-activation
    "sigmoid_grad_twice": "derivative_twice",             # delta = dtot * s' * s'
    "sigmoid_grad_sign": "wrong_sign",                    # h * (h - 1)
    "dW_rec_transposed": "gradient_transposed",           # grads["W_rec"] += h_prev.T @ delta (for delta.T @ h_prev)
    "carry_W_rec_T": "weight_transposed",                 # dh_next = delta @ W_rec.T (forward uses h @ W_rec.T)
    "x_from_previous_cache": "wrong_time",                # caches[t - 1]["x"] in dW_in: x_(t-1) for x_t
    "db_h_mean": "reduction_scaled",                      # delta.mean(axis=0) for delta.sum(axis=0)
    "backprop_in_forward_order": "loop_direction",        # for t in range(T)
    "carry_replaces_upstream": "carry_overwrites",        # dtot = dh_next for t < T - 1 (dh[t] thrown away)
    "forward_W_rec_untransposed": "forward_mistake",      # a = ... + h @ W_rec; backward consistent
    "clipnorm_0_1": "gradient_clipped",                     # all weight gradients rescaled to global norm <= 0.1
    "bptt_truncate_2": "truncated_bptt",                  # dh_next zeroed once 2 steps have been walked back
    "delta_without_sigmoid_grad": "derivative_missing",   # delta = dtot
    "db_mean_and_dW_rec_transposed": "unknown",           # db_h mean over the batch and dW_rec transposed: two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "sigmoid_grad_as_tanh": "",
    "sigmoid_grad_at_preact": "",
    "sigmoid_grad_twice": "",
    "sigmoid_grad_sign": "",
    "dW_rec_transposed": "",
    "carry_W_rec_T": "",
    "x_from_previous_cache": "",
    "db_h_mean": "",
    "backprop_in_forward_order": "",
    "carry_replaces_upstream": "",
    "forward_W_rec_untransposed": "",
    "clipnorm_0_1": "",
    "bptt_truncate_2": "",
    "delta_without_sigmoid_grad": "",
    "db_mean_and_dW_rec_transposed": "",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def to_user(cell, p):
    H = p["weight_hh"].shape[0]
    return {"W_in": p["weight_ih"].copy(), "W_rec": p["weight_hh"].copy(), "b_h": p["bias_ih"] + p["bias_hh"],
            "W_out": np.zeros((H, 2), dtype=p["weight_hh"].dtype), "b_out": np.zeros(2, dtype=p["weight_hh"].dtype)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_in" in grads:
        out["dweight_ih"] = grads["dW_in"]
    if "dW_rec" in grads:
        out["dweight_hh"] = grads["dW_rec"]
    if "db_h" in grads:
        out["dbias_ih"] = grads["db_h"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="elman_sigmoid", cells=("rnn",), axes="TND",
                               weights_as="dict", forward_returns=("h", "y", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        T = x.shape[0]
        W_rec = params["W_rec"] if bug == "forward_W_rec_untransposed" else params["W_rec"].T
        h, hs, ys, caches = h0, [], [], []
        for t in range(T):
            a = x[t] @ params["W_in"].T + h @ W_rec + params["b_h"]
            h_new = sigmoid(a)
            caches.append({"x": x[t], "h_prev": h, "a": a, "h": h_new})
            h = h_new
            hs.append(h)
            ys.append(h @ params["W_out"] + params["b_out"])
        return np.stack(hs), np.stack(ys), (caches, params)

    def backward(dh, cache):
        caches, params = cache
        T = len(caches)
        grads = {"W_in": np.zeros_like(params["W_in"]), "W_rec": np.zeros_like(params["W_rec"]),
                 "b_h": np.zeros_like(params["b_h"])}
        dx = np.zeros((T,) + caches[0]["x"].shape, dtype=dh.dtype)
        dh_next = np.zeros_like(caches[0]["h_prev"])
        steps = range(T) if bug == "backprop_in_forward_order" else reversed(range(T))
        for k, t in enumerate(steps):
            c = caches[t]
            h = c["h"]
            if bug == "carry_replaces_upstream":
                dtot = dh_next if t < T - 1 else dh[t]
            else:
                dtot = dh[t] + dh_next
            if bug == "sigmoid_grad_as_tanh":
                delta = dtot * (1 - h ** 2)
            elif bug == "sigmoid_grad_at_preact":
                delta = dtot * c["a"] * (1 - c["a"])
            elif bug == "sigmoid_grad_twice":
                delta = dtot * h * (1 - h) * h * (1 - h)
            elif bug == "sigmoid_grad_sign":
                delta = dtot * h * (h - 1)
            elif bug == "delta_without_sigmoid_grad":
                delta = dtot
            else:
                delta = dtot * h * (1 - h)
            x_t = caches[t - 1]["x"] if bug == "x_from_previous_cache" else c["x"]
            grads["W_in"] += delta.T @ x_t
            if bug == "forward_W_rec_untransposed":
                grads["W_rec"] += c["h_prev"].T @ delta
                dh_next = delta @ params["W_rec"].T
            else:
                if bug in ("dW_rec_transposed", "db_mean_and_dW_rec_transposed"):
                    grads["W_rec"] += c["h_prev"].T @ delta
                else:
                    grads["W_rec"] += delta.T @ c["h_prev"]
                dh_next = delta @ (params["W_rec"].T if bug == "carry_W_rec_T" else params["W_rec"])
            if bug in ("db_h_mean", "db_mean_and_dW_rec_transposed"):
                grads["b_h"] += delta.mean(axis=0)
            else:
                grads["b_h"] += delta.sum(axis=0)
            dx[t] = delta @ params["W_in"]
            if bug == "bptt_truncate_2" and k + 1 >= 2:
                dh_next = np.zeros_like(dh_next)
        if bug == "clipnorm_0_1":
            norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
            if norm > 0.1:
                for g in grads.values():
                    g *= 0.1 / norm
        return {"dx": dx, "dh0": dh_next, "dW_in": grads["W_in"], "dW_rec": grads["W_rec"], "db_h": grads["b_h"]}

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

"""A ReLU RNN written like the PyTorch char-RNN tutorial ported to NumPy: the state and the
input are concatenated, hidden first, and one linear layer ``i2h`` makes the new state.

    combined = [h_(t-1), x_t]                 (N, H + D)
    h_t = relu(combined @ W.T + b)            W (H, H + D) stored (out, in) as nn.Linear, b (H,)

The forward keeps a list of dicts (one per step); the backward splits the gradient of
``combined`` back into dprev_h (first H columns) and dx (the rest). x (N, T, D),
forward(x, h0, W, b), options activation="relu". Eighth held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "mask_from_prev_h": "wrong_time",                  # da = dh * (step["h_prev"] > 0)
    "relu_mask_missing": "derivative_missing",         # da = dh
    "tanh_grad_for_relu": "derivative_wrong_function", # da = dh * (1 - h ** 2)
    "mask_recomputed_without_b": "derivative_wrong_point",  # mask (combined @ W.T > 0): the bias left out
    "loop_over_cache_list": "loop_direction",          # for t, step in enumerate(steps): the list in forward order
    "db_assigned": "carry_overwrites",                 # db = da.sum(axis=0) (= for +=)
    "loop_skips_first": "loop_skips_step",             # for t in reversed(range(1, T))
    "dh_over_T": "reduction_scaled",                   # dh = dh / T first ("the loss is a mean over time")
    "shared_combined_buffer": "inplace_corruption",    # one preallocated combined buffer cached every step
    "carry_norm_clipped": "gradient_clipped",          # dprev rescaled to norm 1 when longer
    "carry_added_at_t": "carry_dropped",               # dh[:, t] += dprev (index t, already used) for t - 1
    "dprev_from_dW": "gradient_for_weight",            # dprev = da @ dW[:, :H]
    "leaky_forward": "forward_mistake",                # h = max(a, 0.01 a), backward consistent (slope 0.01)
    "split_x_first": "wrong_value",                    # dx = dcomb[:, :D], dprev = dcomb[:, D:] ([x, h] split);
                                                       # relabelled from "unknown": one split order, as held40 labels it
}

TOUCHES = {b: "" for b in BUGS}                        # computed: blind_index.touched_gates (an RNN: always "")


def forward(x, h0, W, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    steps, out = [], []
    h = h0
    buf = np.empty((N, H + D), dtype=x.dtype)
    for t in range(T):
        if bug == "shared_combined_buffer":
            buf[:, :H], buf[:, H:] = h, x[:, t]
            combined = buf
        else:
            combined = np.concatenate([h, x[:, t]], axis=1)
        a = combined @ W.T + b
        h_new = np.maximum(a, 0.01 * a) if bug == "leaky_forward" else np.maximum(a, 0)
        steps.append({"combined": combined, "h_prev": h, "a": a, "h": h_new})
        out.append(h_new)
        h = h_new
    return np.stack(out, axis=1), {"steps": steps, "W": W, "b": b}


def _da(dh_t, step, W, b, bug):
    if bug == "relu_mask_missing":
        return dh_t
    if bug == "mask_from_prev_h":
        return dh_t * (step["h_prev"] > 0)
    if bug == "tanh_grad_for_relu":
        return dh_t * (1 - step["h"] ** 2)
    if bug == "mask_recomputed_without_b":
        return dh_t * (step["combined"] @ W.T > 0)
    if bug == "leaky_forward":
        return dh_t * np.where(step["a"] > 0, 1.0, 0.01)
    return dh_t * (step["h"] > 0)


def backward(dh, cache, bug=None):
    steps, W, b = cache["steps"], cache["W"], cache["b"]
    N, T, H = dh.shape
    if bug == "dh_over_T":
        dh = dh / T
    dW = np.zeros_like(W)
    db = np.zeros_like(b)
    dx = np.zeros((N, T, W.shape[1] - H), dtype=dh.dtype)
    dprev = np.zeros((N, H), dtype=dh.dtype)
    D = W.shape[1] - H
    order = range(T) if bug == "loop_over_cache_list" else reversed(range(1 if bug == "loop_skips_first" else 0, T))
    for t in order:
        step = steps[t]
        dh_t = dh[:, t] if bug == "carry_added_at_t" else dh[:, t] + dprev
        da = _da(dh_t, step, W, b, bug)
        dW += da.T @ step["combined"]
        if bug == "db_assigned":
            db = da.sum(axis=0)
        else:
            db += da.sum(axis=0)
        dcomb = da @ W
        if bug == "split_x_first":
            dx[:, t], dprev = dcomb[:, :D], dcomb[:, D:]
        else:
            dprev, dx[:, t] = dcomb[:, :H], dcomb[:, H:]
        if bug == "dprev_from_dW":
            dprev = da @ dW[:, :H]
        if bug == "carry_norm_clipped":
            norm = np.linalg.norm(dprev)
            if norm > 1:
                dprev = dprev / norm
        if bug == "carry_added_at_t":
            dh[:, t] += dprev
    return dx, dprev, dW, db


def to_user(cell, p):
    return {"W": np.concatenate([p["weight_hh"], p["weight_ih"]], axis=1), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[0]
    out = {}
    if "dW" in grads:
        dW = grads["dW"]
        out.update(dweight_hh=dW[:, :H], dweight_ih=dW[:, H:])
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="i2h_relu_rnn", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, W, b):
        return forward(x, h0, W, b, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

"""A time-major sigmoid RNN (x (T, N, D), h0 (N, H)) with its weights in a params dict
{"W_in" (D, H), "W_rec" (H, H), "bias" (H,)}, written by someone who likes np.tensordot: the
forward keeps every state in one (T, N, H) array, the backward accumulates the weight
gradients with np.tensordot over the batch axis inside the time loop and returns a dict of
gradients in the author's names.

    h_t = sigmoid(x_t W_in + h_(t-1) W_rec + bias)       (activation="sigmoid")

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dsig_of_preact": "derivative_wrong_point",         # s' as a * (1 - a) on the pre-activation a
    "dsig_tanh_prime": "derivative_wrong_function",     # 1 - h ** 2: tanh's derivative for a sigmoid RNN
    "dsig_squared_factor": "derivative_miswritten",     # h * (1 - h) ** 2
    "dsig_missing": "derivative_missing",               # da = dz
    "tensordot_rec_swapped": "gradient_transposed",     # tensordot(da, h_prev, axes=(0, 0)): dW_rec written (out, in)
    "carry_from_dW_rec": "gradient_for_weight",         # dcarry = da @ dW_rec.T
    "h_prev_same_index": "wrong_time",                  # h_prev = hs[t] (h_t) in the backward
    "dz_without_carry": "carry_dropped",                # dz = dh[t]
    "rec_over_T": "reduction_scaled",                   # dW_rec /= T after the loop ("mean over time")
    "walks_forward": "loop_direction",                  # for t in range(T), the carry handed on forward
    "cut_after_4": "truncated_bptt",                    # the carry zeroed once 4 steps have been walked back
    "forward_h_never_updated": "forward_mistake",       # the forward feeds h0 to every step (h = h_new forgotten)
    "no_carry_and_bias_before_dsig": "unknown",         # two at once: carry dropped and dbias summed from dz
}

TOUCHES = {bug: "" for bug in BUGS}                     # an RNN: blind_index.touched_gates gives ""


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def forward(x, h0, params, bug=None):
    T, N, _ = x.shape
    W_in, W_rec, bias = params["W_in"], params["W_rec"], params["bias"]
    hs = np.empty((T, N, W_rec.shape[0]), dtype=x.dtype)
    pre = np.empty_like(hs)
    h = h0
    for t in range(T):
        pre[t] = x[t] @ W_in + h @ W_rec + bias
        hs[t] = sigmoid(pre[t])
        if bug != "forward_h_never_updated":
            h = hs[t]
    return hs, {"x": x, "h0": h0, "hs": hs, "pre": pre, "params": params}


def _local(dz, h, a, bug):
    if bug == "dsig_of_preact":
        return dz * a * (1 - a)
    if bug == "dsig_tanh_prime":
        return dz * (1 - h ** 2)
    if bug == "dsig_squared_factor":
        return dz * h * (1 - h) ** 2
    if bug == "dsig_missing":
        return dz
    return dz * h * (1 - h)


def backward(dh, cache, bug=None):
    x, h0, hs, pre, params = cache["x"], cache["h0"], cache["hs"], cache["pre"], cache["params"]
    W_in, W_rec = params["W_in"], params["W_rec"]
    T = x.shape[0]
    g = {"dW_in": np.zeros_like(W_in), "dW_rec": np.zeros_like(W_rec), "dbias": np.zeros_like(params["bias"])}
    dx = np.zeros_like(x)
    dcarry = np.zeros_like(h0)
    dh0 = np.zeros_like(h0)
    order = range(T) if bug == "walks_forward" else range(T - 1, -1, -1)
    for walked, t in enumerate(order):
        if bug in ("dz_without_carry", "no_carry_and_bias_before_dsig"):
            dz = dh[t]
        else:
            dz = dh[t] + dcarry
        da = _local(dz, hs[t], pre[t], bug)
        if bug == "h_prev_same_index":
            h_prev = hs[t]
        elif bug == "forward_h_never_updated":
            h_prev = h0
        else:
            h_prev = hs[t - 1] if t > 0 else h0
        g["dW_in"] += np.tensordot(x[t], da, axes=(0, 0))
        if bug == "tensordot_rec_swapped":
            g["dW_rec"] += np.tensordot(da, h_prev, axes=(0, 0))
        else:
            g["dW_rec"] += np.tensordot(h_prev, da, axes=(0, 0))
        g["dbias"] += (dz if bug == "no_carry_and_bias_before_dsig" else da).sum(axis=0)
        dx[t] = da @ W_in.T
        dcarry = da @ (g["dW_rec"] if bug == "carry_from_dW_rec" else W_rec).T
        if bug == "forward_h_never_updated":
            dh0 += dcarry
            dcarry = np.zeros_like(h0)
        if bug == "cut_after_4" and walked + 1 >= 4:
            dcarry = np.zeros_like(h0)
    if bug == "rec_over_T":
        g["dW_rec"] /= T
    g["dx"] = dx
    g["dh0"] = dh0 if bug == "forward_h_never_updated" else dcarry
    return g


def to_user(cell, p):
    return {"W_in": p["weight_ih"].T, "W_rec": p["weight_hh"].T, "bias": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_in" in grads:
        out["dweight_ih"] = grads["dW_in"].T
    if "dW_rec" in grads:
        out["dweight_hh"] = grads["dW_rec"].T
    if "dbias" in grads:
        out["dbias_ih"] = grads["dbias"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tensordot_tm_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, params):
        return forward(x, h0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

"""A ReLU RNN as posted in a Stack Overflow question ("my RNN fails gradient checking"):
time-major x (T, N, D), Wxh (D, H), Whh (H, H), bh (H,), the pre-activations and states in
preallocated (T, N, H) arrays ``zs`` and ``hs``, the ReLU mask kept as a boolean array, the
previous state picked with an ``h0`` branch, and a ``dh_next`` buffer carried back:

    zs[t] = x[t] @ Wxh + h_prev @ Whh + bh        hs[t] = max(zs[t], 0)

Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "mask_of_h_prev": "derivative_wrong_point",      # dz = dh_total * (h_prev > 0): the mask of step t-1 (also wrong_time)
    "no_relu_mask": "derivative_missing",            # dz = dh_total
    "tanh_grad_for_relu": "derivative_wrong_function",   # dz = dh_total * (1 - hs[t] ** 2), left from a tanh version
    "dh_next_Whh_untransposed": "weight_transposed",     # dh_next = dz @ Whh
    "dWhh_transposed": "gradient_transposed",        # dWhh += dz.T @ h_prev: (H, H) the other way round
    "clip_at_0_5": "gradient_clipped",               # np.clip(g, -0.5, 0.5, out=g) on dWxh, dWhh, dbh before return
    "range_stops_at_1": "loop_skips_step",           # for t in range(T - 1, 0, -1): step 0 never walked back
    "dbh_time_average": "reduction_scaled",          # dbh /= T ("average over time")
    "h_prev_wraps_to_last": "wrong_time",            # backward's h_prev = hs[t - 1] at t = 0 too: hs[-1] = h_(T-1) for h0
    "dx_from_dWxh": "gradient_for_weight",           # dx[t] = dz @ dWxh.T (the gradient accumulated so far)
    "forward_bias_twice": "forward_mistake",         # zs[t] = ... + bh + bh (bias added twice); dbh doubled, consistent
    "forward_h0_ignored": "forward_mistake",         # h_prev = zeros at t = 0 (h0 never used); dh0 returned as zeros
    "mask_and_dWhh_T": "unknown",                    # two mistakes: no ReLU mask on the carry and dWhh transposed
}

TOUCHES = {b: "" for b in BUGS}


def rnn_forward(x, h0, Wxh, Whh, bh, bug=None):
    T, N, D = x.shape
    H = Whh.shape[0]
    zs = np.zeros((T, N, H), dtype=x.dtype)
    hs = np.zeros((T, N, H), dtype=x.dtype)
    for t in range(T):
        if t == 0:
            h_prev = np.zeros_like(h0) if bug == "forward_h0_ignored" else h0
        else:
            h_prev = hs[t - 1]
        zs[t] = x[t] @ Wxh + h_prev @ Whh + bh
        if bug == "forward_bias_twice":
            zs[t] += bh
        hs[t] = np.maximum(zs[t], 0)
    mask = zs > 0
    return hs, (x, h0, hs, mask, Wxh, Whh, bh)


def rnn_backward(dhs, cache, bug=None):
    x, h0, hs, mask, Wxh, Whh, bh = cache
    T = x.shape[0]
    dx = np.zeros_like(x)
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dh_next = np.zeros_like(h0)
    stop = 0 if bug == "range_stops_at_1" else -1
    for t in range(T - 1, stop, -1):
        if t == 0 and bug != "h_prev_wraps_to_last":
            h_prev = np.zeros_like(h0) if bug == "forward_h0_ignored" else h0
        else:
            h_prev = hs[t - 1]
        dh_total = dhs[t] + dh_next
        if bug == "mask_of_h_prev":
            dz = dh_total * (h_prev > 0)
        elif bug == "no_relu_mask":
            dz = dh_total
        elif bug == "tanh_grad_for_relu":
            dz = dh_total * (1 - hs[t] ** 2)
        else:
            dz = dh_total * mask[t]
        dWxh += x[t].T @ dz
        if bug in ("dWhh_transposed", "mask_and_dWhh_T"):
            dWhh += dz.T @ h_prev
        else:
            dWhh += h_prev.T @ dz
        dbh += dz.sum(axis=0)
        dx[t] = dz @ (dWxh if bug == "dx_from_dWxh" else Wxh).T
        if bug == "dh_next_Whh_untransposed":
            dh_next = dz @ Whh
        elif bug == "mask_and_dWhh_T":
            dh_next = dh_total @ Whh.T
        else:
            dh_next = dz @ Whh.T
    if bug == "forward_bias_twice":
        dbh *= 2
    if bug == "dbh_time_average":
        dbh /= T
    if bug == "clip_at_0_5":
        for g in (dWxh, dWhh, dbh):
            np.clip(g, -0.5, 0.5, out=g)
    dh0 = np.zeros_like(h0) if bug == "forward_h0_ignored" else dh_next
    return dx, dh0, dWxh, dWhh, dbh


def to_user(cell, p):
    return {"Wxh": p["weight_ih"].T.copy(), "Whh": p["weight_hh"].T.copy(), "bh": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dWxh" in grads:
        out["dweight_ih"] = grads["dWxh"].T
    if "dWhh" in grads:
        out["dweight_hh"] = grads["dWhh"].T
    if "dbh" in grads:
        out["dbias_ih"] = grads["dbh"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="so_relu_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        return rnn_forward(x, h0, Wxh, Whh, bh, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

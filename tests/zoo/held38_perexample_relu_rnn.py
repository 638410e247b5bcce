"""A beginner's ReLU RNN, time-major x (T, N, D), with torch's weights (W_ih (H, D), W_hh
(H, H), b_ih, b_hh) and an outer Python loop over the examples of the batch: every example is
run forward and back on its own, with 1-D vectors, np.outer for the weight gradients, lists
for the states and a step counter kept by hand. Print-debugging sits behind DEBUG.

    h_t = relu(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import copy

import numpy as np

import harness

DEBUG = False

BUGS = {
    "mask_from_h_prev": "wrong_time",                # (h_prev > 0) for the mask of step t
    "mask_forgotten": "derivative_missing",          # da = dh_total
    "mask_written_as_h": "derivative_miswritten",    # da = dh_total * h (the output, not 1)
    "dW_hh_outer_h_t": "wrong_time",                 # np.outer(da, h_t)
    "W_hh_not_transposed": "weight_transposed",      # W_hh @ da
    "dh_prev_from_dW_hh": "gradient_for_weight",     # dW_hh.T @ da
    "dW_ih_assigned": "carry_overwrites",            # dW_ih = np.outer(da, x_t)
    "dW_ih_over_T": "reduction_scaled",              # dW_ih / T at the end
    "truncate_every_4": "truncated_bptt",            # the carry zeroed every 4 steps (WildML's truncation)
    "range_stops_at_1": "loop_skips_step",           # range(T - 1, 0, -1)
    "carry_not_reset": "unknown",                    # dh_next set up once, outside the loop over examples
    "db_hh_sign": "wrong_sign",                      # db_hh -= da (pasted from an SGD update)
    "leaky_helper": "forward_mistake",               # a leaky-ReLU helper in the forward, backward consistent
    "dx_from_dh_total": "wrong_value",               # dx = W_ih.T @ dh_total (before the mask)
}

TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def relu(v, bug=None):
    if bug == "leaky_helper":
        return np.where(v > 0, v, 0.01 * v)
    return np.maximum(v, 0)


def relu_grad(v, bug=None):
    if bug == "leaky_helper":
        return np.where(v > 0, 1.0, 0.01)
    return (v > 0).astype(float)


def forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug=None):
    T, N, _ = x.shape
    H = W_hh.shape[0]
    h_all = np.zeros((T, N, H), dtype=x.dtype)
    cache = {"x": x.copy(), "h0": h0.copy(), "pre": [], "hs": [],
             "W_ih": W_ih.copy(), "W_hh": W_hh.copy(), "b_ih": b_ih.copy(), "b_hh": b_hh.copy()}
    for n in range(N):
        h = h0[n].copy()
        pres, hs = [], [h.copy()]
        for t in range(T):
            a = np.dot(W_ih, x[t, n]) + b_ih + np.dot(W_hh, h) + b_hh
            h = relu(a, bug)
            pres.append(a.copy())
            hs.append(h.copy())
            h_all[t, n] = h
        if DEBUG:
            print("example", n, "last h", hs[-1][:3])
        cache["pre"].append(pres)
        cache["hs"].append(hs)
    return h_all, cache


def backward(dh, cache, bug=None):
    x = cache["x"]
    W_ih, W_hh = cache["W_ih"], cache["W_hh"]
    T, N, H = dh.shape
    D = x.shape[2]
    dx = np.zeros((T, N, D), dtype=dh.dtype)
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    dW_ih = np.zeros_like(W_ih)
    dW_hh = np.zeros_like(W_hh)
    db_ih = np.zeros(H, dtype=dh.dtype)
    db_hh = np.zeros(H, dtype=dh.dtype)
    if bug == "carry_not_reset":
        dh_next = np.zeros(H, dtype=dh.dtype)
    for n in range(N):
        pres = copy.deepcopy(cache["pre"][n])
        hs = copy.deepcopy(cache["hs"][n])
        if bug != "carry_not_reset":
            dh_next = np.zeros(H, dtype=dh.dtype)
        count = 0
        steps = range(T - 1, 0, -1) if bug == "range_stops_at_1" else range(T - 1, -1, -1)
        for t in steps:
            count += 1
            h_prev = hs[t].copy()              # hs[0] = h0, so hs[t] = h_(t-1)
            h_t = hs[t + 1].copy()
            dh_total = dh[t, n] + dh_next
            if bug == "mask_from_h_prev":
                da = dh_total * (h_prev > 0)
            elif bug == "mask_forgotten":
                da = dh_total.copy()
            elif bug == "mask_written_as_h":
                da = dh_total * h_t
            else:
                da = dh_total * relu_grad(pres[t], bug)
            if DEBUG:
                print("n", n, "t", t, "count", count, "|da|", np.abs(da).sum())
            if bug == "dW_ih_assigned":
                dW_ih = np.outer(da, x[t, n])
            else:
                dW_ih += np.outer(da, x[t, n])
            if bug == "dW_hh_outer_h_t":
                dW_hh += np.outer(da, h_t)
            else:
                dW_hh += np.outer(da, h_prev)
            db_ih += da
            if bug == "db_hh_sign":
                db_hh -= da
            else:
                db_hh += da
            dx[t, n] = np.dot(W_ih.T, dh_total if bug == "dx_from_dh_total" else da)
            if bug == "W_hh_not_transposed":
                dh_next = np.dot(W_hh, da)
            elif bug == "dh_prev_from_dW_hh":
                dh_next = np.dot(dW_hh.T, da)
            else:
                dh_next = np.dot(W_hh.T, da)
            if bug == "truncate_every_4" and count % 4 == 0:
                dh_next = np.zeros(H, dtype=dh.dtype)
        dh0[n] = dh_next
    if bug == "dW_ih_over_T":
        dW_ih = dW_ih / T
    return dx, dh0, dW_ih, dW_hh, db_ih, db_hh


def to_user(cell, p):
    return {"W_ih": np.array(p["weight_ih"]), "W_hh": np.array(p["weight_hh"]),
            "b_ih": np.array(p["bias_ih"]), "b_hh": np.array(p["bias_hh"])}


def to_canonical(cell, g, p):
    names = (("dW_ih", "dweight_ih"), ("dW_hh", "dweight_hh"), ("db_ih", "dbias_ih"), ("db_hh", "dbias_hh"))
    return {q: g[u] for u, q in names if u in g}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="perexample_relu_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, W_ih, W_hh, b_ih, b_hh):
        return forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)
    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

"""An RNN written the way Denny Britz's WildML tutorial writes it (rnn_theano's numpy
version), batched and time-major: U (H, D) on the input, W (H, H) on the state, one bias b
(H,), the states s in a (T + 1, N, H) array whose last row s[-1] holds the initial state,
so that s[t - 1] at t = 0 reads it on purpose:

    s[t] = tanh(x[t] @ U.T + s[t - 1] @ W.T + b)

The backward is the tutorial's double loop: for every output step t, a delta walked back
through at most ``bptt_truncate`` earlier steps (here larger than T, so full BPTT), the
weight gradients summed on the way; dh0 gathers what reaches s[-1]. x (T, N, D), h0 (N, H);
forward(x, h0, U, W, b) -> (s[:T], cache); backward(ds, cache) -> (dx, dh0, dU, dW, db).
Fourteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "delta_tanh_of_state": "derivative_wrong_point",     # (1 - tanh(s[step-1]) ** 2): tanh' of the output taken as if s were a
                                                         # pre-activation (also a wrong_value: s read for a)
    "dW_outer_with_s_step": "wrong_time",                # dW += delta.T @ s[step] (s_t for s_{t-1})
    "bptt_truncate_2": "truncated_bptt",                 # bptt_truncate = 2: each delta walks back 2 steps only
    "carry_with_W_T": "weight_transposed",               # dprev = delta @ W.T (W's transpose, as in the 1-example W.T.dot)
    "carry_with_dW": "gradient_for_weight",              # dprev = delta @ dW (the accumulator one line above)
    "db_batch_mean": "reduction_scaled",                 # db += delta.mean(axis=0)
    "delta_sign_flipped": "wrong_sign",                  # dprev * (s[step-1] ** 2 - 1)
    "inner_no_tanh_grad": "derivative_missing",          # delta = dprev: tanh' left out inside the walk back
    "outer_paren_misplaced": "derivative_miswritten",    # dh[t] * (1 - s[t]) ** 2
    "walk_stops_before_0": "loop_skips_step",            # range(t, max(1, t - bptt_truncate) - 1, -1): step 0 never visited
    "forward_bias_twice": "forward_mistake",             # s[t] = tanh(... + b + b); db gathers 2 * delta: consistent
    "s_squared_in_place": "inplace_corruption",          # sq = s[step-1]; sq **= 2: the cached state squared for good
    "delta_halved": "unknown",                           # delta = dprev * (1 - s[step-1] ** 2) * 0.5: a stray constant
}

TOUCHES = {b: "" for b in BUGS}                          # computed: blind_index.touched_gates(module, bug) ("" for an RNN)


def forward(x, h0, U, W, b, bug=None):
    T, N, _ = x.shape
    H = W.shape[0]
    s = np.zeros((T + 1, N, H), dtype=x.dtype)
    s[-1] = h0
    for t in np.arange(T):
        z = x[t] @ U.T + s[t - 1] @ W.T + b
        if bug == "forward_bias_twice":
            z = z + b
        s[t] = np.tanh(z)
    return s[:T].copy(), (x, s, U, W, b)


def backward(ds, cache, bug=None):
    x, s, U, W, b = cache
    T, N, _ = x.shape
    bptt_truncate = 2 if bug == "bptt_truncate_2" else 100
    dU, dW, db = np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)
    dx, dh0 = np.zeros_like(x), np.zeros_like(s[-1])
    for t in np.arange(T)[::-1]:
        if bug == "outer_paren_misplaced":
            delta = ds[t] * (1 - s[t]) ** 2
        else:
            delta = ds[t] * (1 - s[t] ** 2)
        lowest = max(1 if bug == "walk_stops_before_0" else 0, t - bptt_truncate)
        for step in range(t, lowest - 1, -1):
            dW += delta.T @ (s[step] if bug == "dW_outer_with_s_step" else s[step - 1])
            dU += delta.T @ x[step]
            if bug == "db_batch_mean":
                db += delta.mean(axis=0)
            elif bug == "forward_bias_twice":
                db += 2 * delta.sum(axis=0)
            else:
                db += delta.sum(axis=0)
            dx[step] += delta @ U
            if bug == "carry_with_W_T":
                dprev = delta @ W.T
            elif bug == "carry_with_dW":
                dprev = delta @ dW
            else:
                dprev = delta @ W
            if step == 0:
                dh0 += dprev
                continue
            if bug == "delta_tanh_of_state":
                delta = dprev * (1 - np.tanh(s[step - 1]) ** 2)
            elif bug == "delta_sign_flipped":
                delta = dprev * (s[step - 1] ** 2 - 1)
            elif bug == "inner_no_tanh_grad":
                delta = dprev
            elif bug == "s_squared_in_place":
                sq = s[step - 1]
                sq **= 2
                delta = dprev * (1 - sq)
            elif bug == "delta_halved":
                delta = dprev * (1 - s[step - 1] ** 2) * 0.5
            else:
                delta = dprev * (1 - s[step - 1] ** 2)
    return dx, dh0, dU, dW, db


def to_user(cell, p):
    return {"U": p["weight_ih"], "W": p["weight_hh"], "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dU": "dweight_ih", "dW": "dweight_hh", "db": "dbias_ih"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="wildml_rnn", cells=("rnn",), axes="TND",
                               names={"h": "s"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, U, W, b):
        return forward(x, h0, U, W, b, bug)

    def bwd(ds, cache):
        return backward(ds, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT}

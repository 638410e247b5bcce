"""An RNN as "Dive into Deep Learning" writes it from scratch, in NumPy, with the
backpropagation through time a reader of that chapter writes by hand for it (d2l lets
autograd do it):

    params = [W_xh (D, H), W_hh (H, H), b_h (H,), W_hq (H, Q), b_q (Q,)]
    state = (H,)                          H (N, H)
    for X in inputs:                      inputs (T, N, D): time-major
        H = tanh(X @ W_xh + H @ W_hh + b_h)
        Y = H @ W_hq + b_q
    return concat(outputs, axis=0), (H,)

The check's upstream gradient is the one of every step's H (dHs (T, N, H)), so the output
layer (W_hq, b_q) is passed along and its gradient not returned (skip). The weight
gradients are computed after the loop from the stacked dA, as a vectorising reader would.
Second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dA_without_tanh_grad": "derivative_missing",        # dA = dH
    "tanh_grad_at_A": "derivative_wrong_point",          # 1 - A**2 with A the cached pre-activation
    "tanh_grad_as_sigmoid": "derivative_wrong_function",  # H * (1 - H)
    "tanh_grad_again": "derivative_twice",               # tanh_backward(dH, H) * (1 - H**2)
    "tanh_grad_typo": "derivative_miswritten",           # (1 - H) ** 2
    "tanh_grad_reversed": "wrong_sign",                  # (H**2 - 1)
    "W_hh_untransposed": "weight_transposed",            # dH_next = dA @ W_hh
    "dX_from_dW_xh": "gradient_for_weight",              # dX = dAs @ dW_xh.T
    "carry_forgotten": "carry_dropped",                  # dH = dHs[t]
    "carry_assigned": "carry_overwrites",                # dH = dHs[t]; then dH = dH_next (= for +=)
    "dW_hh_with_H_t": "wrong_time",                      # einsum over Hs for the previous states
    "stops_before_step0": "loop_skips_step",             # reversed(range(1, num_steps))
    "grads_over_num_steps": "reduction_scaled",          # dW_xh, dW_hh, db_h / num_steps (a mean loss)
    "square_in_place": "inplace_corruption",             # sq = Hs[t]; sq **= 2: the cached H squared
    "forward_W_hh_transposed": "forward_mistake",        # H @ W_hh.T in the forward, backward consistent
    "forward_sigmoid_state": "forward_mistake",          # H = sigmoid(...) (as the GRU section), backward consistent
    "clipped_like_d2l": "gradient_clipped",              # d2l's grad_clipping(theta=1) inside the backward
    "no_tanh_grad_no_carry": "unknown",                  # two mistakes at once
}

TOUCHES = {bug: "" for bug in BUGS}                       # an RNN: no gates (blind_index.touched_gates)

NUM_OUTPUTS = 3


def get_params(cell, p):
    """Canonical (torch) weights -> d2l's params list, as a dict in call order."""
    dtype = p["weight_ih"].dtype
    H = p["weight_hh"].shape[0]
    rng = np.random.default_rng(7)
    return {"W_xh": np.array(p["weight_ih"].T), "W_hh": np.array(p["weight_hh"].T),
            "b_h": p["bias_ih"] + p["bias_hh"],
            "W_hq": (rng.standard_normal((H, NUM_OUTPUTS)) * 0.01).astype(dtype),
            "b_q": np.zeros(NUM_OUTPUTS, dtype)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_xh" in grads:
        out["dweight_ih"] = grads["dW_xh"].T
    if "dW_hh" in grads:
        out["dweight_hh"] = grads["dW_hh"].T
    if "db_h" in grads:
        out["dbias_ih"] = grads["db_h"]
    return out


LAYOUT = harness.Layout.custom(get_params, to_canonical, name="d2l", cells=("rnn",), axes="TND",
                               forward_returns=("outputs", "h", "cache"), names={"h": "H"})


def rnn(inputs, state, params, bug=None):
    """d2l's rnn(): (outputs (T*N, Q), (H,)), plus every H and a cache for the backward."""
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs, Hs, As = [], [], []
    for X in inputs:
        W = W_hh.T if bug == "forward_W_hh_transposed" else W_hh
        A = X @ W_xh + H @ W + b_h
        H = 1 / (1 + np.exp(-A)) if bug == "forward_sigmoid_state" else np.tanh(A)
        Y = H @ W_hq + b_q
        outputs.append(Y)
        Hs.append(H)
        As.append(A)
    cache = {"inputs": inputs, "H0": state[0], "Hs": np.stack(Hs), "As": np.stack(As), "params": params}
    return np.concatenate(outputs, axis=0), (H,), cache


def tanh_backward(dH, H):
    return dH * (1 - H ** 2)


def _local_grad(dH, H, A, bug):
    """dA from dH at one step."""
    if bug in ("dA_without_tanh_grad", "no_tanh_grad_no_carry"):
        return dH
    if bug == "tanh_grad_at_A":
        return dH * (1 - A ** 2)
    if bug in ("tanh_grad_as_sigmoid", "forward_sigmoid_state"):
        return dH * H * (1 - H)
    if bug == "tanh_grad_again":
        return tanh_backward(dH, H) * (1 - H ** 2)
    if bug == "tanh_grad_typo":
        return dH * (1 - H) ** 2
    if bug == "tanh_grad_reversed":
        return dH * (H ** 2 - 1)
    if bug == "square_in_place":
        sq = H
        sq **= 2
        return dH * (1 - sq)
    return tanh_backward(dH, H)


def _carry_in(dHs, dH_next, t, num_steps, bug):
    if bug in ("carry_forgotten", "no_tanh_grad_no_carry"):
        return dHs[t]
    if bug == "carry_assigned":
        dH = dHs[t]
        if t < num_steps - 1:
            dH = dH_next
        return dH
    return dHs[t] + dH_next


def grad_clipping(grads, theta):
    norm = np.sqrt(sum(float((g ** 2).sum()) for g in grads))
    if norm > theta:
        grads = [g * (theta / norm) for g in grads]
    return grads


def rnn_backward(dHs, cache, bug=None):
    """dHs (T, N, H) -> dX (T, N, D), dH0 (N, H), [dW_xh, dW_hh, db_h, dW_hq, db_q]."""
    inputs, Hs, As = cache["inputs"], cache["Hs"], cache["As"]
    W_xh, W_hh, b_h, W_hq, b_q = cache["params"]
    num_steps = inputs.shape[0]
    dAs = np.zeros_like(Hs)
    dH_next = np.zeros_like(cache["H0"])
    first = 1 if bug == "stops_before_step0" else 0
    for t in reversed(range(first, num_steps)):
        dH = _carry_in(dHs, dH_next, t, num_steps, bug)
        dA = _local_grad(dH, Hs[t], As[t], bug)
        dAs[t] = dA
        dH_next = dA @ (W_hh if bug in ("W_hh_untransposed", "forward_W_hh_transposed") else W_hh.T)
    H_prevs = np.concatenate([cache["H0"][None], Hs[:-1]])
    dW_xh = np.einsum("tnd,tnh->dh", inputs, dAs)
    dW_hh = np.einsum("tnk,tnh->kh", Hs if bug == "dW_hh_with_H_t" else H_prevs, dAs)
    if bug == "forward_W_hh_transposed":
        dW_hh = dW_hh.T
    db_h = dAs.sum(axis=(0, 1))
    dX = dAs @ (dW_xh.T if bug == "dX_from_dW_xh" else W_xh.T)
    grads = [dW_xh, dW_hh, db_h]
    if bug == "grads_over_num_steps":
        grads = [g / num_steps for g in grads]
    if bug == "clipped_like_d2l":
        grads = grad_clipping(grads, theta=1)
    return (dX, dH_next, *grads, None, None)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(X, H0, W_xh, W_hh, b_h, W_hq, b_q):
        outputs, _, cache = rnn(X, (H0,), [W_xh, W_hh, b_h, W_hq, b_q], bug)
        return outputs, cache["Hs"], cache

    def backward(dHs, cache):
        return rnn_backward(dHs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "tanh", "skip": ("dW_hq", "db_q")}

"""Elman (vanilla) RNN layer: the textbook forward and backpropagation through time.

Row vectors and PyTorch's layout: every weight is stored (out, in) and applied as x @ W.T.
One step t:

    a_t = x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh       (N, H)   pre-activation
    h_t = act(a_t)                                         (N, H)

Backward of one step, given dnext_h = dL/dh_t counting every consumer of h_t (the loss
and the layer above, plus the carry from step t+1):

    da      = dnext_h * act'(a_t)       act' from the output: tanh' = 1 - h_t^2  (N, H)
    dW_ih   = da^T x_t                  (H, N) @ (N, D)
    dW_hh   = da^T h_(t-1)              (H, N) @ (N, H)
    db      = sum of da over the batch  (H,)   b_ih and b_hh enter a_t alike: equal
    dx      = da W_ih                   (N, H) @ (H, D)
    dprev_h = da W_hh                   (N, H) @ (H, H)   the carry to step t-1

Shapes: x (N, T, D), h0 (N, H), W_ih (H, D), W_hh (H, H), b_ih and b_hh (H,).
The sequence functions loop the step functions over t = 0 .. T-1 and back.
``reference_impls.fast.rnn`` computes the same numbers faster; tests hold the two equal.
"""

import numpy as np

from ._act import ACTIVATIONS

STATES = ("h",)
GATES = ("",)


def step_forward(x, prev_h, W_ih, W_hh, b_ih=None, b_hh=None, activation="tanh"):
    """One step. x (N, D), prev_h (N, H) -> next_h (N, H), cache (a dict of what backward reads)."""
    a = x @ W_ih.T + prev_h @ W_hh.T                        # (N, H)
    if b_ih is not None:
        a = a + b_ih + b_hh
    act, dact = ACTIVATIONS[activation]
    next_h = act(a)
    cache = {"x": x, "prev_h": prev_h, "a": a, "next_h": next_h, "W_ih": W_ih, "W_hh": W_hh,
             "b_ih": b_ih, "b_hh": b_hh, "has_bias": b_ih is not None, "dact": dact}
    return next_h, cache


def step_backward(dnext_h, cache):
    """One step back. dnext_h (N, H): dL/dh_t, carry included. Returns the step's gradients:
    dx (N, D), dprev_h (N, H), dW_ih (H, D), dW_hh (H, H), db (H,)."""
    x, prev_h, next_h = cache["x"], cache["prev_h"], cache["next_h"]
    W_ih, W_hh, dact = cache["W_ih"], cache["W_hh"], cache["dact"]
    da = dnext_h * dact(next_h)                             # h_t = act(a_t)
    dW_ih = da.T @ x                                        # a_t = x_t W_ih^T + ...
    dW_hh = da.T @ prev_h                                   # ... + h_(t-1) W_hh^T + ...
    db = da.sum(axis=0)                                     # ... + b_ih + b_hh, every example
    dx = da @ W_ih
    dprev_h = da @ W_hh
    return {"dx": dx, "dprev_h": dprev_h, "dW_ih": dW_ih, "dW_hh": dW_hh, "db": db, "da": da}


def forward(x, h0, params, activation="tanh"):
    """The layer over a sequence. x (N, T, D), h0 (N, H), params {"weight_ih", "weight_hh",
    ["bias_ih", "bias_hh"]} -> h (N, T, H), caches (one per step)."""
    N, T, D = x.shape
    h, caches = [], []
    prev_h = h0
    for t in range(T):
        prev_h, cache = step_forward(x[:, t], prev_h, params["weight_ih"], params["weight_hh"],
                                     params.get("bias_ih"), params.get("bias_hh"), activation)
        h.append(prev_h)
        caches.append(cache)
    return np.stack(h, axis=1), caches


def backward(dh, caches):
    """Backpropagation through time. dh (N, T, H): the upstream gradient of every step's
    h_t (the loss and the layer above), NOT the carried one: that is added here.

    Returns {"dx" (N, T, D), "dh0" (N, H), "dweight_ih", "dweight_hh", ["dbias_ih",
    "dbias_hh"], "dh_total" (N, T, H): dL/dh_t counting every consumer, "steps": each
    step's own gradients (the dicts step_backward returned, index t)}.
    """
    N, T, H = dh.shape
    dx = np.zeros((N, T, caches[0]["x"].shape[1]), dtype=dh.dtype)
    dh_total = np.zeros_like(dh)
    dW_ih, dW_hh = np.zeros_like(caches[0]["W_ih"]), np.zeros_like(caches[0]["W_hh"])
    db = np.zeros(H, dtype=dh.dtype)
    steps = [None] * T
    dnext_h = np.zeros_like(dh[:, 0])                       # nothing comes back from beyond the last step
    for t in reversed(range(T)):
        dh_total[:, t] = dh[:, t] + dnext_h                 # upstream plus the carry from step t+1
        step = step_backward(dh_total[:, t], caches[t])
        dx[:, t] = step["dx"]
        dW_ih += step["dW_ih"]                              # the weights are shared by every step:
        dW_hh += step["dW_hh"]                              # their gradients add up
        db += step["db"]
        dnext_h = step["dprev_h"]
        steps[t] = step
    grads = {"dx": dx, "dh0": dnext_h, "dweight_ih": dW_ih, "dweight_hh": dW_hh, "dh_total": dh_total, "steps": steps}
    if caches[0]["has_bias"]:
        grads.update(dbias_ih=db, dbias_hh=db.copy())
    return grads

"""LSTM layer: the textbook forward and backpropagation through time.

Row vectors and PyTorch's layout (weights stored (out, in), applied as x @ W.T; gate
blocks i, f, g, o stacked along the 4H rows). One step t:

    a_t = x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh        (N, 4H)  blocks a_i, a_f, a_g, a_o
    i_t = s(a_i)    f_t = s(a_f + forget_bias)             (N, H) each, s the logistic sigmoid
    g_t = tanh(a_g) o_t = s(a_o)
    c_t = f_t * c_(t-1) + i_t * g_t                         (N, H)
    h_t = o_t * tanh(c_t)                                   (N, H)

``forget_bias`` is a scalar added to the f pre-activation at call time and never stored
(TF's BasicLSTMCell/LSTMCell); it changes no derivative.

Backward of one step, given dnext_h = dL/dh_t (the loss, the layer above and the carry
from step t+1) and dnext_c = the carry dL/dc_t from step t+1 (c_t's other consumer):

    do = dnext_h * tanh(c_t)                         h_t = o_t * tanh(c_t)
    dc = dnext_c + dnext_h * o_t * tanh'(c_t)        tanh' from its output: 1 - tanh(c_t)^2
    di = dc * g_t    df = dc * c_(t-1)    dg = dc * i_t          c_t = f_t c_(t-1) + i_t g_t
    dprev_c = dc * f_t                               the cell-state carry to step t-1
    da_i = di * s'(i_t) ... da_g = dg * tanh'(g_t)   s' from its output: s (1 - s)
    da = [da_i, da_f, da_g, da_o]                    (N, 4H)
    dW_ih = da^T x_t, dW_hh = da^T h_(t-1), db = sum of da over the batch
    dx = da W_ih, dprev_h = da W_hh                  the hidden-state carry to step t-1

Shapes: x (N, T, D), h0 and c0 (N, H), W_ih (4H, D), W_hh (4H, H), b_ih and b_hh (4H,).
``reference_impls.fast.lstm`` computes the same numbers faster; tests hold the two equal.
"""

import numpy as np

from ._act import dsigmoid, dtanh, sigmoid

STATES = ("h", "c")
GATES = ("i", "f", "g", "o")
# The gate each local gradient of step_backward belongs to (for naming where a mistake lives).
LINE_GATES = {"do": "o", "di": "i", "df": "f", "dg": "g",
              "da_i": "i", "da_f": "f", "da_g": "g", "da_o": "o"}


def step_forward(x, prev_h, prev_c, W_ih, W_hh, b_ih=None, b_hh=None, forget_bias=0.0):
    """One step. x (N, D), prev_h and prev_c (N, H) -> next_h, next_c (N, H), cache."""
    a = x @ W_ih.T + prev_h @ W_hh.T                        # (N, 4H)
    if b_ih is not None:
        a = a + b_ih + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)             # (N, H) each
    i = sigmoid(a_i)
    f = sigmoid(a_f + forget_bias)
    g = np.tanh(a_g)
    o = sigmoid(a_o)
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "i": i, "f": f, "g": g, "o": o,
             "a_i": a_i, "a_f": a_f + forget_bias, "a_g": a_g, "a_o": a_o,
             "next_c": next_c, "tanh_c": tanh_c, "next_h": next_h, "W_ih": W_ih, "W_hh": W_hh,
             "b_ih": b_ih, "b_hh": b_hh, "has_bias": b_ih is not None,
             "forget_bias": forget_bias}
    return next_h, next_c, cache


def step_backward(dnext_h, dnext_c, cache):
    """One step back. dnext_h (N, H): dL/dh_t, carry included; dnext_c (N, H): the carry
    dL/dc_(t+1) * f_(t+1) from step t+1. Returns the step's gradients: dx (N, D), dprev_h,
    dprev_c (N, H), dW_ih (4H, D), dW_hh (4H, H), db (4H,), and dc (N, H): dL/dc_t."""
    x, prev_h, prev_c = cache["x"], cache["prev_h"], cache["prev_c"]
    i, f, g, o, tanh_c = cache["i"], cache["f"], cache["g"], cache["o"], cache["tanh_c"]
    W_ih, W_hh = cache["W_ih"], cache["W_hh"]
    do = dnext_h * tanh_c                                   # h_t = o_t * tanh(c_t)
    dc = dnext_c + dnext_h * o * dtanh(tanh_c)              # c_t feeds c_(t+1) and h_t
    di = dc * g                                             # c_t = f_t * c_(t-1) + i_t * g_t
    df = dc * prev_c
    dg = dc * i
    dprev_c = dc * f
    da_i = di * dsigmoid(i)                                 # i_t = s(a_i)
    da_f = df * dsigmoid(f)                                 # f_t = s(a_f + forget_bias)
    da_g = dg * dtanh(g)                                    # g_t = tanh(a_g)
    da_o = do * dsigmoid(o)                                 # o_t = s(a_o)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)  # (N, 4H), blocks i, f, g, o
    dW_ih = da.T @ x                                        # a_t = x_t W_ih^T + ...
    dW_hh = da.T @ prev_h                                   # ... + h_(t-1) W_hh^T + ...
    db = da.sum(axis=0)
    dx = da @ W_ih
    dprev_h = da @ W_hh
    return {"dx": dx, "dprev_h": dprev_h, "dprev_c": dprev_c, "dW_ih": dW_ih, "dW_hh": dW_hh, "db": db,
            "dc": dc, "da": da}


def forward(x, h0, c0, params, forget_bias=0.0):
    """The layer over a sequence. x (N, T, D), h0 and c0 (N, H), params {"weight_ih",
    "weight_hh", ["bias_ih", "bias_hh"]} -> h (N, T, H), c (N, T, H), caches (one per step)."""
    N, T, D = x.shape
    h, c, caches = [], [], []
    prev_h, prev_c = h0, c0
    for t in range(T):
        prev_h, prev_c, cache = step_forward(x[:, t], prev_h, prev_c, params["weight_ih"], params["weight_hh"],
                                             params.get("bias_ih"), params.get("bias_hh"), forget_bias)
        h.append(prev_h)
        c.append(prev_c)
        caches.append(cache)
    return np.stack(h, axis=1), np.stack(c, axis=1), caches


def backward(dh, caches, dc_n=None):
    """Backpropagation through time. dh (N, T, H): the upstream gradient of every step's
    h_t, NOT the carried one (added here); dc_n (N, H): an optional gradient of the last c.

    Returns {"dx" (N, T, D), "dh0", "dc0" (N, H), "dweight_ih", "dweight_hh", ["dbias_ih",
    "dbias_hh"], "dh_total", "dc_total" (N, T, H): dL/dh_t and dL/dc_t counting every
    consumer, "steps": each step's own gradients (the dicts step_backward returned)}.
    """
    N, T, H = dh.shape
    dx = np.zeros((N, T, caches[0]["x"].shape[1]), dtype=dh.dtype)
    dh_total, dc_total = np.zeros_like(dh), np.zeros_like(dh)
    dW_ih, dW_hh = np.zeros_like(caches[0]["W_ih"]), np.zeros_like(caches[0]["W_hh"])
    db = np.zeros(4 * H, dtype=dh.dtype)
    steps = [None] * T
    dnext_h = np.zeros_like(dh[:, 0])                       # nothing comes back from beyond the last step
    dnext_c = np.zeros_like(dh[:, 0]) if dc_n is None else dc_n
    for t in reversed(range(T)):
        dh_total[:, t] = dh[:, t] + dnext_h                 # upstream plus the carry from step t+1
        step = step_backward(dh_total[:, t], dnext_c, caches[t])
        dc_total[:, t] = step["dc"]
        dx[:, t] = step["dx"]
        dW_ih += step["dW_ih"]                              # the weights are shared by every step:
        dW_hh += step["dW_hh"]                              # their gradients add up
        db += step["db"]
        dnext_h, dnext_c = step["dprev_h"], step["dprev_c"]
        steps[t] = step
    grads = {"dx": dx, "dh0": dnext_h, "dc0": dnext_c, "dweight_ih": dW_ih, "dweight_hh": dW_hh,
             "dh_total": dh_total, "dc_total": dc_total, "steps": steps}
    if caches[0]["has_bias"]:
        grads.update(dbias_ih=db, dbias_hh=db.copy())
    return grads

"""GRU layer: the textbook forward and backpropagation through time, both reset variants.

Row vectors and PyTorch's layout (weights stored (out, in), applied as x @ W.T; gate
blocks r, z, n stacked along the 3H rows). One step t:

    a_x = x_t W_ih^T + b_ih                          (N, 3H)  blocks a_xr, a_xz, a_xn
    r_t = s(a_xr + h_(t-1) W_hr^T + b_hr)            (N, H)   s the logistic sigmoid
    z_t = s(a_xz + h_(t-1) W_hz^T + b_hz)            (N, H)
    reset_after=True  (torch, Keras default):  a_hn = h_(t-1) W_hn^T + b_hn
                                               n_t = tanh(a_xn + r_t * a_hn)
    reset_after=False (TF1 GRUCell, Keras):    a_hn = (r_t * h_(t-1)) W_hn^T + b_hn
                                               n_t = tanh(a_xn + a_hn)
    h_t = (1 - z_t) * n_t + z_t * h_(t-1)            (N, H)

Backward of one step, given dnext_h = dL/dh_t (the loss, the layer above and the carry
from step t+1):

    dn = dnext_h * (1 - z_t)      dz = dnext_h * (h_(t-1) - n_t)      h_t = (1-z) n + z h_(t-1)
    da_n = dn * tanh'(n_t)                                            tanh' from its output
    reset_after:  da_hn = da_n * r_t     dr = da_n * a_hn    (a_hn = h_(t-1) W_hn^T + b_hn)
    reset_before: da_hn = da_n           drh = da_n W_hn  (the gradient of r_t * h_(t-1))
                  dr = drh * h_(t-1)
    da_r = dr * s'(r_t)    da_z = dz * s'(z_t)                        s' = s (1 - s)
    da_x = [da_r, da_z, da_n]     da_h = [da_r, da_z, da_hn]          (N, 3H) each
    dW_ih = da_x^T x_t, db_ih = sum of da_x;  dW_hh = da_h^T h_(t-1) (its n rows: da_hn^T
    (r_t h_(t-1)) when reset_before), db_hh = sum of da_h
    dx = da_x W_ih
    dprev_h = dnext_h * z_t + da_h W_hh  (reset_before: + drh * r_t, and only the r, z rows
              of W_hh in the product)                                 the carry to step t-1

Unlike the RNN and the LSTM, db_ih != db_hh in general: with reset_after, b_hn is scaled
by r_t and b_in is not. Shapes: x (N, T, D), h0 (N, H), W_ih (3H, D), W_hh (3H, H), b_ih and
b_hh (3H,). ``reference_impls.fast.gru`` computes the same numbers faster; tests hold the
two equal.
"""

import numpy as np

from ._act import dsigmoid, dtanh, sigmoid

STATES = ("h",)
GATES = ("r", "z", "n")
# The gate each local gradient of step_backward belongs to (for naming where a mistake lives).
LINE_GATES = {"dn": "n", "dz": "z", "dr": "r", "drh": "r", "da_n": "n", "da_hn": "n", "da_r": "r", "da_z": "z"}


def step_forward(x, prev_h, W_ih, W_hh, b_ih=None, b_hh=None, reset_after=True):
    """One step. x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
    H = prev_h.shape[1]
    if b_ih is None:
        b_ih = b_hh = np.zeros(3 * H, dtype=x.dtype)
        has_bias = False
    else:
        has_bias = True
    a_xr, a_xz, a_xn = np.split(x @ W_ih.T + b_ih, 3, axis=1)                  # (N, H) each
    W_hr, W_hz, W_hn = np.split(W_hh, 3, axis=0)                               # (H, H) each
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    a_r = a_xr + prev_h @ W_hr.T + b_hr
    a_z = a_xz + prev_h @ W_hz.T + b_hz
    r, z = sigmoid(a_r), sigmoid(a_z)
    if reset_after:
        a_hn = prev_h @ W_hn.T + b_hn
        a_n = a_xn + r * a_hn
    else:
        a_hn = (r * prev_h) @ W_hn.T + b_hn
        a_n = a_xn + a_hn
    n = np.tanh(a_n)
    next_h = (1 - z) * n + z * prev_h
    cache = {"x": x, "prev_h": prev_h, "r": r, "z": z, "n": n, "a_r": a_r, "a_z": a_z, "a_n": a_n, "a_hn": a_hn,
             "a_xn": a_xn, "next_h": next_h,
             "W_ih": W_ih, "W_hh": W_hh, "W_hr": W_hr, "W_hz": W_hz, "W_hn": W_hn, "b_ih": b_ih, "b_hh": b_hh,
             "b_hn": b_hn, "reset_after": reset_after, "has_bias": has_bias}
    return next_h, cache


def step_backward(dnext_h, cache):
    """One step back. dnext_h (N, H): dL/dh_t, carry included. Returns the step's gradients:
    dx (N, D), dprev_h (N, H), dW_ih, dW_hh (3H, .), db_ih, db_hh (3H,)."""
    x, prev_h, r, z, n = (cache[k] for k in ("x", "prev_h", "r", "z", "n"))
    W_ih, W_hh, b_hn = cache["W_ih"], cache["W_hh"], cache["b_hn"]
    W_hr, W_hz, W_hn = cache["W_hr"], cache["W_hz"], cache["W_hn"]      # the (H, H) blocks of W_hh
    dn = dnext_h * (1 - z)                                  # h_t = (1 - z_t) n_t + z_t h_(t-1)
    dz = dnext_h * (prev_h - n)
    dprev_h = dnext_h * z
    da_n = dn * dtanh(n)                                    # n_t = tanh(a_xn + ...)
    if cache["reset_after"]:                                # ... + r_t * a_hn)
        a_hn = prev_h @ W_hn.T + b_hn                       # what the reset gate multiplies
        da_hn = da_n * r
        dr = da_n * a_hn
    else:                                                   # ... + (r_t h_(t-1)) W_hn^T + b_hn)
        da_hn = da_n
        drh = da_n @ W_hn
        dr = drh * prev_h
        dprev_h = dprev_h + drh * r
    da_r = dr * dsigmoid(r)                                 # r_t = s(...)
    da_z = dz * dsigmoid(z)                                 # z_t = s(...)
    da_x = np.concatenate([da_r, da_z, da_n], axis=1)       # (N, 3H): dL/d(x_t W_ih^T + b_ih)
    da_h = np.concatenate([da_r, da_z, da_hn], axis=1)      # (N, 3H): dL/d(the recurrent products)
    dW_ih = da_x.T @ x
    db_ih = da_x.sum(axis=0)
    db_hh = da_h.sum(axis=0)
    dx = da_x @ W_ih
    if cache["reset_after"]:
        dW_hh = da_h.T @ prev_h
        dprev_h = dprev_h + da_h @ W_hh
    else:                                                   # W_hn reads r_t h_(t-1)
        dW_hh = np.concatenate([np.concatenate([da_r, da_z], axis=1).T @ prev_h, da_hn.T @ (r * prev_h)])
        dprev_h = dprev_h + da_r @ W_hr + da_z @ W_hz
    return {"dx": dx, "dprev_h": dprev_h, "dW_ih": dW_ih, "dW_hh": dW_hh, "db_ih": db_ih, "db_hh": db_hh,
            "da_x": da_x, "da_h": da_h}


def forward(x, h0, params, reset_after=True):
    """The layer over a sequence. x (N, T, D), h0 (N, H), params {"weight_ih", "weight_hh",
    ["bias_ih", "bias_hh"]} -> h (N, T, H), caches (one per step)."""
    N, T, D = x.shape
    h, caches = [], []
    prev_h = h0
    for t in range(T):
        prev_h, cache = step_forward(x[:, t], prev_h, params["weight_ih"], params["weight_hh"],
                                     params.get("bias_ih"), params.get("bias_hh"), reset_after)
        h.append(prev_h)
        caches.append(cache)
    return np.stack(h, axis=1), caches


def backward(dh, caches):
    """Backpropagation through time. dh (N, T, H): the upstream gradient of every step's
    h_t, NOT the carried one (added here).

    Returns {"dx" (N, T, D), "dh0" (N, H), "dweight_ih", "dweight_hh", ["dbias_ih",
    "dbias_hh"], "dh_total" (N, T, H): dL/dh_t counting every consumer, "steps": each
    step's own gradients (the dicts step_backward returned)}.
    """
    N, T, H = dh.shape
    dx = np.zeros((N, T, caches[0]["x"].shape[1]), dtype=dh.dtype)
    dh_total = np.zeros_like(dh)
    dW_ih, dW_hh = np.zeros_like(caches[0]["W_ih"]), np.zeros_like(caches[0]["W_hh"])
    db_ih, db_hh = np.zeros(3 * H, dtype=dh.dtype), np.zeros(3 * H, dtype=dh.dtype)
    steps = [None] * T
    dnext_h = np.zeros_like(dh[:, 0])                       # nothing comes back from beyond the last step
    for t in reversed(range(T)):
        dh_total[:, t] = dh[:, t] + dnext_h                 # upstream plus the carry from step t+1
        step = step_backward(dh_total[:, t], caches[t])
        dx[:, t] = step["dx"]
        dW_ih += step["dW_ih"]                              # the weights are shared by every step:
        dW_hh += step["dW_hh"]                              # their gradients add up
        db_ih += step["db_ih"]
        db_hh += step["db_hh"]
        dnext_h = step["dprev_h"]
        steps[t] = step
    grads = {"dx": dx, "dh0": dnext_h, "dweight_ih": dW_ih, "dweight_hh": dW_hh, "dh_total": dh_total,
             "steps": steps}
    if caches[0]["has_bias"]:
        grads.update(dbias_ih=db_ih, dbias_hh=db_hh)
    return grads

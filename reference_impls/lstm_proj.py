"""LSTM with peepholes, clipping and a projection (TF1 ``LSTMCell``; torch ``proj_size``):
the textbook forward and backpropagation through time.

Row vectors and PyTorch's layout, as in ``lstm.py`` (gate blocks i, f, g, o along the 4H
rows of the weights). One step t, with H cells and P = the projection size (P = H and
h_t = m_t without a projection):

    a_t = x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh        (N, 4H)  blocks a_i, a_f, a_g, a_o
    i_t = s(a_i + w_ci * c_(t-1))                          peephole on the OLD cell state
    f_t = s(a_f + forget_bias + w_cf * c_(t-1))            peephole on the OLD cell state
    g_t = tanh(a_g)
    u_t = f_t * c_(t-1) + i_t * g_t                         (N, H)  the cell state before clipping
    c_t = clip(u_t, -cell_clip, cell_clip)                  stored clipped
    o_t = s(a_o + w_co * c_t)                              peephole on the NEW, clipped cell state
    m_t = o_t * tanh(c_t)                                   (N, H)
    r_t = m_t W_hr^T                                        (N, P)  the projection, AFTER the output gate
    h_t = clip(r_t, -proj_clip, proj_clip)                  (N, P)

The peephole weights w_ci, w_cf, w_co are (H,) vectors (TF's w_i_diag, w_f_diag,
w_o_diag; torch has none); W_hr is (P, H) (torch's weight_hr, TF's projection/kernel^T).
A missing peephole weight, projection or clip (None) leaves that term out. Clipping
passes the gradient where |value| <= clip and stops it elsewhere (TF's clip_by_value).

Backward of one step, given dnext_h = dL/dh_t (the loss, the layer above and the carry
from step t+1) and dnext_c = the carry into c_t from step t+1 (through f_(t+1) and the
peepholes of i_(t+1) and f_(t+1)):

    dr = dnext_h * [|r_t| <= proj_clip]             h_t = clip(r_t)
    dW_hr = dr^T m_t,  dm = dr W_hr                  r_t = m_t W_hr^T
    do = dm * tanh(c_t)                              m_t = o_t * tanh(c_t)
    da_o = do * s'(o_t)                              o_t = s(a_o + w_co * c_t)
    dc = dnext_c + dm * o_t * tanh'(c_t) + da_o * w_co      c_t feeds c_(t+1), m_t and o_t
    dw_co = sum over the batch of da_o * c_t
    du = dc * [|u_t| <= cell_clip]                   c_t = clip(u_t)
    di = du * g_t,  df = du * c_(t-1),  dg = du * i_t       u_t = f_t c_(t-1) + i_t g_t
    da_i = di * s'(i_t),  da_f = df * s'(f_t),  da_g = dg * tanh'(g_t)
    dw_ci = sum of da_i * c_(t-1),  dw_cf = sum of da_f * c_(t-1)
    dprev_c = du * f_t + da_i * w_ci + da_f * w_cf  the carry into c_(t-1)
    da = [da_i, da_f, da_g, da_o]                    (N, 4H)
    dW_ih = da^T x_t, dW_hh = da^T h_(t-1), db = sum of da over the batch
    dx = da W_ih, dprev_h = da W_hh

Shapes: x (N, T, D), h0 (N, P), c0 (N, H), W_ih (4H, D), W_hh (4H, P), b_ih and b_hh (4H,),
w_ci, w_cf, w_co (H,), W_hr (P, H). ``lstm.py`` is the same cell without the extras.
"""

import numpy as np

from ._act import dsigmoid, dtanh, sigmoid

STATES = ("h", "c")
GATES = ("i", "f", "g", "o")
PEEPHOLES = ("weight_ci", "weight_cf", "weight_co")      # canonical names of w_ci, w_cf, w_co
EXTRAS = PEEPHOLES + ("weight_hr",)


def _clip(a, limit):
    return a if limit is None else np.clip(a, -limit, limit)


def _passes(a, limit):
    """d clip(a) / da: 1 where |a| <= limit, 0 where the clip is active."""
    return np.ones_like(a) if limit is None else (np.abs(a) <= limit).astype(a.dtype)


def step_forward(x, prev_h, prev_c, p, forget_bias=0.0, cell_clip=None, proj_clip=None):
    """One step. x (N, D), prev_h (N, P), prev_c (N, H), p the layer's weights (canonical
    names; the peepholes and weight_hr optional) -> next_h (N, P), next_c (N, H), cache."""
    w_ci, w_cf, w_co, W_hr = (p.get(name) for name in EXTRAS)
    a = x @ p["weight_ih"].T + prev_h @ p["weight_hh"].T    # (N, 4H)
    if "bias_ih" in p:
        a = a + p["bias_ih"] + p["bias_hh"]
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)             # (N, H) each
    if w_ci is not None:
        a_i = a_i + w_ci * prev_c                           # peepholes of i and f read c_(t-1)
        a_f = a_f + w_cf * prev_c
    i = sigmoid(a_i)
    f = sigmoid(a_f + forget_bias)
    g = np.tanh(a_g)
    u = f * prev_c + i * g
    next_c = _clip(u, cell_clip)
    if w_co is not None:
        a_o = a_o + w_co * next_c                           # o's peephole reads the new, clipped c_t
    o = sigmoid(a_o)
    tanh_c = np.tanh(next_c)
    m = o * tanh_c
    r = m if W_hr is None else m @ W_hr.T                   # (N, P): projected after the output gate
    next_h = _clip(r, proj_clip)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "i": i, "f": f, "g": g, "o": o, "u": u,
             "next_c": next_c, "tanh_c": tanh_c, "m": m, "r": r, "p": p,
             "cell_clip": cell_clip, "proj_clip": proj_clip}
    return next_h, next_c, cache


def step_backward(dnext_h, dnext_c, cache):
    """One step back. dnext_h (N, P): dL/dh_t, carry included; dnext_c (N, H): the carry
    into c_t from step t+1. Returns the step's gradients: dx, dprev_h, dprev_c, dW_ih, dW_hh,
    db, dW_hr, dw_ci, dw_cf, dw_co (those the layer has), and dc (N, H): dL/dc_t."""
    x, prev_h, prev_c, p = cache["x"], cache["prev_h"], cache["prev_c"], cache["p"]
    i, f, g, o, tanh_c, c, m = (cache[k] for k in ("i", "f", "g", "o", "tanh_c", "next_c", "m"))
    w_ci, w_cf, w_co, W_hr = (p.get(name) for name in EXTRAS)
    out = {}
    dr = dnext_h * _passes(cache["r"], cache["proj_clip"])  # h_t = clip(r_t)
    if W_hr is None:
        dm = dr
    else:
        out["dW_hr"] = dr.T @ m                             # r_t = m_t W_hr^T
        dm = dr @ W_hr
    do = dm * tanh_c                                        # m_t = o_t * tanh(c_t)
    da_o = do * dsigmoid(o)                                 # o_t = s(a_o + w_co * c_t)
    dc = dnext_c + dm * o * dtanh(tanh_c)                   # c_t feeds c_(t+1) and m_t ...
    if w_co is not None:
        dc = dc + da_o * w_co                               # ... and o_t's peephole
        out["dw_co"] = (da_o * c).sum(axis=0)
    du = dc * _passes(cache["u"], cache["cell_clip"])       # c_t = clip(u_t)
    di = du * g                                             # u_t = f_t * c_(t-1) + i_t * g_t
    df = du * prev_c
    dg = du * i
    da_i = di * dsigmoid(i)                                 # i_t = s(a_i + w_ci * c_(t-1))
    da_f = df * dsigmoid(f)                                 # f_t = s(a_f + forget_bias + w_cf * c_(t-1))
    da_g = dg * dtanh(g)                                    # g_t = tanh(a_g)
    dprev_c = du * f
    if w_ci is not None:
        dprev_c = dprev_c + da_i * w_ci + da_f * w_cf       # the peepholes of i and f read c_(t-1)
        out["dw_ci"] = (da_i * prev_c).sum(axis=0)
        out["dw_cf"] = (da_f * prev_c).sum(axis=0)
    da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)  # (N, 4H), blocks i, f, g, o
    out.update(dW_ih=da.T @ x, dW_hh=da.T @ prev_h, db=da.sum(axis=0),
               dx=da @ p["weight_ih"], dprev_h=da @ p["weight_hh"], dprev_c=dprev_c, dc=dc, da=da)
    return out


# step_backward's names -> the canonical gradient names
GRAD_NAMES = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "dW_hr": "dweight_hr",
              "dw_ci": "dweight_ci", "dw_cf": "dweight_cf", "dw_co": "dweight_co"}


def forward(x, h0, c0, params, forget_bias=0.0, cell_clip=None, proj_clip=None):
    """The layer over a sequence. x (N, T, D), h0 (N, P), c0 (N, H), params the layer's
    weights -> h (N, T, P), c (N, T, H), caches (one per step)."""
    N, T, D = x.shape
    h, c, caches = [], [], []
    prev_h, prev_c = h0, c0
    for t in range(T):
        prev_h, prev_c, cache = step_forward(x[:, t], prev_h, prev_c, params, forget_bias, cell_clip, proj_clip)
        h.append(prev_h)
        c.append(prev_c)
        caches.append(cache)
    return np.stack(h, axis=1), np.stack(c, axis=1), caches


def backward(dh, caches, dc_n=None):
    """Backpropagation through time. dh (N, T, P): the upstream gradient of every step's
    h_t (the carry is added here); dc_n (N, H): an optional gradient of the last c.

    Returns {"dx" (N, T, D), "dh0" (N, P), "dc0" (N, H), "dweight_ih", "dweight_hh",
    ["dbias_ih", "dbias_hh", "dweight_hr", "dweight_ci", "dweight_cf", "dweight_co"],
    "dh_total" (N, T, P), "dc_total" (N, T, H), "steps": each step's own gradients}.
    """
    N, T, P = dh.shape
    dnext_h = np.zeros_like(dh[:, 0])                       # nothing comes back from beyond the last step
    dnext_c = np.zeros_like(caches[0]["prev_c"]) if dc_n is None else dc_n
    dx = np.zeros((N, T, caches[0]["x"].shape[1]), dtype=dh.dtype)
    dh_total, dc_total = np.zeros_like(dh), np.zeros((N, T) + dnext_c.shape[1:], dtype=dh.dtype)
    steps = [None] * T
    for t in reversed(range(T)):
        dh_total[:, t] = dh[:, t] + dnext_h                 # upstream plus the carry from step t+1
        step = step_backward(dh_total[:, t], dnext_c, caches[t])
        dc_total[:, t] = step["dc"]
        dx[:, t] = step["dx"]
        dnext_h, dnext_c = step["dprev_h"], step["dprev_c"]
        steps[t] = step
    grads = {"dx": dx, "dh0": dnext_h, "dc0": dnext_c, "dh_total": dh_total, "dc_total": dc_total, "steps": steps}
    for name, canonical in GRAD_NAMES.items():
        if name in steps[0]:                                # the weights are shared by every step:
            grads[canonical] = sum(step[name] for step in steps)   # their gradients add up
    if "bias_ih" in caches[0]["p"]:
        grads["dbias_ih"] = sum(step["db"] for step in steps)
        grads["dbias_hh"] = grads["dbias_ih"].copy()
    return grads


def step_param_grads(grads, caches):
    """Each step's contribution to every parameter gradient: {name: (T, *shape)}."""
    steps = grads["steps"]
    out = {canonical: np.stack([s[name] for s in steps]) for name, canonical in GRAD_NAMES.items()
           if name in steps[0]}
    if "bias_ih" in caches[0]["p"]:
        out["dbias_ih"] = np.stack([s["db"] for s in steps])
        out["dbias_hh"] = out["dbias_ih"].copy()
    return out


def gate_values(caches):
    """The activated gates i, f, g, o of every step, (N, T, 4H)."""
    return np.stack([np.concatenate([c[g] for g in GATES], axis=1) for c in caches], axis=1)

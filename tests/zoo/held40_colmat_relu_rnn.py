"""A ReLU RNN on column-vector matrices, as an old lecture's NumPy port of MATLAB code: x is
(D, N, T) (one column per example), the weights sit in a ``params`` dict, every slice goes
through np.asmatrix so ``W * x`` is the product, the ReLU mask is an np.matrix of 0./1.,
``range(len(...))`` loops and explicit float() casts are kept from Python 2.

    h_t = relu(Wxh * x_t + Whh * h_(t-1) + bh)    x_t (D, N), h_t (H, N), bh (H, 1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

mat = np.asmatrix

BUGS = {
    "mask_from_h_prev": "wrong_time",                  # the ReLU mask of h_(t-1)
    "mask_forgotten": "derivative_missing",            # dz = dh_t
    "mask_of_dh": "derivative_wrong_point",            # relu'(dh_t): the mask taken of the gradient
    "Whh_no_T": "weight_transposed",                   # dh_next = Whh * dz
    "Wxh_for_dx_uses_Whh_rows": "wrong_weight",        # dx_t = Whh[:, :D].T * dz (Whh where Wxh belongs)
    "dWhh_from_dWhh": "gradient_for_weight",           # dh_next = dWhh.T * dz
    "dWhh_T": "gradient_transposed",                   # dWhh += h_prev * dz.T
    "dbh_sum_all": "unknown",                          # dbh += dz.sum(): every row gets the total
    "dh_next_replaced": "carry_overwrites",            # dh_t = dh_next for t < T - 1: dh[..., t] dropped
    "loop_len_minus_one": "loop_skips_step",           # range(len(xs) - 1)[::-1]: step T - 1 skipped
    "loop_ascending": "loop_direction",                # for t in range(len(xs))
    "dWxh_over_T": "reduction_scaled",                 # dWxh * (1.0 / float(T))
    "dx_with_sign": "wrong_sign",                      # dx_t = -(Wxh.T * dz)
    "leaky_forward": "forward_mistake",                # relu with slope 0.01 below zero, backward consistent
}
TOUCHES = {b: "" for b in BUGS}


def relu_forward(x, h0, params, bug=None):
    """x (D, N, T), h0 (H, N), params {Wxh, Whh, bh} -> h (H, N, T) ndarray, cache."""
    Wxh, Whh, bh = mat(params["Wxh"]), mat(params["Whh"]), mat(params["bh"])
    T = x.shape[2]
    xs, hs, masks = [], [mat(h0)], []
    for t in range(T):
        xs.append(mat(x[:, :, t]))
        z = Wxh * xs[t] + Whh * hs[t] + bh
        m = mat((z > 0).astype(x.dtype))
        if bug == "leaky_forward":
            m = m + 0.01 * (1 - m)
        masks.append(m)
        hs.append(np.multiply(m, z))
    h = np.zeros((Whh.shape[0], x.shape[1], T), dtype=x.dtype)
    for t in range(len(xs)):
        h[:, :, t] = hs[t + 1].A
    return h, {"xs": xs, "hs": hs, "masks": masks, "params": (Wxh, Whh, bh)}


def relu_backward(dh, cache, bug=None):
    """dh (H, N, T) -> {dx (D, N, T), dh0 (H, N), dWxh, dWhh, dbh} as ndarrays."""
    xs, hs, masks = cache["xs"], cache["hs"], cache["masks"]
    Wxh, Whh, bh = cache["params"]
    T = len(xs)
    D = Wxh.shape[1]
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dx = np.zeros((D, dh.shape[1], T), dtype=dh.dtype)
    dh_next = mat(np.zeros(hs[0].shape, dtype=dh.dtype))
    if bug == "loop_len_minus_one":
        order = range(len(xs) - 1)[::-1]
    elif bug == "loop_ascending":
        order = range(len(xs))
    else:
        order = range(len(xs))[::-1]
    for t in order:
        if bug == "dh_next_replaced" and t < T - 1:
            dh_t = dh_next
        else:
            dh_t = mat(dh[:, :, t]) + dh_next
        if bug == "mask_from_h_prev":
            dz = np.multiply(dh_t, (hs[t] > 0).astype(dh.dtype))
        elif bug == "mask_forgotten":
            dz = dh_t
        elif bug == "mask_of_dh":
            dz = np.multiply(dh_t, (dh_t > 0).astype(dh.dtype))
        else:
            dz = np.multiply(dh_t, masks[t])
        dWxh += dz * xs[t].T
        if bug == "dWhh_T":
            dWhh += hs[t] * dz.T
        else:
            dWhh += dz * hs[t].T
        if bug == "dbh_sum_all":
            dbh += dz.sum()
        else:
            dbh += dz.sum(1)
        if bug == "Wxh_for_dx_uses_Whh_rows":
            dx[:, :, t] = (Whh[:, :D].T * dz).A
        elif bug == "dx_with_sign":
            dx[:, :, t] = (-(Wxh.T * dz)).A
        else:
            dx[:, :, t] = (Wxh.T * dz).A
        if bug == "Whh_no_T":
            dh_next = Whh * dz
        elif bug == "dWhh_from_dWhh":
            dh_next = dWhh.T * dz
        else:
            dh_next = Whh.T * dz
    if bug == "dWxh_over_T":
        dWxh = dWxh * (1.0 / float(T))
    return {"dx": dx, "dh0": dh_next.A, "dWxh": dWxh.A, "dWhh": dWhh.A, "dbh": dbh.A}


def to_user(cell, p):
    return {"Wxh": np.array(p["weight_ih"]), "Whh": np.array(p["weight_hh"]),
            "bh": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {q: g[u] for u, q in (("dWxh", "dweight_ih"), ("dWhh", "dweight_hh")) if u in g}
    if "dbh" in g:
        out["dbias_ih"] = g["dbh"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="colmat_relu_rnn", cells=("rnn",), axes="DNT",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(relu_forward, bug=bug), partial(relu_backward, bug=bug),
            {"cell": "rnn", "layout": LAYOUT, "activation": "relu"})

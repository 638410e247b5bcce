"""A vanilla RNN as the popular sequence-models course writes it: column-major arrays, a
``parameters`` dict, a ``caches`` list and a ``gradients`` dict. Checked with:

    gradharness check examples.coursework_rnn:rnn_forward examples.coursework_rnn:rnn_backward \\
        --layout examples.coursework_rnn:LAYOUT

x (n_x, m, T_x), a0 (n_a, m), a (n_a, m, T_x); Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1),
and the output layer Wya (n_y, n_a), by (n_y, 1), which the check does not compare (it
checks the recurrent layer: their gradients are not expected).
"""

import numpy as np

import harness


def rnn_cell_forward(xt, a_prev, parameters):
    a_next = np.tanh(parameters["Waa"] @ a_prev + parameters["Wax"] @ xt + parameters["ba"])
    yt_pred = parameters["Wya"] @ a_next + parameters["by"]
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def rnn_forward(x, a0, parameters):
    n_x, m, T_x = x.shape
    n_a, n_y = parameters["Waa"].shape[0], parameters["Wya"].shape[0]
    a, y_pred = np.zeros((n_a, m, T_x), dtype=x.dtype), np.zeros((n_y, m, T_x), dtype=x.dtype)
    caches, a_next = [], a0
    for t in range(T_x):
        a_next, y_pred[:, :, t], cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        caches.append(cache)
    return a, y_pred, (caches, x)


def rnn_cell_backward(da_next, cache):
    a_next, a_prev, xt, parameters = cache
    dtanh = (1 - a_next ** 2) * da_next
    return {"dxt": parameters["Wax"].T @ dtanh, "da_prev": parameters["Waa"].T @ dtanh,
            "dWax": dtanh @ xt.T, "dWaa": dtanh @ a_prev.T, "dba": dtanh.sum(axis=1, keepdims=True)}


def rnn_backward(da, caches):
    """da (n_a, m, T_x): the upstream gradient of every step's a (not the carried one)."""
    caches, x = caches
    n_a, m, T_x = da.shape
    parameters = caches[0][3]
    dx = np.zeros_like(x)
    dWax, dWaa = np.zeros_like(parameters["Wax"]), np.zeros_like(parameters["Waa"])
    dba, da_prev = np.zeros_like(parameters["ba"]), np.zeros((n_a, m), dtype=da.dtype)
    for t in reversed(range(T_x)):
        g = rnn_cell_backward(da[:, :, t] + da_prev, caches[t])
        dx[:, :, t], da_prev = g["dxt"], g["da_prev"]
        dWax += g["dWax"]
        dWaa += g["dWaa"]
        dba += g["dba"]
    return {"dx": dx, "da0": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def to_user(cell, p):
    """Canonical (torch) weights -> the course's parameters dict (an output layer of zeros)."""
    H = p["weight_hh"].shape[0]
    return {"Wax": p["weight_ih"], "Waa": p["weight_hh"], "ba": (p["bias_ih"] + p["bias_hh"])[:, None],
            "Wya": np.zeros((2, H), p["weight_hh"].dtype), "by": np.zeros((2, 1), p["weight_hh"].dtype)}


def to_canonical(cell, g, p):
    """The course's gradients -> canonical ones (ba is b_ih + b_hh: its gradient is both)."""
    names = {"dWax": "dweight_ih", "dWaa": "dweight_hh"}
    out = {names[k]: v for k, v in g.items() if k in names}
    if "dba" in g:
        out["dbias_ih"] = g["dba"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="coursework", cells=("rnn",), axes="DNT",
                               weights_as="dict", forward_returns=("h", "y", "cache"), names={"h": "a"})

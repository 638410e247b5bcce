"""A vanilla RNN the way the popular sequence-models course writes it ("Building your
Recurrent Neural Network - Step by Step"): column-major arrays, one ``parameters`` dict,
step functions and sequence functions, a ``caches`` tuple and a ``gradients`` dict.

    a<t> = tanh(Wax x<t> + Waa a<t-1> + ba)        x (n_x, m, T_x), a0 (n_a, m)
    y<t> = softmax(Wya a<t> + by)                    (not part of the check)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

N_Y = 2                             # the output size of the course's softmax head (unused by the check)

BUGS = {
    "dtanh_forgotten": "derivative_missing",             # dtanh = da_next
    "dtanh_one_minus_a": "derivative_miswritten",        # (1 - a_next) instead of (1 - a_next**2)
    "dtanh_of_tanh": "derivative_wrong_point",           # 1 - tanh(a_next)**2: tanh' at the output
    "dtanh_in_driver_too": "derivative_twice",           # driver multiplies by 1 - a^2, the cell again
    "dtanh_flipped": "wrong_sign",                       # (a_next**2 - 1)
    "cache_a_next_twice": "wrong_time",                  # cache = (a_next, a_next, xt, ...): dWaa from a<t>
    "dWax_next_input": "wrong_time",                     # driver takes x<t+1> (wrapping) for dWax
    "Waa_not_transposed": "weight_transposed",           # da_prev = Waa @ dtanh
    "da_prev_from_dWaa": "gradient_for_weight",          # da_prev = dWaa.T @ dtanh
    "da_upstream_dropped": "term_dropped",               # cell gets da_prevt only, da[:, :, t] left out
    "da_prevt_not_added": "carry_dropped",               # cell gets da[:, :, t] only
    "dWax_assigned": "carry_overwrites",                 # dWax = dWaxt instead of +=
    "loop_from_one": "loop_skips_step",                  # reversed(range(1, T_x))
    "dba_mean": "reduction_scaled",                      # np.mean over the batch for dba
    "dWaa_over_T": "reduction_scaled",                   # dWaa / T_x at the end
    "sigmoid_cell": "forward_mistake",                   # sigmoid cell, backward consistent with it
    "cache_unpacked_swapped": "unknown",                 # (a_prev, a_next, ...) = cache: two wrong reads
    "dx_shifted": "wrong_time",                          # dx[:, :, t - 1] = dxt (every step shifted, t=0 wraps); one
                                                         # mistake: relabelled from "unknown" (held26 labels it so)
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def rnn_cell_forward(xt, a_prev, parameters, bug=None):
    """xt (n_x, m), a_prev (n_a, m) -> a_next (n_a, m), yt_pred (n_y, m), cache."""
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    Wya = parameters["Wya"]
    ba = parameters["ba"]
    by = parameters["by"]
    z = np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba
    a_next = sigmoid(z) if bug == "sigmoid_cell" else np.tanh(z)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    if bug == "cache_a_next_twice":
        cache = (a_next, a_next, xt, parameters)
    else:
        cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_forward(x, a0, parameters, bug=None):
    """x (n_x, m, T_x), a0 (n_a, m) -> a (n_a, m, T_x), y_pred (n_y, m, T_x), caches."""
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    y_pred = np.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters, bug)
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    caches = (caches, x)
    return a, y_pred, caches


def rnn_cell_backward(da_next, cache, bug=None):
    """da_next (n_a, m) -> gradients {dxt, da_prev, dWax, dWaa, dba}."""
    if bug == "cache_unpacked_swapped":
        (a_prev, a_next, xt, parameters) = cache
    else:
        (a_next, a_prev, xt, parameters) = cache
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    if bug == "dtanh_forgotten":
        dtanh = da_next
    elif bug == "dtanh_one_minus_a":
        dtanh = (1 - a_next) * da_next
    elif bug == "dtanh_of_tanh":
        dtanh = (1 - np.tanh(a_next) ** 2) * da_next
    elif bug == "dtanh_flipped":
        dtanh = (a_next ** 2 - 1) * da_next
    elif bug == "sigmoid_cell":
        dtanh = a_next * (1 - a_next) * da_next
    else:
        dtanh = (1 - a_next ** 2) * da_next
    dxt = np.dot(Wax.T, dtanh)
    dWax = np.dot(dtanh, xt.T)
    dWaa = np.dot(dtanh, a_prev.T)
    if bug == "Waa_not_transposed":
        da_prev = np.dot(Waa, dtanh)
    elif bug == "da_prev_from_dWaa":
        da_prev = np.dot(dWaa.T, dtanh)
    else:
        da_prev = np.dot(Waa.T, dtanh)
    if bug == "dba_mean":
        dba = np.mean(dtanh, axis=1, keepdims=True)
    else:
        dba = np.sum(dtanh, axis=1, keepdims=True)
    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba, "dtanh": dtanh}
    return gradients


def rnn_backward(da, caches, bug=None):
    """da (n_a, m, T_x): upstream gradients -> gradients {dx, da0, dWax, dWaa, dba}."""
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
    dWax = np.zeros((n_a, n_x), dtype=da.dtype)
    dWaa = np.zeros((n_a, n_a), dtype=da.dtype)
    dba = np.zeros((n_a, 1), dtype=da.dtype)
    da0 = np.zeros((n_a, m), dtype=da.dtype)
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)
    steps = reversed(range(1, T_x)) if bug == "loop_from_one" else reversed(range(T_x))
    for t in steps:
        if bug == "da_upstream_dropped":
            da_next = da_prevt
        elif bug == "da_prevt_not_added":
            da_next = da[:, :, t]
        else:
            da_next = da[:, :, t] + da_prevt
        if bug == "dtanh_in_driver_too":
            a_t = caches[t][0]
            da_next = da_next * (1 - a_t ** 2)
        gradients = rnn_cell_backward(da_next, caches[t], bug)
        dxt, da_prevt, dWaxt, dWaat, dbat = (gradients["dxt"], gradients["da_prev"], gradients["dWax"],
                                             gradients["dWaa"], gradients["dba"])
        if bug == "dx_shifted":
            dx[:, :, t - 1] = dxt
        else:
            dx[:, :, t] = dxt
        if bug == "dWax_assigned":
            dWax = dWaxt
        elif bug == "dWax_next_input":
            dWax += np.dot(gradients["dtanh"], x[:, :, (t + 1) % T_x].T)
        else:
            dWax += dWaxt
        dWaa += dWaat
        dba += dbat
    da0 = da_prevt
    if bug == "dWaa_over_T":
        dWaa = dWaa / T_x
    gradients = {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}
    return gradients


def to_user(cell, p):
    """Canonical torch weights -> the course's parameters dict (Wya, by: a fixed head)."""
    H = p["weight_hh"].shape[0]
    rng = np.random.default_rng(7)
    return {"Wax": np.array(p["weight_ih"]), "Waa": np.array(p["weight_hh"]),
            "ba": (p["bias_ih"] + p["bias_hh"])[:, None],
            "Wya": rng.uniform(-0.5, 0.5, (N_Y, H)).astype(p["weight_hh"].dtype),
            "by": np.zeros((N_Y, 1), dtype=p["weight_hh"].dtype)}


def to_canonical(cell, g, p):
    out = {}
    if "dWax" in g:
        out["dweight_ih"] = g["dWax"]
    if "dWaa" in g:
        out["dweight_hh"] = g["dWaa"]
    if "dba" in g:
        out["dbias_ih"] = g["dba"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="course_rnn", cells=("rnn",), axes="DNT",
                               weights_as="dict", forward_returns=("h", "y", "cache"), names={"h": "a"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(rnn_forward, bug=bug), partial(rnn_backward, bug=bug),
            {"cell": "rnn", "layout": LAYOUT,
             "skip": ("dWya", "dby")})           # the softmax head: not part of the recurrent layer

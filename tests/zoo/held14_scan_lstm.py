"""An LSTM written lax.scan-style by a JAX user porting to NumPy: a pure
``step(params, carry, x_t) -> (carry, y)`` with carry = (h, c), a ``scan`` helper (with a
``reverse`` flag) that drives it, and a hand-written ``step_bwd`` driven by the same helper
in reverse. Only the step inputs (x_t, h, c) are saved as residuals; ``step_bwd``
rematerializes the gates from them, as jax.checkpoint would. Haiku's conventions: one
params dict, gate columns i, g, f, o, and 1 added to the forget gate's pre-activation:

    gates = x_t @ w_x + h @ w_h + b          i, g, f, o = split(gates, 4)
    i, g, f, o = sigmoid(i), tanh(g), sigmoid(f + 1), sigmoid(o)
    c' = f * c + i * g                        h' = o * tanh(c')

x (T, N, D) time-major, h0, c0 (N, H), params {"w_x": (D, 4H), "w_h": (H, 4H), "b": (4H,)};
forward(x, h0, c0, params) -> (h (T, N, H), cache); backward(dh, cache) -> a dict (dx, dh0,
dc0, dw_x, dw_h, db). Checked with forget_bias=1.0. Fourteenth held-out zoo: written without
reading the diagnosis.
"""

from functools import partial

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "no_plus_one_anywhere": "forget_bias",               # f = sigmoid(f) in step and in step_bwd's remat: Haiku's + 1 forgotten
    "remat_forgets_plus_one": "forget_bias",             # the rematerialized f = sigmoid(f) in step_bwd (the forward has + 1)
    "dc_carry_not_returned": "carry_dropped",            # step_bwd returns (dh_prev, zeros_like(dc_prev))
    "split_as_i_f_g_o": "gate_order",                    # i, f, g, o = split(...) in step and in the remat: consistent, wrong model
    "tanh_grad_at_c": "derivative_wrong_point",          # dc += dh * o * (1 - c_new ** 2)
    "do_with_c": "wrong_value",                          # do = dh * c_new (for dh * tanh(c_new))
    "df_with_c_new": "wrong_time",                       # df = dc * c_new (c_t for c_{t-1})
    "dg_no_tanh_grad": "derivative_missing",             # da_g = dg
    "di_with_tanh_grad": "derivative_wrong_function",    # da_i = di * (1 - i ** 2)
    "dh_prev_from_dw_h": "gradient_for_weight",          # dh_prev = da @ grads["w_h"].T (the step's gradient, just computed)
    "scan_bwd_not_reversed": "loop_direction",           # scan(step_bwd, ..., reverse=False)
    "grads_mean_over_steps": "reduction_scaled",         # the stacked per-step gradients reduced with .mean(0), not .sum(0)
    "c_updated_in_place": "inplace_corruption",          # c *= f; c += i * g on the carried array: the residual c is c'
    "do_with_c_and_dc_dropped": "unknown",               # two mistakes: do_with_c and dc_carry_not_returned together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "no_plus_one_anywhere": "",
    "remat_forgets_plus_one": "",
    "dc_carry_not_returned": "",
    "split_as_i_f_g_o": "",
    "tanh_grad_at_c": "ifg",
    "do_with_c": "o",
    "df_with_c_new": "f",
    "dg_no_tanh_grad": "g",
    "di_with_tanh_grad": "i",
    "dh_prev_from_dw_h": "",
    "scan_bwd_not_reversed": "",
    "grads_mean_over_steps": "",
    "c_updated_in_place": "",
    "do_with_c_and_dc_dropped": "o",
}

ORDER = "igfo"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def scan(f, init, xs, reverse=False):
    carry, ys = init, [None] * len(xs)
    for t in (reversed(range(len(xs))) if reverse else range(len(xs))):
        carry, ys[t] = f(carry, xs[t])
    return carry, ys


def gates_of(params, x_t, h, bug=None, in_bwd=False):
    a = x_t @ params["w_x"] + h @ params["w_h"] + params["b"]
    if bug == "split_as_i_f_g_o":
        i, f, g, o = np.split(a, 4, axis=-1)
    else:
        i, g, f, o = np.split(a, 4, axis=-1)
    no_plus_one = bug == "no_plus_one_anywhere" or (bug == "remat_forgets_plus_one" and in_bwd)
    return sigmoid(i), np.tanh(g), sigmoid(f if no_plus_one else f + 1.0), sigmoid(o)


def step(params, carry, x_t, bug=None):
    h, c = carry
    i, g, f, o = gates_of(params, x_t, h, bug)
    if bug == "c_updated_in_place":
        c_new = c
        c_new *= f
        c_new += i * g
    else:
        c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return (h_new, c_new), (h_new, (x_t, h, c))


def step_bwd(params, carry_bar, inp, bug=None):
    dh_carry, dc_carry = carry_bar
    dh_t, (x_t, h, c) = inp
    i, g, f, o = gates_of(params, x_t, h, bug, in_bwd=True)
    c_new = f * c + i * g
    tc = np.tanh(c_new)
    dh = dh_t + dh_carry
    do = dh * c_new if bug in ("do_with_c", "do_with_c_and_dc_dropped") else dh * tc
    dc = dc_carry + dh * o * (1 - (c_new ** 2 if bug == "tanh_grad_at_c" else tc ** 2))
    di, dg = dc * g, dc * i
    df = dc * (c_new if bug == "df_with_c_new" else c)
    dc_prev = dc * f
    da_i = di * (1 - i ** 2) if bug == "di_with_tanh_grad" else di * i * (1 - i)
    da_g = dg if bug == "dg_no_tanh_grad" else dg * (1 - g ** 2)
    da_f = df * f * (1 - f)
    da_o = do * o * (1 - o)
    if bug == "split_as_i_f_g_o":
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=-1)
    else:
        da = np.concatenate([da_i, da_g, da_f, da_o], axis=-1)
    grads = {"w_x": x_t.T @ da, "w_h": h.T @ da, "b": da.sum(axis=0)}
    dx = da @ params["w_x"].T
    dh_prev = da @ (grads["w_h"] if bug == "dh_prev_from_dw_h" else params["w_h"]).T
    if bug in ("dc_carry_not_returned", "do_with_c_and_dc_dropped"):
        dc_prev = np.zeros_like(dc_prev)
    return (dh_prev, dc_prev), (dx, grads)


def forward(x, h0, c0, params, bug=None):
    (_, _), ys = scan(partial(step, params, bug=bug), (h0, c0), list(x))
    hs = np.stack([y[0] for y in ys])
    return hs, (params, [y[1] for y in ys])


def backward(dh, cache, bug=None):
    params, residuals = cache
    zeros = np.zeros_like(dh[0])
    (dh0, dc0), outs = scan(partial(step_bwd, params, bug=bug), (zeros, zeros), list(zip(dh, residuals)),
                            reverse=bug != "scan_bwd_not_reversed")
    reduce = (lambda v: v.mean(axis=0)) if bug == "grads_mean_over_steps" else (lambda v: v.sum(axis=0))
    grads = {k: reduce(np.stack([o[1][k] for o in outs])) for k in params}
    return {"dx": np.stack([o[0] for o in outs]), "dh0": dh0, "dc0": dc0,
            "dw_x": grads["w_x"], "dw_h": grads["w_h"], "db": grads["b"]}


def to_user(cell, p):
    return {"w_x": reorder(p["weight_ih"], "ifgo", ORDER, 0).T, "w_h": reorder(p["weight_hh"], "ifgo", ORDER, 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", ORDER, 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dw_x" in grads:
        out["dweight_ih"] = reorder(grads["dw_x"].T, ORDER, "ifgo", 0)
    if "dw_h" in grads:
        out["dweight_hh"] = reorder(grads["dw_h"].T, ORDER, "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], ORDER, "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="scan_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, params):
        return forward(x, h0, c0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT, "forget_bias": 1.0}

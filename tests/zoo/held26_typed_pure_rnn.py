"""A vanilla RNN on the built-in ``cs231n`` layout, written as pure functions with type hints
in the style of a research prototype ported from JAX: a ``Params`` NamedTuple, one cell
function returning ``(new_state, residual)``, one ``cell_vjp`` returning ``(param_grads,
state_grad, input_grad)``, a ``scan`` over the time-major sequence and a ``tree_add`` to sum
the per-step gradients:

    h_t = tanh(x_t @ Wx + h_(t-1) @ Wh + b)         x (N, T, D), Wx (D, H), Wh (H, H), b (H,)

Twenty-sixth held-out zoo: written without reading the diagnosis.
"""

from typing import NamedTuple

import numpy as np

Array = np.ndarray

BUGS = {
    "g_pre_sign": "wrong_sign",                           # g_pre = g_h * (res.h ** 2 - 1)
    "tanh_grad_at_preactivation": "derivative_wrong_point",  # 1 - res.pre ** 2: tanh' written on the pre-activation
    "g_Wh_outer_flipped": "gradient_transposed",          # (res.h_prev.T @ g_pre).T: Wh's gradient transposed
    "state_grad_Wh_untransposed": "weight_transposed",    # g_h_prev = g_pre @ params.Wh (no .T)
    "scan_stops_before_t0": "loop_skips_step",            # for t in range(T - 1, 0, -1)
    "carry_name_typo": "carry_dropped",                   # g_hprev = g_h_prev: the carry g_carry never updated
    "carry_replaces_upstream": "carry_overwrites",        # g_h = g_carry for t < T - 1 (dh[:, t] thrown away)
    "db_mean_over_batch": "reduction_scaled",             # b's gradient g_pre.mean(0) for .sum(0)
    "forward_bias_twice": "forward_mistake",              # pre = x @ Wx + b + h @ Wh + b; backward: 2 * g_pre.sum(0)
    "scan_runs_forward": "loop_direction",                # the backward scan runs t = 0 .. T-1
    "residual_index_minus_one": "wrong_time",             # res = residuals[t - 1] (thinking residuals[0] is h0's)
    "carry_clipped": "gradient_clipped",                  # g_carry = np.clip(g_carry, -0.1, 0.1) each step
    "g_pre_halved": "unknown",                            # g_pre = 0.5 * g_h * (1 - res.h ** 2): an arbitrary 1/2
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "g_pre_sign": "",
    "tanh_grad_at_preactivation": "",
    "g_Wh_outer_flipped": "",
    "state_grad_Wh_untransposed": "",
    "scan_stops_before_t0": "",
    "carry_name_typo": "",
    "carry_replaces_upstream": "",
    "db_mean_over_batch": "",
    "forward_bias_twice": "",
    "scan_runs_forward": "",
    "residual_index_minus_one": "",
    "carry_clipped": "",
    "g_pre_halved": "",
}


class Params(NamedTuple):
    Wx: Array
    Wh: Array
    b: Array


class Residual(NamedTuple):
    x: Array
    h_prev: Array
    pre: Array
    h: Array


def tree_add(a: Params, b: Params) -> Params:
    return Params(*(u + v for u, v in zip(a, b)))


def tree_zeros(p: Params) -> Params:
    return Params(*(np.zeros_like(u) for u in p))


def cell(params: Params, h: Array, x: Array, bug=None) -> tuple[Array, Residual]:
    pre = x @ params.Wx + params.b + h @ params.Wh
    if bug == "forward_bias_twice":
        pre = pre + params.b
    h_new = np.tanh(pre)
    return h_new, Residual(x, h, pre, h_new)


def cell_vjp(params: Params, res: Residual, g_h: Array, bug=None) -> tuple[Params, Array, Array]:
    if bug == "g_pre_sign":
        g_pre = g_h * (res.h ** 2 - 1)
    elif bug == "tanh_grad_at_preactivation":
        g_pre = g_h * (1 - res.pre ** 2)
    elif bug == "g_pre_halved":
        g_pre = 0.5 * g_h * (1 - res.h ** 2)
    else:
        g_pre = g_h * (1 - res.h ** 2)
    g_Wh = (res.h_prev.T @ g_pre).T if bug == "g_Wh_outer_flipped" else res.h_prev.T @ g_pre
    if bug == "db_mean_over_batch":
        g_b = g_pre.mean(0)
    elif bug == "forward_bias_twice":
        g_b = 2 * g_pre.sum(0)
    else:
        g_b = g_pre.sum(0)
    grads = Params(Wx=res.x.T @ g_pre, Wh=g_Wh, b=g_b)
    g_h_prev = g_pre @ (params.Wh if bug == "state_grad_Wh_untransposed" else params.Wh.T)
    g_x = g_pre @ params.Wx.T
    return grads, g_h_prev, g_x


def scan(params: Params, h0: Array, xs: Array, bug=None) -> tuple[Array, list[Residual]]:
    """xs time-major (T, N, D) -> hs (T, N, H), residuals."""
    h, hs, residuals = h0, [], []
    for x in xs:
        h, res = cell(params, h, x, bug)
        hs.append(h)
        residuals.append(res)
    return np.stack(hs), residuals


def scan_vjp(params: Params, residuals: list[Residual], g_hs: Array, bug=None) -> tuple[Params, Array, Array]:
    """g_hs (T, N, H) -> param grads, g_h0 (N, H), g_xs (T, N, D)."""
    T = len(residuals)
    total = tree_zeros(params)
    g_carry = np.zeros_like(g_hs[0])
    g_xs = [None] * T
    if bug == "scan_runs_forward":
        order = range(T)
    elif bug == "scan_stops_before_t0":
        order = range(T - 1, 0, -1)
        g_xs[0] = np.zeros_like(residuals[0].x)
    else:
        order = range(T - 1, -1, -1)
    for t in order:
        res = residuals[t - 1] if bug == "residual_index_minus_one" else residuals[t]
        g_h = g_carry if (bug == "carry_replaces_upstream" and t < T - 1) else g_hs[t] + g_carry
        grads, g_h_prev, g_xs[t] = cell_vjp(params, res, g_h, bug)
        total = tree_add(total, grads)
        if bug == "carry_name_typo":
            g_hprev = g_h_prev          # noqa: F841
        else:
            g_carry = g_h_prev
        if bug == "carry_clipped":
            g_carry = np.clip(g_carry, -0.1, 0.1)
    return total, g_carry, np.stack(g_xs)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        params = Params(Wx, Wh, b)
        hs, residuals = scan(params, h0, x.transpose(1, 0, 2), bug)
        return hs.transpose(1, 0, 2), (params, residuals)

    def backward(dh, cache):
        params, residuals = cache
        grads, dh0, g_xs = scan_vjp(params, residuals, dh.transpose(1, 0, 2), bug)
        return g_xs.transpose(1, 0, 2), dh0, grads.Wx, grads.Wh, grads.b

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

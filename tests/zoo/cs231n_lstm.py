"""An LSTM the cs231n way: gate blocks i, f, o, g packed along the 4H columns of Wx (D, 4H),
Wh (H, 4H) and b (4H,); c0 = 0 (not an argument).

``bug`` plants one classic mistake (see BUGS); None is the correct code.
"""

from functools import partial

import numpy as np

BUGS = {
    "act_tanh_c": "derivative_wrong_point",         # 1 - c^2 instead of 1 - tanh(c)^2
    "carry_dropped": "carry_dropped",             # neither dnext_h nor dnext_c added
    "carry_h_dropped": "carry_dropped",           # dnext_h never added (dnext_c kept)
    "carry_c_dropped": "carry_dropped",           # dnext_c never added (dnext_h kept)
    "pair_x_prev": "wrong_time",          # dWx from x_{t-1}
    "pair_h_next": "wrong_time",          # dWh from h_t instead of h_{t-1}
    "skip_first": "loop_skips_step",
    "skip_last": "loop_skips_step",
    "bias_mean_N": "reduction_scaled",
    "bias_mean_NT": "reduction_scaled",
    "bias_sign": "wrong_sign",
    "bwd_swap_fo": "gate_order",                  # backward writes df and do into each other's block
    "read_torch_order": "gate_order",             # forward and backward both read blocks as i, f, g, o
    "do_without_tanh": "wrong_value",             # do = dnext_h * next_c: tanh(c) left out
    "clip_global_norm": "gradient_clipped",       # dWx, dWh, db rescaled together to a norm of at most 0.1
    "chunks_of_2": "truncated_bptt",              # the carries reset every 2 steps (chunked truncated BPTT)
    "forward_bias_twice_followed": "forward_mistake",   # a = ... + 2 b, and db = 2 * sum(da): consistent
    "g_from_cache_before": "wrong_time",          # g unpacked from cache[t - 1] (at t = 0: cache[-1], the last step's)
}


def sigmoid(x):
    """A numerically stable logistic sigmoid."""
    pos = x >= 0
    z = np.exp(np.where(pos, -x, x))
    return np.where(pos, 1 / (1 + z), z / (1 + z))


def _order(bug):
    return "ifgo" if bug == "read_torch_order" else "ifog"


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    """x (N, D), prev_h, prev_c (N, H) -> next_h, next_c (N, H), cache."""
    a = x @ Wx + prev_h @ Wh + b                                    # (N, 4H)
    if bug == "forward_bias_twice_followed":
        a += b
    blocks = dict(zip(_order(bug), np.split(a, 4, axis=1)))         # (N, H) each
    i, f, o = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"])
    g = np.tanh(blocks["g"])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c, next_h)


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    """-> dx (N, D), dprev_h, dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c, next_h = cache
    tc = np.tanh(next_c)
    dtanh = 1 - next_c ** 2 if bug == "act_tanh_c" else 1 - tc ** 2
    dc = dnext_h * o * dtanh if bug == "carry_c_dropped" else dnext_c + dnext_h * o * dtanh
    grads = {"i": dc * g * i * (1 - i), "f": dc * prev_c * f * (1 - f),
             "o": dnext_h * (next_c if bug == "do_without_tanh" else tc) * o * (1 - o), "g": dc * i * (1 - g ** 2)}
    order = "iofg" if bug == "bwd_swap_fo" else _order(bug)
    da = np.concatenate([grads[k] for k in order], axis=1)          # (N, 4H)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dprev_c = dc * f
    dWx = x.T @ da
    dWh = (next_h if bug == "pair_h_next" else prev_h).T @ da
    return dx, dprev_h, dprev_c, dWx, dWh, da.sum(axis=0) * (2 if bug == "forward_bias_twice_followed" else 1)


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache. The cell state starts at zero."""
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    caches = []
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b, bug)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward(dh, cache, bug=None):
    """dh (N, T, H) upstream gradients -> dx (N, T, D), dh0 (N, H), dWx, dWh, db."""
    N, T, H = dh.shape
    Wx, Wh = cache[0][3], cache[0][4]
    D = Wx.shape[0]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    steps = {"skip_first": range(T - 1, 0, -1), "skip_last": range(T - 2, -1, -1)}.get(bug, range(T - 1, -1, -1))
    for t in steps:
        step_cache = cache[t]
        if bug == "pair_x_prev":
            step_cache = (cache[t - 1][0] if t else np.zeros_like(cache[0][0]),) + step_cache[1:]
        if bug == "g_from_cache_before":
            step_cache = step_cache[:8] + (cache[t - 1][8],) + step_cache[9:]
        dnext_h = dh[:, t] if bug in ("carry_dropped", "carry_h_dropped") else dh[:, t] + dprev_h
        dnext_c = np.zeros_like(dprev_c) if bug == "carry_dropped" else dprev_c
        if bug == "chunks_of_2" and t % 2 == 1:                    # a new chunk starts at t = 1, 3, ...
            dnext_h, dnext_c = dh[:, t], np.zeros_like(dprev_c)
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dnext_h, dnext_c, step_cache, bug)
        dWx += dWx_t
        dWh += dWh_t
        db += -db_t if bug == "bias_sign" else db_t
    if bug == "bias_mean_N":
        db /= N
    elif bug == "bias_mean_NT":
        db /= N * T
    elif bug == "clip_global_norm":
        norm = np.sqrt(sum(np.sum(g ** 2) for g in (dWx, dWh, db)))
        for g in (dWx, dWh, db):
            g *= min(1.0, 0.1 / norm)
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug),
            {"cell": "lstm", "layout": "cs231n"})

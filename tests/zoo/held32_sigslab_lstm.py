"""A time-major LSTM written for speed with the gate blocks in the order i, f, o, g so that
one in-place sigmoid covers a contiguous 3H slab and one in-place tanh the last H columns.
Weights in torch's orientation (W_ih (4H, D), W_hh (4H, H), one bias (4H,)), but the user's
block order; TF's forget_bias = 1.0 added to the f pre-activations of all steps at once.
The input projection of every step is one matmul into a preallocated (T, N, 4H) array G,
which the loop turns in place into the gate activations; the backward fills a (T, N, 4H)
dG and does dx and the weight gradients as one matmul each after the loop.

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_left_out": "forget_bias",              # the G[:, :, H:2H] += FORGET_BIAS line missing
    "backward_unpacks_torch_order": "gate_order",       # backward: i, f, g, o = split(G[t]) and dG written in
                                                        # that order (the forward's order is i, f, o, g)
    "df_with_new_c": "wrong_time",                      # df = dc * cs[t + 1] (c_t for c_(t-1))
    "dc_next_without_f": "term_dropped",                # dc_next = dc: the factor f left out
    "do_uses_c_not_tanh_c": "wrong_value",              # do = dht * cs[t + 1] * o(1-o): c_t for tanh(c_t)
    "dc_misses_tanh_grad": "derivative_missing",        # dc = dc_next + dht * o
    "dc_carry_not_added": "carry_dropped",              # dc = dht * o * (1 - tanh(c) ** 2): the c carry dropped
    "dg_sigmoid_grad": "derivative_wrong_function",     # dg = dc * i * g * (1 - g)
    "tanh_c_squared_in_place": "inplace_corruption",    # tct = tc[t]; tct **= 2 for 1 - tct: the cached tanh(c)
                                                        # that do reads is squared
    "dbias_mean": "reduction_scaled",                   # dbias = dG2.mean(axis=0): off by T*N
    "loop_skips_first": "loop_skips_step",              # reversed(range(1, T))
    "forward_h_without_tanh": "forward_mistake",        # h = o * c; backward consistent
    "dW_hh_with_new_h": "wrong_time",                   # dW_hh from hs[1:]: h_t for h_(t-1)
    "df_new_c_and_do_no_sig": "unknown",                # df_with_new_c and do without o(1-o), together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "backward_unpacks_torch_order": "fgo",
    "df_with_new_c": "f",
    "dc_next_without_f": "",
    "do_uses_c_not_tanh_c": "o",
    "dc_misses_tanh_grad": "ifg",
    "dc_carry_not_added": "",
    "dg_sigmoid_grad": "g",
    "tanh_c_squared_in_place": "o",
    "dbias_mean": "",
    "loop_skips_first": "",
    "forward_h_without_tanh": "",
    "dW_hh_with_new_h": "",
    "df_new_c_and_do_no_sig": "fo",
}


def _sigmoid_(a):
    """In place: a <- 1 / (1 + exp(-a))."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def lstm_forward(x, h0, c0, W_ih, W_hh, bias, bug=None):
    """x (T, N, D), h0, c0 (N, H) -> h (T, N, H), cache."""
    T, N, D = x.shape
    H = h0.shape[1]
    G = (x.reshape(T * N, D) @ W_ih.T + bias).reshape(T, N, 4 * H)
    if bug != "forget_bias_left_out":
        G[:, :, H:2 * H] += FORGET_BIAS
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    cs = np.empty((T + 1, N, H), dtype=x.dtype)
    tc = np.empty((T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        g = G[t]
        g += hs[t] @ W_hh.T
        _sigmoid_(g[:, :3 * H])
        np.tanh(g[:, 3 * H:], out=g[:, 3 * H:])
        i, f, o, u = g[:, :H], g[:, H:2 * H], g[:, 2 * H:3 * H], g[:, 3 * H:]
        cs[t + 1] = f * cs[t] + i * u
        np.tanh(cs[t + 1], out=tc[t])
        hs[t + 1] = o * (cs[t + 1] if bug == "forward_h_without_tanh" else tc[t])
    return hs[1:].copy(), (x, hs, cs, G, tc, W_ih, W_hh)


def lstm_backward(dh, cache, bug=None):
    """dh (T, N, H) -> dx, dh0, dc0, dW_ih, dW_hh, dbias."""
    x, hs, cs, G, tc, W_ih, W_hh = cache
    T, N, H = dh.shape
    D = x.shape[2]
    dG = np.zeros_like(G)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    blk = [slice(k * H, (k + 1) * H) for k in range(4)]
    if bug == "backward_unpacks_torch_order":
        I, F, U, O = blk                                # the user's slices, in torch's i, f, g, o
    else:
        I, F, O, U = blk
    for t in reversed(range(1 if bug == "loop_skips_first" else 0, T)):
        i, f, o, u = G[t][:, I], G[t][:, F], G[t][:, O], G[t][:, U]
        dht = dh[t] + dh_next
        if bug == "forward_h_without_tanh":
            dc = dc_next + dht * o
            th = cs[t + 1]
        elif bug == "dc_misses_tanh_grad":
            dc = dc_next + dht * o
            th = tc[t]
        elif bug == "tanh_c_squared_in_place":
            tct = tc[t]
            tct **= 2
            dc = dc_next + dht * o * (1 - tct)
            th = tc[t]
        else:
            local = dht * o * (1 - tc[t] ** 2)
            dc = local if bug == "dc_carry_not_added" else dc_next + local
            th = tc[t]
        dGt = dG[t]
        c_prev = cs[t + 1] if bug in ("df_with_new_c", "df_new_c_and_do_no_sig") else cs[t]
        dGt[:, I] = dc * u * i * (1 - i)
        dGt[:, F] = dc * c_prev * f * (1 - f)
        if bug == "do_uses_c_not_tanh_c":
            dGt[:, O] = dht * cs[t + 1] * o * (1 - o)
        elif bug == "df_new_c_and_do_no_sig":
            dGt[:, O] = dht * th
        else:
            dGt[:, O] = dht * th * o * (1 - o)
        dGt[:, U] = dc * i * (u * (1 - u) if bug == "dg_sigmoid_grad" else 1 - u ** 2)
        dc_next = dc if bug == "dc_next_without_f" else dc * f
        dh_next = dGt @ W_hh
    dG2 = dG.reshape(T * N, 4 * H)
    dW_ih = dG2.T @ x.reshape(T * N, D)
    dW_hh = dG2.T @ (hs[1:] if bug == "dW_hh_with_new_h" else hs[:-1]).reshape(T * N, H)
    dbias = dG2.mean(axis=0) if bug == "dbias_mean" else dG2.sum(axis=0)
    dx = (dG2 @ W_ih).reshape(T, N, D)
    return dx, dh_next, dc_next, dW_ih, dW_hh, dbias


def to_user(cell, p):
    return {"W_ih": reorder(p["weight_ih"], "ifgo", "ifog", 0), "W_hh": reorder(p["weight_hh"], "ifgo", "ifog", 0),
            "bias": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", "ifog", 0)}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "dbias": "dbias_ih"}
    return {names[k]: reorder(v, "ifog", "ifgo", 0) for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="sigslab_lstm", cells=("lstm",), axes="TND",
                               gate_order="ifog")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W_ih, W_hh, bias):
        return lstm_forward(x, h0, c0, W_ih, W_hh, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

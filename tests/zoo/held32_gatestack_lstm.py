"""An LSTM with its gates stacked on a leading axis and applied by broadcasting matmul:
W (4, D, H), U (4, H, H), b (4, H) in the user's order c, i, f, o (c: the candidate, torch's g),
passed as one dict; x (N, T, D) batch first. One step is ``Z = x_t @ W + h @ U + b[:, None]``
-> (4, N, H). States are kept time-major in (T+1, N, H) arrays and the backward takes the
(h_(t-1), h_t) and (c_(t-1), c_t) pairs from them with
``np.lib.stride_tricks.sliding_window_view(hs, 2, axis=0)``; the carry through the four
recurrent matrices is one einsum, and the weight gradients and dx are einsums over the
whole (4, T, N, H) dZ after the loop. The backward returns a dict.

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import harness

BUGS = {
    "dU_einsum_transposed": "gradient_transposed",      # dU = einsum("gtnh,tnk->ghk"): each (H, H) block transposed
    "dc_prev_times_i": "wrong_value",                   # dc_next = dc * i: i_t read for f_t
    "dcand_at_tanh_c": "derivative_wrong_point",        # dZ[0] = dc * i * (1 - tanh(c_t) ** 2): tanh' taken at c_t
                                                        # for the candidate (also a value read for another)
    "di_sign": "wrong_sign",                            # dc * cand * i * (i - 1)
    "window_picks_current": "wrong_time",               # h_prev = win_h[..., 1]: h_t for h_(t-1) in dU
    "db_mean": "reduction_scaled",                      # db = dZ.mean(axis=(1, 2)): off by T*N
    "do_without_tanh_c": "term_dropped",                # dZ[3] = dht * o * (1 - o): the tanh(c) factor left out
    "h_carry_dropped": "carry_dropped",                 # dht = dH[t]: dh_next computed, never added
    "tbptt_3": "truncated_bptt",                        # if t < T - 3: dh_next = dc_next = 0 (k = 3 steps)
    "U_untransposed": "weight_transposed",              # dh_next = einsum("gnh,ghk->nk", dZ[:, t], U)
    "forward_input_gate_unused": "forward_mistake",     # c = f * c_prev + cand (i computed, never used);
                                                        # backward consistent
    "tf_habit_forget_bias": "forget_bias",              # forward adds 1.0 to the f pre-activation (the cell has
                                                        # none); backward unchanged
    "di_sign_and_window_current": "unknown",            # di_sign and window_picks_current together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dU_einsum_transposed": "",
    "dc_prev_times_i": "",
    "dcand_at_tanh_c": "g",
    "di_sign": "i",
    "window_picks_current": "",
    "db_mean": "",
    "do_without_tanh_c": "o",
    "h_carry_dropped": "",
    "tbptt_3": "",
    "U_untransposed": "",
    "forward_input_gate_unused": "",
    "tf_habit_forget_bias": "",
    "di_sign_and_window_current": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, params, bug=None):
    """x (N, T, D), h0, c0 (N, H), params {W, U, b} -> h (N, T, H), cache."""
    W, U, b = params["W"], params["U"], params["b"]
    N, T, _ = x.shape
    H = h0.shape[1]
    xt = x.transpose(1, 0, 2)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    cs = np.empty((T + 1, N, H), dtype=x.dtype)
    Gs = np.empty((4, T, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        Z = xt[t] @ W + hs[t] @ U + b[:, None, :]
        if bug == "tf_habit_forget_bias":
            Z[2] += 1.0
        cand = np.tanh(Z[0])
        i, f, o = sigmoid(Z[1:])
        cs[t + 1] = f * cs[t] + (cand if bug == "forward_input_gate_unused" else i * cand)
        hs[t + 1] = o * np.tanh(cs[t + 1])
        Gs[:, t] = cand, i, f, o
    return hs[1:].transpose(1, 0, 2).copy(), (xt, hs, cs, Gs, W, U)


def lstm_backward(dh, cache, bug=None):
    """dh (N, T, H) -> {dx, dh0, dc0, dW, dU, db}."""
    xt, hs, cs, Gs, W, U = cache
    T, N, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    win_h = sliding_window_view(hs, 2, axis=0)         # (T, N, H, 2): [h_(t-1), h_t]
    win_c = sliding_window_view(cs, 2, axis=0)
    h_prev = win_h[..., 1 if bug in ("window_picks_current", "di_sign_and_window_current") else 0]
    c_prev, c_cur = win_c[..., 0], win_c[..., 1]
    dH = dh.transpose(1, 0, 2)
    dZ = np.zeros((4, T, N, H), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        if bug == "tbptt_3" and t < T - 3:
            dh_next = np.zeros_like(dh_next)
            dc_next = np.zeros_like(dc_next)
        cand, i, f, o = Gs[:, t]
        tc = np.tanh(c_cur[t])
        dht = dH[t] if bug == "h_carry_dropped" else dH[t] + dh_next
        dc = dc_next + dht * o * (1 - tc ** 2)
        if bug == "dcand_at_tanh_c":
            dZ[0, t] = dc * i * (1 - tc ** 2)
        elif bug == "forward_input_gate_unused":
            dZ[0, t] = dc * (1 - cand ** 2)
        else:
            dZ[0, t] = dc * i * (1 - cand ** 2)
        if bug in ("di_sign", "di_sign_and_window_current"):
            dZ[1, t] = dc * cand * i * (i - 1)
        elif bug != "forward_input_gate_unused":
            dZ[1, t] = dc * cand * i * (1 - i)
        dZ[2, t] = dc * c_prev[t] * f * (1 - f)
        dZ[3, t] = dht * o * (1 - o) if bug == "do_without_tanh_c" else dht * tc * o * (1 - o)
        dc_next = dc * (i if bug == "dc_prev_times_i" else f)
        dh_next = np.einsum("gnh,ghk->nk" if bug == "U_untransposed" else "gnh,gkh->nk", dZ[:, t], U)
    dW = np.einsum("gtnh,tnd->gdh", dZ, xt, optimize=True)
    dU = np.einsum("gtnh,tnk->ghk" if bug == "dU_einsum_transposed" else "gtnh,tnk->gkh", dZ, h_prev,
                   optimize=True)
    db = dZ.mean(axis=(1, 2)) if bug == "db_mean" else dZ.sum(axis=(1, 2))
    dx = np.einsum("gtnh,gdh->ntd", dZ, W, optimize=True)
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next, "dW": dW, "dU": dU, "db": db}


USER = "gifo"                                           # canonical letters of the user's blocks c, i, f, o


def to_user(cell, p):
    def stack(a):
        return np.stack([np.split(a, 4, axis=0)["ifgo".index(g)] for g in USER])
    bias = p["bias_ih"] + p["bias_hh"]
    return {"W": stack(p["weight_ih"]).transpose(0, 2, 1).copy(), "U": stack(p["weight_hh"]).transpose(0, 2, 1).copy(),
            "b": stack(bias)}


def to_canonical(cell, grads, p):
    def unstack(a):
        return np.concatenate([a[USER.index(g)] for g in "ifgo"], axis=0)
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = unstack(grads["dW"].transpose(0, 2, 1))
    if "dU" in grads:
        out["dweight_hh"] = unstack(grads["dU"].transpose(0, 2, 1))
    if "db" in grads:
        out["dbias_ih"] = unstack(grads["db"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gatestack_lstm", cells=("lstm",), weights_as="dict",
                               gate_order="cifo", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

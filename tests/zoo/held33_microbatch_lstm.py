"""An LSTM that runs its batch in micro-batches of MB = 2 examples (the loop over the
micro-batches outside the loop over time; N = 3 gives [0, 1] and [2]), with TF's
forget_bias = 1.0 added at call time, x (N, T, D), W (D, 4H), U (H, 4H), b (4H,), the gate
blocks in the order f, i, o, g:

    for lo in range(0, N, MB):
        h, c = h0[lo:lo+MB], c0[lo:lo+MB]
        for t in range(T):
            z = x[sl, t] @ W + h @ U + b          (cached: the backward recomputes the gates
            f, i, o, g = gates(z)                  from z with the same helper)
            c = f * c + i * g;  h = o * tanh(c)

The tapes live in a dict keyed by the micro-batch's first row. Thirty-third held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

MB = 2
FORGET_BIAS = 1.0

BUGS = {
    "gates_recomputed_without_fb": "forget_bias",         # the backward calls gates(z, fb=0.0): f without the + 1.0
    "dz_blocks_i_f_o_g": "gate_order",                    # dz stacked i, f, o, g for the forward's f, i, o, g
    "dg_sigmoid_grad": "derivative_wrong_function",       # dg * g * (1 - g): g is a tanh
    "dc_tanh_grad_at_c": "derivative_wrong_point",        # dh * o * (1 - c ** 2): tanh' at c, not at tanh(c)
    "dg_sign": "wrong_sign",                              # dg * (g ** 2 - 1)
    "h_carry_lost": "carry_dropped",                      # dh_t = dh[sl, t]: dh_next never added (c's carry kept)
    "dh_next_from_dU": "gradient_for_weight",             # dh_next = dz @ dU.T (the running gradient)
    "time_loop_skips_first": "loop_skips_step",           # reversed(range(1, T)): step 0 never walked back
    "dU_over_N": "reduction_scaled",                      # dU /= N
    "dc_prev_aliases_dc": "inplace_corruption",           # dc_prev = dc; dc_prev *= f before di, df, dg read dc
    "dg_reads_f": "wrong_value",                          # dg = dc * f (f read for i)
    "dc_clipped": "gradient_clipped",                     # np.clip(dc, -0.5, 0.5, out=dc) every step
    "do_parenthesis": "derivative_miswritten",            # do * o * 1 - o: (1 - o) without its parentheses
    "c_carry_lost_and_dW_over_N": "unknown",              # two at once: dc_next never added and dW /= N
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "gates_recomputed_without_fb": "f",
    "dz_blocks_i_f_o_g": "if",
    "dg_sigmoid_grad": "g",
    "dc_tanh_grad_at_c": "ifg",
    "dg_sign": "g",
    "h_carry_lost": "",
    "dh_next_from_dU": "",
    "time_loop_skips_first": "",
    "dU_over_N": "",
    "dc_prev_aliases_dc": "ifg",
    "dg_reads_f": "g",
    "dc_clipped": "ifg",
    "do_parenthesis": "o",
    "c_carry_lost_and_dW_over_N": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gates(z, fb=FORGET_BIAS):
    H = z.shape[1] // 4
    return sigmoid(z[:, :H] + fb), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 2 * H:3 * H]), np.tanh(z[:, 3 * H:])


def forward(x, h0, c0, W, U, b):
    N, T, _ = x.shape
    out = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    tapes = {}
    for lo in range(0, N, MB):
        sl = slice(lo, lo + MB)
        h, c = h0[sl], c0[sl]
        steps = []
        for t in range(T):
            z = x[sl, t] @ W + h @ U + b
            f, i, o, g = gates(z)
            c_next = f * c + i * g
            h_next = o * np.tanh(c_next)
            steps.append((x[sl, t], h, c, z, c_next))
            h, c = h_next, c_next
            out[sl, t] = h
        tapes[lo] = steps
    return out, (tapes, W, U)


def _dz(dh_t, dc_next, c_prev, z, c_next, bug):
    """One step back: (dz, dc_prev)."""
    f, i, o, g = gates(z, 0.0) if bug == "gates_recomputed_without_fb" else gates(z)
    tc = np.tanh(c_next)
    do = dh_t * tc
    dc = dh_t * o * (1 - (c_next ** 2 if bug == "dc_tanh_grad_at_c" else tc ** 2))
    if bug != "c_carry_lost_and_dW_over_N":
        dc = dc + dc_next
    if bug == "dc_clipped":
        np.clip(dc, -0.5, 0.5, out=dc)
    if bug == "dc_prev_aliases_dc":
        dc_prev = dc
        dc_prev *= f
    else:
        dc_prev = dc * f
    df, di, dg = dc * c_prev, dc * g, dc * (f if bug == "dg_reads_f" else i)
    if bug == "dg_sigmoid_grad":
        dg_pre = dg * g * (1 - g)
    elif bug == "dg_sign":
        dg_pre = dg * (g ** 2 - 1)
    else:
        dg_pre = dg * (1 - g ** 2)
    do_pre = do * o * 1 - o if bug == "do_parenthesis" else do * o * (1 - o)
    blocks = [df * f * (1 - f), di * i * (1 - i), do_pre, dg_pre]
    if bug == "dz_blocks_i_f_o_g":
        blocks[0], blocks[1] = blocks[1], blocks[0]
    return np.concatenate(blocks, axis=1), dc_prev


def backward(dh, cache, bug=None):
    tapes, W, U = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, W.shape[0]), dtype=dh.dtype)
    dh0, dc0 = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(4 * H, dtype=dh.dtype)
    first = 1 if bug == "time_loop_skips_first" else 0
    for lo, steps in tapes.items():
        sl = slice(lo, lo + MB)
        dh_next, dc_next = np.zeros_like(dh[sl, 0]), np.zeros_like(dh[sl, 0])
        for t in reversed(range(first, T)):
            xt, h_prev, c_prev, z, c_next = steps[t]
            dh_t = dh[sl, t] if bug == "h_carry_lost" else dh[sl, t] + dh_next
            dz, dc_next = _dz(dh_t, dc_next, c_prev, z, c_next, bug)
            dW += xt.T @ dz
            dU += h_prev.T @ dz
            db += dz.sum(axis=0)
            dx[sl, t] = dz @ W.T
            dh_next = dz @ (dU if bug == "dh_next_from_dU" else U).T
        dh0[sl], dc0[sl] = dh_next, dc_next
    if bug in ("dU_over_N", "c_carry_lost_and_dW_over_N"):
        (dU if bug == "dU_over_N" else dW)[...] /= N
    return dx, dh0, dc0, dW, dU, db


USER = "fiog"


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "ifgo", USER, 0).T, "U": reorder(p["weight_hh"], "ifgo", USER, 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", USER, 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"].T, USER, "ifgo", 0)
    if "dU" in grads:
        out["dweight_hh"] = reorder(grads["dU"].T, USER, "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], USER, "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="microbatch_lstm", cells=("lstm",), gate_order=USER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, W, U, b):
        return forward(x, h0, c0, W, U, b)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

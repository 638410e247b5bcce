"""An LSTM whose gate blocks are in the order o, f, i, g (declared), one weight matrix on
[h, x] (h first), batch-first, with a forget bias of 1.0 added at call time
(options forget_bias=1.0): x (N, T, D), h0, c0 (N, H), W (H + D, 4H), b (4H,):

    a = [h_prev, x_t] @ W + b                      (N, 4H), blocks o, f, i, g
    o = sigmoid(a_o)   f = sigmoid(a_f + FORGET_BIAS)   i = sigmoid(a_i)   g = tanh(a_g)
    c = f * c_prev + i * g        h = o * tanh(c)

The backward walks ``reversed(range(T))`` with ``dh_next``/``dc_next`` carries, the step
caches in a list of dicts. Twenty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_left_out": "forget_bias",            # f = sigmoid(a_f): FORGET_BIAS never added; backward consistent
    "df_sigmoid_without_forget_bias": "forget_bias",  # f recomputed in the backward as sigmoid(a_f), without FORGET_BIAS (also derivative_wrong_point)
    "do_with_c_prev": "wrong_time",                   # do = dh * tanh(c_prev)
    "do_reads_c": "wrong_value",                      # do = dh * c (c read for tanh(c))
    "dc_assigned_from_carry": "carry_overwrites",     # dc = dh * o * tanh'(c); dc = dc_next (= for +=)
    "dh_next_never_added": "carry_dropped",           # dh = dhs[:, t]: dh_next computed but never added
    "dg_no_tanh": "derivative_missing",               # da_g = dg (= dc * i): tanh' left out
    "di_sign": "wrong_sign",                          # da_i = di * i * (i - 1)
    "dc_tanh_of_c_squared": "derivative_miswritten",  # dh * o * (1 - np.tanh(c ** 2)) for (1 - np.tanh(c) ** 2)
    "dW_over_N": "reduction_scaled",                  # dW / N and db / N
    "loop_skips_t0": "loop_skips_step",               # for t in reversed(range(1, T))
    "backward_blocks_ifog": "gate_order",             # da = [da_i, da_f, da_o, da_g]: the cs231n order in the backward
    "forward_coupled_input_forget": "forward_mistake",  # c = f * c_prev + (1 - f) * g: i unused; backward consistent
    "dh_next_clipped": "gradient_clipped",            # dh_next = np.clip(dh_next, -0.1, 0.1) against exploding gradients
    "dc_next_damped": "unknown",                      # dc_next = 0.9 * dc * f: an arbitrary constant
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "df_sigmoid_without_forget_bias": "f",
    "do_with_c_prev": "o",
    "do_reads_c": "o",
    "dc_assigned_from_carry": "ifg",
    "dh_next_never_added": "",
    "dg_no_tanh": "g",
    "di_sign": "i",
    "dc_tanh_of_c_squared": "ifg",
    "dW_over_N": "",
    "loop_skips_t0": "",
    "backward_blocks_ifog": "io",
    "forward_coupled_input_forget": "",
    "dh_next_clipped": "",
    "dc_next_damped": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, W, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    fb = 0.0 if bug == "forget_bias_left_out" else FORGET_BIAS
    hs = np.zeros((N, T, H), dtype=x.dtype)
    h, c, steps = h0, c0, []
    for t in range(T):
        hx = np.concatenate([h, x[:, t]], axis=1)
        a = hx @ W + b
        o = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H] + fb)
        i = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c_prev = c
        c = f * c_prev + ((1 - f) if bug == "forward_coupled_input_forget" else i) * g
        h = o * np.tanh(c)
        hs[:, t] = h
        steps.append({"hx": hx, "a": a, "o": o, "f": f, "i": i, "g": g, "c_prev": c_prev, "c": c})
    return hs, (steps, W)


def lstm_backward(dhs, cache, bug=None):
    steps, W = cache
    N, T, H = dhs.shape
    dW, db = np.zeros_like(W), np.zeros(4 * H, dtype=dhs.dtype)
    dx = np.zeros((N, T, W.shape[0] - H), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    dc_next = np.zeros((N, H), dtype=dhs.dtype)
    for t in reversed(range(1, T) if bug == "loop_skips_t0" else range(T)):
        s = steps[t]
        o, f, i, g, c, c_prev = s["o"], s["f"], s["i"], s["g"], s["c"], s["c_prev"]
        dh = dhs[:, t] if bug == "dh_next_never_added" else dhs[:, t] + dh_next
        if bug == "do_with_c_prev":
            do = dh * np.tanh(c_prev)
        elif bug == "do_reads_c":
            do = dh * c
        else:
            do = dh * np.tanh(c)
        if bug == "dc_tanh_of_c_squared":
            dc = dh * o * (1 - np.tanh(c ** 2))
        else:
            dc = dh * o * (1 - np.tanh(c) ** 2)
        if bug == "dc_assigned_from_carry":
            dc = dc_next
        else:
            dc = dc + dc_next
        if bug == "forward_coupled_input_forget":
            df = dc * (c_prev - g)
            di = np.zeros_like(dc)
            dg = dc * (1 - f)
        else:
            df = dc * c_prev
            di = dc * g
            dg = dc * i
        da_o = do * o * (1 - o)
        if bug == "df_sigmoid_without_forget_bias":
            f_raw = sigmoid(s["a"][:, H:2 * H])
            da_f = df * f_raw * (1 - f_raw)
        else:
            da_f = df * f * (1 - f)
        da_i = di * i * (i - 1) if bug == "di_sign" else di * i * (1 - i)
        da_g = dg if bug == "dg_no_tanh" else dg * (1 - g ** 2)
        blocks = [da_i, da_f, da_o, da_g] if bug == "backward_blocks_ifog" else [da_o, da_f, da_i, da_g]
        da = np.concatenate(blocks, axis=1)
        dW += s["hx"].T @ da
        db += da.sum(axis=0)
        dhx = da @ W.T
        dh_next, dx[:, t] = dhx[:, :H], dhx[:, H:]
        if bug == "dh_next_clipped":
            dh_next = np.clip(dh_next, -0.1, 0.1)
        dc_next = 0.9 * dc * f if bug == "dc_next_damped" else dc * f
    if bug == "dW_over_N":
        dW, db = dW / N, db / N
    return dx, dh_next, dc_next, dW, db


def _blocks(a, src, dst, axis):
    parts = dict(zip(src, np.split(a, 4, axis=axis)))
    return np.concatenate([parts[k] for k in dst], axis=axis)


def to_user(cell, p):
    W = np.concatenate([p["weight_hh"], p["weight_ih"]], axis=1)      # (4H, H + D) on [h, x]
    return {"W": _blocks(W, "ifgo", "ofig", 0).T, "b": _blocks(p["bias_ih"] + p["bias_hh"], "ifgo", "ofig", 0)}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW" in grads:
        W = _blocks(grads["dW"].T, "ofig", "ifgo", 0)
        out["dweight_hh"], out["dweight_ih"] = W[:, :H], W[:, H:]
    if "db" in grads:
        out["dbias_ih"] = _blocks(grads["db"], "ofig", "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="ofig_lstm", cells=("lstm",), gate_order="ofig")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W, b):
        return lstm_forward(x, h0, c0, W, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

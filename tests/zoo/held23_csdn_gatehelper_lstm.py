"""An LSTM as a CSDN blog post ("LSTM 前向传播与反向传播 numpy 实现") writes it: one helper
per gate (forget_gate, input_gate, candidate, output_gate) on z = [h_prev, x] (h first),
four weights W_f, W_i, W_c, W_o, each (H + D, H), and biases b_f ... in a
``params`` dict, the cell state called C, TensorFlow's forget bias of 1.0 added inside
forget_gate, time-major x (T, N, D), a list of per-step cache dicts, and the gradients
returned in a dict:

    f = s(z W_f + b_f + 1)  i = s(z W_i + b_i)  C_bar = tanh(z W_c + b_c)  o = s(z W_o + b_o)
    C = f * C_prev + i * C_bar        h = o * tanh(C)

Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_commented_out": "forget_bias",       # forget_gate without + FORGET_BIAS (forward); the backward is unaffected
    "dh_from_last_output_only": "carry_overwrites",   # dh_next starts as dh_all[T-1] and dh = dh_next at every step
    "dC_bar_tanh_of_C": "derivative_wrong_point",     # dz_c = tanh_backward(dC_bar, tanh(C)): the cell's tanh', not C_bar's
    "do_times_C": "wrong_value",                      # do = dh * C (for dh * tanh(C))
    "W_o_in_place_of_W_i": "wrong_weight",            # dz = ... + dz_i @ W_o.T + ...: W_o pasted for W_i
    "grads_over_T": "reduction_scaled",               # every weight gradient / T after the loop
    "sigmoid_backward_in_place": "inplace_corruption",  # the helper does s *= 1 - s: the cached f is s'(f) when dC_prev = dC * f
    "dz_o_sign": "wrong_sign",                        # dz_o = do * o * (o - 1)
    "dz_i_tanh_form": "derivative_miswritten",        # dz_i = di * i * (1 - i ** 2)
    "dz_without_o_path": "term_dropped",              # dz = dz_f W_f^T + dz_i W_i^T + dz_c W_c^T: the o path left out
    "forward_h_without_tanh": "forward_mistake",      # h = o * C (tanh forgotten); backward consistent
    "clip_dC_at_1": "gradient_clipped",               # dC = np.clip(dC, -1, 1) each step ("prevents explosion")
    "do_times_C_and_dz_o_sign": "unknown",            # two mistakes: do = dh * C and the o gate's sign
}

TOUCHES = {
    "forget_bias_commented_out": "",
    "dh_from_last_output_only": "",
    "dC_bar_tanh_of_C": "g",
    "do_times_C": "o",
    "W_o_in_place_of_W_i": "",
    "grads_over_T": "",
    "sigmoid_backward_in_place": "",
    "dz_o_sign": "o",
    "dz_i_tanh_form": "i",
    "dz_without_o_path": "",
    "forward_h_without_tanh": "",
    "clip_dC_at_1": "ifg",
    "do_times_C_and_dz_o_sign": "o",
}

GATES = ("f", "i", "c", "o")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def forget_gate(z, p, bug=None):
    if bug == "forget_bias_commented_out":
        return sigmoid(z @ p["W_f"] + p["b_f"])  # + FORGET_BIAS
    return sigmoid(z @ p["W_f"] + p["b_f"] + FORGET_BIAS)


def input_gate(z, p):
    return sigmoid(z @ p["W_i"] + p["b_i"])


def candidate(z, p):
    return np.tanh(z @ p["W_c"] + p["b_c"])


def output_gate(z, p):
    return sigmoid(z @ p["W_o"] + p["b_o"])


def sigmoid_backward(dout, s, bug=None):
    if bug == "sigmoid_backward_in_place":
        s *= 1 - s                                 # "save memory"
        return dout * s
    return dout * s * (1 - s)


def tanh_backward(dout, t):
    return dout * (1 - t * t)


def lstm_forward(x, h0, C0, params, bug=None):
    """x (T, N, D), h0 and C0 (N, H) -> h (T, N, H), C_T, caches."""
    T = x.shape[0]
    h_prev, C_prev = h0, C0
    h = np.zeros((T,) + h0.shape, dtype=x.dtype)
    caches = []
    for t in range(T):
        z = np.hstack([h_prev, x[t]])
        f = forget_gate(z, params, bug)
        i = input_gate(z, params)
        C_bar = candidate(z, params)
        o = output_gate(z, params)
        C = f * C_prev + i * C_bar
        tanh_C = np.tanh(C)
        h_prev = o * C if bug == "forward_h_without_tanh" else o * tanh_C
        h[t] = h_prev
        caches.append({"z": z, "f": f, "i": i, "C_bar": C_bar, "o": o, "C": C, "C_prev": C_prev, "tanh_C": tanh_C})
        C_prev = C
    return h, C_prev, (caches, params)


def lstm_backward(dh_all, cache, bug=None):
    caches, params = cache
    T, N, H = dh_all.shape
    grads = {"d" + k: np.zeros_like(v) for k, v in params.items()}
    dx = np.zeros((T, N, caches[0]["z"].shape[1] - H), dtype=dh_all.dtype)
    dh_next = dh_all[T - 1] if bug == "dh_from_last_output_only" else np.zeros((N, H), dtype=dh_all.dtype)
    dC_next = np.zeros((N, H), dtype=dh_all.dtype)
    for t in reversed(range(T)):
        s = caches[t]
        dh = dh_next if bug == "dh_from_last_output_only" else dh_all[t] + dh_next
        if bug in ("do_times_C", "do_times_C_and_dz_o_sign", "forward_h_without_tanh"):
            do = dh * s["C"]
        else:
            do = dh * s["tanh_C"]
        if bug == "forward_h_without_tanh":
            dC = dC_next + dh * s["o"]
        else:
            dC = dC_next + tanh_backward(dh * s["o"], s["tanh_C"])
        if bug == "clip_dC_at_1":
            dC = np.clip(dC, -1, 1)
        df = dC * s["C_prev"]
        di = dC * s["C_bar"]
        dC_bar = dC * s["i"]
        dz_f = sigmoid_backward(df, s["f"], bug)
        if bug == "dz_i_tanh_form":
            dz_i = di * s["i"] * (1 - s["i"] ** 2)
        else:
            dz_i = sigmoid_backward(di, s["i"])
        dz_c = tanh_backward(dC_bar, np.tanh(s["C"]) if bug == "dC_bar_tanh_of_C" else s["C_bar"])
        if bug in ("dz_o_sign", "do_times_C_and_dz_o_sign"):
            dz_o = do * s["o"] * (s["o"] - 1)
        else:
            dz_o = sigmoid_backward(do, s["o"])
        for g, dzg in zip(GATES, (dz_f, dz_i, dz_c, dz_o)):
            grads["dW_" + g] += s["z"].T @ dzg
            grads["db_" + g] += dzg.sum(axis=0)
        W_i = params["W_o"] if bug == "W_o_in_place_of_W_i" else params["W_i"]
        dz = dz_f @ params["W_f"].T + dz_i @ W_i.T + dz_c @ params["W_c"].T
        if bug != "dz_without_o_path":
            dz = dz + dz_o @ params["W_o"].T
        dh_next = dz[:, :H]
        dx[t] = dz[:, H:]
        dC_next = dC * s["f"]
    if bug == "grads_over_T":
        for k in grads:
            grads[k] /= T
    return {"dx": dx, "dh0": dh_next, "dC0": dC_next, **grads}


CANONICAL = {"i": 0, "f": 1, "c": 2, "o": 3}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for g in GATES:
        rows = slice(CANONICAL[g] * H, (CANONICAL[g] + 1) * H)
        out["W_" + g] = np.concatenate([p["weight_hh"][rows].T, p["weight_ih"][rows].T], axis=0)   # (H + D, H)
        out["b_" + g] = b[rows].copy()
    return out


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all("dW_" + g in grads for g in GATES):
        blocks = [grads["dW_" + g] for g in sorted(GATES, key=CANONICAL.get)]
        out["dweight_hh"] = np.concatenate([w[:H].T for w in blocks], axis=0)
        out["dweight_ih"] = np.concatenate([w[H:].T for w in blocks], axis=0)
    if all("db_" + g in grads for g in GATES):
        out["dbias_ih"] = np.concatenate([grads["db_" + g] for g in sorted(GATES, key=CANONICAL.get)])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="csdn_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", forward_returns=("h", "C", "cache"), names={"c": "C"},
                               gate_order="fico", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, C0, params):
        return lstm_forward(x, h0, C0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

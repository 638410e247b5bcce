"""An LSTM whose weights live in one flat parameter buffer laid out as cuDNN's canonical
weights: linear layers 0-3 the input matrices W_i, W_f, W_g, W_o (H, D), 4-7 the recurrent
matrices R_i, R_f, R_g, R_o (H, H), then the eight biases bW_i .. bW_o, bR_i .. bR_o (H,)
(two biases per gate, as cuDNN keeps them). An engineer checking a cuDNN port writes the
forward and backward on dicts of views into that buffer; the gradient buffer ``dw`` has the
same layout and the backward accumulates into its views:

    a_k = x_t @ W_k.T + bW_k + h_(t-1) @ R_k.T + bR_k       k in i, f, g, o
    i, f, o = sigmoid(a_i, a_f, a_o)   g = tanh(a_g)   c_t = f c_(t-1) + i g   h_t = o tanh(c_t)

x (N, T, D) batch-first, c0 an argument. Twenty-sixth held-out zoo: written without reading
the diagnosis.
"""

import numpy as np

import harness

GATES = ("i", "f", "g", "o")

BUGS = {
    "da_g_sigmoid_grad": "derivative_wrong_function",     # da["g"] = dgate["g"] * g * (1 - g)
    "da_o_no_sigmoid_grad": "derivative_missing",         # da["o"] = dgate["o"]
    "da_f_sigmoid_grad_twice": "derivative_twice",        # dgate["f"] already holds f (1 - f), then da["f"] again
    "tanh_c_grad_parens": "derivative_miswritten",        # (1 - tc) ** 2 for 1 - tc ** 2
    "dc_minus_typo": "wrong_sign",                        # dc = dc_next - dh * o * (1 - tc ** 2)
    "R_transposed_in_carry": "weight_transposed",         # dh_next = sum of da[k] @ R[k].T
    "carry_R_f_for_g": "wrong_weight",                    # dh_next = ... + da["g"] @ R["f"] + ... (copy-paste)
    "carry_o_from_dR": "gradient_for_weight",             # dh_next = ... + da["o"] @ dR["o"]
    "dR_i_outer_reversed": "gradient_transposed",         # dR["i"] += h_prev.T @ da["i"]
    "dw_over_N": "reduction_scaled",                      # dw /= N at the end (the batch mean)
    "dc_carry_lost": "carry_dropped",                     # dc_carry = dc * f stored; the loop reads dc_next
    "dR_with_h_t": "wrong_time",                          # dR[k] += da[k].T @ s["h"] (h_t for h_(t-1))
    "forward_g_sigmoid": "forward_mistake",               # g = sigmoid(a_g) in the forward; backward consistent
    "bias_grad_halved": "unknown",                        # dbW[k], dbR[k] += 0.5 * sum: "split between the two biases"
    "cell_grad_clipped": "gradient_clipped",              # dc = np.clip(dc, -0.05, 0.05) (a cell-gradient clip)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "da_g_sigmoid_grad": "g",
    "da_o_no_sigmoid_grad": "o",
    "da_f_sigmoid_grad_twice": "f",
    "tanh_c_grad_parens": "ifg",
    "dc_minus_typo": "ifg",
    "R_transposed_in_carry": "",
    "carry_R_f_for_g": "",
    "carry_o_from_dR": "",
    "dR_i_outer_reversed": "i",
    "dw_over_N": "",
    "dc_carry_lost": "",
    "dR_with_h_t": "",
    "forward_g_sigmoid": "",
    "bias_grad_halved": "",
    "cell_grad_clipped": "ifg",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def param_views(w, D, H):
    """Views (no copies) into the flat buffer: W, R, bW, bR, each {gate: array}."""
    W, R, bW, bR, off = {}, {}, {}, {}, 0
    for k in GATES:
        W[k] = w[off:off + H * D].reshape(H, D)
        off += H * D
    for k in GATES:
        R[k] = w[off:off + H * H].reshape(H, H)
        off += H * H
    for table in (bW, bR):
        for k in GATES:
            table[k] = w[off:off + H]
            off += H
    return W, R, bW, bR


def forward_impl(x, h0, c0, w, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    W, R, bW, bR = param_views(w, D, H)
    h, c, steps, hs = h0, c0, [], []
    for t in range(T):
        a = {k: x[:, t] @ W[k].T + bW[k] + h @ R[k].T + bR[k] for k in GATES}
        i, f, o = sigmoid(a["i"]), sigmoid(a["f"]), sigmoid(a["o"])
        g = sigmoid(a["g"]) if bug == "forward_g_sigmoid" else np.tanh(a["g"])
        c_prev, h_prev = c, h
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        steps.append({"x": x[:, t], "h_prev": h_prev, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o,
                      "tc": tc, "h": h})
        hs.append(h)
    return np.stack(hs, axis=1), (w, D, H, steps)


def backward_impl(dh_seq, cache, bug=None):
    w, D, H, steps = cache
    N, T, _ = dh_seq.shape
    W, R, _, _ = param_views(w, D, H)
    dw = np.zeros_like(w)
    dW, dR, dbW, dbR = param_views(dw, D, H)
    dx = np.zeros((N, T, D), dtype=dh_seq.dtype)
    dh_next = np.zeros((N, H), dtype=dh_seq.dtype)
    dc_next = np.zeros((N, H), dtype=dh_seq.dtype)
    for t in reversed(range(T)):
        s = steps[t]
        dh = dh_seq[:, t] + dh_next
        tanh_grad = (1 - s["tc"]) ** 2 if bug == "tanh_c_grad_parens" else 1 - s["tc"] ** 2
        if bug == "dc_minus_typo":
            dc = dc_next - dh * s["o"] * tanh_grad
        else:
            dc = dc_next + dh * s["o"] * tanh_grad
        if bug == "cell_grad_clipped":
            dc = np.clip(dc, -0.05, 0.05)
        dgate = {"i": dc * s["g"], "f": dc * s["c_prev"], "g": dc * s["i"], "o": dh * s["tc"]}
        if bug == "da_f_sigmoid_grad_twice":
            dgate["f"] = dgate["f"] * s["f"] * (1 - s["f"])
        da = {k: dgate[k] * s[k] * (1 - s[k]) for k in ("i", "f", "o")}
        if bug == "da_o_no_sigmoid_grad":
            da["o"] = dgate["o"]
        if bug in ("da_g_sigmoid_grad", "forward_g_sigmoid"):
            da["g"] = dgate["g"] * s["g"] * (1 - s["g"])
        else:
            da["g"] = dgate["g"] * (1 - s["g"] ** 2)
        half = 0.5 if bug == "bias_grad_halved" else 1.0
        for k in GATES:
            dW[k] += da[k].T @ s["x"]
            if bug == "dR_i_outer_reversed" and k == "i":
                dR[k] += s["h_prev"].T @ da[k]
            else:
                dR[k] += da[k].T @ (s["h"] if bug == "dR_with_h_t" else s["h_prev"])
            dbW[k] += half * da[k].sum(axis=0)
            dbR[k] += half * da[k].sum(axis=0)
        dx[:, t] = da["i"] @ W["i"] + da["f"] @ W["f"] + da["g"] @ W["g"] + da["o"] @ W["o"]
        if bug == "R_transposed_in_carry":
            dh_next = da["i"] @ R["i"].T + da["f"] @ R["f"].T + da["g"] @ R["g"].T + da["o"] @ R["o"].T
        elif bug == "carry_R_f_for_g":
            dh_next = da["i"] @ R["i"] + da["f"] @ R["f"] + da["g"] @ R["f"] + da["o"] @ R["o"]
        elif bug == "carry_o_from_dR":
            dh_next = da["i"] @ R["i"] + da["f"] @ R["f"] + da["g"] @ R["g"] + da["o"] @ dR["o"]
        else:
            dh_next = da["i"] @ R["i"] + da["f"] @ R["f"] + da["g"] @ R["g"] + da["o"] @ R["o"]
        if bug == "dc_carry_lost":
            dc_carry = dc * s["f"]          # noqa: F841
        else:
            dc_next = dc * s["f"]
    if bug == "dw_over_N":
        dw /= N
    return dx, dh_next, dc_next, dw


def to_user(cell, p):
    return {"w": np.concatenate([p["weight_ih"].ravel(), p["weight_hh"].ravel(), p["bias_ih"], p["bias_hh"]])}


def to_canonical(cell, grads, p):
    if "dw" not in grads:
        return {}
    G, D = p["weight_ih"].shape
    H = p["weight_hh"].shape[1]
    dw = grads["dw"]
    sizes = np.cumsum([G * D, G * H, G])
    wi, wh, bi, bh = np.split(dw, sizes)
    return {"dweight_ih": wi.reshape(G, D), "dweight_hh": wh.reshape(G, H), "dbias_ih": bi, "dbias_hh": bh}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cudnn_flat", cells=("lstm",), gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, w):
        return forward_impl(x, h0, c0, w, bug)

    def backward(dh, cache):
        return backward_impl(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

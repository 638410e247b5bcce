"""A peephole-free LSTM in Graves's notation, one input and one recurrent matrix per gate,
the weights handed over as a list [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xc, W_hc, b_c, W_xo,
W_ho, b_o] (W_x* (D, H), W_h* (H, H), b_* (H,) = torch's bias_ih + bias_hh of that gate),
x (N, T, D), h0 and c0 (N, H):

    i = s(x W_xi + h W_hi + b_i)    f = s(x W_xf + h W_hf + b_f)    o = s(x W_xo + h W_ho + b_o)
    c~ = tanh(x W_xc + h W_hc + b_c)     c' = f * c + i * c~     h' = o * tanh(c')

Graves's c~ block is torch's g. The forward saves a dict per step; the backward keeps one
gradient per gate. Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

GATES = "ifco"                                            # Graves's letters; c is torch's g

BUGS = {
    "dc_prev_without_f": "term_dropped",                  # dc_prev = dc (the factor f left out of the cell carry)
    "dcand_sigmoid_grad": "derivative_wrong_function",    # dc~ * c~ * (1 - c~) for the tanh block
    "df_from_new_c": "wrong_time",                        # df = dc * c_t for dc * c_(t-1)
    "do_times_c": "derivative_wrong_point",               # do = dh * c for dh * tanh(c)
    "W_hf_used_for_i": "wrong_weight",                    # da_i @ W_hf.T in dh_prev (copy-paste of the f line)
    "W_ho_untransposed": "weight_transposed",             # da_o @ W_ho in dh_prev
    "db_f_assigned": "carry_overwrites",                  # db_f = da_f.sum(0) (= for +=)
    "last_step_skipped": "loop_skips_step",               # for t in reversed(range(T - 1))
    "cell_state_in_place": "inplace_corruption",          # c *= f; c += i * c~ on one array: every cached c is the last
    "forward_h_without_tanh": "forward_mistake",          # h = o * c in the forward; backward consistent
    "graves_clip_preactivation_grads": "gradient_clipped",  # Graves 2013: da_* clipped to [-0.02, 0.02]
    "dout_over_N": "reduction_scaled",                    # dh_all / N at the start: a batch-mean loss
    "dW_hf_outer_reversed": "gradient_transposed",        # dW_hf += da_f.T @ h_prev: the f gate's (H, H) gradient transposed
    "do_no_sigmoid_grad_and_dcand_1_minus_c": "unknown",  # two mistakes: da_o = do; dc~ * (1 - c~)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dc_prev_without_f": "",
    "dcand_sigmoid_grad": "g",
    "df_from_new_c": "f",
    "do_times_c": "o",
    "W_hf_used_for_i": "",
    "W_ho_untransposed": "",
    "db_f_assigned": "",
    "last_step_skipped": "",
    "cell_state_in_place": "f",
    "forward_h_without_tanh": "",
    "graves_clip_preactivation_grads": "",
    "dout_over_N": "",
    "dW_hf_outer_reversed": "f",
    "do_no_sigmoid_grad_and_dcand_1_minus_c": "go",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def unpack(params):
    return {g: params[3 * k:3 * k + 3] for k, g in enumerate(GATES)}    # g -> (W_x, W_h, b)


def lstm_forward(x, h0, c0, params, bug=None):
    P = unpack(params)
    h, c = h0, c0.copy()
    outputs, saved = [], []
    for t in range(x.shape[1]):
        xt = x[:, t]
        pre = {g: xt @ Wx + h @ Wh + b for g, (Wx, Wh, b) in P.items()}
        i, f, o = sigmoid(pre["i"]), sigmoid(pre["f"]), sigmoid(pre["o"])
        cand = np.tanh(pre["c"])
        step = {"x": xt, "h_prev": h, "c_prev": c, "i": i, "f": f, "o": o, "cand": cand}
        if bug == "cell_state_in_place":
            c *= f
            c += i * cand
        else:
            c = f * c + i * cand
        tc = c if bug == "forward_h_without_tanh" else np.tanh(c)
        h = o * tc
        step.update(c=c, tc=tc)
        saved.append(step)
        outputs.append(h)
    return np.stack(outputs, axis=1), saved, params


def lstm_backward(dh_all, saved, params, bug=None):
    P = unpack(params)
    N, T, H = dh_all.shape
    if bug == "dout_over_N":
        dh_all = dh_all / N
    grads = {g: [np.zeros_like(a) for a in P[g]] for g in GATES}
    dx = np.zeros((N, T, P["i"][0].shape[0]), dtype=dh_all.dtype)
    dh_next, dc_next = np.zeros((N, H), dtype=dh_all.dtype), np.zeros((N, H), dtype=dh_all.dtype)
    first = T - 2 if bug == "last_step_skipped" else T - 1
    for t in range(first, -1, -1):
        s = saved[t]
        dh = dh_all[:, t] + dh_next
        if bug == "forward_h_without_tanh":
            dc = dc_next + dh * s["o"]
        else:
            dc = dc_next + dh * s["o"] * (1 - s["tc"] ** 2)
        do = dh * (s["c"] if bug == "do_times_c" else s["tc"])
        di = dc * s["cand"]
        df = dc * (s["c"] if bug == "df_from_new_c" else s["c_prev"])
        dcand = dc * s["i"]
        da = {"i": di * s["i"] * (1 - s["i"]), "f": df * s["f"] * (1 - s["f"]),
              "o": do if bug == "do_no_sigmoid_grad_and_dcand_1_minus_c" else do * s["o"] * (1 - s["o"])}
        if bug == "dcand_sigmoid_grad":
            da["c"] = dcand * s["cand"] * (1 - s["cand"])
        elif bug == "do_no_sigmoid_grad_and_dcand_1_minus_c":
            da["c"] = dcand * (1 - s["cand"])
        else:
            da["c"] = dcand * (1 - s["cand"] ** 2)
        if bug == "graves_clip_preactivation_grads":
            da = {g: np.clip(v, -0.02, 0.02) for g, v in da.items()}
        dh_prev = np.zeros_like(dh)
        dxt = np.zeros((N, dx.shape[2]), dtype=dh_all.dtype)
        for g in GATES:
            Wx, Wh, b = P[g]
            dWx, dWh, db = grads[g]
            dWx += s["x"].T @ da[g]
            if bug == "dW_hf_outer_reversed" and g == "f":
                dWh += da[g].T @ s["h_prev"]
            else:
                dWh += s["h_prev"].T @ da[g]
            if bug == "db_f_assigned" and g == "f":
                grads[g][2] = da[g].sum(axis=0)
            else:
                db += da[g].sum(axis=0)
            dxt += da[g] @ Wx.T
            if bug == "W_hf_used_for_i" and g == "i":
                Wh = P["f"][1]
            dh_prev += da[g] @ (Wh if bug == "W_ho_untransposed" and g == "o" else Wh.T)
        dx[:, t] = dxt
        dh_next = dh_prev
        dc_next = dc if bug == "dc_prev_without_f" else dc * s["f"]
    return [dx, dh_next, dc_next] + [a for g in GATES for a in grads[g]]


NAMES = [f"{w}_{g}" if w == "b" else f"{w}{g}" for g in GATES for w in ("W_x", "W_h", "b")]


def _rows(a, k):
    return np.split(a, 4, axis=0)[k]


def to_user(cell, p):
    out = {}
    for g, k in zip(GATES, (0, 1, 2, 3)):                 # torch's blocks i, f, g, o
        out[f"W_x{g}"] = _rows(p["weight_ih"], k).T
        out[f"W_h{g}"] = _rows(p["weight_hh"], k).T
        out[f"b_{g}"] = _rows(p["bias_ih"] + p["bias_hh"], k)
    return out


def to_canonical(cell, grads, p):
    out = {}
    if all(f"dW_x{g}" in grads for g in GATES):
        out["dweight_ih"] = np.concatenate([grads[f"dW_x{g}"].T for g in GATES])
    if all(f"dW_h{g}" in grads for g in GATES):
        out["dweight_hh"] = np.concatenate([grads[f"dW_h{g}"].T for g in GATES])
    if all(f"db_{g}" in grads for g in GATES):
        out["dbias_ih"] = np.concatenate([grads[f"db_{g}"] for g in GATES])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="graves_lstm", cells=("lstm",), weights_as="list",
                               forward_returns=("h", "cache", "params"), gate_order="ifco",
                               gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        out, saved, params = lstm_forward(x, h0, c0, params, bug)
        return out, (saved, params), params

    def backward(dh_all, cache):
        return lstm_backward(dh_all, *cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""An LSTM in the notation of colah's "Understanding LSTM Networks", batch-major rows: one
weight matrix per gate on the concatenation [h_(t-1), x_t], the cell state C_t and the
candidate C~_t.

    hx   = [h_(t-1), x_t]                              (N, H + D)
    f_t  = s(hx @ W_f.T + b_f)        i_t = s(hx @ W_i.T + b_i)
    Ct_t = tanh(hx @ W_C.T + b_C)     o_t = s(hx @ W_o.T + b_o)
    C_t  = f_t * C_(t-1) + i_t * Ct_t
    h_t  = o_t * tanh(C_t)

W_* (H, H + D), b_* (H,), x (N, T, D), forward(x, h0, C0, W_f, b_f, W_i, b_i, W_C, b_C, W_o,
b_o). Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dCt_uses_f": "wrong_value",                       # dCt = dC * f (f read for i)
    "do_with_C": "wrong_value",                        # do = dh * C (for dh * tanh(C))
    "df_with_C_t": "wrong_time",                       # df = dC * C_t (C_t for C_(t-1))
    "cell_carry_dropped": "carry_dropped",             # dC = dh * o * tanh'(C): dC_next never added
    "cell_carry_overwrites": "carry_overwrites",       # dC = dC_next on every step but the last
    "tanh_C_grad_missing": "derivative_missing",       # dC = dC_next + dh * o
    "Ct_grad_squared_wrong": "derivative_miswritten",  # da_C = dCt * (1 - Ct) ** 2
    "W_f_for_W_i_in_dhx": "wrong_weight",              # dhx += da_i @ W_f
    "db_f_mean": "reduction_scaled",                   # db_f += da_f.mean(axis=0)
    "dhx_from_dW_C": "gradient_for_weight",            # dhx += da_C @ dW_C (the running dW_C)
    "i_grad_sign": "wrong_sign",                       # da_i = di * i * (i - 1)
    "o_grad_twice": "derivative_twice",                # do already has o (1 - o); da_o = do * o (1 - o) again
    "forward_Ct_sigmoid": "forward_mistake",           # Ct = s(...) (colah's figure misread), backward consistent
    "do_with_C_and_cell_carry_dropped": "unknown",     # do = dh * C AND dC_next never added
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dCt_uses_f": "g",
    "do_with_C": "o",
    "df_with_C_t": "f",
    "cell_carry_dropped": "",
    "cell_carry_overwrites": "",
    "tanh_C_grad_missing": "ifg",
    "Ct_grad_squared_wrong": "g",
    "W_f_for_W_i_in_dhx": "",
    "db_f_mean": "f",
    "dhx_from_dW_C": "",
    "i_grad_sign": "i",
    "o_grad_twice": "o",
    "forward_Ct_sigmoid": "",
    "do_with_C_and_cell_carry_dropped": "o",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


GATES = ("f", "i", "C", "o")


def lstm_forward(x, h0, C0, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o, bug=None):
    W = {"f": W_f, "i": W_i, "C": W_C, "o": W_o}
    b = {"f": b_f, "i": b_i, "C": b_C, "o": b_o}
    N, T, D = x.shape
    h, C = h0, C0
    hs, history = [], []
    for t in range(T):
        hx = np.hstack([h, x[:, t]])
        f = sigmoid(hx @ W["f"].T + b["f"])
        i = sigmoid(hx @ W["i"].T + b["i"])
        a_C = hx @ W["C"].T + b["C"]
        Ct = sigmoid(a_C) if bug == "forward_Ct_sigmoid" else np.tanh(a_C)
        o = sigmoid(hx @ W["o"].T + b["o"])
        C_prev, C = C, f * C + i * Ct
        h = o * np.tanh(C)
        history.append({"hx": hx, "f": f, "i": i, "Ct": Ct, "o": o, "C_prev": C_prev, "C": C})
        hs.append(h)
    return np.stack(hs, axis=1), (history, W, b)


def _gate_grads(dh, dC, s, bug):
    """(da_f, da_i, da_C, da_o) for one step, given dh and the total dC."""
    tanhC = np.tanh(s["C"])
    do = dh * s["C"] if bug in ("do_with_C", "do_with_C_and_cell_carry_dropped") else dh * tanhC
    df = dC * (s["C"] if bug == "df_with_C_t" else s["C_prev"])
    di = dC * s["Ct"]
    dCt = dC * (s["f"] if bug == "dCt_uses_f" else s["i"])
    da_f = df * s["f"] * (1 - s["f"])
    da_i = di * s["i"] * ((s["i"] - 1) if bug == "i_grad_sign" else (1 - s["i"]))
    if bug == "Ct_grad_squared_wrong":
        da_C = dCt * (1 - s["Ct"]) ** 2
    elif bug == "forward_Ct_sigmoid":
        da_C = dCt * s["Ct"] * (1 - s["Ct"])
    else:
        da_C = dCt * (1 - s["Ct"] ** 2)
    if bug == "o_grad_twice":
        do = do * s["o"] * (1 - s["o"])
    da_o = do * s["o"] * (1 - s["o"])
    return {"f": da_f, "i": da_i, "C": da_C, "o": da_o}


def lstm_backward(dh_all, cache, bug=None):
    history, W, b = cache
    N, T, H = dh_all.shape
    D = history[0]["hx"].shape[1] - H
    dW = {g: np.zeros_like(W[g]) for g in GATES}
    db = {g: np.zeros_like(b[g]) for g in GATES}
    dx = np.zeros((N, T, D), dtype=dh_all.dtype)
    dh_next = np.zeros((N, H), dtype=dh_all.dtype)
    dC_next = np.zeros((N, H), dtype=dh_all.dtype)
    for t in reversed(range(T)):
        s = history[t]
        dh = dh_all[:, t] + dh_next
        tanhC = np.tanh(s["C"])
        if bug in ("cell_carry_dropped", "do_with_C_and_cell_carry_dropped"):
            dC = dh * s["o"] * (1 - tanhC ** 2)
        elif bug == "cell_carry_overwrites" and t < T - 1:
            dC = dC_next
        elif bug == "tanh_C_grad_missing":
            dC = dC_next + dh * s["o"]
        else:
            dC = dC_next + dh * s["o"] * (1 - tanhC ** 2)
        da = _gate_grads(dh, dC, s, bug)
        dhx = np.zeros_like(s["hx"])
        for g in GATES:
            dW[g] += da[g].T @ s["hx"]
            db[g] += da[g].mean(axis=0) if (bug == "db_f_mean" and g == "f") else da[g].sum(axis=0)
            if bug == "W_f_for_W_i_in_dhx" and g == "i":
                dhx += da[g] @ W["f"]
            elif bug == "dhx_from_dW_C" and g == "C":
                dhx += da[g] @ dW["C"]
            else:
                dhx += da[g] @ W[g]
        dh_next, dx[:, t] = dhx[:, :H], dhx[:, H:]
        dC_next = dC * s["f"]
    return (dx, dh_next, dC_next, dW["f"], db["f"], dW["i"], db["i"], dW["C"], db["C"], dW["o"], db["o"])


_ROWS = {"i": 0, "f": 1, "C": 2, "o": 3}               # canonical block of each of colah's gates


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for g in GATES:
        rows = slice(_ROWS[g] * H, (_ROWS[g] + 1) * H)
        out[f"W_{g}"] = np.concatenate([p["weight_hh"][rows], p["weight_ih"][rows]], axis=1)
        out[f"b_{g}"] = b[rows]
    return out


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    order = ("i", "f", "C", "o")
    out = {}
    if all(f"dW_{g}" in grads for g in order):
        out["dweight_hh"] = np.concatenate([grads[f"dW_{g}"][:, :H] for g in order])
        out["dweight_ih"] = np.concatenate([grads[f"dW_{g}"][:, H:] for g in order])
    if all(f"db_{g}" in grads for g in order):
        out["dbias_ih"] = np.concatenate([grads[f"db_{g}"] for g in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="colah_lstm", cells=("lstm",), gate_order="fiCo",
                               gate_letters={"C": "g"}, names={"c": "C"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, C0, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o):
        return lstm_forward(x, h0, C0, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""The encoder of a seq2seq translation script, an LSTM in d2l's style: time-major inputs
(T, N, D) from an embedding, a params list, the state a tuple (H, C), capital letters:

    params = [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c]
    I = sigmoid(X @ W_xi + H @ W_hi + b_i)     F, O likewise      W_x* (D, H), W_h* (H, H)
    C_tilda = tanh(X @ W_xc + H @ W_hc + b_c)
    C = F * C + I * C_tilda        H = O * tanh(C)

``lstm(inputs, H0, C0, params) -> (outputs, (H, C), cache)``; the decoder (not checked) starts
from the final state. The backward, written by the student since d2l leaves it to autograd,
returns (dinputs, dH0, dC0, *grads) in the params order. Twenty-ninth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "C_tilda_grad_sign": "wrong_sign",                    # dC_tilda * (C_tilda**2 - 1)
    "I_no_sigmoid_grad": "derivative_missing",            # dI_pre = dI
    "O_sigmoid_grad_twice": "derivative_twice",           # dO = dH * tanh(C) * O * (1 - O), then * O * (1 - O) again
    "dI_with_C_prev": "wrong_value",                      # dI = dC * C_prev (meant C_tilda)
    "W_hf_on_I_path": "wrong_weight",                     # dH_prev gets dI_pre @ W_hf.T (copy-paste from the F line)
    "W_ho_not_transposed": "weight_transposed",           # dH_prev gets dO_pre @ W_ho
    "dW_hc_transposed": "gradient_transposed",            # dW_hc += dC_tilda_pre.T @ H_prev
    "F_from_next_cache": "wrong_time",                    # dC_prev = dC * caches[t + 1]["F"] (a cache read one step late)
    "first_step_skipped": "loop_skips_step",              # for t in range(T - 1, 0, -1)
    "tanh_C_squared_in_place": "inplace_corruption",      # dtanh = tanh_C; dtanh **= 2 ...: the cached tanh(C) is
                                                          # 1 - tanh(C)**2 when dO reads it
    "H_is_O_times_C": "forward_mistake",                  # H = O * C (no tanh); backward consistent
    "truncate_after_two": "truncated_bptt",               # dH, dC carries zeroed after two steps back
    "dC_prev_halved": "unknown",                          # dC_prev = 0.5 * dC * F: an arbitrary constant
    "dF_new_C_no_sigmoid_grad": "unknown",                # two at once: dF = dC * C (C_t for C_prev) and dF_pre = dF
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "C_tilda_grad_sign": "g",
    "I_no_sigmoid_grad": "i",
    "O_sigmoid_grad_twice": "o",
    "dI_with_C_prev": "i",
    "W_hf_on_I_path": "",
    "W_ho_not_transposed": "",
    "dW_hc_transposed": "g",
    "F_from_next_cache": "",
    "first_step_skipped": "",
    "tanh_C_squared_in_place": "o",
    "H_is_O_times_C": "",
    "truncate_after_two": "",
    "dC_prev_halved": "",
    "dF_new_C_no_sigmoid_grad": "f",
}

NAMES = ("W_xi", "W_hi", "b_i", "W_xf", "W_hf", "b_f", "W_xo", "W_ho", "b_o", "W_xc", "W_hc", "b_c")


def sigmoid(X):
    return 1 / (1 + np.exp(-X))


def lstm(inputs, H, C, params, bug=None):
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c] = params
    outputs, caches = [], []
    for X in inputs:
        I = sigmoid((X @ W_xi) + (H @ W_hi) + b_i)
        F = sigmoid((X @ W_xf) + (H @ W_hf) + b_f)
        O = sigmoid((X @ W_xo) + (H @ W_ho) + b_o)
        C_tilda = np.tanh((X @ W_xc) + (H @ W_hc) + b_c)
        cache = {"X": X, "H_prev": H, "C_prev": C, "I": I, "F": F, "O": O, "C_tilda": C_tilda}
        C = F * C + I * C_tilda
        tanh_C = np.tanh(C)
        H = O * C if bug == "H_is_O_times_C" else O * tanh_C
        cache.update(C=C, tanh_C=tanh_C)
        caches.append(cache)
        outputs.append(H)
    return np.stack(outputs), (H, C), {"caches": caches, "params": params}


def lstm_backward(doutputs, cache, bug=None):
    caches, params = cache["caches"], cache["params"]
    [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c] = params
    grads = {name: np.zeros_like(p) for name, p in zip(NAMES, params)}
    T = len(caches)
    dinputs = np.zeros((T,) + caches[0]["X"].shape, dtype=doutputs.dtype)
    dH_next = np.zeros_like(doutputs[0])
    dC_next = np.zeros_like(doutputs[0])
    stop = 0 if bug == "first_step_skipped" else -1
    for t in range(T - 1, stop, -1):
        k = caches[t]
        I, F, O, C_tilda = k["I"], k["F"], k["O"], k["C_tilda"]
        dH = doutputs[t] + dH_next
        if bug == "H_is_O_times_C":
            dC = dC_next + dH * O
            dO = dH * k["C"]
        elif bug == "tanh_C_squared_in_place":
            dtanh = k["tanh_C"]
            dtanh **= 2
            dtanh *= -1
            dtanh += 1
            dC = dC_next + dH * O * dtanh
            dO = dH * k["tanh_C"]
        else:
            dC = dC_next + dH * O * (1 - k["tanh_C"] ** 2)
            dO = dH * k["tanh_C"]
        dF = dC * (k["C"] if bug == "dF_new_C_no_sigmoid_grad" else k["C_prev"])
        dI = dC * (k["C_prev"] if bug == "dI_with_C_prev" else C_tilda)
        dC_tilda = dC * I
        dI_pre = dI if bug == "I_no_sigmoid_grad" else dI * I * (1 - I)
        dF_pre = dF if bug == "dF_new_C_no_sigmoid_grad" else dF * F * (1 - F)
        if bug == "O_sigmoid_grad_twice":
            dO = dO * O * (1 - O)
        dO_pre = dO * O * (1 - O)
        if bug == "C_tilda_grad_sign":
            dC_tilda_pre = dC_tilda * (C_tilda ** 2 - 1)
        else:
            dC_tilda_pre = dC_tilda * (1 - C_tilda ** 2)
        X, H_prev = k["X"], k["H_prev"]
        for g, d in (("i", dI_pre), ("f", dF_pre), ("o", dO_pre), ("c", dC_tilda_pre)):
            grads["W_x" + g] += X.T @ d
            if bug == "dW_hc_transposed" and g == "c":
                grads["W_hc"] += d.T @ H_prev
            else:
                grads["W_h" + g] += H_prev.T @ d
            grads["b_" + g] += d.sum(axis=0)
        dinputs[t] = dI_pre @ W_xi.T + dF_pre @ W_xf.T + dO_pre @ W_xo.T + dC_tilda_pre @ W_xc.T
        dH_next = ((dI_pre @ (W_hf if bug == "W_hf_on_I_path" else W_hi).T) + dF_pre @ W_hf.T
                   + dO_pre @ (W_ho if bug == "W_ho_not_transposed" else W_ho.T) + dC_tilda_pre @ W_hc.T)
        if bug == "F_from_next_cache":
            dC_next = dC * caches[min(t + 1, T - 1)]["F"]
        elif bug == "dC_prev_halved":
            dC_next = 0.5 * dC * F
        else:
            dC_next = dC * F
        if bug == "truncate_after_two" and T - t >= 2:
            dH_next, dC_next = np.zeros_like(dH_next), np.zeros_like(dC_next)
    return (dinputs, dH_next, dC_next) + tuple(grads[name] for name in NAMES)


class Seq2SeqEncoder:
    def __init__(self, embedding, params):
        self.embedding, self.params = embedding, params

    def __call__(self, tokens, H0, C0):
        X = self.embedding[tokens.T]                       # (T, N, D): time-major, as d2l permutes it
        outputs, state, self.cache = lstm(X, H0, C0, self.params)
        return outputs, state

    def backward(self, doutputs):
        dX, _, _, *grads = lstm_backward(doutputs, self.cache)
        return dX, grads


_BLOCKS = {"i": 0, "f": 1, "c": 2, "o": 3}                 # canonical rows i, f, g(=c), o


def to_user(cell, p):
    blk = {k: np.split(p[k], 4) for k in ("weight_ih", "weight_hh")}
    b = np.split(p["bias_ih"] + p["bias_hh"], 4)
    out = {}
    for g in "ifoc":
        n = _BLOCKS[g]
        out.update({f"W_x{g}": blk["weight_ih"][n].T, f"W_h{g}": blk["weight_hh"][n].T, f"b_{g}": b[n]})
    return {name: out[name] for name in NAMES}


def to_canonical(cell, grads, p):
    out = {}
    if all(f"dW_x{g}" in grads for g in "ifco"):
        out["dweight_ih"] = np.concatenate([grads[f"dW_x{g}"].T for g in "ifco"])
    if all(f"dW_h{g}" in grads for g in "ifco"):
        out["dweight_hh"] = np.concatenate([grads[f"dW_h{g}"].T for g in "ifco"])
    if all(f"db_{g}" in grads for g in "ifco"):
        out["dbias_ih"] = np.concatenate([grads[f"db_{g}"] for g in "ifco"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="d2l_seq2seq_lstm", cells=("lstm",), axes="TND",
                               weights_as="list", forward_returns=("h", "state", "cache"), gate_order="ifoc",
                               gate_letters={"c": "g"}, names={"h": "H", "c": "C"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, H, C, params):
        return lstm(inputs, H, C, params, bug)

    def backward(doutputs, cache):
        return lstm_backward(doutputs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""An LSTM written in the sequence-models course's notebook style: column-major data
x (n_x, m, T_x), a0 (n_a, m), the cell state starting at zero, a ``parameters`` dict with
the course's gate names Wf, Wi, Wc, Wo (n_a, n_a + n_x) applied to concat = [a_prev; xt],
bf, bi, bc, bo (n_a, 1) and the prediction layer Wy, by (not compared); a ``caches`` list,
a ``gradients`` dict:

    ft = sigmoid(Wf concat + bf)   it = sigmoid(Wi concat + bi)   cct = tanh(Wc concat + bc)
    c_next = ft * c_prev + it * cct      ot = sigmoid(Wo concat + bo)   a_next = ot * tanh(c_next)

lstm_forward returns (a, y, c, caches); lstm_backward(da, caches) returns the gradients
dict (dx, da0, dWf, dbf, ...). Sixth held-out zoo: written without reading the diagnosis.
"[own]" marks mistakes of the writer's own invention (beyond issue 8's list).
"""

import numpy as np

import harness

BUGS = {
    "dc_prev_misses_a_path": "term_dropped",           # dc_prev = dc_next * ft (the term through a_next left out)
    "dcct_tanh_grad_missing": "derivative_missing",    # dcct = (...) with no (1 - cct ** 2)
    "tanh_c_grad_typo": "derivative_miswritten",       # 1 - np.tanh(c_next ** 2) for 1 - np.tanh(c_next) ** 2
    "dcct_grad_at_tanh_cct": "derivative_wrong_point", # (1 - np.tanh(cct) ** 2): tanh' taken at the gate's output
    "dft_sigmoid_backward_twice": "derivative_twice",  # dft already times ft (1 - ft), passed through sigmoid_backward again
    "dot_tanh_of_c_prev": "wrong_time",                # dot = da_next * np.tanh(c_prev) * ...
    "dxt_Wi_for_Wc": "wrong_weight",                   # Wi[:, n_a:].T @ dcct in dxt
    "da_prev_from_dWo": "gradient_for_weight",         # gradients["dWo"][:, :n_a].T @ dot in da_prev
    "driver_ignores_da_prevt": "carry_dropped",        # cell_backward(da[:, :, t], dc_prevt, caches[t])
    "driver_dWf_assigned": "carry_overwrites",         # dWf = gradients["dWf"] in the driver (= for +=)
    "dbf_mean": "reduction_scaled",                    # [own] np.mean(dft, axis=1, keepdims=True) for dbf
    "clip_like_dinosaurus": "gradient_clipped",        # [own] the course's clip(gradients, maxValue=1) inside the backward
    "forward_it_uses_Wf": "forward_mistake",           # [own] it = sigmoid(Wf concat + bi) (copy-paste); the backward matches it
    "dc_prev_no_a_path_and_no_dcct_grad": "unknown",   # two mistakes at once (the course's two most common)
    "dx_stored_one_step_back": "wrong_time",           # [own] dx[:, :, t - 1] = gradients["dxt"] (t = 0's lands at T_x - 1);
                                                       # one mistake: relabelled from "unknown" (held26 labels it so)
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dc_prev_misses_a_path": "",
    "dcct_tanh_grad_missing": "g",
    "tanh_c_grad_typo": "ig",
    "dcct_grad_at_tanh_cct": "g",
    "dft_sigmoid_backward_twice": "",
    "dot_tanh_of_c_prev": "o",
    "dxt_Wi_for_Wc": "",
    "da_prev_from_dWo": "",
    "driver_ignores_da_prevt": "",
    "driver_dWf_assigned": "",
    "dbf_mean": "",
    "clip_like_dinosaurus": "g",
    "forward_it_uses_Wf": "",
    "dc_prev_no_a_path_and_no_dcct_grad": "g",
    "dx_stored_one_step_back": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def sigmoid_backward(dA, s):
    return dA * s * (1 - s)


def lstm_cell_forward(xt, a_prev, c_prev, parameters, bug=None):
    Wf, bf, Wi, bi = parameters["Wf"], parameters["bf"], parameters["Wi"], parameters["bi"]
    Wc, bc, Wo, bo = parameters["Wc"], parameters["bc"], parameters["Wo"], parameters["bo"]
    Wy, by = parameters["Wy"], parameters["by"]
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(np.dot(Wf, concat) + bf)
    it = sigmoid(np.dot(Wf if bug == "forward_it_uses_Wf" else Wi, concat) + bi)
    cct = np.tanh(np.dot(Wc, concat) + bc)
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(Wo, concat) + bo)
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(np.dot(Wy, a_next) + by)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters, bug=None):
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    c = np.zeros((n_a, m, T_x), dtype=x.dtype)
    y = np.zeros((n_y, m, T_x), dtype=x.dtype)
    caches = []
    a_next, c_next = a0, np.zeros_like(a0)
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters, bug)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_cell_backward(da_next, dc_next, cache, bug=None):
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a, m = a_next.shape
    tanh_c = np.tanh(c_prev) if bug == "dot_tanh_of_c_prev" else np.tanh(c_next)
    if bug == "tanh_c_grad_typo":
        dtanh = 1 - np.tanh(c_next ** 2)
    else:
        dtanh = 1 - np.tanh(c_next) ** 2
    dot = da_next * tanh_c * ot * (1 - ot)
    dcct = dc_next * it + ot * dtanh * it * da_next
    if bug == "dcct_grad_at_tanh_cct":
        dcct = dcct * (1 - np.tanh(cct) ** 2)
    elif bug not in ("dcct_tanh_grad_missing", "dc_prev_no_a_path_and_no_dcct_grad"):
        dcct = dcct * (1 - cct ** 2)
    dit = (dc_next * cct + ot * dtanh * cct * da_next) * it * (1 - it)
    dft = (dc_next * c_prev + ot * dtanh * c_prev * da_next) * ft * (1 - ft)
    if bug == "dft_sigmoid_backward_twice":
        dft = sigmoid_backward(dft, ft)
    concat = np.concatenate((a_prev, xt), axis=0)
    gradients = {}
    if bug == "forward_it_uses_Wf":
        gradients["dWf"] = np.dot(dft + dit, concat.T)
        gradients["dWi"] = np.zeros_like(parameters["Wi"])
    else:
        gradients["dWf"] = np.dot(dft, concat.T)
        gradients["dWi"] = np.dot(dit, concat.T)
    gradients["dWc"] = np.dot(dcct, concat.T)
    gradients["dWo"] = np.dot(dot, concat.T)
    gradients["dbf"] = np.mean(dft, axis=1, keepdims=True) if bug == "dbf_mean" else np.sum(dft, axis=1, keepdims=True)
    gradients["dbi"] = np.sum(dit, axis=1, keepdims=True)
    gradients["dbc"] = np.sum(dcct, axis=1, keepdims=True)
    gradients["dbo"] = np.sum(dot, axis=1, keepdims=True)
    Wf, Wc, Wo = parameters["Wf"], parameters["Wc"], parameters["Wo"]
    Wi = parameters["Wf"] if bug == "forward_it_uses_Wf" else parameters["Wi"]
    Wo_a = gradients["dWo"][:, :n_a] if bug == "da_prev_from_dWo" else Wo[:, :n_a]
    da_prev = (np.dot(Wf[:, :n_a].T, dft) + np.dot(Wi[:, :n_a].T, dit) + np.dot(Wc[:, :n_a].T, dcct)
               + np.dot(Wo_a.T, dot))
    if bug in ("dc_prev_misses_a_path", "dc_prev_no_a_path_and_no_dcct_grad"):
        dc_prev = dc_next * ft
    else:
        dc_prev = dc_next * ft + ot * dtanh * ft * da_next
    Wc_x = Wi[:, n_a:] if bug == "dxt_Wi_for_Wc" else Wc[:, n_a:]
    dxt = np.dot(Wf[:, n_a:].T, dft) + np.dot(Wi[:, n_a:].T, dit) + np.dot(Wc_x.T, dcct) + np.dot(Wo[:, n_a:].T, dot)
    gradients.update(dxt=dxt, da_prev=da_prev, dc_prev=dc_prev)
    return gradients


def clip(gradients, maxValue):
    for gradient in [gradients["dWf"], gradients["dWi"], gradients["dWc"], gradients["dWo"]]:
        np.clip(gradient, -maxValue, maxValue, out=gradient)
    return gradients


def lstm_backward(da, caches, bug=None):
    (caches, x) = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)
    dc_prevt = np.zeros((n_a, m), dtype=da.dtype)
    dW = {k: np.zeros((n_a, n_a + n_x), dtype=da.dtype) for k in ("dWf", "dWi", "dWc", "dWo")}
    db = {k: np.zeros((n_a, 1), dtype=da.dtype) for k in ("dbf", "dbi", "dbc", "dbo")}
    for t in reversed(range(T_x)):
        da_in = da[:, :, t] if bug == "driver_ignores_da_prevt" else da[:, :, t] + da_prevt
        gradients = lstm_cell_backward(da_in, dc_prevt, caches[t], bug)
        dx[:, :, t - 1 if bug == "dx_stored_one_step_back" else t] = gradients["dxt"]
        for k in dW:
            if bug == "driver_dWf_assigned" and k == "dWf":
                dW[k] = gradients[k]
            else:
                dW[k] += gradients[k]
        for k in db:
            db[k] += gradients[k]
        da_prevt, dc_prevt = gradients["da_prev"], gradients["dc_prev"]
    gradients = {"dx": dx, "da0": da_prevt, **dW, **db}
    if bug == "clip_like_dinosaurus":
        gradients = clip(gradients, 1)
    return gradients


GATES = {"f": "f", "i": "i", "c": "g", "o": "o"}        # the course's letter -> torch's


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for letter, gate in GATES.items():
        rows = slice("ifgo".index(gate) * H, ("ifgo".index(gate) + 1) * H)
        user[f"W{letter}"] = np.concatenate([p["weight_hh"][rows], p["weight_ih"][rows]], axis=1)
        user[f"b{letter}"] = b[rows, None]
    user["Wy"], user["by"] = np.zeros((3, H), dtype=b.dtype), np.zeros((3, 1), dtype=b.dtype)
    return user


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    out = {}
    by_gate = {gate: letter for letter, gate in GATES.items()}
    if all(f"dW{letter}" in g for letter in GATES):
        out["dweight_hh"] = np.concatenate([g[f"dW{by_gate[q]}"][:, :H] for q in "ifgo"])
        out["dweight_ih"] = np.concatenate([g[f"dW{by_gate[q]}"][:, H:] for q in "ifgo"])
    if all(f"db{letter}" in g for letter in GATES):
        out["dbias_ih"] = np.concatenate([g[f"db{by_gate[q]}"][:, 0] for q in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="course_lstm", cells=("lstm",), axes="DNT",
                               weights_as="dict", forward_returns=("h", "y", "c", "cache"), names={"h": "a"},
                               takes_c0=False, gate_order="fico", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, a0, parameters):
        return lstm_forward(x, a0, parameters, bug)

    def backward(da, caches):
        return lstm_backward(da, caches, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

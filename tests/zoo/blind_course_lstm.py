"""An LSTM the way the popular sequence-models course writes it: column-major arrays, one
``parameters`` dict with a matrix per gate on concat = [a<t-1>; x<t>], c<0> = 0.

    ft = sigmoid(Wf concat + bf)   it = sigmoid(Wi concat + bi)   cct = tanh(Wc concat + bc)
    c<t> = ft * c<t-1> + it * cct   ot = sigmoid(Wo concat + bo)  a<t> = ot * tanh(c<t>)
    Wf, Wi, Wc, Wo (n_a, n_a + n_x); bf, bi, bc, bo (n_a, 1); x (n_x, m, T_x), a0 (n_a, m)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
TOUCHES: the canonical gates (i, f, g, o) whose weight-gradient blocks are wrong with one
step (computed by blind_index.touched_gates; c<0> = 0, so f's gradients vanish at T=1).
"""

from functools import partial

import numpy as np

import harness

N_Y = 2
GATES = {"i": "i", "f": "f", "g": "c", "o": "o"}         # canonical gate -> the course's letter

BUGS = {
    "dc_prevt_not_updated": "carry_dropped",              # driver never sets dc_prevt = dc_prev (c carry)
    "da_prevt_not_added": "carry_dropped",                # driver passes da[:, :, t] alone (h carry)
    "dot_no_sigmoid_grad": "derivative_missing",          # dot = da_next * tanh(c_next)
    "dcct_sigmoid_grad": "derivative_wrong_function",     # cct * (1 - cct) for the tanh candidate
    "dit_tanh_grad": "derivative_wrong_function",         # (1 - it**2) for the sigmoid input gate
    "dcct_one_minus_cct": "derivative_miswritten",        # (1 - cct) for (1 - cct**2)
    "dft_one_minus_ft": "derivative_miswritten",          # (1 - ft) for ft * (1 - ft)
    "dcct_grad_of_tanh_cct": "derivative_wrong_point",    # 1 - tanh(cct)**2: tanh' at the output
    "dot_grad_at_preact": "derivative_wrong_point",       # zo * (1 - zo) with zo = Wo concat + bo
    "dft_uses_c_next": "wrong_time",                      # c_next where c_prev belongs in dft
    "concat_a_next": "wrong_time",                        # concat = [a_next; xt] in the backward
    "Wf_not_transposed": "weight_transposed",             # Wf[:, :n_a] @ dft in da_prev
    "Wi_for_Wc": "wrong_weight",                          # Wi[:, :n_a].T @ dcct in da_prev
    "dxt_from_dWf": "gradient_for_weight",                # dWf[:, n_a:].T @ dft in dxt
    "da_prev_no_o_term": "term_dropped",                  # the Wo term of da_prev left out
    "dcct_no_dc_next": "term_dropped",                    # dcct without dc_next * it
    "dc_prev_minus": "wrong_sign",                        # dc_next * ft - ...
    "it_inplace": "inplace_corruption",                   # it *= (1 - it) before dcct reads it
    "return_swaps_f_i": "gate_order",                     # gradients dict: dWf/dbf <-> dWi/dbi
    "db_mean": "reduction_scaled",                        # np.mean over the batch for every db
    "loop_skips_last": "loop_skips_step",                 # reversed(range(T_x - 1))
    "dWc_assigned": "carry_overwrites",                   # dWc = gradients["dWc"]
    "dc_prev_times_f_again": "derivative_twice",          # driver: dc_prevt = dc_prev * ft again
    "cct_sigmoid": "forward_mistake",                     # sigmoid candidate, backward consistent
    "concat_reversed_in_backward": "unknown",             # backward builds [xt; a_prev], forward [a_prev; xt]
    "da_prevt_starts_at_last": "unknown",                 # da_prevt = da[:, :, -1]: last step counted twice
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dc_prevt_not_updated": "",
    "da_prevt_not_added": "",
    "dot_no_sigmoid_grad": "o",
    "dcct_sigmoid_grad": "g",
    "dit_tanh_grad": "i",
    "dcct_one_minus_cct": "g",
    "dft_one_minus_ft": "",
    "dcct_grad_of_tanh_cct": "g",
    "dot_grad_at_preact": "o",
    "dft_uses_c_next": "f",
    "concat_a_next": "",
    "Wf_not_transposed": "",
    "Wi_for_Wc": "",
    "dxt_from_dWf": "",
    "da_prev_no_o_term": "",
    "dcct_no_dc_next": "",
    "dc_prev_minus": "",
    "it_inplace": "g",
    "return_swaps_f_i": "if",
    "db_mean": "",
    "loop_skips_last": "",
    "dWc_assigned": "",
    "dc_prev_times_f_again": "",
    "cct_sigmoid": "",
    "concat_reversed_in_backward": "",
    "da_prevt_starts_at_last": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def lstm_cell_forward(xt, a_prev, c_prev, parameters, bug=None):
    """xt (n_x, m), a_prev, c_prev (n_a, m) -> a_next, c_next, yt_pred, cache."""
    Wf, bf = parameters["Wf"], parameters["bf"]
    Wi, bi = parameters["Wi"], parameters["bi"]
    Wc, bc = parameters["Wc"], parameters["bc"]
    Wo, bo = parameters["Wo"], parameters["bo"]
    Wy, by = parameters["Wy"], parameters["by"]
    concat = np.concatenate((a_prev, xt), axis=0)
    ft = sigmoid(np.dot(Wf, concat) + bf)
    it = sigmoid(np.dot(Wi, concat) + bi)
    cct = sigmoid(np.dot(Wc, concat) + bc) if bug == "cct_sigmoid" else np.tanh(np.dot(Wc, concat) + bc)
    c_next = ft * c_prev + it * cct
    ot = sigmoid(np.dot(Wo, concat) + bo)
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(np.dot(Wy, a_next) + by)
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters, bug=None):
    """x (n_x, m, T_x), a0 (n_a, m) -> a, y, c, caches; the cell state starts at zero."""
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    c = np.zeros((n_a, m, T_x), dtype=x.dtype)
    y = np.zeros((n_y, m, T_x), dtype=x.dtype)
    a_next = a0
    c_next = np.zeros(a_next.shape, dtype=x.dtype)
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters, bug)
        a[:, :, t] = a_next
        c[:, :, t] = c_next
        y[:, :, t] = yt
        caches.append(cache)
    caches = (caches, x)
    return a, y, c, caches


def _gate_grads(da_next, dc_next, cache, bug):
    """dot, dcct, dit, dft: the gradients of the gates' pre-activations."""
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    dtanh_c = ot * (1 - np.square(np.tanh(c_next))) * da_next          # through a_next = ot * tanh(c_next)
    if bug == "dot_no_sigmoid_grad":
        dot = da_next * np.tanh(c_next)
    elif bug == "dot_grad_at_preact":
        zo = np.dot(parameters["Wo"], np.concatenate((a_prev, xt), axis=0)) + parameters["bo"]
        dot = da_next * np.tanh(c_next) * zo * (1 - zo)
    else:
        dot = da_next * np.tanh(c_next) * ot * (1 - ot)
    if bug == "it_inplace":
        sig_i = it
        sig_i *= (1 - it)                     # it(1 - it), written into the cached it
        dit = (dc_next * cct + dtanh_c * cct) * sig_i
    cct_grad = {"dcct_sigmoid_grad": cct * (1 - cct), "dcct_one_minus_cct": 1 - cct, "cct_sigmoid": cct * (1 - cct),
                "dcct_grad_of_tanh_cct": 1 - np.square(np.tanh(cct))}.get(bug, 1 - np.square(cct))
    if bug == "dcct_no_dc_next":
        dcct = dtanh_c * it * cct_grad
    else:
        dcct = (dc_next * it + dtanh_c * it) * cct_grad
    if bug == "dit_tanh_grad":
        dit = (dc_next * cct + dtanh_c * cct) * (1 - np.square(it))
    elif bug != "it_inplace":
        dit = (dc_next * cct + dtanh_c * cct) * it * (1 - it)
    c_f = c_next if bug == "dft_uses_c_next" else c_prev
    f_grad = (1 - ft) if bug == "dft_one_minus_ft" else ft * (1 - ft)
    dft = (dc_next * c_f + dtanh_c * c_f) * f_grad
    return dot, dcct, dit, dft, dtanh_c


def lstm_cell_backward(da_next, dc_next, cache, bug=None):
    """da_next, dc_next (n_a, m) -> gradients {dxt, da_prev, dc_prev, dWf, dbf, ...}."""
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_x, m = xt.shape
    n_a, m = a_next.shape
    Wf, Wi, Wc, Wo = parameters["Wf"], parameters["Wi"], parameters["Wc"], parameters["Wo"]
    dot, dcct, dit, dft, dtanh_c = _gate_grads(da_next, dc_next, cache, bug)
    if bug == "concat_a_next":
        concat = np.concatenate((a_next, xt), axis=0)
    elif bug == "concat_reversed_in_backward":
        concat = np.concatenate((xt, a_prev), axis=0)
    else:
        concat = np.concatenate((a_prev, xt), axis=0)
    dWf = np.dot(dft, concat.T)
    dWi = np.dot(dit, concat.T)
    dWc = np.dot(dcct, concat.T)
    dWo = np.dot(dot, concat.T)
    red = np.mean if bug == "db_mean" else np.sum
    dbf = red(dft, axis=1, keepdims=True)
    dbi = red(dit, axis=1, keepdims=True)
    dbc = red(dcct, axis=1, keepdims=True)
    dbo = red(dot, axis=1, keepdims=True)
    Wf_a = Wf[:, :n_a] if bug == "Wf_not_transposed" else Wf[:, :n_a].T
    Wc_a = Wi[:, :n_a].T if bug == "Wi_for_Wc" else Wc[:, :n_a].T
    da_prev = np.dot(Wf_a, dft) + np.dot(Wi[:, :n_a].T, dit) + np.dot(Wc_a, dcct)
    if bug != "da_prev_no_o_term":
        da_prev = da_prev + np.dot(Wo[:, :n_a].T, dot)
    if bug == "dc_prev_minus":
        dc_prev = dc_next * ft - ot * (1 - np.square(np.tanh(c_next))) * ft * da_next
    else:
        dc_prev = dc_next * ft + ot * (1 - np.square(np.tanh(c_next))) * ft * da_next
    Wf_x = dWf[:, n_a:] if bug == "dxt_from_dWf" else Wf[:, n_a:]
    dxt = (np.dot(Wf_x.T, dft) + np.dot(Wi[:, n_a:].T, dit) + np.dot(Wc[:, n_a:].T, dcct)
           + np.dot(Wo[:, n_a:].T, dot))
    if bug == "return_swaps_f_i":
        dWf, dbf, dWi, dbi = dWi, dbi, dWf, dbf
    gradients = {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf, "dWi": dWi,
                 "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}
    return gradients


def lstm_backward(da, caches, bug=None):
    """da (n_a, m, T_x) -> gradients {dx, da0, dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo}."""
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    dt = da.dtype
    dx = np.zeros((n_x, m, T_x), dtype=dt)
    da0 = np.zeros((n_a, m), dtype=dt)
    da_prevt = da[:, :, -1].copy() if bug == "da_prevt_starts_at_last" else np.zeros((n_a, m), dtype=dt)
    dc_prevt = np.zeros((n_a, m), dtype=dt)
    dWf, dWi, dWc, dWo = (np.zeros((n_a, n_a + n_x), dtype=dt) for _ in range(4))
    dbf, dbi, dbc, dbo = (np.zeros((n_a, 1), dtype=dt) for _ in range(4))
    steps = reversed(range(T_x - 1)) if bug == "loop_skips_last" else reversed(range(T_x))
    for t in steps:
        da_next = da[:, :, t] if bug == "da_prevt_not_added" else da[:, :, t] + da_prevt
        gradients = lstm_cell_backward(da_next, dc_prevt, caches[t], bug)
        da_prevt = gradients["da_prev"]
        if bug == "dc_prev_times_f_again":
            dc_prevt = gradients["dc_prev"] * caches[t][4]
        elif bug != "dc_prevt_not_updated":
            dc_prevt = gradients["dc_prev"]
        dx[:, :, t] = gradients["dxt"]
        dWf += gradients["dWf"]
        dWi += gradients["dWi"]
        if bug == "dWc_assigned":
            dWc = gradients["dWc"]
        else:
            dWc += gradients["dWc"]
        dWo += gradients["dWo"]
        dbf += gradients["dbf"]
        dbi += gradients["dbi"]
        dbc += gradients["dbc"]
        dbo += gradients["dbo"]
    da0 = da_prevt
    gradients = {"dx": dx, "da0": da0, "dWf": dWf, "dbf": dbf, "dWi": dWi, "dbi": dbi,
                 "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}
    return gradients


def to_user(cell, p):
    """Canonical torch LSTM (rows i, f, g, o) -> the course's parameters (Wy, by: a fixed head)."""
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for k, gate in enumerate("ifgo"):
        rows = slice(k * H, (k + 1) * H)
        out["W" + GATES[gate]] = np.concatenate([p["weight_hh"][rows], p["weight_ih"][rows]], axis=1)
        out["b" + GATES[gate]] = b[rows][:, None]
    rng = np.random.default_rng(7)
    out["Wy"] = rng.uniform(-0.5, 0.5, (N_Y, H)).astype(p["weight_hh"].dtype)
    out["by"] = np.zeros((N_Y, 1), dtype=p["weight_hh"].dtype)
    return {k: out[k] for k in ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo", "Wy", "by")}


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all("dW" + GATES[q] in g for q in "ifgo"):
        blocks = [g["dW" + GATES[q]] for q in "ifgo"]
        out["dweight_ih"] = np.concatenate([w[:, H:] for w in blocks], axis=0)
        out["dweight_hh"] = np.concatenate([w[:, :H] for w in blocks], axis=0)
    if all("db" + GATES[q] in g for q in "ifgo"):
        out["dbias_ih"] = np.concatenate([g["db" + GATES[q]][:, 0] for q in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="course_lstm", cells=("lstm",), takes_c0=False,
                               axes="DNT", weights_as="dict", gate_letters={"c": "g"},
                               forward_returns=("h", "y", "c", "cache"), names={"h": "a"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug),
            {"cell": "lstm", "layout": LAYOUT,
             "skip": ("dWy", "dby")})           # the softmax head: not part of the recurrent layer

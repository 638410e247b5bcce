"""A GRU in the notation of the sequence-models course's GRU lecture and quiz, one example
at a time with column vectors (per_example), the memory cell called c, the gates Gamma_u
and Gamma_r, and -- as in the lecture -- the update gate multiplying the candidate:

    concat = [c_prev; x_t]                                  (n_c + n_x, 1)
    Gamma_r = sigmoid(Wr @ concat + br)
    Gamma_u = sigmoid(Wu @ concat + bu)
    c_tilde = tanh(Wc @ [Gamma_r * c_prev; x_t] + bc)         (reset before the product)
    c = Gamma_u * c_tilde + (1 - Gamma_u) * c_prev

``parameters`` is a dict {Wu, bu, Wr, br, Wc, bc} (W's (n_c, n_c + n_x), b's (n_c, 1)),
``caches`` a list of per-step tuples, the backward fills a ``gradients`` dict. Since
Gamma_u = 1 - z of the canonical GRU, Wu and bu are the canonical z weights negated.
Twenty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dGamma_u_torch_sign": "wrong_sign",               # dGamma_u = dc * (c_prev - c_tilde): the other convention's formula
    "dGamma_u_with_c_t": "wrong_time",                 # dGamma_u = dc * (c_tilde - c): c_t for c_prev
    "dc_prev_misses_reset_path": "term_dropped",       # the dc_prev += d(Gamma_r * c_prev) * Gamma_r line left out
    "dWc_from_unreset_concat": "wrong_value",          # dWc += dzc @ concat.T (concat read for [Gamma_r * c_prev; x])
    "dzc_no_tanh": "derivative_missing",               # dzc = dc_tilde
    "dzc_sigmoid_form": "derivative_wrong_function",   # dzc = dc_tilde * c_tilde * (1 - c_tilde)
    "dzu_sigmoid_at_reset": "derivative_wrong_point",  # dzu = dGamma_u * Gamma_r * (1 - Gamma_r) (also wrong_value)
    "dzr_sigmoid_twice": "derivative_twice",           # dGamma_r already times Gamma_r * (1 - Gamma_r), and dzr again
    "dzc_square_misplaced": "derivative_miswritten",   # dzc = dc_tilde * (1 - c_tilde) ** 2
    "loop_skips_last": "loop_skips_step",              # for t in reversed(range(T_x - 1))
    "dc_next_never_added": "carry_dropped",            # dc = da[t]: the carried dc_next never added
    "dbc_assigned": "carry_overwrites",                # gradients["dbc"] = dzc (= for +=)
    "grads_over_T_x": "reduction_scaled",              # every weight gradient divided by T_x (a per-step mean)
    "forward_no_reset_gate": "forward_mistake",        # c_tilde = tanh(Wc @ concat + bc): Gamma_r never used; consistent
    "no_tanh_and_dbc_assigned": "unknown",             # two mistakes: dzc = dc_tilde and dbc = dzc
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dGamma_u_torch_sign": "z",
    "dGamma_u_with_c_t": "z",
    "dc_prev_misses_reset_path": "",
    "dWc_from_unreset_concat": "n",
    "dzc_no_tanh": "rn",
    "dzc_sigmoid_form": "rn",
    "dzu_sigmoid_at_reset": "z",
    "dzr_sigmoid_twice": "r",
    "dzc_square_misplaced": "rn",
    "loop_skips_last": "",
    "dc_next_never_added": "",
    "dbc_assigned": "",
    "grads_over_T_x": "",
    "forward_no_reset_gate": "",
    "no_tanh_and_dbc_assigned": "rn",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def gru_cell_forward(xt, c_prev, parameters, bug=None):
    Wu, bu, Wr, br, Wc, bc = (parameters[k] for k in ("Wu", "bu", "Wr", "br", "Wc", "bc"))
    n_c = c_prev.shape[0]
    concat = np.concatenate([c_prev, xt])
    Gamma_r = sigmoid(Wr @ concat + br)
    Gamma_u = sigmoid(Wu @ concat + bu)
    concat_r = concat.copy() if bug == "forward_no_reset_gate" else np.concatenate([Gamma_r * c_prev, xt])
    c_tilde = np.tanh(Wc @ concat_r + bc)
    c_next = Gamma_u * c_tilde + (1 - Gamma_u) * c_prev
    assert c_next.shape == (n_c, 1)
    return c_next, (c_next, c_prev, xt, concat, concat_r, Gamma_r, Gamma_u, c_tilde)


def gru_forward(x, c0, parameters, bug=None):
    T_x = x.shape[0]
    c = np.zeros((T_x,) + c0.shape, dtype=x.dtype)
    caches, c_next = [], c0
    for t in range(T_x):
        c_next, cache = gru_cell_forward(x[t], c_next, parameters, bug)
        c[t] = c_next
        caches.append(cache)
    return c, (caches, parameters)


def gru_cell_backward(dc, cache, parameters, gradients, bug=None):
    c_next, c_prev, xt, concat, concat_r, Gamma_r, Gamma_u, c_tilde = cache
    Wu, Wr, Wc = parameters["Wu"], parameters["Wr"], parameters["Wc"]
    n_c = c_prev.shape[0]
    dc_tilde = dc * Gamma_u
    if bug == "dGamma_u_torch_sign":
        dGamma_u = dc * (c_prev - c_tilde)
    elif bug == "dGamma_u_with_c_t":
        dGamma_u = dc * (c_tilde - c_next)
    else:
        dGamma_u = dc * (c_tilde - c_prev)
    dc_prev = dc * (1 - Gamma_u)
    if bug in ("dzc_no_tanh", "no_tanh_and_dbc_assigned"):
        dzc = dc_tilde
    elif bug == "dzc_sigmoid_form":
        dzc = dc_tilde * c_tilde * (1 - c_tilde)
    elif bug == "dzc_square_misplaced":
        dzc = dc_tilde * (1 - c_tilde) ** 2
    else:
        dzc = dc_tilde * (1 - c_tilde ** 2)
    gradients["dWc"] += dzc @ (concat if bug == "dWc_from_unreset_concat" else concat_r).T
    if bug in ("dbc_assigned", "no_tanh_and_dbc_assigned"):
        gradients["dbc"] = dzc
    else:
        gradients["dbc"] += dzc
    dconcat_r = Wc.T @ dzc
    d_rc = dconcat_r[:n_c]                              # gradient of Gamma_r * c_prev
    dx = dconcat_r[n_c:]
    if bug == "forward_no_reset_gate":
        dGamma_r = np.zeros_like(d_rc)
        dc_prev = dc_prev + d_rc
    else:
        dGamma_r = d_rc * c_prev
        if bug == "dzr_sigmoid_twice":
            dGamma_r = dGamma_r * Gamma_r * (1 - Gamma_r)
        if bug != "dc_prev_misses_reset_path":
            dc_prev = dc_prev + d_rc * Gamma_r
    if bug == "dzu_sigmoid_at_reset":
        dzu = dGamma_u * Gamma_r * (1 - Gamma_r)
    else:
        dzu = dGamma_u * Gamma_u * (1 - Gamma_u)
    dzr = dGamma_r * Gamma_r * (1 - Gamma_r)
    gradients["dWu"] += dzu @ concat.T
    gradients["dbu"] += dzu
    gradients["dWr"] += dzr @ concat.T
    gradients["dbr"] += dzr
    dconcat = Wu.T @ dzu + Wr.T @ dzr
    return dx + dconcat[n_c:], dc_prev + dconcat[:n_c]


def gru_backward(dc_all, caches_and_parameters, bug=None):
    caches, parameters = caches_and_parameters
    T_x = len(caches)
    gradients = {"d" + k: np.zeros_like(v) for k, v in parameters.items()}
    dx = np.zeros((T_x,) + caches[0][2].shape, dtype=dc_all.dtype)
    dc_next = np.zeros_like(caches[0][1])
    for t in reversed(range(T_x - 1 if bug == "loop_skips_last" else T_x)):
        dc = dc_all[t] if bug == "dc_next_never_added" else dc_all[t] + dc_next
        dx[t], dc_next = gru_cell_backward(dc, caches[t], parameters, gradients, bug)
    if bug == "grads_over_T_x":
        gradients = {k: g / T_x for k, g in gradients.items()}
    gradients["dx"], gradients["dc0"] = dx, dc_next
    return gradients


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    W = np.concatenate([p["weight_hh"], p["weight_ih"]], axis=1)     # (3H, H + D) on [c_prev; x]
    b = (p["bias_ih"] + p["bias_hh"])[:, None]
    return {"Wu": -W[H:2 * H], "bu": -b[H:2 * H], "Wr": W[:H], "br": b[:H], "Wc": W[2 * H:], "bc": b[2 * H:]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all(k in grads for k in ("dWu", "dWr", "dWc")):
        W = np.concatenate([grads["dWr"], -grads["dWu"], grads["dWc"]])
        out["dweight_hh"], out["dweight_ih"] = W[:, :H], W[:, H:]
    if all(k in grads for k in ("dbu", "dbr", "dbc")):
        out["dbias_ih"] = np.concatenate([grads["dbr"], -grads["dbu"], grads["dbc"]])[:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="quiz_gru", cells=("gru",), per_example=True,
                               weights_as="dict", gate_order="ruc", gate_letters={"u": "z", "c": "n"},
                               names={"h": "c"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, c0, parameters):
        return gru_forward(x, c0, parameters, bug)

    def backward(dc, cache):
        return gru_backward(dc, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

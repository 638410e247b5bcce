"""A GRU the way the popular sequence-models course writes its equations, coded in the course's
style: column-major arrays x (n_x, m, T_x), a0 (n_a, m), one ``parameters`` dict with a matrix
per gate on concat = [a<t-1>; x<t>], step functions, a ``caches`` list and a ``gradients`` dict:

    Gr = sigmoid(Wr [a_prev; xt] + br)         Gu = sigmoid(Wu [a_prev; xt] + bu)
    cc = tanh(Wc [Gr * a_prev; xt] + bc)       (the reset gate before the product: reset_after=False)
    a_next = Gu * cc + (1 - Gu) * a_prev        (the course's update gate weighs the candidate)

Wu, Wr, Wc (n_a, n_a + n_x); bu, br, bc (n_a, 1). The course's Gu is torch's 1 - z, so Wu and
bu hold torch's z weights negated (sigmoid(-v) = 1 - sigmoid(v)); the rest maps directly (bc =
b_in + b_hn). Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "da_prev_direct_path_missing": "term_dropped",        # da_prev starts at 0, not da_next * (1 - Gu)
    "dGu_sign_flipped": "wrong_sign",                     # dGu = da_next * (a_prev - cc)
    "dzc_sigmoid_grad": "derivative_wrong_function",      # dzc = dcc * cc * (1 - cc)
    "dzr_grad_of_update_gate": "derivative_wrong_point",  # dzr = dGr * Gu * (1 - Gu)
    "dWc_with_unreset_concat": "term_dropped",            # dWc = dzc @ concat.T: Gr left out of the a rows
    "dGr_with_a_next": "wrong_time",                      # dGr = d_ra * a_next (a<t> for a<t-1>)
    "dWu_assigned_in_driver": "carry_overwrites",         # gradients["dWu"] = grads["dWu"] (= for +=)
    "loop_skips_first_step": "loop_skips_step",           # for t in reversed(range(1, T_x)); da0 = the carry into step 1
    "dWr_over_m": "reduction_scaled",                     # dWr / m (the batch), a mean the loss does not take
    "bptt_cut_after_3": "truncated_bptt",                 # da_prevt zeroed once 3 steps have been backpropagated
    "forward_update_gate_x_only": "forward_mistake",      # Gu = sigmoid(Wu[:, n_a:] @ xt + bu); backward consistent
    "concat2_aliases_concat": "inplace_corruption",       # concat2 = concat; concat2[:n_a] *= Gr: the cached concat is reset
    "dconcat_Wr_for_Wu": "wrong_weight",                  # dconcat = Wr.T @ dzu + Wr.T @ dzr (Wr for Wu)
    "dGu_sign_and_direct_path_Gu": "unknown",             # two mistakes: dGu sign flipped and da_prev = da_next * Gu
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "da_prev_direct_path_missing": "",
    "dGu_sign_flipped": "z",
    "dzc_sigmoid_grad": "rn",
    "dzr_grad_of_update_gate": "r",
    "dWc_with_unreset_concat": "n",
    "dGr_with_a_next": "r",
    "dWu_assigned_in_driver": "",
    "loop_skips_first_step": "",
    "dWr_over_m": "r",
    "bptt_cut_after_3": "",
    "forward_update_gate_x_only": "",
    "concat2_aliases_concat": "rz",
    "dconcat_Wr_for_Wu": "",
    "dGu_sign_and_direct_path_Gu": "z",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def gru_cell_forward(xt, a_prev, parameters, bug=None):
    n_a = a_prev.shape[0]
    concat = np.concatenate([a_prev, xt], axis=0)
    Gr = sigmoid(parameters["Wr"] @ concat + parameters["br"])
    if bug == "forward_update_gate_x_only":
        Gu = sigmoid(parameters["Wu"][:, n_a:] @ xt + parameters["bu"])
    else:
        Gu = sigmoid(parameters["Wu"] @ concat + parameters["bu"])
    if bug == "concat2_aliases_concat":
        concat2 = concat
        concat2[:n_a] *= Gr
    else:
        concat2 = np.concatenate([Gr * a_prev, xt], axis=0)
    cc = np.tanh(parameters["Wc"] @ concat2 + parameters["bc"])
    a_next = Gu * cc + (1 - Gu) * a_prev
    cache = (a_next, a_prev, xt, concat, concat2, Gu, Gr, cc, parameters)
    return a_next, cache


def gru_forward(x, a0, parameters, bug=None):
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    a_next, caches = a0, []
    for t in range(T_x):
        a_next, cache = gru_cell_forward(x[:, :, t], a_next, parameters, bug)
        a[:, :, t] = a_next
        caches.append(cache)
    return a, (caches, x)


def gru_cell_backward(da_next, cache, bug=None):
    a_next, a_prev, xt, concat, concat2, Gu, Gr, cc, parameters = cache
    n_a = a_prev.shape[0]
    dcc = da_next * Gu
    if bug in ("dGu_sign_flipped", "dGu_sign_and_direct_path_Gu"):
        dGu = da_next * (a_prev - cc)
    else:
        dGu = da_next * (cc - a_prev)
    if bug == "da_prev_direct_path_missing":
        da_prev = np.zeros_like(a_prev)
    elif bug == "dGu_sign_and_direct_path_Gu":
        da_prev = da_next * Gu
    else:
        da_prev = da_next * (1 - Gu)
    dzc = dcc * cc * (1 - cc) if bug == "dzc_sigmoid_grad" else dcc * (1 - cc ** 2)
    dWc = dzc @ (concat if bug == "dWc_with_unreset_concat" else concat2).T
    dconcat2 = parameters["Wc"].T @ dzc
    d_ra, dxt = dconcat2[:n_a], dconcat2[n_a:]
    dGr = d_ra * (a_next if bug == "dGr_with_a_next" else a_prev)
    da_prev = da_prev + d_ra * Gr
    dzu = dGu * Gu * (1 - Gu)
    dzr = dGr * Gu * (1 - Gu) if bug == "dzr_grad_of_update_gate" else dGr * Gr * (1 - Gr)
    if bug == "forward_update_gate_x_only":
        dWu = np.concatenate([np.zeros((n_a, n_a), dtype=dzu.dtype), dzu @ xt.T], axis=1)
        dconcat = parameters["Wr"].T @ dzr
        dxt = dxt + parameters["Wu"][:, n_a:].T @ dzu
    else:
        dWu = dzu @ concat.T
        W_for_u = parameters["Wr"] if bug == "dconcat_Wr_for_Wu" else parameters["Wu"]
        dconcat = W_for_u.T @ dzu + parameters["Wr"].T @ dzr
    da_prev = da_prev + dconcat[:n_a]
    dxt = dxt + dconcat[n_a:]
    grads = {"dxt": dxt, "da_prev": da_prev, "dWu": dWu, "dWr": dzr @ concat.T, "dWc": dWc,
             "dbu": dzu.sum(axis=1, keepdims=True), "dbr": dzr.sum(axis=1, keepdims=True),
             "dbc": dzc.sum(axis=1, keepdims=True)}
    return grads


def gru_backward(da, caches, bug=None):
    caches, x = caches
    n_a, m, T_x = da.shape
    n_x = x.shape[0]
    parameters = caches[0][-1]
    gradients = {"dx": np.zeros((n_x, m, T_x), dtype=da.dtype)}
    for name in ("Wu", "Wr", "Wc", "bu", "br", "bc"):
        gradients["d" + name] = np.zeros_like(parameters[name])
    da_prevt = np.zeros((n_a, m), dtype=da.dtype)
    first = 1 if bug == "loop_skips_first_step" else 0
    for t in reversed(range(first, T_x)):
        if bug == "bptt_cut_after_3" and T_x - t > 3:
            da_prevt = np.zeros_like(da_prevt)
        grads = gru_cell_backward(da[:, :, t] + da_prevt, caches[t], bug)
        gradients["dx"][:, :, t] = grads["dxt"]
        da_prevt = grads["da_prev"]
        for name in ("Wu", "Wr", "Wc", "bu", "br", "bc"):
            if bug == "dWu_assigned_in_driver" and name == "Wu":
                gradients["dWu"] = grads["dWu"]
            else:
                gradients["d" + name] += grads["d" + name]
    if bug == "dWr_over_m":
        gradients["dWr"] /= m
    gradients["da0"] = da_prevt
    return gradients


def to_user(cell, p):
    W_ih, W_hh = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)        # r, z, n blocks
    b = [bi + bh for bi, bh in zip(np.split(p["bias_ih"], 3), np.split(p["bias_hh"], 3))]
    return {"Wu": -np.concatenate([W_hh[1], W_ih[1]], axis=1), "Wr": np.concatenate([W_hh[0], W_ih[0]], axis=1),
            "Wc": np.concatenate([W_hh[2], W_ih[2]], axis=1), "bu": -b[1][:, None], "br": b[0][:, None],
            "bc": b[2][:, None]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all(k in grads for k in ("dWr", "dWu", "dWc")):
        blocks = [grads["dWr"], -grads["dWu"], grads["dWc"]]
        out["dweight_hh"] = np.concatenate([g[:, :H] for g in blocks])
        out["dweight_ih"] = np.concatenate([g[:, H:] for g in blocks])
    if all(k in grads for k in ("dbr", "dbu", "dbc")):
        out["dbias_ih"] = np.concatenate([grads["dbr"][:, 0], -grads["dbu"][:, 0], grads["dbc"][:, 0]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="course_gru", cells=("gru",), axes="DNT",
                               weights_as="dict", gate_order="urc", gate_letters={"u": "z", "c": "n"},
                               names={"h": "a"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, a0, parameters):
        return gru_forward(x, a0, parameters, bug)

    def backward(da, caches):
        return gru_backward(da, caches, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU whose two sigmoid gates are computed, and differentiated, in a Python loop over
the gate names with dict lookups (``P["W_" + g]``), the candidate written out after the
loop. torch's reset-after form, with the candidate's recurrent bias ``c_h`` inside r:

    for g in ("z", "r"):  gate[g] = sigmoid(x @ P["W_" + g] + h @ P["U_" + g] + P["b_" + g])
    hh = h @ U_h + c_h;   n = tanh(x @ W_h + b_h + r * hh);   h_new = z * h + (1 - z) * n

P: W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h, c_h (W (D, H), U (H, H), b (H,)), passed
as one dict; x (N, T, D), h0 (N, H). Ninth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

GATES = ("z", "r")

BUGS = {
    "loop_uses_U_z_for_both": "wrong_weight",            # dh_prev += d[g] @ P["U_z"].T for g in z, r (the key hard-coded)
    "sigmoid_grad_from_z_for_both": "derivative_wrong_point",  # s = gate["z"] outside the loop: r's sigmoid' at z (z read for r: also wrong_value)
    "dhh_without_r": "term_dropped",                     # dhh = dan (for dan * r)
    "dan_tanh_of_n": "derivative_wrong_point",           # dan = dn * (1 - np.tanh(n)**2): tanh' of the output n again
    "U_h_path_subtracted": "wrong_sign",                 # dh_prev -= dhh @ U_h.T
    "dU_gates_transposed": "gradient_transposed",        # grads["U_" + g] += d[g].T @ h_prev
    "dprev_stored_as_dh0": "carry_dropped",              # the step's dh_prev written to a name the loop never reads
    "loop_from_zero_up": "loop_direction",               # for t in range(T) in the backward
    "grads_over_N_T": "reduction_scaled",                # every weight gradient / (N * T) at the end
    "z_buffer_reused_in_forward": "inplace_corruption",  # h_new = gate["z"]; h_new *= h (the cached z becomes z * h)
    "candidate_ignores_r": "forward_mistake",            # n = tanh(x W_h + b_h + hh) (r unused); backward consistent
    "dr_derivative_missing_and_no_z_path": "unknown",    # d["r"] = dr (no sigmoid') AND dh_prev without dnext * z
    "gate_grads_doubled": "unknown",                     # d[g] = 2 * dgate * s * (1 - s): an arbitrary factor 2
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "loop_uses_U_z_for_both":               "",
    "sigmoid_grad_from_z_for_both":         "r",
    "dhh_without_r":                        "n",
    "dan_tanh_of_n":                        "rn",
    "U_h_path_subtracted":                  "",
    "dU_gates_transposed":                  "rz",
    "dprev_stored_as_dh0":                  "",
    "loop_from_zero_up":                    "",
    "grads_over_N_T":                       "",
    "z_buffer_reused_in_forward":           "",
    "candidate_ignores_r":                  "",
    "dr_derivative_missing_and_no_z_path":  "r",
    "gate_grads_doubled":                   "rz",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, P, bug=None):
    N, T, D = x.shape
    h = h0
    hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    cache = []
    for t in range(T):
        xt = x[:, t]
        gate = {}
        for g in GATES:
            gate[g] = sigmoid(xt @ P["W_" + g] + h @ P["U_" + g] + P["b_" + g])
        hh = h @ P["U_h"] + P["c_h"]
        if bug == "candidate_ignores_r":
            n = np.tanh(xt @ P["W_h"] + P["b_h"] + hh)
        else:
            n = np.tanh(xt @ P["W_h"] + P["b_h"] + gate["r"] * hh)
        if bug == "z_buffer_reused_in_forward":
            omz = 1 - gate["z"]
            h_new = gate["z"]
            h_new *= h
            h_new += omz * n
        else:
            h_new = gate["z"] * h + (1 - gate["z"]) * n
        cache.append((xt, h, gate, hh, n))
        hs[:, t] = h_new
        h = h_new
    return hs, (cache, P)


def gru_backward(dh, caches, bug=None):
    cache, P = caches
    N, T, H = dh.shape
    grads = {"d" + k: np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros((N, T, P["W_h"].shape[0]), dtype=dh.dtype)
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    dh0 = dh_prev
    for t in (range(T) if bug == "loop_from_zero_up" else reversed(range(T))):
        xt, h, gate, hh, n = cache[t]
        z, r = gate["z"], gate["r"]
        dnext = dh[:, t] + dh_prev
        dn = dnext * (1 - z)
        dgate = {"z": dnext * (h - n)}
        dan = dn * (1 - np.tanh(n) ** 2) if bug == "dan_tanh_of_n" else dn * (1 - n ** 2)
        if bug == "candidate_ignores_r":
            dgate["r"], dhh = np.zeros_like(dan), dan
        else:
            dgate["r"], dhh = dan * hh, (dan if bug == "dhh_without_r" else dan * r)
        d = {}
        s = gate["z"]
        for g in GATES:
            if bug != "sigmoid_grad_from_z_for_both":
                s = gate[g]
            d[g] = dgate[g] * s * (1 - s)
            if bug == "gate_grads_doubled":
                d[g] = 2 * d[g]
        if bug == "dr_derivative_missing_and_no_z_path":
            d["r"] = dgate["r"]
        back = np.zeros_like(dnext) if bug == "dr_derivative_missing_and_no_z_path" else dnext * z
        for g in GATES:
            grads["dW_" + g] += xt.T @ d[g]
            grads["dU_" + g] += d[g].T @ h if bug == "dU_gates_transposed" else h.T @ d[g]
            grads["db_" + g] += d[g].sum(axis=0)
            dx[:, t] += d[g] @ P["W_" + g].T
            back += d[g] @ P["U_z" if bug == "loop_uses_U_z_for_both" else "U_" + g].T
        grads["dW_h"] += xt.T @ dan
        grads["db_h"] += dan.sum(axis=0)
        grads["dU_h"] += h.T @ dhh
        grads["dc_h"] += dhh.sum(axis=0)
        dx[:, t] += dan @ P["W_h"].T
        if bug == "U_h_path_subtracted":
            back -= dhh @ P["U_h"].T
        else:
            back += dhh @ P["U_h"].T
        if bug == "dprev_stored_as_dh0":
            dh0 = back
        else:
            dh_prev = back
    if bug == "grads_over_N_T":
        for g in grads.values():
            g /= N * T
    if bug == "dprev_stored_as_dh0":
        dh_prev = dh0
    return {"dx": dx, "dh0": dh_prev, **grads}


NAMES = ("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h", "c_h")


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blocks = {}
    for k, g in enumerate("rzh"):                        # canonical rows r, z, n
        rows = slice(k * H, (k + 1) * H)
        blocks["W_" + g] = p["weight_ih"][rows].T.copy()
        blocks["U_" + g] = p["weight_hh"][rows].T.copy()
        b = p["bias_ih"][rows] + (p["bias_hh"][rows] if g != "h" else 0)
        blocks["b_" + g] = np.array(b)
    blocks["c_h"] = p["bias_hh"][2 * H:].copy()
    return {k: blocks[k] for k in NAMES}


def to_canonical(cell, grads, p):
    out = {}
    if all("dW_" + g in grads for g in "rzh"):
        out["dweight_ih"] = np.concatenate([grads["dW_" + g].T for g in "rzh"])
    if all("dU_" + g in grads for g in "rzh"):
        out["dweight_hh"] = np.concatenate([grads["dU_" + g].T for g in "rzh"])
    if all("db_" + g in grads for g in "rzh"):
        out["dbias_ih"] = np.concatenate([grads["db_" + g] for g in "rzh"])
        if "dc_h" in grads:
            out["dbias_hh"] = np.concatenate([grads["db_r"], grads["db_z"], grads["dc_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gateloop_gru", cells=("gru",), weights_as="dict",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, P):
        return gru_forward(x, h0, P, bug)

    def backward(dh, caches):
        return gru_backward(dh, caches, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A GRU exactly as TF1's ``tf.nn.rnn_cell.GRUCell`` defines it, in NumPy, with the BPTT a
reader of that source writes by hand. Batch-major x (N, T, D), h0 (N, H):

    value = sigmoid([x, h] @ gate_kernel + gate_bias)      gate_kernel (D+H, 2H), columns r, u
    r, u = split(value, 2)
    c = tanh([x, r * h] @ candidate_kernel + candidate_bias)     candidate_kernel (D+H, H)
    h' = u * h + (1 - u) * c

The reset gate acts before the candidate's matrix product (torch's reset_after=False); u is
torch's z, c its n, and each bias is torch's bias_ih + bias_hh. The backward splits each
kernel into its x rows and h rows per gate (Wx_r, Wh_r, Wx_u, Wh_u, Wx_c, Wh_c), as one
does when deriving it on paper. Second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "du_from_c_minus_h": "wrong_sign",                   # du = dh * (c - h_prev)
    "dh_prev_direct_missing": "term_dropped",            # dh_prev misses dh * u
    "dr_without_h_prev": "term_dropped",                 # dr = d_rstate: the factor h_prev left out
    "dh_prev_without_u_path": "term_dropped",            # dh_prev misses du_pre @ Wh_u.T
    "dcand_tanh_at_new_h": "derivative_wrong_point",     # 1 - h_new**2 for 1 - c**2
    "du_sigmoid_at_r": "derivative_wrong_point",         # du * r * (1 - r)
    "gates_tanh_grad": "derivative_wrong_function",      # 1 - value**2 for value * (1 - value)
    "dcand_no_tanh_grad": "derivative_missing",          # dcand = dc
    "dcand_tanh_grad_twice": "derivative_twice",         # dc * (1 - c**2) * (1 - c**2)
    "gates_grad_precedence": "derivative_miswritten",    # d_value * value * 1 - value
    "Wh_u_untransposed": "weight_transposed",            # du_pre @ Wh_u in dh_prev
    "Wx_r_for_Wx_u": "wrong_weight",                     # du_pre @ Wx_r.T in dx (copy-paste)
    "Wh_u_for_Wh_c": "wrong_weight",                     # d_rstate = dcand @ Wh_u.T
    "dx_from_dWx_c": "gradient_for_weight",              # dcand @ dWx_c.T in dx
    "dWh_gates_with_h_t": "wrong_time",                  # h_t.T @ dr_pre, h_t.T @ du_pre for h_{t-1}
    "dWh_c_assigned": "carry_overwrites",                # dWh_c = r_state.T @ dcand (= for +=)
    "dh_next_not_added": "carry_dropped",                # dh = dhs[:, t]
    "skips_first_step": "loop_skips_step",               # range(T - 1, 0, -1)
    "grads_mean_NT": "reduction_scaled",                 # every weight gradient / (N * T)
    "c_cache_in_place": "inplace_corruption",            # 1 - c**2 built in the cached c, du reads it after
    "dgk_blocks_u_r": "gate_order",                      # gate kernel and bias gradients assembled u, r
    "forward_u_roles_swapped": "forward_mistake",        # h' = (1 - u) h + u c, backward consistent
    "forward_candidate_without_reset": "forward_mistake",  # c = tanh([x, h] @ candidate_kernel + b): r unused, backward consistent
    "du_sign_and_no_tanh_grad": "unknown",               # two mistakes at once
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "du_from_c_minus_h": "z",
    "dh_prev_direct_missing": "",
    "dr_without_h_prev": "r",
    "dh_prev_without_u_path": "",
    "dcand_tanh_at_new_h": "rn",
    "du_sigmoid_at_r": "z",
    "gates_tanh_grad": "rz",
    "dcand_no_tanh_grad": "rn",
    "dcand_tanh_grad_twice": "rn",
    "gates_grad_precedence": "rz",
    "Wh_u_untransposed": "",
    "Wx_r_for_Wx_u": "",
    "Wh_u_for_Wh_c": "r",
    "dx_from_dWx_c": "",
    "dWh_gates_with_h_t": "rz",
    "dWh_c_assigned": "",
    "dh_next_not_added": "",
    "skips_first_step": "",
    "grads_mean_NT": "",
    "c_cache_in_place": "z",
    "dgk_blocks_u_r": "rz",
    "forward_u_roles_swapped": "",
    "forward_candidate_without_reset": "",
    "du_sign_and_no_tanh_grad": "",
}

GRAD_NAMES = ("Wx_r", "Wh_r", "Wx_u", "Wh_u", "Wx_c", "Wh_c", "b_r", "b_u", "b_c")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, gate_kernel, gate_bias, candidate_kernel, candidate_bias, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache."""
    N, T, _ = x.shape
    H = h0.shape[1]
    h, hs, steps = h0, np.empty((N, T, H), dtype=x.dtype), []
    for t in range(T):
        value = sigmoid(np.concatenate([x[:, t], h], axis=1) @ gate_kernel + gate_bias)
        r, u = value[:, :H], value[:, H:]
        r_state = h if bug == "forward_candidate_without_reset" else r * h
        c = np.tanh(np.concatenate([x[:, t], r_state], axis=1) @ candidate_kernel + candidate_bias)
        h_new = (1 - u) * h + u * c if bug == "forward_u_roles_swapped" else u * h + (1 - u) * c
        steps.append({"x": x[:, t], "h_prev": h, "r": r, "u": u, "value": value, "r_state": r_state, "c": c,
                      "h": h_new})
        hs[:, t], h = h_new, h_new
    return hs, {"steps": steps, "gate_kernel": gate_kernel, "candidate_kernel": candidate_kernel}


def _through_u(dh, s, bug):
    """(du, dc, direct dh_prev) from dh through h' = u h + (1 - u) c."""
    u, c, h_prev = s["u"], s["c"], s["h_prev"]
    if bug == "forward_u_roles_swapped":
        return dh * (c - h_prev), dh * u, dh * (1 - u)
    if bug == "c_cache_in_place":                   # the candidate's 1 - c**2 built first, in c itself
        one_minus_c2 = c
        one_minus_c2 *= -c
        one_minus_c2 += 1
    if bug in ("du_from_c_minus_h", "du_sign_and_no_tanh_grad"):
        du = dh * (c - h_prev)
    else:
        du = dh * (h_prev - c)
    direct = np.zeros_like(dh) if bug == "dh_prev_direct_missing" else dh * u
    return du, dh * (1 - u), direct


def _dcand(dc, s, bug, c_was):
    if bug in ("dcand_no_tanh_grad", "du_sign_and_no_tanh_grad"):
        return dc
    if bug == "dcand_tanh_at_new_h":
        return dc * (1 - s["h"] ** 2)
    if bug == "dcand_tanh_grad_twice":
        return dc * (1 - c_was ** 2) * (1 - c_was ** 2)
    if bug == "c_cache_in_place":
        return dc * s["c"]                          # c now holds 1 - c**2
    return dc * (1 - c_was ** 2)


def _dgates(dr, du, s, bug):
    """(dr_pre, du_pre) through value = sigmoid(gate inputs), on the stacked value as TF1 does."""
    value, H = s["value"], dr.shape[1]
    d_value = np.concatenate([dr, du], axis=1)
    if bug == "gates_tanh_grad":
        d_gates = d_value * (1 - value ** 2)
    elif bug == "gates_grad_precedence":
        d_gates = d_value * value * 1 - value
    else:
        d_gates = d_value * value * (1 - value)
    if bug == "du_sigmoid_at_r":
        d_gates[:, H:] = du * s["r"] * (1 - s["r"])
    return d_gates[:, :H], d_gates[:, H:]


def _step_backward(dh, s, w, g, bug):
    """One step: accumulates into g, returns (dx_t, dh_prev)."""
    c_was = s["c"].copy()
    du, dc, dh_prev = _through_u(dh, s, bug)
    dcand = _dcand(dc, s, bug, c_was)
    d_rstate = dcand @ (w["Wh_u"] if bug == "Wh_u_for_Wh_c" else w["Wh_c"]).T
    if bug == "forward_candidate_without_reset":
        dr, dh_prev = np.zeros_like(d_rstate), dh_prev + d_rstate
    else:
        dr = d_rstate if bug == "dr_without_h_prev" else d_rstate * s["h_prev"]
        dh_prev = dh_prev + d_rstate * s["r"]
    dr_pre, du_pre = _dgates(dr, du, s, bug)
    dx = (dr_pre @ w["Wx_r"].T + du_pre @ (w["Wx_r"] if bug == "Wx_r_for_Wx_u" else w["Wx_u"]).T
          + dcand @ (g["Wx_c"] if bug == "dx_from_dWx_c" else w["Wx_c"]).T)
    dh_prev = dh_prev + dr_pre @ w["Wh_r"].T
    if bug == "Wh_u_untransposed":
        dh_prev = dh_prev + du_pre @ w["Wh_u"]
    elif bug != "dh_prev_without_u_path":
        dh_prev = dh_prev + du_pre @ w["Wh_u"].T
    h_for_w = s["h"] if bug == "dWh_gates_with_h_t" else s["h_prev"]
    g["Wx_r"] += s["x"].T @ dr_pre
    g["Wh_r"] += h_for_w.T @ dr_pre
    g["Wx_u"] += s["x"].T @ du_pre
    g["Wh_u"] += h_for_w.T @ du_pre
    g["Wx_c"] += s["x"].T @ dcand
    if bug == "dWh_c_assigned":
        g["Wh_c"] = s["r_state"].T @ dcand
    else:
        g["Wh_c"] += s["r_state"].T @ dcand
    g["b_r"] += dr_pre.sum(axis=0)
    g["b_u"] += du_pre.sum(axis=0)
    g["b_c"] += dcand.sum(axis=0)
    return dx, dh_prev


def _split_kernels(cache):
    gk, ck = cache["gate_kernel"], cache["candidate_kernel"]
    H = ck.shape[1]
    D = gk.shape[0] - H
    return {"Wx_r": gk[:D, :H], "Wh_r": gk[D:, :H], "Wx_u": gk[:D, H:], "Wh_u": gk[D:, H:],
            "Wx_c": ck[:D], "Wh_c": ck[D:]}


def gru_backward(dhs, cache, bug=None):
    """dhs (N, T, H) -> dx, dh0, d_gate_kernel, d_gate_bias, d_candidate_kernel, d_candidate_bias."""
    w = _split_kernels(cache)
    N, T, H = dhs.shape
    D = w["Wx_c"].shape[0]
    g = {k: np.zeros_like(w[k]) if k in w else np.zeros(H, dhs.dtype) for k in GRAD_NAMES}
    dx = np.zeros((N, T, D), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    first = 1 if bug == "skips_first_step" else 0
    for t in range(T - 1, first - 1, -1):
        dh = dhs[:, t] if bug == "dh_next_not_added" else dhs[:, t] + dh_next
        dx[:, t], dh_next = _step_backward(dh, cache["steps"][t], w, g, bug)
    if bug == "grads_mean_NT":
        g = {k: v / (N * T) for k, v in g.items()}
    r, u = ("u", "r") if bug == "dgk_blocks_u_r" else ("r", "u")
    d_gate_kernel = np.block([[g["Wx_" + r], g["Wx_" + u]], [g["Wh_" + r], g["Wh_" + u]]])
    d_gate_bias = np.concatenate([g["b_" + r], g["b_" + u]])
    d_candidate_kernel = np.concatenate([g["Wx_c"], g["Wh_c"]], axis=0)
    return dx, dh_next, d_gate_kernel, d_gate_bias, d_candidate_kernel, g["b_c"]


def to_user(cell, p):
    """Canonical (torch rows r, z, n; reset_after=False) -> TF1's kernels and biases."""
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    return {"gate_kernel": np.concatenate([p["weight_ih"][:2 * H].T, p["weight_hh"][:2 * H].T], axis=0),
            "gate_bias": b[:2 * H],
            "candidate_kernel": np.concatenate([p["weight_ih"][2 * H:].T, p["weight_hh"][2 * H:].T], axis=0),
            "candidate_bias": b[2 * H:]}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dgate_kernel" in grads and "dcandidate_kernel" in grads:
        gk, ck = grads["dgate_kernel"], grads["dcandidate_kernel"]
        out["dweight_ih"] = np.concatenate([gk[:D].T, ck[:D].T])
        out["dweight_hh"] = np.concatenate([gk[D:].T, ck[D:].T])
    if "dgate_bias" in grads and "dcandidate_bias" in grads:
        out["dbias_ih"] = np.concatenate([grads["dgate_bias"], grads["dcandidate_bias"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tf1_gru_cell", cells=("gru",), gate_order="ruc",
                               gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, gate_kernel, gate_bias, candidate_kernel, candidate_bias):
        return gru_forward(x, h0, gate_kernel, gate_bias, candidate_kernel, candidate_bias, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

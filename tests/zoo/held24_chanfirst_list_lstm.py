"""A homework LSTM in channels-first arrays, x (N, D, T) and h (N, H, T), with its weights
as one Python list of twelve arrays [W_i, U_i, b_i, W_f, U_f, b_f, W_c, U_c, b_c, W_o, U_o,
b_o] (W_* (H, D), U_* (H, H) stored as torch stores them and applied as x @ W.T, b_* (H,)),
gate letters i, f, c (the candidate, canonical g), o. Each step keeps its gates in a dict
{"i": ..., "f": ..., "c": ..., "o": ...}; the forward returns (h, cache, c_last); the
backward returns a dict keyed by the student's names. Custom layout: axes "NDT",
weights_as="list". Twenty-fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

GATES = "ifco"
BUGS = {
    "dc_reads_f_for_i": "wrong_value",                 # dcand = dc * f (f_t read for i_t)
    "do_prime_at_preact": "derivative_wrong_point",    # da_o = do * z_o * (1 - z_o) on the pre-activation
    "df_cache_index_off": "wrong_time",                # c_prev = cs[t - 1] (cs[0] is c0): c_(t-2), cs[-1] at t = 0
    "dU_f_transposed": "gradient_transposed",          # dU_f += h_prev.T @ da_f
    "dh_prev_U_c_for_o": "wrong_weight",               # the o term of dh_prev through U_c
    "dh_prev_misses_f_term": "term_dropped",           # dh_prev = sum over i, c, o only
    "dx_misses_o_term": "term_dropped",                # dx = sum over i, f, c only
    "dx_i_term_through_W_f": "wrong_weight",           # dx's i term as da_i @ W_f (the list read one slot over)
    "dh_next_name_typo": "carry_dropped",              # dh_prev stored in dhprev, dh_next never updated
    "f_sigmoid_prime_twice": "derivative_twice",       # da_f = df * s'(f) * s'(f)
    "tanh_c_prime_sign": "wrong_sign",                 # dc = ... * (tanh_c ** 2 - 1)
    "db_f_mean": "reduction_scaled",                   # db_f += da_f.mean(axis=0)
    "loop_skips_t0": "loop_skips_step",                # for t in range(T - 1, 0, -1)
    "c_prev_updated_in_place": "inplace_corruption",   # c = c_prev; c *= f; c += i * cand: the cached c_prev is c_t
    "tanh_c_sign_and_U_o_untransposed": "unknown",     # (tanh_c ** 2 - 1) and U_o untransposed: two mistakes
    "forward_candidate_sigmoid": "forward_mistake",    # cand = sigmoid(...), backward consistent (s')
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dc_reads_f_for_i": "g",
    "do_prime_at_preact": "o",
    "df_cache_index_off": "f",
    "dU_f_transposed": "f",
    "dh_prev_U_c_for_o": "",
    "dh_prev_misses_f_term": "",
    "dx_misses_o_term": "",
    "dx_i_term_through_W_f": "",
    "dh_next_name_typo": "",
    "f_sigmoid_prime_twice": "f",
    "tanh_c_prime_sign": "ifg",
    "db_f_mean": "f",
    "loop_skips_t0": "",
    "c_prev_updated_in_place": "f",
    "tanh_c_sign_and_U_o_untransposed": "ifg",
    "forward_candidate_sigmoid": "",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_forward(x, h0, c0, params, bug=None):
    """x (N, D, T), h0 (N, H), c0 (N, H), params (12 arrays) -> h (N, H, T), cache, c_last."""
    W, U, b = {}, {}, {}
    for k, g in enumerate(GATES):
        W[g], U[g], b[g] = params[3 * k], params[3 * k + 1], params[3 * k + 2]
    N, D, T = x.shape
    H = h0.shape[1]
    h = np.zeros((N, H, T), dtype=x.dtype)
    hs, cs, steps = [h0], [np.array(c0, dtype=x.dtype)], []   # the student's own copy of c0
    for t in range(T):
        x_t, h_prev, c_prev = x[:, :, t], hs[-1], cs[-1]
        z = {g: x_t @ W[g].T + h_prev @ U[g].T + b[g] for g in GATES}
        gate = {"i": sigmoid(z["i"]), "f": sigmoid(z["f"]), "o": sigmoid(z["o"])}
        gate["c"] = sigmoid(z["c"]) if bug == "forward_candidate_sigmoid" else np.tanh(z["c"])
        if bug == "c_prev_updated_in_place":
            c = c_prev
            c *= gate["f"]
            c += gate["i"] * gate["c"]
            c = c.copy()                                # the student copies for the list, too late
        else:
            c = gate["f"] * c_prev + gate["i"] * gate["c"]
        tanh_c = np.tanh(c)
        h_t = gate["o"] * tanh_c
        h[:, :, t] = h_t
        hs.append(h_t)
        cs.append(c)
        steps.append({"z": z, "gate": gate, "tanh_c": tanh_c})
    return h, {"x": x, "hs": hs, "cs": cs, "steps": steps, "W": W, "U": U}, cs[-1]


def lstm_backward(dh, cache, bug=None):
    """dh (N, H, T) -> {"dx", "dh0", "dc0", "dW_i", "dU_i", "db_i", ...}."""
    x, hs, cs, steps, W, U = (cache[k] for k in ("x", "hs", "cs", "steps", "W", "U"))
    N, D, T = x.shape
    grads = {f"d{p}_{g}": np.zeros_like(W[g] if p == "W" else U[g]) for g in GATES for p in "WU"}
    grads.update({f"db_{g}": np.zeros(U[g].shape[0], dtype=dh.dtype) for g in GATES})
    dx = np.zeros_like(x)
    dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    stop = 0 if bug == "loop_skips_t0" else -1
    for t in range(T - 1, stop, -1):
        st = steps[t]
        gate, z, tanh_c = st["gate"], st["z"], st["tanh_c"]
        h_prev = hs[t]
        c_prev = cs[t - 1] if bug == "df_cache_index_off" else cs[t]
        dh_t = dh[:, :, t] + dh_next
        if bug in ("tanh_c_prime_sign", "tanh_c_sign_and_U_o_untransposed"):
            dc = dc_next + dh_t * gate["o"] * (tanh_c ** 2 - 1)
        else:
            dc = dc_next + dh_t * gate["o"] * (1 - tanh_c ** 2)
        dgate = {"o": dh_t * tanh_c, "f": dc * c_prev,
                 "i": dc * gate["c"], "c": dc * (gate["f"] if bug == "dc_reads_f_for_i" else gate["i"])}
        da = {}
        for g in "if":
            da[g] = dgate[g] * gate[g] * (1 - gate[g])
        if bug == "f_sigmoid_prime_twice":
            da["f"] = da["f"] * gate["f"] * (1 - gate["f"])
        if bug == "do_prime_at_preact":
            da["o"] = dgate["o"] * z["o"] * (1 - z["o"])
        else:
            da["o"] = dgate["o"] * gate["o"] * (1 - gate["o"])
        if bug == "forward_candidate_sigmoid":
            da["c"] = dgate["c"] * gate["c"] * (1 - gate["c"])
        else:
            da["c"] = dgate["c"] * (1 - gate["c"] ** 2)
        for g in GATES:
            grads[f"dW_{g}"] += da[g].T @ x[:, :, t]
            if bug == "dU_f_transposed" and g == "f":
                grads["dU_f"] += h_prev.T @ da[g]
            else:
                grads[f"dU_{g}"] += da[g].T @ h_prev
            grads[f"db_{g}"] += da[g].mean(axis=0) if (bug == "db_f_mean" and g == "f") else da[g].sum(axis=0)
        dx[:, :, t] = sum(da[g] @ W["f" if (bug == "dx_i_term_through_W_f" and g == "i") else g]
                          for g in ("ifc" if bug == "dx_misses_o_term" else GATES))
        dhprev = np.zeros_like(dh_next)
        for g in ("ico" if bug == "dh_prev_misses_f_term" else GATES):
            if bug == "dh_prev_U_c_for_o" and g == "o":
                dhprev += da[g] @ U["c"]
            elif bug == "tanh_c_sign_and_U_o_untransposed" and g == "o":
                dhprev += da[g] @ U["o"].T
            else:
                dhprev += da[g] @ U[g]
        if bug != "dh_next_name_typo":
            dh_next = dhprev
        dc_next = dc * gate["f"]
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next, **grads}


def to_user(cell, p):
    out = []
    Wi, Wf, Wg, Wo = np.split(p["weight_ih"], 4)
    Ui, Uf, Ug, Uo = np.split(p["weight_hh"], 4)
    bi, bf, bg, bo = np.split(p["bias_ih"] + p["bias_hh"], 4)
    for name, w, u, bb in (("i", Wi, Ui, bi), ("f", Wf, Uf, bf), ("c", Wg, Ug, bg), ("o", Wo, Uo, bo)):
        out += [(f"W_{name}", w), (f"U_{name}", u), (f"b_{name}", bb)]
    return dict(out)


def to_canonical(cell, grads, p):
    order = "ifco"                                       # canonical i, f, g, o = the student's i, f, c, o
    out = {}
    if all(f"dW_{g}" in grads for g in order):
        out["dweight_ih"] = np.concatenate([grads[f"dW_{g}"] for g in order])
    if all(f"dU_{g}" in grads for g in order):
        out["dweight_hh"] = np.concatenate([grads[f"dU_{g}"] for g in order])
    if all(f"db_{g}" in grads for g in order):
        out["dbias_ih"] = np.concatenate([grads[f"db_{g}"] for g in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="chanfirst_list_lstm", cells=("lstm",), axes="NDT",
                               weights_as="list", gate_order="ifco", gate_letters={"c": "g"},
                               forward_returns=("h", "cache", "c_last"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

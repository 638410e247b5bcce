"""A GRU whose three gates are separate dicts of (W, U, b), with the backward written gate by
gate. The user's parameters come as one dict (W_r, U_r, b_r, W_z, U_z, b_z, W_n, U_n, b_n,
bh_n; W (D, H), U (H, H), b (H,)), regrouped into ``gates = {"r": {"W", "U", "b"}, ...}``.
The update follows Cho et al. / Wikipedia's form, where z weighs the *new* candidate,

    r = s(x W_r + h U_r + b_r)      z = s(x W_z + h U_z + b_z)
    n = tanh(x W_n + b_n + r * (h U_n + bh_n))              (reset after the product)
    h' = (1 - z) * h + z * n

so the user's z is torch's 1 - z: its weights are torch's negated (to_user / to_canonical
carry the sign). x (N, T, D), h0 (N, H); the backward returns a dict keyed by the user's
gradient names. Custom layout, reset_after=True. Seventh held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dh_next_misses_direct": "term_dropped",              # dh_next starts from zeros, not dh_t * (1 - z)
    "dz_sign": "wrong_sign",                              # dz = dh_t * (h_prev - n) (torch's form in Cho's update)
    "U_n_untransposed": "weight_transposed",              # dh_next += dhn @ U_n
    "dU_z_transposed": "gradient_transposed",             # dU_z += da_z.T @ h_prev
    "reset_carry_through_U_z": "wrong_weight",            # dh_next += da_r @ U_z.T (z's dict for r's)
    "reset_carry_from_dU_r": "gradient_for_weight",       # dh_next += da_r @ dgates["r"]["U"].T
    "da_n_at_preact": "derivative_wrong_point",           # da_n = dn * (1 - a_n ** 2), a_n the cached pre-activation
    "da_z_tanh_grad": "derivative_wrong_function",        # da_z = dz * (1 - z ** 2)
    "dW_r_assigned": "carry_overwrites",                  # dgates["r"]["W"] = x.T @ da_r (= for +=)
    "loop_forward": "loop_direction",                     # for t in range(T)
    "gates_zipped_zrn": "gate_order",                     # the per-gate grads zipped with names "z", "r", "n"
    "hn_scaled_in_place": "inplace_corruption",           # hn *= r in the forward: the cached hn is r * hn
    "forward_z_ignores_h": "forward_mistake",             # z = s(x W_z + b_z); backward consistent
    "grads_over_N": "reduction_scaled",                   # every weight gradient / N (dx, dh0 not)
    "dz_sign_and_U_n_untransposed": "unknown",            # both dz_sign and U_n_untransposed
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_next_misses_direct": "",
    "dz_sign": "z",
    "U_n_untransposed": "",
    "dU_z_transposed": "z",
    "reset_carry_through_U_z": "",
    "reset_carry_from_dU_r": "",
    "da_n_at_preact": "rn",
    "da_z_tanh_grad": "z",
    "dW_r_assigned": "",
    "loop_forward": "",
    "gates_zipped_zrn": "rz",
    "hn_scaled_in_place": "r",
    "forward_z_ignores_h": "",
    "grads_over_N": "",
    "dz_sign_and_U_n_untransposed": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, params, bug=None):
    gates = {g: {"W": params["W_" + g], "U": params["U_" + g], "b": params["b_" + g]} for g in "rzn"}
    gates["n"]["bh"] = params["bh_n"]
    N, T, D = x.shape
    hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    steps = []
    h = h0
    for t in range(T):
        xt = x[:, t]
        gr, gz, gn = gates["r"], gates["z"], gates["n"]
        r = sigmoid(xt @ gr["W"] + h @ gr["U"] + gr["b"])
        if bug == "forward_z_ignores_h":
            z = sigmoid(xt @ gz["W"] + gz["b"])
        else:
            z = sigmoid(xt @ gz["W"] + h @ gz["U"] + gz["b"])
        hn = h @ gn["U"] + gn["bh"]
        if bug == "hn_scaled_in_place":
            hn *= r
            a_n = xt @ gn["W"] + gn["b"] + hn
        else:
            a_n = xt @ gn["W"] + gn["b"] + r * hn
        n = np.tanh(a_n)
        steps.append({"x": xt, "h_prev": h, "r": r, "z": z, "n": n, "hn": hn, "a_n": a_n})
        h = (1 - z) * h + z * n
        hs[:, t] = h
    return hs, (steps, gates)


def gru_backward(dh, cache, bug=None):
    steps, gates = cache
    N, T, H = dh.shape
    dgates = {g: {k: np.zeros_like(gates[g][k]) for k in ("W", "U", "b")} for g in "rzn"}
    dbh_n = np.zeros_like(gates["n"]["bh"])
    dx = np.zeros((N, T, steps[0]["x"].shape[1]), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "loop_forward" else reversed(range(T))
    for t in order:
        s = steps[t]
        x, h_prev, r, z, n = s["x"], s["h_prev"], s["r"], s["z"], s["n"]
        dh_t = dh[:, t] + dh_next
        # h' = (1 - z) * h + z * n
        dn = dh_t * z
        if bug in ("dz_sign", "dz_sign_and_U_n_untransposed"):
            dz = dh_t * (h_prev - n)
        else:
            dz = dh_t * (n - h_prev)
        dh_next = np.zeros_like(dh_t) if bug == "dh_next_misses_direct" else dh_t * (1 - z)

        # candidate: n = tanh(x W_n + b_n + r * hn), hn = h U_n + bh_n
        gn, dgn = gates["n"], dgates["n"]
        da_n = dn * (1 - s["a_n"] ** 2) if bug == "da_n_at_preact" else dn * (1 - n ** 2)
        dhn = da_n * r
        dr = da_n * s["hn"]
        dgn["W"] += x.T @ da_n
        dgn["b"] += da_n.sum(axis=0)
        dgn["U"] += h_prev.T @ dhn
        dbh_n += dhn.sum(axis=0)
        dx[:, t] += da_n @ gn["W"].T
        dh_next += dhn @ (gn["U"] if bug in ("U_n_untransposed", "dz_sign_and_U_n_untransposed") else gn["U"].T)

        # update gate
        gz, dgz = gates["z"], dgates["z"]
        da_z = dz * (1 - z ** 2) if bug == "da_z_tanh_grad" else dz * z * (1 - z)
        dgz["W"] += x.T @ da_z
        dgz["b"] += da_z.sum(axis=0)
        dx[:, t] += da_z @ gz["W"].T
        if bug != "forward_z_ignores_h":            # (that forward's z never sees h)
            dgz["U"] += da_z.T @ h_prev if bug == "dU_z_transposed" else h_prev.T @ da_z
            dh_next += da_z @ gz["U"].T

        # reset gate
        gr, dgr = gates["r"], dgates["r"]
        da_r = dr * r * (1 - r)
        if bug == "dW_r_assigned":
            dgr["W"] = x.T @ da_r
        else:
            dgr["W"] += x.T @ da_r
        dgr["U"] += h_prev.T @ da_r
        dgr["b"] += da_r.sum(axis=0)
        dx[:, t] += da_r @ gr["W"].T
        if bug == "reset_carry_through_U_z":
            dh_next += da_r @ gz["U"].T
        elif bug == "reset_carry_from_dU_r":
            dh_next += da_r @ dgr["U"].T
        else:
            dh_next += da_r @ gr["U"].T

    grads = {"dx": dx, "dh0": dh_next}
    names = "zrn" if bug == "gates_zipped_zrn" else "rzn"
    for g, name in zip("rzn", names):
        for k in ("W", "U", "b"):
            grads[f"d{k}_{name}"] = dgates[g][k]
    grads["dbh_n"] = dbh_n
    if bug == "grads_over_N":
        for k in grads:
            if k not in ("dx", "dh0"):
                grads[k] = grads[k] / N
    return grads


def to_user(cell, p):
    W_ir, W_iz, W_in = np.split(p["weight_ih"], 3)
    W_hr, W_hz, W_hn = np.split(p["weight_hh"], 3)
    b_ir, b_iz, b_in = np.split(p["bias_ih"], 3)
    b_hr, b_hz, b_hn = np.split(p["bias_hh"], 3)
    return {"W_r": W_ir.T.copy(), "U_r": W_hr.T.copy(), "b_r": b_ir + b_hr,
            "W_z": -W_iz.T, "U_z": -W_hz.T, "b_z": -(b_iz + b_hz),
            "W_n": W_in.T.copy(), "U_n": W_hn.T.copy(), "b_n": b_in.copy(), "bh_n": b_hn.copy()}


def to_canonical(cell, grads, p):
    out = {}
    if all(k in grads for k in ("dW_r", "dW_z", "dW_n")):
        out["dweight_ih"] = np.concatenate([grads["dW_r"].T, -grads["dW_z"].T, grads["dW_n"].T])
    if all(k in grads for k in ("dU_r", "dU_z", "dU_n")):
        out["dweight_hh"] = np.concatenate([grads["dU_r"].T, -grads["dU_z"].T, grads["dU_n"].T])
    if all(k in grads for k in ("db_r", "db_z", "db_n")):
        out["dbias_ih"] = np.concatenate([grads["db_r"], -grads["db_z"], grads["db_n"]])
        if "dbh_n" in grads:
            out["dbias_hh"] = np.concatenate([grads["db_r"], -grads["db_z"], grads["dbh_n"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gate_dicts_gru", cells=("gru",), gate_order="rzn",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

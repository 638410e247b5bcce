"""A GRU whose backward is assembled from a small table of hand-written VJP rules, as someone
writes who is halfway to an autodiff engine: ``VJP["sigmoid"]``, ``VJP["tanh"]`` (from the
output), ``VJP["mul"]`` and ``VJP["linear"]`` (for A @ W.T + b), applied by hand in the order
of the forward, read back from a tape of per-step dicts. Time-major x (T, N, D), weights
stored (out, in) with the gate rows in the order z, r, n and two biases, reset after the
recurrent product:

    ax = x_t @ W_x.T + b_x      ah = h @ W_h.T + b_h           (N, 3H) each, blocks z, r, n
    z = sigmoid(ax_z + ah_z)    r = sigmoid(ax_r + ah_r)       n = tanh(ax_n + r * ah_n)
    h' = (1 - z) * n + z * h

A mistake in a rule reaches every place the rule is used. Option ``reset_after=True``.
Twenty-sixth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sigmoid_rule_parens": "derivative_miswritten",       # VJP["sigmoid"] = g * y * 1 - y (affects z and r)
    "tanh_rule_copied_from_sigmoid": "derivative_wrong_function",  # VJP["tanh"] = g * y * (1 - y)
    "mul_rule_outputs_swapped": "wrong_value",            # VJP["mul"](a, b, g) returns (g * a, g * b)
    "dz_sign": "wrong_sign",                              # dz = g * (n - h)
    "direct_path_left_out": "term_dropped",               # dh_prev = the linear rule's output only (g * z left out)
    "ah_n_without_bias": "term_dropped",                  # dr = dan * (h @ W_hn.T): ah_n recomputed without b_hn
    "dax_r_before_z": "gate_order",                       # dax, dah assembled as [dar, daz, ...]
    "linear_rule_on_new_h": "wrong_time",                 # VJP["linear"](rec["h_new"], W_h, dah)
    "sigmoid_rule_on_r_for_z": "derivative_wrong_point",  # daz = VJP["sigmoid"](rec["r"], dz) (also wrong_value)
    "r_rule_not_applied": "derivative_missing",           # dar = dr
    "z_rule_applied_twice": "derivative_twice",           # daz = VJP["sigmoid"](z, VJP["sigmoid"](z, dz))
    "tape_walked_forward": "loop_direction",              # for rec in tape (t = 0 .. T-1) in the backward
    "bptt_trunc_4": "truncated_bptt",                     # the carry cut once 4 steps have been walked back
    "dz_half": "unknown",                                 # dz = 0.5 * g * (h - n): an arbitrary 1/2
    "gate_order_and_no_r_rule": "unknown",                # [dar, daz, ...] and dar = dr together: two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "sigmoid_rule_parens": "rz",
    "tanh_rule_copied_from_sigmoid": "rn",
    "mul_rule_outputs_swapped": "rn",
    "dz_sign": "z",
    "direct_path_left_out": "",
    "ah_n_without_bias": "r",
    "dax_r_before_z": "rz",
    "linear_rule_on_new_h": "",
    "sigmoid_rule_on_r_for_z": "z",
    "r_rule_not_applied": "r",
    "z_rule_applied_twice": "z",
    "tape_walked_forward": "",
    "bptt_trunc_4": "",
    "dz_half": "z",
    "gate_order_and_no_r_rule": "rz",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def rules(bug=None):
    """The VJP table: each rule takes the forward's output (or inputs) and the upstream g."""
    vjp = {
        "sigmoid": lambda y, g: g * y * (1 - y),
        "tanh": lambda y, g: g * (1 - y * y),
        "mul": lambda a, b, g: (g * b, g * a),
        "linear": lambda A, W, g: (g @ W, g.T @ A, g.sum(axis=0)),    # y = A @ W.T + b -> dA, dW, db
    }
    if bug == "sigmoid_rule_parens":
        vjp["sigmoid"] = lambda y, g: g * y * 1 - y
    elif bug == "tanh_rule_copied_from_sigmoid":
        vjp["tanh"] = lambda y, g: g * y * (1 - y)
    elif bug == "mul_rule_outputs_swapped":
        vjp["mul"] = lambda a, b, g: (g * a, g * b)
    return vjp


def gru_forward(x, h0, W_x, W_h, b_x, b_h):
    H = h0.shape[1]
    h, tape, hs = h0, [], []
    for x_t in x:
        ax = x_t @ W_x.T + b_x
        ah = h @ W_h.T + b_h
        z = sigmoid(ax[:, :H] + ah[:, :H])
        r = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
        n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
        h_new = (1 - z) * n + z * h
        tape.append({"x": x_t, "h": h, "z": z, "r": r, "n": n, "ah_n": ah[:, 2 * H:], "h_new": h_new})
        h = h_new
        hs.append(h)
    return np.stack(hs), (tape, W_x, W_h, b_h)


def gru_backward(dh_seq, cache, bug=None):
    tape, W_x, W_h, b_h = cache
    VJP = rules(bug)
    T, N, H = dh_seq.shape
    dW_x, dW_h = np.zeros_like(W_x), np.zeros_like(W_h)
    db_x, db_h = np.zeros(3 * H, dtype=dh_seq.dtype), np.zeros(3 * H, dtype=dh_seq.dtype)
    dx = np.zeros((T, N, W_x.shape[1]), dtype=dh_seq.dtype)
    carry = np.zeros((N, H), dtype=dh_seq.dtype)
    order = range(T) if bug == "tape_walked_forward" else range(T - 1, -1, -1)
    for t in order:
        rec = tape[t]
        g = dh_seq[t] + carry
        z, r, n, h = rec["z"], rec["r"], rec["n"], rec["h"]
        dn = g * (1 - z)
        if bug == "dz_sign":
            dz = g * (n - h)
        elif bug == "dz_half":
            dz = 0.5 * g * (h - n)
        else:
            dz = g * (h - n)
        dan = VJP["tanh"](n, dn)
        ah_n = h @ W_h[2 * H:].T if bug == "ah_n_without_bias" else rec["ah_n"]
        dr, dah_n = VJP["mul"](r, ah_n, dan)
        if bug == "sigmoid_rule_on_r_for_z":
            daz = VJP["sigmoid"](r, dz)
        elif bug == "z_rule_applied_twice":
            daz = VJP["sigmoid"](z, VJP["sigmoid"](z, dz))
        else:
            daz = VJP["sigmoid"](z, dz)
        dar = dr if bug in ("r_rule_not_applied", "gate_order_and_no_r_rule") else VJP["sigmoid"](r, dr)
        zr = [dar, daz] if bug in ("dax_r_before_z", "gate_order_and_no_r_rule") else [daz, dar]
        dax = np.concatenate(zr + [dan], axis=1)
        dah = np.concatenate(zr + [dah_n], axis=1)
        dx[t], dWx_t, dbx_t = VJP["linear"](rec["x"], W_x, dax)
        A = rec["h_new"] if bug == "linear_rule_on_new_h" else h
        dh_lin, dWh_t, dbh_t = VJP["linear"](A, W_h, dah)
        dW_x += dWx_t
        dW_h += dWh_t
        db_x += dbx_t
        db_h += dbh_t
        carry = dh_lin if bug == "direct_path_left_out" else dh_lin + g * z
        if bug == "bptt_trunc_4" and T - t >= 4:
            carry = np.zeros_like(carry)
    return dx, carry, dW_x, dW_h, db_x, db_h


def _zrn(a, H):
    """Canonical r, z, n blocks <-> the user's z, r, n (the swap of the first two undoes itself)."""
    return np.concatenate([a[H:2 * H], a[:H], a[2 * H:]], axis=0)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W_x": _zrn(p["weight_ih"], H), "W_h": _zrn(p["weight_hh"], H),
            "b_x": _zrn(p["bias_ih"], H), "b_h": _zrn(p["bias_hh"], H)}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    names = {"dW_x": "dweight_ih", "dW_h": "dweight_hh", "db_x": "dbias_ih", "db_h": "dbias_hh"}
    return {q: _zrn(grads[u], H) for u, q in names.items() if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="vjp_rules_gru", cells=("gru",), axes="TND",
                               gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_x, W_h, b_x, b_h):
        return gru_forward(x, h0, W_x, W_h, b_x, b_h)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

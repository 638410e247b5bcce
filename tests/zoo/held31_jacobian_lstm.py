"""An LSTM written by a dynamical-systems person: the state is s_t = [h_t; c_t] (2H), and
the backward is a chain of explicit Jacobian-vector products, one example at a time, with
the Jacobians built as matrices (np.diag, np.hstack, np.vstack):

    a_t = W [x_t; h_(t-1)] + b        W (4H, D+H), b (4H,), blocks i, f, o, z (z = tanh)
    c_t = f c_(t-1) + i z             h_t = o tanh(c_t)
    J_a = d[h_t; c_t]/da_t  (2H, 4H)        J_c = d[h_t; c_t]/dc_(t-1)  (2H, H)
    delta = J_a^T lam                 lam = [dL/dh_t; dL/dc_t] (the carries and dh_t)
    lam_h <- W[:, D:]^T delta         lam_c <- J_c^T lam

x (N, T, D) batch-first, the weights passed as one list (W, b). Thirty-first held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "output_path_dropped": "term_dropped",               # J_h lacks the o column: diag(tanh(c) * o (1 - o)) left out
    "dtanh_at_c": "derivative_wrong_point",              # dtc = 1 - c_t**2 (c_t for tanh(c_t))
    "z_derivative_twice": "derivative_twice",            # tz = (1 - z**2) * (1 - z**2)
    "o_derivative_as_tanh": "derivative_wrong_function",  # so = 1 - o**2
    "dtc_star_typo": "derivative_miswritten",            # dtc = 1 - tc * 2
    "c_carry_via_h_dropped": "term_dropped",             # J_c's top block (dh_t/dc_(t-1)) left as zeros
    "jacobian_columns_ifzo": "gate_order",               # J_a's columns stacked i, f, z, o; delta read as i, f, o, z
    "h_carry_from_dW": "gradient_for_weight",            # lam_h = dW[:, D:].T @ delta
    "c_carry_dropped": "carry_dropped",                  # lam_c reset to zero every step
    "dW_over_N": "reduction_scaled",                     # dW /= N at the end (db left summed)
    "c_updated_in_place": "inplace_corruption",          # cp *= f; cp += i * z: cp is the cached c_(t-1) (or c0)
    "z_column_with_o": "wrong_value",                    # dc/da_z = diag(o (1 - z^2)): o_t read for i_t
    "forget_bias_plus_one": "forget_bias",               # f = sigmoid(a_f + 1.0) (a TF habit) in a check with none
    "lam_h_clipped": "gradient_clipped",                 # invention: lam_h (dh_t + carry) rescaled to norm <= 1
    "dtc_typo_and_c_via_h_dropped": "unknown",           # two mistakes: dtc_star_typo and c_carry_via_h_dropped
}

TOUCHES = {                       # computed: blind_index.touched_gates(module, bug)
    "output_path_dropped": "o",
    "dtanh_at_c": "ifg",
    "z_derivative_twice": "g",
    "o_derivative_as_tanh": "o",
    "dtc_star_typo": "ifg",
    "c_carry_via_h_dropped": "",
    "jacobian_columns_ifzo": "go",
    "h_carry_from_dW": "",
    "c_carry_dropped": "",
    "dW_over_N": "",
    "c_updated_in_place": "f",
    "z_column_with_o": "g",
    "forget_bias_plus_one": "",
    "lam_h_clipped": "",
    "dtc_typo_and_c_via_h_dropped": "ifg",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_states(x, h0, c0, theta, bug=None):
    W, b = theta
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    c = np.zeros((N, T, H), dtype=x.dtype)
    gates = np.zeros((N, T, 4 * H), dtype=x.dtype)
    hp, cp = h0, c0
    for t in range(T):
        a = np.concatenate([x[:, t], hp], axis=1) @ W.T + b
        if bug == "forget_bias_plus_one":
            a[:, H:2 * H] += 1.0
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        z = np.tanh(a[:, 3 * H:])
        gates[:, t] = np.concatenate([i, f, o, z], axis=1)
        if bug == "c_updated_in_place":
            cp *= f
            cp += i * z
            c[:, t] = cp
            cp = c[:, t]
        else:
            c[:, t] = f * cp + i * z
            cp = c[:, t]
        h[:, t] = o * np.tanh(cp)
        hp = h[:, t]
    return h, {"x": x, "h0": h0, "c0": c0, "h": h, "c": c, "G": gates, "W": W}


def lstm_vjp(dh, cache, bug=None):
    x, h0, c0, hs, cs, G, W = (cache[k] for k in ("x", "h0", "c0", "h", "c", "G", "W"))
    N, T, D = x.shape
    H = h0.shape[1]
    dt = dh.dtype
    dW, db = np.zeros_like(W), np.zeros(4 * H, dtype=dt)
    dx, dh0, dc0 = np.zeros_like(x), np.zeros_like(h0), np.zeros_like(c0)
    Z = np.zeros((H, H), dtype=dt)
    for n in range(N):
        lam_h, lam_c = np.zeros(H, dtype=dt), np.zeros(H, dtype=dt)
        for t in reversed(range(T)):
            lam_h = lam_h + dh[n, t]
            if bug == "lam_h_clipped":
                norm = np.linalg.norm(lam_h)
                if norm > 1.0:
                    lam_h = lam_h / norm
            i, f, o, z = np.split(G[n, t], 4)
            c_t = cs[n, t]
            c_prev = cs[n, t - 1] if t > 0 else c0[n]
            h_prev = hs[n, t - 1] if t > 0 else h0[n]
            tc = np.tanh(c_t)
            if bug == "dtanh_at_c":
                dtc = 1 - c_t ** 2
            elif bug in ("dtc_star_typo", "dtc_typo_and_c_via_h_dropped"):
                dtc = 1 - tc * 2
            else:
                dtc = 1 - tc ** 2
            si, sf = i * (1 - i), f * (1 - f)
            so = 1 - o ** 2 if bug == "o_derivative_as_tanh" else o * (1 - o)
            tz = (1 - z ** 2) * (1 - z ** 2) if bug == "z_derivative_twice" else 1 - z ** 2
            cols = {"i": np.diag(z * si), "f": np.diag(c_prev * sf), "o": Z,
                    "z": np.diag((o if bug == "z_column_with_o" else i) * tz)}
            order = "ifzo" if bug == "jacobian_columns_ifzo" else "ifoz"
            Jc = np.hstack([cols[k] for k in order])                    # dc_t/da_t (H, 4H)
            out_cols = {"i": Z, "f": Z, "o": np.diag(tc * so), "z": Z}
            if bug == "output_path_dropped":
                out_cols["o"] = Z
            Jh = np.diag(o * dtc) @ Jc + np.hstack([out_cols[k] for k in order])
            J_a = np.vstack([Jh, Jc])                                   # (2H, 4H)
            lam = np.concatenate([lam_h, lam_c])
            delta = J_a.T @ lam                                         # (4H,)
            top = Z if bug in ("c_carry_via_h_dropped", "dtc_typo_and_c_via_h_dropped") else np.diag(o * dtc * f)
            J_c = np.vstack([top, np.diag(f)])                          # (2H, H)
            dW += np.outer(delta, np.concatenate([x[n, t], h_prev]))
            db += delta
            dx[n, t] = W[:, :D].T @ delta
            lam_c = np.zeros(H, dtype=dt) if bug == "c_carry_dropped" else J_c.T @ lam
            lam_h = (dW if bug == "h_carry_from_dW" else W)[:, D:].T @ delta
        dh0[n], dc0[n] = lam_h, lam_c
    if bug == "dW_over_N":
        dW /= N
    return dx, dh0, dc0, dW, db


def to_user(cell, p):
    W = np.concatenate([reorder(p["weight_ih"], "ifgo", "ifog", 0), reorder(p["weight_hh"], "ifgo", "ifog", 0)],
                       axis=1)
    return {"W": W, "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", "ifog", 0)}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"][:, :D], "ifog", "ifgo", 0)
        out["dweight_hh"] = reorder(grads["dW"][:, D:], "ifog", "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "ifog", "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="jacobian_lstm", cells=("lstm",), weights_as="list",
                               gate_order="ifoz", gate_letters={"z": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, theta):
        return lstm_states(x, h0, c0, theta, bug)

    def backward(dh, cache):
        return lstm_vjp(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

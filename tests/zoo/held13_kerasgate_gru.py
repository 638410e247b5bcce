"""A GRU written by a Keras user with one (D, H) kernel and one (H, H) recurrent kernel per
gate (W_z, W_r, W_h, U_z, U_r, U_h), input and recurrent biases per gate, Keras's gate order
z, r, h and reset_after=True (the reset gate multiplies the recurrent product):

    z = s(x W_z + b_z + h U_z + rb_z)       r = s(x W_r + b_r + h U_r + rb_r)
    hh = tanh(x W_h + b_h + r * (h U_h + rb_h))
    h_t = z * h_(t-1) + (1 - z) * hh

Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

NAMES = ("W_z", "W_r", "W_h", "U_z", "U_r", "U_h", "b_z", "b_r", "b_h", "rb_z", "rb_r", "rb_h")

BUGS = {
    "dh_prev_U_z_for_U_r": "wrong_weight",                # dh_prev's r term read through U_z
    "dhh_no_tanh_grad": "derivative_missing",             # da_h = dhh
    "dz_hh_minus_h": "wrong_sign",                        # dz = dh * (hh - h_prev)
    "dr_times_h_prev": "wrong_value",                     # dr = da_h * h_prev (for h U_h + rb_h)
    "dU_h_without_r": "term_dropped",                     # dU_h += h_prev.T @ da_h (the factor r left out)
    "dU_z_transposed": "gradient_transposed",             # dU_z += dz_a.T @ h_prev
    "direct_path_missing": "term_dropped",                # dh_prev without dh * z
    "r_grad_with_z": "derivative_wrong_point",            # da_r = dr * z * (1 - z) (also a wrong_value)
    "hh_grad_sigmoid": "derivative_wrong_function",       # da_h = dhh * hh * (1 - hh)
    "carry_not_passed": "carry_dropped",                  # dh_prev computed, never carried to step t-1
    "dU_z_dU_r_swapped": "gate_order",                    # dU_r and dU_z returned in each other's places
    "forward_reset_before": "forward_mistake",            # hh = tanh(x W_h + b_h + (r h) U_h + rb_h), backward consistent
    "loop_skips_first": "loop_skips_step",                # for t in range(T - 1, 0, -1)
    "hU_scaled_in_place": "inplace_corruption",           # hU = h U_h + rb_h; hU *= r: dr reads r * hU
    "dz_times_half": "unknown",                           # dz * 0.5: an arbitrary constant
    "z_grad_twice": "derivative_twice",                   # da_z = dz * z (1 - z) * z (1 - z)
}


def s(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, *weights, bug=None):
    P = dict(zip(NAMES, weights))
    N, T, _ = x.shape
    h, out, tape = h0, [], []
    for t in range(T):
        xt = x[:, t]
        z = s(xt @ P["W_z"] + P["b_z"] + h @ P["U_z"] + P["rb_z"])
        r = s(xt @ P["W_r"] + P["b_r"] + h @ P["U_r"] + P["rb_r"])
        if bug == "forward_reset_before":
            hU = (r * h) @ P["U_h"] + P["rb_h"]
            hh = np.tanh(xt @ P["W_h"] + P["b_h"] + hU)
        elif bug == "hU_scaled_in_place":
            hU = h @ P["U_h"] + P["rb_h"]
            rhU = hU
            rhU *= r
            hh = np.tanh(xt @ P["W_h"] + P["b_h"] + rhU)
        else:
            hU = h @ P["U_h"] + P["rb_h"]
            hh = np.tanh(xt @ P["W_h"] + P["b_h"] + r * hU)
        tape.append((xt, h, z, r, hU, hh))
        h = z * h + (1 - z) * hh
        out.append(h)
    return np.stack(out, axis=1), (tape, P)


def gru_backward(dh, cache, bug=None):
    tape, P = cache
    N, T, H = dh.shape
    G = {"d" + k: np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros((N, T, P["W_z"].shape[0]), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    stop = 0 if bug == "loop_skips_first" else -1
    for t in range(T - 1, stop, -1):
        xt, h_prev, z, r, hU, hh = tape[t]
        d = dh[:, t] + dh_next
        dz = d * ((hh - h_prev) if bug == "dz_hh_minus_h" else (h_prev - hh))
        if bug == "dz_times_half":
            dz = dz * 0.5
        dhh = d * (1 - z)
        if bug == "dhh_no_tanh_grad":
            da_h = dhh
        elif bug == "hh_grad_sigmoid":
            da_h = dhh * hh * (1 - hh)
        else:
            da_h = dhh * (1 - hh ** 2)
        if bug == "forward_reset_before":
            drh = da_h @ P["U_h"].T
            dr, dhU = drh * h_prev, da_h
        else:
            dr = da_h * (h_prev if bug == "dr_times_h_prev" else hU)
            dhU = da_h * r
        da_r = dr * (z * (1 - z) if bug == "r_grad_with_z" else r * (1 - r))
        da_z = dz * z * (1 - z)
        if bug == "z_grad_twice":
            da_z = da_z * z * (1 - z)
        for k, a in (("z", da_z), ("r", da_r), ("h", da_h)):
            G["dW_" + k] += xt.T @ a
            G["db_" + k] += a.sum(axis=0)
            dx[:, t] += a @ P["W_" + k].T
        G["dU_z"] += da_z.T @ h_prev if bug == "dU_z_transposed" else h_prev.T @ da_z
        G["dU_r"] += h_prev.T @ da_r
        G["drb_z"] += da_z.sum(axis=0)
        G["drb_r"] += da_r.sum(axis=0)
        if bug == "forward_reset_before":
            G["dU_h"] += (r * h_prev).T @ da_h
            G["drb_h"] += da_h.sum(axis=0)
            dh_prev = drh * r
        else:
            G["dU_h"] += h_prev.T @ (da_h if bug == "dU_h_without_r" else dhU)
            G["drb_h"] += dhU.sum(axis=0)
            dh_prev = dhU @ P["U_h"].T
        U_r = P["U_z"] if bug == "dh_prev_U_z_for_U_r" else P["U_r"]
        dh_prev = dh_prev + da_z @ P["U_z"].T + da_r @ U_r.T
        if bug != "direct_path_missing":
            dh_prev = dh_prev + d * z
        if bug != "carry_not_passed":
            dh_next = dh_prev
    if bug == "dU_z_dU_r_swapped":
        G["dU_z"], G["dU_r"] = G["dU_r"], G["dU_z"]
    return (dx, dh_next) + tuple(G["d" + k] for k in NAMES)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blk = {"r": slice(0, H), "z": slice(H, 2 * H), "h": slice(2 * H, 3 * H)}
    user = {}
    for k in "zrh":
        user["W_" + k] = p["weight_ih"][blk[k]].T.copy()
    for k in "zrh":
        user["U_" + k] = p["weight_hh"][blk[k]].T.copy()
    for k in "zrh":
        user["b_" + k] = p["bias_ih"][blk[k]].copy()
    for k in "zrh":
        user["rb_" + k] = p["bias_hh"][blk[k]].copy()
    return user


def to_canonical(cell, g, p):
    out = {}
    for canon, pre, tr in (("dweight_ih", "dW_", True), ("dweight_hh", "dU_", True), ("dbias_ih", "db_", False),
                           ("dbias_hh", "drb_", False)):
        if all(pre + k in g for k in "rzh"):
            out[canon] = np.concatenate([g[pre + k].T if tr else g[pre + k] for k in "rzh"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras_gate_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_z, W_r, W_h, U_z, U_r, U_h, b_z, b_r, b_h, rb_z, rb_r, rb_h):
        return gru_forward(x, h0, W_z, W_r, W_h, U_z, U_r, U_h, b_z, b_r, b_h, rb_z, rb_r, rb_h, bug=bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_prev_U_z_for_U_r": "",
    "dhh_no_tanh_grad": "rn",
    "dz_hh_minus_h": "z",
    "dr_times_h_prev": "r",
    "dU_h_without_r": "n",
    "dU_z_transposed": "z",
    "direct_path_missing": "",
    "r_grad_with_z": "r",
    "hh_grad_sigmoid": "rn",
    "carry_not_passed": "",
    "dU_z_dU_r_swapped": "rz",
    "forward_reset_before": "",
    "loop_skips_first": "",
    "hU_scaled_in_place": "r",
    "dz_times_half": "z",
    "z_grad_twice": "z",
}

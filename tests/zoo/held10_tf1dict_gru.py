"""A GRU written after TF1's GRUCell source, in TF's own names: the update gate ``u``, the
candidate ``c``, gate_kernel (D+H, 2H) with columns [r | u] and gate_bias (2H,), candidate_kernel
(D+H, H) on concat([x, r * h]) and candidate_bias (H,); time-major input (T, N, D) as
dynamic_rnn(time_major=True), the reset gate before the recurrent product (reset_after=False);
the forward keeps one dict per step in a list:

    r, u = split(sigmoid(concat([x, h]) @ gate_kernel + gate_bias), 2)
    c = tanh(concat([x, r * h]) @ candidate_kernel + candidate_bias)
    new_h = u * h + (1 - u) * c

Tenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "cand_grad_with_h": "term_dropped",                  # dcandidate_kernel += concat([x, h]).T @ dc_pre: r of r * h left out (also wrong_value)
    "dh_prev_without_r_path": "term_dropped",            # dh_prev = dh * u + dxh[:, D:] (drh * r left out)
    "dgates_u_r": "gate_order",                          # dgates = concat([du_pre, dr_pre]): [u | r] for [r | u]
    "du_with_new_h": "wrong_time",                       # du = dh * (new_h - c): h_t for h_{t-1}
    "no_candidate_tanh_grad": "derivative_missing",      # dc_pre = dc
    "u_sigmoid_grad_twice": "derivative_twice",          # du_pre = du * u * (1 - u) * u * (1 - u)
    "u_sigmoid_grad_typo": "derivative_miswritten",      # du_pre = du * u * (1 - u ** 2)
    "dc_sign": "wrong_sign",                             # dc = dh * (u - 1)
    "drh_from_dkernel": "gradient_for_weight",           # dxrh = dc_pre @ dcandidate_kernel.T (accumulated so far)
    "dh_t_without_carry": "carry_dropped",               # dh_t = dh[t]
    "steps_in_forward_order": "loop_direction",          # for t, step in enumerate(steps) in the backward
    "carry_clipped": "gradient_clipped",                 # dh_prev = np.clip(dh_prev, -0.1, 0.1) at each step
    "dcandidate_kernel_over_T": "reduction_scaled",      # dcandidate_kernel /= T
    "forward_reset_after_product": "forward_mistake",    # c = tanh(x Wx_c + r * (h Wh_c) + b_c); backward consistent
    "no_r_grad_and_no_carry": "unknown",                 # dr_pre = dr (no sigmoid') and dh_t = dh[t]
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "cand_grad_with_h": "n",
    "dh_prev_without_r_path": "",
    "dgates_u_r": "rz",
    "du_with_new_h": "z",
    "no_candidate_tanh_grad": "rn",
    "u_sigmoid_grad_twice": "z",
    "u_sigmoid_grad_typo": "z",
    "dc_sign": "rn",
    "drh_from_dkernel": "r",
    "dh_t_without_carry": "",
    "steps_in_forward_order": "",
    "carry_clipped": "",
    "dcandidate_kernel_over_T": "",
    "forward_reset_after_product": "",
    "no_r_grad_and_no_carry": "r",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(inputs, h0, gate_kernel, gate_bias, candidate_kernel, candidate_bias, bug=None):
    T, N, D = inputs.shape
    H = h0.shape[1]
    h, outputs, steps = h0, [], []
    for t in range(T):
        x = inputs[t]
        value = sigmoid(np.concatenate([x, h], axis=1) @ gate_kernel + gate_bias)
        r, u = value[:, :H], value[:, H:]
        if bug == "forward_reset_after_product":
            hk = h @ candidate_kernel[D:]
            c = np.tanh(x @ candidate_kernel[:D] + r * hk + candidate_bias)
        else:
            hk = None
            c = np.tanh(np.concatenate([x, r * h], axis=1) @ candidate_kernel + candidate_bias)
        new_h = u * h + (1 - u) * c
        steps.append({"x": x, "h": h, "r": r, "u": u, "c": c, "new_h": new_h, "hk": hk})
        outputs.append(new_h)
        h = new_h
    return np.stack(outputs), {"steps": steps, "gate_kernel": gate_kernel, "candidate_kernel": candidate_kernel}


def gru_backward(doutputs, cache, bug=None):
    steps, gk, ck = cache["steps"], cache["gate_kernel"], cache["candidate_kernel"]
    T, N, H = doutputs.shape
    D = gk.shape[0] - H
    dinputs = np.zeros((T, N, D), dtype=doutputs.dtype)
    dgk, dgb = np.zeros_like(gk), np.zeros(2 * H, dtype=doutputs.dtype)
    dck, dcb = np.zeros_like(ck), np.zeros(H, dtype=doutputs.dtype)
    dh_prev = np.zeros((N, H), dtype=doutputs.dtype)
    order = list(enumerate(steps)) if bug == "steps_in_forward_order" else list(enumerate(steps))[::-1]
    for t, s in order:
        x, h, r, u, c = s["x"], s["h"], s["r"], s["u"], s["c"]
        dh = doutputs[t] if bug in ("dh_t_without_carry", "no_r_grad_and_no_carry") else doutputs[t] + dh_prev
        du = dh * ((s["new_h"] if bug == "du_with_new_h" else h) - c)
        dc = dh * (u - 1) if bug == "dc_sign" else dh * (1 - u)
        dc_pre = dc if bug == "no_candidate_tanh_grad" else dc * (1 - c ** 2)
        if bug == "forward_reset_after_product":
            dck[:D] += x.T @ dc_pre
            dck[D:] += h.T @ (dc_pre * r)
            dx = dc_pre @ ck[:D].T
            dr = dc_pre * s["hk"]
            dh_from_c = (dc_pre * r) @ ck[D:].T
        else:
            xrh = np.concatenate([x, h if bug == "cand_grad_with_h" else r * h], axis=1)
            dck += xrh.T @ dc_pre
            dxrh = dc_pre @ (dck if bug == "drh_from_dkernel" else ck).T
            dx = dxrh[:, :D]
            drh = dxrh[:, D:]
            dr = drh * h
            dh_from_c = 0 if bug == "dh_prev_without_r_path" else drh * r
        dcb += dc_pre.sum(axis=0)
        if bug == "u_sigmoid_grad_twice":
            du_pre = du * u * (1 - u) * u * (1 - u)
        elif bug == "u_sigmoid_grad_typo":
            du_pre = du * u * (1 - u ** 2)
        else:
            du_pre = du * u * (1 - u)
        dr_pre = dr if bug == "no_r_grad_and_no_carry" else dr * r * (1 - r)
        dgates = np.concatenate([du_pre, dr_pre] if bug == "dgates_u_r" else [dr_pre, du_pre], axis=1)
        dgk += np.concatenate([x, h], axis=1).T @ dgates
        dgb += dgates.sum(axis=0)
        dxh = dgates @ gk.T
        dinputs[t] = dx + dxh[:, :D]
        dh_prev = dh * u + dh_from_c + dxh[:, D:]
        if bug == "carry_clipped":
            dh_prev = np.clip(dh_prev, -0.1, 0.1)
    if bug == "dcandidate_kernel_over_T":
        dck /= T
    return dinputs, dh_prev, dgk, dgb, dck, dcb


def to_user(cell, p):
    W_ih, W_hh, b = p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"]
    H = W_hh.shape[1]
    return {"gate_kernel": np.concatenate([W_ih[:2 * H].T, W_hh[:2 * H].T]), "gate_bias": b[:2 * H],
            "candidate_kernel": np.concatenate([W_ih[2 * H:].T, W_hh[2 * H:].T]), "candidate_bias": b[2 * H:]}


def to_canonical(cell, g, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dgate_kernel" in g and "dcandidate_kernel" in g:
        gk, ck = g["dgate_kernel"], g["dcandidate_kernel"]
        out["dweight_ih"] = np.concatenate([gk[:D].T, ck[:D].T])
        out["dweight_hh"] = np.concatenate([gk[D:].T, ck[D:].T])
    if "dgate_bias" in g and "dcandidate_bias" in g:
        out["dbias_ih"] = np.concatenate([g["dgate_bias"], g["dcandidate_bias"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tf1_dict_gru", cells=("gru",), axes="TND",
                               gate_order="ruc", gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, h0, gate_kernel, gate_bias, candidate_kernel, candidate_bias):
        return gru_forward(inputs, h0, gate_kernel, gate_bias, candidate_kernel, candidate_bias, bug)

    def backward(doutputs, cache):
        return gru_backward(doutputs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

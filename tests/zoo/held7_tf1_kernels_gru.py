"""A GRU written after TF1's ``GRUCell``: two kernels, ``gates_kernel`` (D+H, 2H) whose
columns are [r, u] and ``candidate_kernel`` (D+H, H), both applied to a concatenation of
the input with (r * state for the candidate), with ``gates_bias`` (2H,) and
``candidate_bias`` (H,); time-major x (T, N, D) and outputs (T, N, H), lists of the states,
gate values and candidates as the cache. The reset is applied before the product
(reset_after=False), and TF1's update:

    value = s([x, h] @ gates_kernel + gates_bias);  r, u = split(value, 2)
    c = tanh([x, r * h] @ candidate_kernel + candidate_bias)
    new_h = u * h + (1 - u) * c

Custom layout, axes "TND", gate letters u = z and c = n. Seventh held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "rstate_uses_h": "term_dropped",                      # dcandidate_kernel from [x, h]: the factor r left out
    "dh_next_misses_rstate": "term_dropped",              # the dh_next += d_rstate * r line left out
    "du_sign": "wrong_sign",                              # du = dh_t * (c - h)
    "value_grad_tanh": "derivative_wrong_function",       # dvalue * (1 - value ** 2)
    "dc_pre_missing": "derivative_missing",               # dc_pre = dc
    "dc_pre_miswritten": "derivative_miswritten",         # dc * (1 - c) ** 2
    "hs_index": "wrong_time",                             # h = hs[t + 1] (hs holds h0 first): h_t for h_(t-1)
    "carry_not_added": "carry_dropped",                   # dh_t = dh[t]
    "blocks_u_r": "gate_order",                           # dvalue = concatenate([du, dr])
    "clip_global_norm": "gradient_clipped",               # clip_by_global_norm(grads, 1.0) before return
    "forward_candidate_without_r": "forward_mistake",     # c = tanh([x, h] @ ...); backward consistent
    "candidate_grads_over_N": "reduction_scaled",         # dcandidate_kernel / N and dcandidate_bias / N
    "sigmoid_grad_in_place": "inplace_corruption",        # sig = values[t]; sig *= 1 - sig (r is a view of it)
    "du_half": "unknown",                                 # du = 0.5 * dh_t * (h - c)
    "skips_first_step": "loop_skips_step",                # for t in reversed(range(1, T))
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "rstate_uses_h": "n",
    "dh_next_misses_rstate": "",
    "du_sign": "z",
    "value_grad_tanh": "rz",
    "dc_pre_missing": "rn",
    "dc_pre_miswritten": "rn",
    "hs_index": "",
    "carry_not_added": "",
    "blocks_u_r": "rz",
    "clip_global_norm": "",
    "forward_candidate_without_r": "",
    "candidate_grads_over_N": "n",
    "sigmoid_grad_in_place": "",
    "du_half": "z",
    "skips_first_step": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(inputs, h0, gates_kernel, gates_bias, candidate_kernel, candidate_bias, bug=None):
    T, N, D = inputs.shape
    H = h0.shape[1]
    outputs = np.zeros((T, N, H), dtype=inputs.dtype)
    hs, values, cs = [h0], [], []
    state = h0
    for t in range(T):
        x = inputs[t]
        value = sigmoid(np.concatenate([x, state], axis=1) @ gates_kernel + gates_bias)
        r, u = np.split(value, 2, axis=1)
        r_state = state if bug == "forward_candidate_without_r" else r * state
        c = np.tanh(np.concatenate([x, r_state], axis=1) @ candidate_kernel + candidate_bias)
        new_h = u * state + (1 - u) * c
        outputs[t] = new_h
        hs.append(new_h)
        values.append(value)
        cs.append(c)
        state = new_h
    return outputs, (inputs, hs, values, cs, gates_kernel, candidate_kernel)


def _clip_by_global_norm(grads, clip_norm):
    norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * clip_norm / max(norm, clip_norm) for g in grads]


def gru_backward(dh, cache, bug=None):
    inputs, hs, values, cs, gates_kernel, candidate_kernel = cache
    T, N, H = dh.shape
    D = inputs.shape[2]
    dgk, dck = np.zeros_like(gates_kernel), np.zeros_like(candidate_kernel)
    dgb, dcb = np.zeros(2 * H, dtype=dh.dtype), np.zeros(H, dtype=dh.dtype)
    dinputs = np.zeros_like(inputs)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    steps = reversed(range(1, T)) if bug == "skips_first_step" else reversed(range(T))
    for t in steps:
        x, value, c = inputs[t], values[t], cs[t]
        h = hs[t + 1] if bug == "hs_index" else hs[t]
        r, u = value[:, :H], value[:, H:]
        dh_t = dh[t] if bug == "carry_not_added" else dh[t] + dh_next
        if bug == "du_sign":
            du = dh_t * (c - h)
        elif bug == "du_half":
            du = 0.5 * dh_t * (h - c)
        else:
            du = dh_t * (h - c)
        dc = dh_t * (1 - u)
        dh_next = dh_t * u
        if bug == "dc_pre_missing":
            dc_pre = dc
        elif bug == "dc_pre_miswritten":
            dc_pre = dc * (1 - c) ** 2
        else:
            dc_pre = dc * (1 - c ** 2)
        r_state = h if bug in ("rstate_uses_h", "forward_candidate_without_r") else r * h
        dck += np.concatenate([x, r_state], axis=1).T @ dc_pre
        dcb += dc_pre.sum(axis=0)
        d_xr = dc_pre @ candidate_kernel.T
        dx = d_xr[:, :D]
        d_rstate = d_xr[:, D:]
        dr = np.zeros_like(d_rstate) if bug == "forward_candidate_without_r" else d_rstate * h
        dvalue = np.concatenate([du, dr] if bug == "blocks_u_r" else [dr, du], axis=1)
        if bug == "value_grad_tanh":
            dvalue = dvalue * (1 - value ** 2)
        elif bug == "sigmoid_grad_in_place":
            sig = value
            sig *= 1 - sig
            dvalue *= sig
        else:
            dvalue = dvalue * value * (1 - value)
        if bug == "forward_candidate_without_r":
            dh_next += d_rstate
        elif bug != "dh_next_misses_rstate":
            dh_next += d_rstate * r
        dgk += np.concatenate([x, h], axis=1).T @ dvalue
        dgb += dvalue.sum(axis=0)
        d_xh = dvalue @ gates_kernel.T
        dinputs[t] = dx + d_xh[:, :D]
        dh_next += d_xh[:, D:]
    if bug == "candidate_grads_over_N":
        dck /= N
        dcb /= N
    grads = [dgk, dgb, dck, dcb]
    if bug == "clip_global_norm":
        grads = _clip_by_global_norm(grads, 1.0)
    return (dinputs, dh_next, *grads)


def to_user(cell, p):
    D = p["weight_ih"].shape[1]
    W_ir, W_iz, W_in = np.split(p["weight_ih"], 3)
    W_hr, W_hz, W_hn = np.split(p["weight_hh"], 3)
    b = p["bias_ih"] + p["bias_hh"]
    H = W_hr.shape[0]
    gates_kernel = np.concatenate([np.concatenate([W_ir.T, W_iz.T], axis=1),
                                   np.concatenate([W_hr.T, W_hz.T], axis=1)], axis=0)
    candidate_kernel = np.concatenate([W_in.T, W_hn.T], axis=0)
    assert gates_kernel.shape == (D + H, 2 * H)
    return {"gates_kernel": gates_kernel, "gates_bias": b[:2 * H].copy(),
            "candidate_kernel": candidate_kernel, "candidate_bias": b[2 * H:].copy()}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dgates_kernel" in grads and "dcandidate_kernel" in grads:
        gk, ck = grads["dgates_kernel"], grads["dcandidate_kernel"]
        H = ck.shape[1]
        out["dweight_ih"] = np.concatenate([gk[:D, :H].T, gk[:D, H:].T, ck[:D].T])
        out["dweight_hh"] = np.concatenate([gk[D:, :H].T, gk[D:, H:].T, ck[D:].T])
    if "dgates_bias" in grads and "dcandidate_bias" in grads:
        out["dbias_ih"] = np.concatenate([grads["dgates_bias"], grads["dcandidate_bias"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tf1_gru_kernels", cells=("gru",), axes="TND",
                               gate_order="ruc", gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, h0, gates_kernel, gates_bias, candidate_kernel, candidate_bias):
        return gru_forward(inputs, h0, gates_kernel, gates_bias, candidate_kernel, candidate_bias, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

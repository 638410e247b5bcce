"""A port of Keras 2's GRU with its default reset_after=False, batch-major x (N, T, D):
kernel (D, 3H) and recurrent_kernel (H, 3H) with columns z, r, h, and one bias (3H,)
(reset_after=False has no recurrent bias). Keras's step function:

    x_z = x @ kernel_z + bias_z      z = sigmoid(x_z + h_tm1 @ recurrent_kernel_z)
    x_r = x @ kernel_r + bias_r      r = sigmoid(x_r + h_tm1 @ recurrent_kernel_r)
    x_h = x @ kernel_h + bias_h      hh = tanh(x_h + (r * h_tm1) @ recurrent_kernel_h)
    h = z * h_tm1 + (1 - z) * hh

The backward is written by hand step by step, with the step's gate gradients stacked as the
kernel's columns. Sixth held-out zoo: written without reading the diagnosis. "[own]" marks
mistakes of the writer's own invention (beyond issue 8's list).
"""

import numpy as np

import harness

BUGS = {
    "rk_h_not_transposed": "weight_transposed",        # d(r * h_tm1) = dxh @ recurrent_kernel_h (for .T)
    "drk_z_transposed": "gradient_transposed",         # drk[:, :H] += dxz.T @ h_tm1
    "rk_r_block_for_h": "wrong_weight",                # d(r * h_tm1) = dxh @ recurrent_kernel[:, H:2H].T
    "dx_from_dkernel": "gradient_for_weight",          # dx = dmatrix_x @ dkernel.T
    "drh_without_r": "term_dropped",                   # dh_tm1 gets d(r * h_tm1) without the factor r
    "dr_from_h_t": "wrong_time",                       # dr = drh * h (the step's output) for h_tm1
    "dz_sigmoid_grad_missing": "derivative_missing",   # dxz = dz
    "dhh_tanh_grad_paren": "derivative_miswritten",    # (1 - hh) ** 2
    "dz_convention_sign": "wrong_sign",                # dz = dh * (hh - h_tm1), the other convention's sign
    "dbias_assigned": "carry_overwrites",              # dbias = dmatrix_x.sum(0) (= for +=)
    "loop_like_go_backwards": "loop_direction",        # [own] for t in range(T) (go_backwards read the wrong way round)
    "dmatrix_in_torch_order": "gate_order",            # [own] dmatrix = [dxr, dxz, dxh] for columns z, r, h
    "z_times_h_in_place": "inplace_corruption",        # zh = z; zh *= h_tm1 in the forward: the cached z is z * h_tm1
    "forward_reset_after_form": "forward_mistake",     # [own] hh = tanh(x_h + r * (h_tm1 @ rk_h)) while reset_after=False;
                                                       # the backward matches it
    "dr_from_h_and_no_dz_grad": "unknown",             # two mistakes at once
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "rk_h_not_transposed": "r",
    "drk_z_transposed": "z",
    "rk_r_block_for_h": "r",
    "dx_from_dkernel": "",
    "drh_without_r": "",
    "dr_from_h_t": "r",
    "dz_sigmoid_grad_missing": "z",
    "dhh_tanh_grad_paren": "rn",
    "dz_convention_sign": "z",
    "dbias_assigned": "",
    "loop_like_go_backwards": "",
    "dmatrix_in_torch_order": "rz",
    "z_times_h_in_place": "",
    "forward_reset_after_form": "",
    "dr_from_h_and_no_dz_grad": "rz",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_layer(inputs, initial_state, kernel, recurrent_kernel, bias, bug=None):
    """inputs (N, T, D), initial_state (N, H) -> outputs (N, T, H), cache."""
    H = recurrent_kernel.shape[0]
    rk_z, rk_r, rk_h = recurrent_kernel[:, :H], recurrent_kernel[:, H:2 * H], recurrent_kernel[:, 2 * H:]

    def step(x_t, h_tm1):
        matrix_x = x_t @ kernel + bias
        x_z, x_r, x_h = matrix_x[:, :H], matrix_x[:, H:2 * H], matrix_x[:, 2 * H:]
        z = sigmoid(x_z + h_tm1 @ rk_z)
        r = sigmoid(x_r + h_tm1 @ rk_r)
        if bug == "forward_reset_after_form":
            hh = np.tanh(x_h + r * (h_tm1 @ rk_h))
        else:
            hh = np.tanh(x_h + (r * h_tm1) @ rk_h)
        if bug == "z_times_h_in_place":
            h = (1 - z) * hh
            zh = z
            zh *= h_tm1
            h += zh
        else:
            h = z * h_tm1 + (1 - z) * hh
        return h, {"x": x_t, "h_tm1": h_tm1, "z": z, "r": r, "hh": hh, "h": h}

    outputs, saved = [], []
    h = initial_state
    for t in range(inputs.shape[1]):
        h, s = step(inputs[:, t], h)
        outputs.append(h)
        saved.append(s)
    return np.stack(outputs, axis=1), {"steps": saved, "kernel": kernel, "recurrent_kernel": recurrent_kernel}


def gru_layer_backward(doutputs, cache, bug=None):
    kernel, recurrent_kernel, steps = cache["kernel"], cache["recurrent_kernel"], cache["steps"]
    N, T, H = doutputs.shape
    rk_z, rk_r, rk_h = recurrent_kernel[:, :H], recurrent_kernel[:, H:2 * H], recurrent_kernel[:, 2 * H:]
    dkernel, drk = np.zeros_like(kernel), np.zeros_like(recurrent_kernel)
    dbias = np.zeros(3 * H, dtype=doutputs.dtype)
    dinputs = np.zeros((N, T, kernel.shape[0]), dtype=doutputs.dtype)
    dh_next = np.zeros((N, H), dtype=doutputs.dtype)
    if bug == "loop_like_go_backwards":
        order = range(T)
    else:
        order = range(T - 1, -1, -1)
    for t in order:
        s = steps[t]
        z, r, hh, h_tm1 = s["z"], s["r"], s["hh"], s["h_tm1"]
        dh = doutputs[:, t] + dh_next
        if bug == "dz_convention_sign":
            dz = dh * (hh - h_tm1)
        else:
            dz = dh * (h_tm1 - hh)
        dhh = dh * (1 - z)
        dxh = dhh * ((1 - hh) ** 2 if bug == "dhh_tanh_grad_paren" else 1 - hh ** 2)
        if bug == "forward_reset_after_form":
            ah = h_tm1 @ rk_h
            dr = dxh * ah
            dah = dxh * r
            drk_h = h_tm1.T @ dah
            dh_tm1 = dah @ rk_h.T
        else:
            if bug == "rk_h_not_transposed":
                drh = dxh @ rk_h
            elif bug == "rk_r_block_for_h":
                drh = dxh @ rk_r.T
            else:
                drh = dxh @ rk_h.T
            dr = drh * (s["h"] if bug in ("dr_from_h_t", "dr_from_h_and_no_dz_grad") else h_tm1)
            drk_h = (r * h_tm1).T @ dxh
            dh_tm1 = drh if bug == "drh_without_r" else drh * r
        dxr = dr * r * (1 - r)
        dxz = dz if bug in ("dz_sigmoid_grad_missing", "dr_from_h_and_no_dz_grad") else dz * z * (1 - z)
        if bug == "dmatrix_in_torch_order":
            dmatrix_x = np.concatenate([dxr, dxz, dxh], axis=1)
        else:
            dmatrix_x = np.concatenate([dxz, dxr, dxh], axis=1)
        dkernel += s["x"].T @ dmatrix_x
        if bug == "dbias_assigned":
            dbias = dmatrix_x.sum(axis=0)
        else:
            dbias += dmatrix_x.sum(axis=0)
        drk[:, :H] += dxz.T @ h_tm1 if bug == "drk_z_transposed" else h_tm1.T @ dxz
        drk[:, H:2 * H] += h_tm1.T @ dxr
        drk[:, 2 * H:] += drk_h
        if bug == "dx_from_dkernel":
            dinputs[:, t] = dmatrix_x @ dkernel.T
        else:
            dinputs[:, t] = dmatrix_x @ kernel.T
        dh_next = dh * z + dh_tm1 + dxz @ rk_z.T + dxr @ rk_r.T
    return dinputs, dh_next, dkernel, drk, dbias


def _zrh(a, axis):
    """Canonical blocks r, z, n <-> Keras's z, r, h (the swap is its own inverse)."""
    first, second, third = np.split(a, 3, axis=axis)
    return np.concatenate([second, first, third], axis=axis)


def to_user(cell, p):
    return {"kernel": _zrh(p["weight_ih"], 0).T, "recurrent_kernel": _zrh(p["weight_hh"], 0).T,
            "bias": _zrh(p["bias_ih"] + p["bias_hh"], 0)}


def to_canonical(cell, g, p):
    out = {}
    if "dkernel" in g:
        out["dweight_ih"] = _zrh(g["dkernel"].T, 0)
    if "drecurrent_kernel" in g:
        out["dweight_hh"] = _zrh(g["drecurrent_kernel"].T, 0)
    if "dbias" in g:
        out["dbias_ih"] = _zrh(g["dbias"], 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras2_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, initial_state, kernel, recurrent_kernel, bias):
        return gru_layer(inputs, initial_state, kernel, recurrent_kernel, bias, bug)

    def backward(doutputs, cache):
        return gru_layer_backward(doutputs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

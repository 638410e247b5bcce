"""A GRU with ONE matmul over [x, h] for both gates (columns z, r) and a separate one over
[x, r * h] for the candidate, time-major, weights passed as a list (d2l's params habit):
x (T, N, D), h0 (N, H), params = [W_zr (D + H, 2H), b_zr (2H,), W_c (D + H, H), b_c (H,)],
reset_after=False:

    z, r = split(sigmoid([x_t, h] @ W_zr + b_zr), 2)
    c = tanh([x_t, r * h] @ W_c + b_c)         h' = z * h + (1 - z) * c

The backward keeps each step's weight gradients in a list and sums them at the end.
Eleventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "d_rh_without_r": "term_dropped",                     # dnext gets d_rh, not d_rh * r
    "dzr_blocks_r_then_z": "gate_order",                  # dzr = concatenate([da_r, da_z]) for columns z, r
    "dc_sigmoid_grad": "derivative_wrong_function",       # da_c = dc * c * (1 - c)
    "dz_no_sigmoid_grad": "derivative_missing",           # da_z = dz
    "dr_with_next_h": "wrong_time",                       # dr = d_rh * hs[t + 1] (this step's output, not h_prev)
    "dW_c_from_x_h": "wrong_value",                       # dW_c_t = xh.T @ da_c: [x, h] read for [x, r * h]
    "dxrh_through_dW_c": "gradient_for_weight",           # dxrh = da_c @ dW_c_t.T
    "carry_not_added": "carry_dropped",                   # dh = dhs[t]
    "loop_forward_in_time": "loop_direction",             # for t in range(T)
    "grads_np_mean_over_steps": "reduction_scaled",       # np.mean(per_step, axis=0) for np.sum
    "grads_clipped_at_end": "gradient_clipped",           # np.clip(g, -0.2, 0.2) on every weight gradient
    "one_minus_z_in_place": "inplace_corruption",         # omz = zr[:, :H]; omz *= -1; omz += 1: the cached z block is 1 - z
    "forward_b_c_added_twice": "forward_mistake",         # c = tanh([x, r h] W_c + b_c + b_c); db_c = 2 * sum (consistent)
    "da_z_halved": "unknown",                             # da_z = 0.5 * dz * z * (1 - z) (an arbitrary constant)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "d_rh_without_r": "",
    "dzr_blocks_r_then_z": "rz",
    "dc_sigmoid_grad": "rn",
    "dz_no_sigmoid_grad": "z",
    "dr_with_next_h": "r",
    "dW_c_from_x_h": "n",
    "dxrh_through_dW_c": "r",
    "carry_not_added": "",
    "loop_forward_in_time": "",
    "grads_np_mean_over_steps": "",
    "grads_clipped_at_end": "zn",
    "one_minus_z_in_place": "rn",
    "forward_b_c_added_twice": "",
    "da_z_halved": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, params, bug=None):
    W_zr, b_zr, W_c, b_c = params
    T, N, D = x.shape
    H = h0.shape[1]
    hs, steps = [h0], []
    for t in range(T):
        h = hs[-1]
        xh = np.concatenate([x[t], h], axis=1)
        zr = sigmoid(xh @ W_zr + b_zr)
        z, r = zr[:, :H].copy(), zr[:, H:]
        if bug == "one_minus_z_in_place":
            omz = zr[:, :H]
            omz *= -1
            omz += 1
        else:
            omz = 1 - z
        xrh = np.concatenate([x[t], r * h], axis=1)
        pre = xrh @ W_c + b_c
        if bug == "forward_b_c_added_twice":
            pre = pre + b_c
        c = np.tanh(pre)
        hs.append(z * h + omz * c)
        steps.append((xh, xrh, zr, c))
    return np.stack(hs[1:]), (x, hs, steps, params)


def gru_backward(dhs, cache, bug=None):
    x, hs, steps, (W_zr, b_zr, W_c, b_c) = cache
    T, N, D = x.shape
    H = hs[0].shape[1]
    per_step = []
    dx = np.zeros_like(x)
    dnext = np.zeros_like(hs[0])
    for t in (range(T) if bug == "loop_forward_in_time" else reversed(range(T))):
        xh, xrh, zr, c = steps[t]
        h = hs[t]
        z, r = zr[:, :H], zr[:, H:]
        dh = dhs[t] if bug == "carry_not_added" else dhs[t] + dnext
        dz = dh * (h - c)
        dc = dh * (1 - z)
        da_c = dc * c * (1 - c) if bug == "dc_sigmoid_grad" else dc * (1 - c ** 2)
        dW_c_t = (xh if bug == "dW_c_from_x_h" else xrh).T @ da_c
        dxrh = da_c @ (dW_c_t if bug == "dxrh_through_dW_c" else W_c).T
        d_rh = dxrh[:, D:]
        dr = d_rh * (hs[t + 1] if bug == "dr_with_next_h" else h)
        if bug == "dz_no_sigmoid_grad":
            da_z = dz
        elif bug == "da_z_halved":
            da_z = 0.5 * dz * z * (1 - z)
        else:
            da_z = dz * z * (1 - z)
        da_r = dr * r * (1 - r)
        dzr = np.concatenate([da_r, da_z] if bug == "dzr_blocks_r_then_z" else [da_z, da_r], axis=1)
        dxh = dzr @ W_zr.T
        db_c_t = 2 * da_c.sum(axis=0) if bug == "forward_b_c_added_twice" else da_c.sum(axis=0)
        per_step.append((xh.T @ dzr, dzr.sum(axis=0), dW_c_t, db_c_t))
        dx[t] = dxh[:, :D] + dxrh[:, :D]
        dnext = dh * z + dxh[:, D:] + (d_rh if bug == "d_rh_without_r" else d_rh * r)
    reduce = np.mean if bug == "grads_np_mean_over_steps" else np.sum
    grads = [reduce(np.stack(g), axis=0) for g in zip(*per_step)]
    if bug == "grads_clipped_at_end":
        grads = [np.clip(g, -0.2, 0.2) for g in grads]
    return (dx, dnext, *grads)


def _zr(a, axis):
    """Canonical blocks r, z (first 2H rows) -> the user's z, r."""
    r, z = np.split(a, 2, axis=axis)
    return np.concatenate([z, r], axis=axis)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    W_ih, W_hh, b = p["weight_ih"], p["weight_hh"], p["bias_ih"] + p["bias_hh"]
    W_zr = np.concatenate([_zr(W_ih[:2 * H], 0).T, _zr(W_hh[:2 * H], 0).T], axis=0)
    W_c = np.concatenate([W_ih[2 * H:].T, W_hh[2 * H:].T], axis=0)
    return {"W_zr": W_zr, "b_zr": _zr(b[:2 * H], 0), "W_c": W_c, "b_c": b[2 * H:]}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dW_zr" in grads and "dW_c" in grads:
        gzr, gc = grads["dW_zr"], grads["dW_c"]
        out["dweight_ih"] = np.concatenate([_zr(gzr[:D].T, 0), gc[:D].T])
        out["dweight_hh"] = np.concatenate([_zr(gzr[D:].T, 0), gc[D:].T])
    if "db_zr" in grads and "db_c" in grads:
        out["dbias_ih"] = np.concatenate([_zr(grads["db_zr"], 0), grads["db_c"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="zrcat_gru", cells=("gru",), axes="TND",
                               weights_as="list", gate_order="zrc", gate_letters={"c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dhs, cache):
        return gru_backward(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

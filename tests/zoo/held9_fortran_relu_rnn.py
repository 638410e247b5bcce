"""A ReLU RNN written Fortran-style, by someone porting an old Fortran/Matlab code: the
weights are stored input-major (U (D, H), V (H, H), as for ``x @ W``) but every state is
a column block, so each step applies them transposed:

    x (T, D, N)   h0 (H, N)   h (T, H, N)          (axes "TDN")
    z_t = U.T @ x_t + V.T @ h_(t-1) + c            c (H, 1)
    h_t = max(z_t, 0)

Options activation="relu". Ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "relu_grad_left_out": "derivative_missing",           # dz = g (no mask)
    "relu_mask_from_prev_h": "wrong_time",                # mask (hs[t - 1] > 0), the state one step back
    "tanh_grad_for_relu": "derivative_wrong_function",    # dz = g * (1 - h**2)
    "relu_mask_from_gradient": "derivative_wrong_point",  # dz = g * (g > 0): the mask taken at g, not at z (also reads g for z)
    "carry_with_V_T": "weight_transposed",                # carry = V.T @ dz (for V @ dz)
    "dV_outer_flipped": "gradient_transposed",            # dV += dz @ hprev.T (for hprev @ dz.T)
    "dc_mean_over_columns": "reduction_scaled",           # dc += dz.mean(axis=1, keepdims=True)
    "loop_counts_up": "loop_direction",                   # for t in range(T) in the backward
    "range_misses_column_zero": "loop_skips_step",        # for t in range(T - 1, 0, -1)
    "bias_after_relu": "forward_mistake",                 # h = max(U.T x + V.T h, 0) + c; backward consistent
    "carry_norm_clipped": "gradient_clipped",             # carry rescaled to norm 0.1 when larger
    "carry_from_dV": "gradient_for_weight",               # carry = V @ dz written as dV @ dz (the running dV for V)
    "carry_halved": "unknown",                            # carry = 0.5 * V @ dz: an arbitrary constant
}

TOUCHES = {bug: "" for bug in BUGS}


def forward(x, h0, U, V, c, bug=None):
    T = x.shape[0]
    hs = np.zeros((T, h0.shape[0], h0.shape[1]), dtype=x.dtype)
    zs = np.zeros_like(hs)
    hprev = h0
    for t in range(T):
        if bug == "bias_after_relu":
            zs[t] = U.T @ x[t] + V.T @ hprev
            hs[t] = np.maximum(zs[t], 0) + c
        else:
            zs[t] = U.T @ x[t] + V.T @ hprev + c
            hs[t] = np.maximum(zs[t], 0)
        hprev = hs[t]
    return hs, (x, h0, hs, zs, U, V, c)


def backward(dh, cache, bug=None):
    x, h0, hs, zs, U, V, c = cache
    T = x.shape[0]
    dU, dV, dc = np.zeros_like(U), np.zeros_like(V), np.zeros_like(c)
    dx = np.zeros_like(x)
    carry = np.zeros_like(h0)
    if bug == "loop_counts_up":
        steps = range(T)
    elif bug == "range_misses_column_zero":
        steps = range(T - 1, 0, -1)
    else:
        steps = range(T - 1, -1, -1)
    for t in steps:
        hprev = hs[t - 1] if t > 0 else h0
        g = dh[t] + carry
        if bug == "relu_grad_left_out":
            dz = g
        elif bug == "relu_mask_from_prev_h":
            dz = g * (hprev > 0)
        elif bug == "tanh_grad_for_relu":
            dz = g * (1 - hs[t] ** 2)
        elif bug == "relu_mask_from_gradient":
            dz = g * (g > 0)
        else:
            dz = g * (zs[t] > 0)
        dU += x[t] @ dz.T
        dV += dz @ hprev.T if bug == "dV_outer_flipped" else hprev @ dz.T
        if bug == "dc_mean_over_columns":
            dc += dz.mean(axis=1, keepdims=True)
        elif bug == "bias_after_relu":
            dc += g.sum(axis=1, keepdims=True)           # c sits after the ReLU: it gets g, not dz
        else:
            dc += dz.sum(axis=1, keepdims=True)
        dx[t] = U @ dz
        if bug == "carry_with_V_T":
            carry = V.T @ dz
        elif bug == "carry_from_dV":
            carry = dV @ dz
        elif bug == "carry_halved":
            carry = 0.5 * V @ dz
        else:
            carry = V @ dz
        if bug == "carry_norm_clipped":
            norm = np.linalg.norm(carry)
            if norm > 0.1:
                carry = carry * (0.1 / norm)
    return dx, carry, dU, dV, dc


def to_user(cell, p):
    return {"U": p["weight_ih"].T.copy(), "V": p["weight_hh"].T.copy(), "c": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, grads, p):
    out = {}
    if "dU" in grads:
        out["dweight_ih"] = grads["dU"].T
    if "dV" in grads:
        out["dweight_hh"] = grads["dV"].T
    if "dc" in grads:
        out["dbias_ih"] = grads["dc"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="fortran_relu_rnn", cells=("rnn",), axes="TDN")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, U, V, c):
        return forward(x, h0, U, V, c, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

"""A GRU ported from an Octave re-implementation of MATLAB's gruLayer with
ResetGateMode = "recurrent-bias-after-multiplication": data in the "CTB" format (channels,
time, batch: x (D, T, N)), states (H, N), InputWeights (3H, D), RecurrentWeights (3H, H),
Bias (3H, 1) and RecurrentBias (3H, 1), gate rows in MATLAB's order reset, update,
candidate (``rIdx = 1:nh; zIdx = nh+1:2*nh; hIdx = 2*nh+1:3*nh``):

    r  = sigmoid(W(rIdx,:)*x + b(rIdx) + R(rIdx,:)*h + Rb(rIdx))     (z alike)
    hc = tanh(W(hIdx,:)*x + b(hIdx) + r .* (R(hIdx,:)*h + Rb(hIdx)))
    h  = (1 - z) .* hc + z .* h

The port keeps the script's Octave: preallocated Y = zeros(nh, T, m), slices through
``reshape(X(:, t, :), nx, m)``, ``if t == 1, hprev = H0; else hprev = Y(:, t-1, :)``, vertcat
of the gate gradients and a function with many outputs.

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

import harness

GRAD_THRESHOLD = 1.0

BUGS = {
    "reshape_dY_m_by_nh": "unknown",                    # reshape(dY(:, t, :), m, nh)': the slice scrambled
    "vertcat_z_before_r": "gate_order",                 # dG = [dz; dr; dhc] for the input side
    "dhc_tanh_of_hc": "derivative_wrong_point",         # (1 - tanh(hc).^2)
    "dRb_from_dG": "wrong_value",                       # dRb = dRb + sum(dG, 2): the db line copied
    "hprev_if_dropped": "wrong_time",                   # hprev = Y(:, t-1, :) also at t = 1: h_T there
    "l2_threshold_dR": "gradient_clipped",              # if norm(dR) > 1, dR = dR / norm(dR)
    "dW_over_T": "reduction_scaled",                    # dW = dW / T
    "dz_without_dsig": "derivative_missing",            # dz_pre = dz
    "Rb_outside_reset": "forward_mistake",              # hc = tanh(.. + r .* (R(hIdx,:)*h) + Rb(hIdx)), bwd alike
    "dR_assigned": "carry_overwrites",                  # dR = dGr * hprev'
    "dr_tanh_grad": "derivative_wrong_function",        # dr .* (1 - r.^2)
    "dr_without_Rb": "term_dropped",                    # dr = dhc_pre .* (R(hIdx,:)*hprev): Rb(hIdx) lost
    "R_hIdx_no_apostrophe": "weight_transposed",        # R(hIdx,:) * dRh in dhnext
    "loop_from_T_minus_1": "loop_skips_step",           # for t = T:-1:1 ported as range(T - 1, 0, -1)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "reshape_dY_m_by_nh": "",
    "vertcat_z_before_r": "rz",
    "dhc_tanh_of_hc": "rn",
    "dRb_from_dG": "n",
    "hprev_if_dropped": "",
    "l2_threshold_dR": "",
    "dW_over_T": "",
    "dz_without_dsig": "z",
    "Rb_outside_reset": "",
    "dR_assigned": "",
    "dr_tanh_grad": "r",
    "dr_without_Rb": "r",
    "R_hIdx_no_apostrophe": "",
    "loop_from_T_minus_1": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_fwd(X, H0, W, R, b, Rb, bug=None):
    """[Y, cache] = gru_fwd(X, H0, W, R, b, Rb): X (nx, T, m) -> Y (nh, T, m)."""
    nx, T, m = X.shape
    nh = R.shape[1]
    rIdx, zIdx, hIdx = slice(0, nh), slice(nh, 2 * nh), slice(2 * nh, 3 * nh)
    Y = np.zeros((nh, T, m), dtype=X.dtype)
    Rs, Zs, HCs, HRhs = (np.zeros((nh, m, T), dtype=X.dtype) for _ in range(4))
    for t in range(1, T + 1):                                     # for t = 1:T
        xt = X[:, t - 1, :].reshape(nx, m)
        hprev = H0 if t == 1 else Y[:, t - 2, :].reshape(nh, m)   # Y(:, t-1, :)
        gx = W @ xt + b
        r = sigmoid(gx[rIdx] + R[rIdx] @ hprev + Rb[rIdx])
        z = sigmoid(gx[zIdx] + R[zIdx] @ hprev + Rb[zIdx])
        if bug == "Rb_outside_reset":
            hRh = R[hIdx] @ hprev
            hc = np.tanh(gx[hIdx] + r * hRh + Rb[hIdx])
        else:
            hRh = R[hIdx] @ hprev + Rb[hIdx]
            hc = np.tanh(gx[hIdx] + r * hRh)
        h = (1 - z) * hc + z * hprev
        Y[:, t - 1, :] = h.reshape(nh, m)                          # Y(:, t, :) = reshape(h, nh, 1, m)
        Rs[:, :, t - 1], Zs[:, :, t - 1], HCs[:, :, t - 1], HRhs[:, :, t - 1] = r, z, hc, hRh
    return Y, (X, H0, Y, Rs, Zs, HCs, HRhs, W, R)


def gru_bwd(dY, cache, bug=None):
    """[dX, dH0, dW, dR, db, dRb] = gru_bwd(dY, cache)."""
    X, H0, Y, Rs, Zs, HCs, HRhs, W, R = cache
    nx, T, m = X.shape
    nh = R.shape[1]
    rIdx, zIdx, hIdx = slice(0, nh), slice(nh, 2 * nh), slice(2 * nh, 3 * nh)
    dX = np.zeros_like(X, dtype=dY.dtype)
    dW, dR = np.zeros_like(W), np.zeros_like(R)
    db, dRb = np.zeros((3 * nh, 1), dtype=dY.dtype), np.zeros((3 * nh, 1), dtype=dY.dtype)
    dhnext = np.zeros((nh, m), dtype=dY.dtype)
    steps = range(T - 1, 0, -1) if bug == "loop_from_T_minus_1" else range(T, 0, -1)
    for t in steps:                                               # for t = T:-1:1
        xt = X[:, t - 1, :].reshape(nx, m)
        if bug == "hprev_if_dropped":
            hprev = Y[:, t - 2, :].reshape(nh, m)
        else:
            hprev = H0 if t == 1 else Y[:, t - 2, :].reshape(nh, m)
        r, z, hc, hRh = Rs[:, :, t - 1], Zs[:, :, t - 1], HCs[:, :, t - 1], HRhs[:, :, t - 1]
        if bug == "reshape_dY_m_by_nh":
            dyt = dY[:, t - 1, :].reshape((m, nh), order="F").T   # reshape(dY(:, t, :), m, nh)'
        else:
            dyt = dY[:, t - 1, :].reshape(nh, m)
        dh = dyt + dhnext
        dhc = dh * (1 - z)
        dz = dh * (hprev - hc)
        if bug == "dhc_tanh_of_hc":
            dhc_pre = dhc * (1 - np.tanh(hc) ** 2)
        else:
            dhc_pre = dhc * (1 - hc ** 2)
        dz_pre = dz if bug == "dz_without_dsig" else dz * z * (1 - z)
        if bug == "dr_without_Rb":
            dr = dhc_pre * (R[hIdx] @ hprev)
        else:
            dr = dhc_pre * hRh
        dr_pre = dr * (1 - r ** 2) if bug == "dr_tanh_grad" else dr * r * (1 - r)
        dRh = dhc_pre * r
        if bug == "vertcat_z_before_r":
            dG = np.vstack([dz_pre, dr_pre, dhc_pre])
        else:
            dG = np.vstack([dr_pre, dz_pre, dhc_pre])               # dG = [dr_pre; dz_pre; dhc_pre]
        if bug == "Rb_outside_reset":
            dGr = np.vstack([dr_pre, dz_pre, dRh])
            dGrb = np.vstack([dr_pre, dz_pre, dhc_pre])
        else:
            dGr = np.vstack([dr_pre, dz_pre, dRh])                  # dGr = [dr_pre; dz_pre; dRh]
            dGrb = dGr
        dW = dW + dG @ xt.T
        db = db + dG.sum(axis=1, keepdims=True)
        if bug == "dR_assigned":
            dR = dGr @ hprev.T
        else:
            dR = dR + dGr @ hprev.T
        dRb = dRb + (dG if bug == "dRb_from_dG" else dGrb).sum(axis=1, keepdims=True)
        dX[:, t - 1, :] = (W.T @ dG).reshape(nx, m)
        Rh_t = R[hIdx] if bug == "R_hIdx_no_apostrophe" else R[hIdx].T
        dhnext = dh * z + R[rIdx].T @ dr_pre + R[zIdx].T @ dz_pre + Rh_t @ dRh
    if bug == "dW_over_T":
        dW = dW / T
    if bug == "l2_threshold_dR" and np.linalg.norm(dR) > GRAD_THRESHOLD:
        dR = dR * (GRAD_THRESHOLD / np.linalg.norm(dR))
    return dX, dhnext, dW, dR, db, dRb


def to_user(cell, p):
    """Canonical torch GRU (rows r, z, n, as MATLAB's) -> W, R, b, Rb."""
    return {"W": np.array(p["weight_ih"]), "R": np.array(p["weight_hh"]),
            "b": np.array(p["bias_ih"])[:, None], "Rb": np.array(p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if "dW" in g:
        out["dweight_ih"] = g["dW"]
    if "dR" in g:
        out["dweight_hh"] = g["dR"]
    if "db" in g:
        out["dbias_ih"] = g["db"][:, 0]
    if "dRb" in g:
        out["dbias_hh"] = g["dRb"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="octave_ctb_gru", cells=("gru",), axes="DTN",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(gru_fwd, bug=bug), partial(gru_bwd, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

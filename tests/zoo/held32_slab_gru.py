"""A GRU in TF1 GRUCell's form (reset before the recurrent product, new_h = u * h + (1 - u) * c)
written for speed: x (N, T, D), W (D, 3H), U (H, 3H), b (3H,) with the blocks u (update),
r (reset), c (candidate). The input projection of all steps is one
``np.einsum(..., optimize=True)`` into (N, T, 3H); each step writes its u and r
pre-activations into a contiguous 2H slab of a preallocated GATES (N, T, 3H) array and runs
one in-place sigmoid over it. The backward multiplies the [du, dr] slab by s'(slab) in one
go, adds the carry into a copy of dh one step back, and does dW, dU, db and dx as einsums
over the whole (N, T, 3H) pre-activation gradient after the loop.

    u, r = s(x W_u + h U_u + b_u), s(x W_r + h U_r + b_r)
    c = tanh(x W_c + (r * h) U_c + b_c)        h' = u * h + (1 - u) * c

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "dh_prev_misses_rh_path": "term_dropped",           # dh_prev = dht * u + dzr @ U_ur.T: the drh * r path left out
    "du_sign": "wrong_sign",                            # du = dht * (c - h)
    "dr_with_new_h": "wrong_time",                      # dr = drh * HS[:, t + 1]: h_t for h_(t-1)
    "dUc_from_h": "wrong_value",                        # dU[:, 2H:] from HS[:, :-1] (h) for RH (r * h)
    "Uc_untransposed": "weight_transposed",             # drh = dac @ U[:, 2H:]
    "Ur_block_for_c": "wrong_weight",                   # drh = dac @ U[:, H:2H].T: the r block for the c block
    "dac_sigmoid_grad": "derivative_wrong_function",    # dac = dc * c * (1 - c)
    "dr_sigmoid_grad_twice": "derivative_twice",        # dr = drh * h * r * (1 - r), then the slab's s' again
    "carry_clipped": "gradient_clipped",                # np.clip(dh_prev, -0.05, 0.05, out=dh_prev)
    "loop_skips_last": "loop_skips_step",               # reversed(range(T - 1))
    "backward_splits_r_u": "gate_order",                # backward: r, u, c = split(GATES[:, t]) (forward: u, r, c)
    "forward_reset_after": "forward_mistake",           # c = tanh(x W_c + b_c + r * (h U_c)): torch's form;
                                                        # backward consistent
    "dH_assigned_back": "carry_overwrites",             # dH[:, t - 1] = dh_prev (for +=)
    "dh_prev_reads_1_minus_u": "wrong_value",           # dh_prev = dht * (1 - u) + ...: 1 - u read for u
    "drh_halved": "unknown",                            # drh = 0.5 * dac @ U[:, 2H:].T: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_prev_misses_rh_path": "",
    "du_sign": "z",
    "dr_with_new_h": "r",
    "dUc_from_h": "n",
    "Uc_untransposed": "r",
    "Ur_block_for_c": "r",
    "dac_sigmoid_grad": "rn",
    "dr_sigmoid_grad_twice": "r",
    "carry_clipped": "",
    "loop_skips_last": "",
    "backward_splits_r_u": "rn",
    "forward_reset_after": "",
    "dH_assigned_back": "",
    "dh_prev_reads_1_minus_u": "",
    "drh_halved": "r",
}


def _sigmoid_(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


def gru_forward(x, h0, W, U, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache."""
    N, T, _ = x.shape
    H = h0.shape[1]
    XP = np.einsum("ntd,dg->ntg", x, W, optimize=True) + b
    HS = np.empty((N, T + 1, H), dtype=x.dtype)
    GATES = np.empty((N, T, 3 * H), dtype=x.dtype)
    RH = np.empty((N, T, H), dtype=x.dtype)            # r * h (or h @ U_c with the reset-after form)
    HS[:, 0] = h0
    for t in range(T):
        h = HS[:, t]
        gt = GATES[:, t]
        gt[:, :2 * H] = XP[:, t, :2 * H] + h @ U[:, :2 * H]
        _sigmoid_(gt[:, :2 * H])
        u, r = gt[:, :H], gt[:, H:2 * H]
        if bug == "forward_reset_after":
            RH[:, t] = h @ U[:, 2 * H:]
            gt[:, 2 * H:] = np.tanh(XP[:, t, 2 * H:] + r * RH[:, t])
        else:
            RH[:, t] = r * h
            gt[:, 2 * H:] = np.tanh(XP[:, t, 2 * H:] + RH[:, t] @ U[:, 2 * H:])
        HS[:, t + 1] = u * h + (1 - u) * gt[:, 2 * H:]
    return HS[:, 1:].copy(), (x, HS, GATES, RH, W, U)


def gru_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, dh0, dW, dU, db."""
    x, HS, GATES, RH, W, U = cache
    N, T, H = dh.shape
    dH = dh.copy()
    dGa = np.zeros_like(GATES)
    dGc_rec = np.zeros((N, T, H), dtype=dh.dtype)      # the gradient reaching U_c's product
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    Uc = U[:, 2 * H:]
    for t in reversed(range(T - 1 if bug == "loop_skips_last" else T)):
        if bug == "backward_splits_r_u":
            r, u, c = np.split(GATES[:, t], 3, axis=1)
        else:
            u, r, c = np.split(GATES[:, t], 3, axis=1)
        h = HS[:, t]
        dht = dH[:, t]
        dc = dht * (1 - u)
        du = dht * ((c - h) if bug == "du_sign" else (h - c))
        dac = dc * (c * (1 - c) if bug == "dac_sigmoid_grad" else 1 - c ** 2)
        if bug == "forward_reset_after":
            dGc_rec[:, t] = dac * r
            dr = dac * RH[:, t]
            dh_rec = dGc_rec[:, t] @ Uc.T
        else:
            dGc_rec[:, t] = dac
            W_c = U[:, H:2 * H].T if bug == "Ur_block_for_c" else (Uc if bug == "Uc_untransposed" else Uc.T)
            drh = dac @ W_c
            if bug == "drh_halved":
                drh = 0.5 * drh
            dr = drh * (HS[:, t + 1] if bug == "dr_with_new_h" else h)
            if bug == "dr_sigmoid_grad_twice":
                dr = dr * r * (1 - r)
            dh_rec = 0 if bug == "dh_prev_misses_rh_path" else drh * r
        dzr = np.concatenate([du, dr], axis=1)
        slab = GATES[:, t, :2 * H]
        dzr *= slab * (1 - slab)
        dGa[:, t, :2 * H] = dzr
        dGa[:, t, 2 * H:] = dac
        dh_prev = dht * ((1 - u) if bug == "dh_prev_reads_1_minus_u" else u) + dh_rec + dzr @ U[:, :2 * H].T
        if bug == "carry_clipped":
            np.clip(dh_prev, -0.05, 0.05, out=dh_prev)
        if t > 0:
            if bug == "dH_assigned_back":
                dH[:, t - 1] = dh_prev
            else:
                dH[:, t - 1] += dh_prev
    dW = np.einsum("ntd,ntg->dg", x, dGa, optimize=True)
    dU = np.empty_like(U)
    dU[:, :2 * H] = np.einsum("ntk,ntg->kg", HS[:, :-1], dGa[:, :, :2 * H], optimize=True)
    rec_in = HS[:, :-1] if bug in ("forward_reset_after", "dUc_from_h") else RH
    dU[:, 2 * H:] = np.einsum("ntk,ntg->kg", rec_in, dGc_rec, optimize=True)
    db = dGa.sum(axis=(0, 1))
    dx = np.einsum("ntg,dg->ntd", dGa, W, optimize=True)
    return dx, dh_prev, dW, dU, db


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "rzn", "zrn", 0).T.copy(), "U": reorder(p["weight_hh"], "rzn", "zrn", 0).T.copy(),
            "b": reorder(p["bias_ih"] + p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"].T, "zrn", "rzn", 0)
    if "dU" in grads:
        out["dweight_hh"] = reorder(grads["dU"].T, "zrn", "rzn", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "zrn", "rzn", 0)
        out["dbias_hh"] = out["dbias_ih"].copy()
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="slab_gru", cells=("gru",), gate_order="urc",
                               gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, b):
        return gru_forward(x, h0, W, U, b, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

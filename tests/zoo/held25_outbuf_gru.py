"""A GRU written to allocate nothing inside its loops: every product and activation goes into
a preallocated buffer through out= (np.matmul(..., out=), np.add(..., out=), the sigmoid in
place), in the forward and in the backward. The reset gate is applied before the recurrent
product (TF1 GRUCell, reset_after=False); blocks z, r, n; one bias:

    Z = s(x_t W_z + h_(t-1) U_z + b_z)    R = s(x_t W_r + h_(t-1) U_r + b_r)
    Nn = tanh(x_t W_n + (R * h_(t-1)) U_n + b_n)          h_t = Z h_(t-1) + (1 - Z) Nn
    x (N, T, D), h0 (N, H), W (D, 3H), U (H, 3H), b (3H,)

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "rh_buffer_reused": "inplace_corruption",       # R * h written out= into one (N, H) buffer, cached by reference
    "da_n_tanh_grad_twice": "derivative_twice",     # dn already times (1 - Nn ** 2), then da_n = dn * (1 - Nn ** 2)
    "dr_with_h_t": "wrong_time",                    # dr = drh * h_t for drh * h_(t-1)
    "dz_sign": "wrong_sign",                        # dz = dh_t * (Nn - h_prev)
    "U_n_from_r_block": "wrong_weight",             # drh = da_n @ U[:, H:2H].T (r's block for n's)
    "U_n_untransposed": "weight_transposed",        # drh = da_n @ U_n
    "dU_n_operands_swapped": "gradient_transposed",  # np.matmul(da_n.T, rh, out=tmp): dU_n written transposed
    "dprev_without_z_path": "term_dropped",         # dh_next lacks dh_t * Z
    "carry_never_added": "carry_dropped",           # dh_t = dh[:, t]: dh_next computed and ignored
    "dW_matmul_out_into_sum": "carry_overwrites",   # np.matmul(x_t.T, dax, out=dW): out= into the running sum
    "loop_skips_last": "loop_skips_step",           # for t in range(T - 2, -1, -1)
    "blocks_r_first": "gate_order",                 # dax = [da_r, da_z, da_n] for the layout's z, r, n
    "clip_in_place": "gradient_clipped",            # np.clip(dh_t, -0.05, 0.05, out=dh_t)
    "fwd_interp_swapped": "forward_mistake",        # h_t = (1 - Z) h_(t-1) + Z Nn; backward consistent with it
    "dz_sign_and_U_n_untransposed": "unknown",      # two at once: dz_sign and U_n_untransposed
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "rh_buffer_reused": "",
    "da_n_tanh_grad_twice": "rn",
    "dr_with_h_t": "r",
    "dz_sign": "z",
    "U_n_from_r_block": "r",
    "U_n_untransposed": "r",
    "dU_n_operands_swapped": "n",
    "dprev_without_z_path": "",
    "carry_never_added": "",
    "dW_matmul_out_into_sum": "",
    "loop_skips_last": "",
    "blocks_r_first": "rz",
    "clip_in_place": "",
    "fwd_interp_swapped": "",
    "dz_sign_and_U_n_untransposed": "rz",
}


def sigmoid_(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.reciprocal(a, out=a)


def forward(x, h0, W, U, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    Z, R, Nn, RH = (np.empty((T, N, H), dtype=x.dtype) for _ in range(4))
    hs = np.empty((N, T, H), dtype=x.dtype)
    ax = np.empty((N, 3 * H), dtype=x.dtype)
    ah = np.empty((N, 2 * H), dtype=x.dtype)
    an = np.empty((N, H), dtype=x.dtype)
    rh = np.empty((N, H), dtype=x.dtype)
    rh_cache = []
    h = h0
    for t in range(T):
        np.matmul(x[:, t], W, out=ax)
        ax += b
        np.matmul(h, U[:, :2 * H], out=ah)
        sigmoid_(np.add(ax[:, :H], ah[:, :H], out=Z[t]))
        sigmoid_(np.add(ax[:, H:2 * H], ah[:, H:], out=R[t]))
        if bug == "rh_buffer_reused":
            np.multiply(R[t], h, out=rh)
            rh_cache.append(rh)
            np.matmul(rh, U[:, 2 * H:], out=an)
        else:
            np.multiply(R[t], h, out=RH[t])
            np.matmul(RH[t], U[:, 2 * H:], out=an)
        an += ax[:, 2 * H:]
        np.tanh(an, out=Nn[t])
        if bug == "fwd_interp_swapped":
            hs[:, t] = (1 - Z[t]) * h + Z[t] * Nn[t]
        else:
            hs[:, t] = Z[t] * h + (1 - Z[t]) * Nn[t]
        h = hs[:, t]
    return hs, {"x": x, "h0": h0, "hs": hs, "Z": Z, "R": R, "N": Nn,
                "RH": rh_cache if bug == "rh_buffer_reused" else RH, "W": W, "U": U}


def backward(dh, cache, bug=None):
    x, h0, hs, Z, R, Nn, RH, W, U = (cache[k] for k in ("x", "h0", "hs", "Z", "R", "N", "RH", "W", "U"))
    N, T, H = dh.shape
    D = x.shape[2]
    dx = np.zeros_like(x)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(3 * H, dtype=dh.dtype)
    dax = np.empty((N, 3 * H), dtype=dh.dtype)
    tmp_w = np.empty((D, 3 * H), dtype=dh.dtype)
    tmp_zr = np.empty((H, 2 * H), dtype=dh.dtype)
    tmp_n = np.empty((H, H), dtype=dh.dtype)
    drh = np.empty((N, H), dtype=dh.dtype)
    dh_t = np.empty((N, H), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    U_n = U[:, H:2 * H] if bug == "U_n_from_r_block" else U[:, 2 * H:]
    for t in range(T - 2 if bug == "loop_skips_last" else T - 1, -1, -1):
        z, r, n = Z[t], R[t], Nn[t]
        h_prev = h0 if t == 0 else hs[:, t - 1]
        if bug == "carry_never_added":
            dh_t[...] = dh[:, t]
        else:
            np.add(dh[:, t], dh_next, out=dh_t)
        if bug == "clip_in_place":
            np.clip(dh_t, -0.05, 0.05, out=dh_t)
        if bug == "fwd_interp_swapped":
            dz, dn, keep = dh_t * (n - h_prev), dh_t * z, 1 - z
        else:
            flip = bug in ("dz_sign", "dz_sign_and_U_n_untransposed")
            dz, dn, keep = dh_t * ((n - h_prev) if flip else (h_prev - n)), dh_t * (1 - z), z
        if bug == "da_n_tanh_grad_twice":
            dn = dn * (1 - n ** 2)
        da_n = np.multiply(dn, 1 - n ** 2, out=dax[:, 2 * H:])
        np.multiply(dz, z * (1 - z), out=dax[:, :H])
        np.matmul(da_n, U_n if bug in ("U_n_untransposed", "dz_sign_and_U_n_untransposed") else U_n.T, out=drh)
        np.multiply(drh * (hs[:, t] if bug == "dr_with_h_t" else h_prev), r * (1 - r), out=dax[:, H:2 * H])
        if bug == "blocks_r_first":
            dax[:, :2 * H] = np.concatenate([dax[:, H:2 * H], dax[:, :H]], axis=1)
        if bug == "dW_matmul_out_into_sum":
            np.matmul(x[:, t].T, dax, out=dW)
        else:
            dW += np.matmul(x[:, t].T, dax, out=tmp_w)
        db += dax.sum(axis=0)
        dU[:, :2 * H] += np.matmul(h_prev.T, dax[:, :2 * H], out=tmp_zr)
        if bug == "dU_n_operands_swapped":
            dU[:, 2 * H:] += np.matmul(dax[:, 2 * H:].T, RH[t], out=tmp_n)
        else:
            dU[:, 2 * H:] += np.matmul(RH[t].T, dax[:, 2 * H:], out=tmp_n)
        np.matmul(dax, W.T, out=dx[:, t])
        dh_next = np.matmul(dax[:, :2 * H], U[:, :2 * H].T) + drh * r
        if bug != "dprev_without_z_path":
            dh_next += dh_t * keep
    return dx, dh_next, dW, dU, db


def to_user(cell, p):
    b = p["bias_ih"] + p["bias_hh"]
    return {"W": reorder(p["weight_ih"], "rzn", "zrn", 0).T, "U": reorder(p["weight_hh"], "rzn", "zrn", 0).T,
            "b": reorder(b, "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    out = {}
    for mine, theirs in (("dW", "dweight_ih"), ("dU", "dweight_hh")):
        if mine in grads:
            out[theirs] = reorder(grads[mine].T, "zrn", "rzn", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "zrn", "rzn", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="outbuf_gru", cells=("gru",), gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, W, U, b):
        return forward(x, h0, W, U, b, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU written with np.einsum for every product (a Q&A answer's "no transposes to get
wrong" version), time-major x (T, N, D), the weights in a ``params`` dict stored torch-like
as (out, in) but with the gate blocks in the order z, r, n: W (3H, D), U (3H, H), b_W and
b_U (3H,); the reset applied after U (reset_after, torch's form), the gates and the
recurrent n pre-activation kept in preallocated (T, N, H) arrays Z, R, Nc, HN:

    gx = x_t W^T + b_W      gh = h U^T + b_U          (N, 3H), blocks z, r, n
    Z = s(gx_z + gh_z)      R = s(gx_r + gh_r)        HN = gh_n
    Nc = tanh(gx_n + R * HN)                          h_t = Z * h + (1 - Z) * Nc

Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "U_n_block_transposed": "weight_transposed",      # carry's n part: einsum("nk,hk->nh", dahn, U[2H:]) (indices swapped)
    "dU_n_block_transposed": "gradient_transposed",   # dU[2H:] += einsum("nk,nh->hk", dahn, h_prev)
    "dan_tanh_of_h_t": "derivative_wrong_point",      # dan = dn * (1 - hs[t] ** 2): tanh' of the new state, not of Nc
    "x_read_at_t_minus_1": "wrong_time",              # dW += einsum("nk,nd->kd", dgx, x[t - 1])
    "dr_recomputed_without_b_U": "term_dropped",      # dr = dan * einsum("nh,kh->nk", h_prev, U[2H:]): b_U's n block left out
    "dbW_batch_mean": "reduction_scaled",             # dbW += einsum("nk->k", dgx) / N
    "h_aliases_Z": "inplace_corruption",              # h = Z[t]; h *= h_prev; h += ...: the cached Z[t] becomes h_t
    "dar_miswritten": "derivative_miswritten",        # dar = dr * R * (1 - R * R)
    "blocks_r_z_n_in_backward": "gate_order",         # dgx, dgh concatenated [dar, daz, dan]: r before z
    "forward_n_without_b_U": "forward_mistake",       # HN = einsum(h, U_n) without b_U's n block; backward consistent
    "dx_from_dW": "gradient_for_weight",              # dx[t] = einsum("nk,kd->nd", dgx, dW)
    "dU_assigned": "carry_overwrites",                # dU = einsum(...) (= for +=): only step 0 is left
    "truncate_after_3": "truncated_bptt",             # dh_carry zeroed once three steps have been walked back
    "order_and_x_t_minus_1": "unknown",               # two mistakes: blocks r, z, n and x_(t-1)
    "dz_doubled": "unknown",                          # dz = 2 * dh * (h_prev - Nc[t]) (an arbitrary factor)
}

TOUCHES = {
    "U_n_block_transposed": "",
    "dU_n_block_transposed": "n",
    "dan_tanh_of_h_t": "rn",
    "x_read_at_t_minus_1": "",
    "dr_recomputed_without_b_U": "r",
    "dbW_batch_mean": "",
    "h_aliases_Z": "",
    "dar_miswritten": "r",
    "blocks_r_z_n_in_backward": "rz",
    "forward_n_without_b_U": "",
    "dx_from_dW": "",
    "dU_assigned": "",
    "truncate_after_3": "",
    "order_and_x_t_minus_1": "rz",
    "dz_doubled": "z",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_forward(x, h0, params, bug=None):
    W, U, b_W, b_U = params["W"], params["U"], params["b_W"], params["b_U"]
    T, N, D = x.shape
    H = U.shape[1]
    Z, R, Nc, HN, hs = (np.zeros((T, N, H), dtype=x.dtype) for _ in range(5))
    h = h0
    for t in range(T):
        gx = np.einsum("nd,kd->nk", x[t], W) + b_W
        gh = np.einsum("nh,kh->nk", h, U)
        if bug == "forward_n_without_b_U":
            gh[:, :2 * H] += b_U[:2 * H]
        else:
            gh = gh + b_U
        Z[t] = sigmoid(gx[:, :H] + gh[:, :H])
        R[t] = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        HN[t] = gh[:, 2 * H:]
        Nc[t] = np.tanh(gx[:, 2 * H:] + R[t] * HN[t])
        if bug == "h_aliases_Z":
            new = (1 - Z[t]) * Nc[t]
            h_prev = h
            h = Z[t]
            h *= h_prev
            h += new
        else:
            h = Z[t] * h + (1 - Z[t]) * Nc[t]
        hs[t] = h
    return hs, (x, h0, hs, Z, R, Nc, HN, params)


def gru_backward(dhs, cache, bug=None):
    x, h0, hs, Z, R, Nc, HN, params = cache
    W, U, b_U = params["W"], params["U"], params["b_U"]
    T, N, H = dhs.shape
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    dbW, dbU = np.zeros_like(params["b_W"]), np.zeros_like(b_U)
    dx = np.zeros_like(x)
    dh_carry = np.zeros((N, H), dtype=dhs.dtype)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else hs[t - 1]
        dh = dhs[t] + dh_carry
        dz = dh * (h_prev - Nc[t])
        if bug == "dz_doubled":
            dz = 2 * dz
        dn = dh * (1 - Z[t])
        dan = dn * (1 - (hs[t] if bug == "dan_tanh_of_h_t" else Nc[t]) ** 2)
        if bug == "dr_recomputed_without_b_U":
            dr = dan * np.einsum("nh,kh->nk", h_prev, U[2 * H:])
        else:
            dr = dan * HN[t]
        dahn = dan * R[t]
        daz = dz * Z[t] * (1 - Z[t])
        dar = dr * R[t] * (1 - R[t] * R[t]) if bug == "dar_miswritten" else dr * R[t] * (1 - R[t])
        if bug in ("blocks_r_z_n_in_backward", "order_and_x_t_minus_1"):
            dgx = np.concatenate([dar, daz, dan], axis=1)
            dgh = np.concatenate([dar, daz, dahn], axis=1)
        else:
            dgx = np.concatenate([daz, dar, dan], axis=1)
            dgh = np.concatenate([daz, dar, dahn], axis=1)
        x_t = x[t - 1] if bug in ("x_read_at_t_minus_1", "order_and_x_t_minus_1") else x[t]
        dW += np.einsum("nk,nd->kd", dgx, x_t)
        if bug == "dU_assigned":
            dU = np.einsum("nk,nh->kh", dgh, h_prev)
        elif bug == "dU_n_block_transposed":
            dU[:2 * H] += np.einsum("nk,nh->kh", dgh[:, :2 * H], h_prev)
            dU[2 * H:] += np.einsum("nk,nh->hk", dahn, h_prev)
        else:
            dU += np.einsum("nk,nh->kh", dgh, h_prev)
        dbW += np.einsum("nk->k", dgx) / N if bug == "dbW_batch_mean" else np.einsum("nk->k", dgx)
        if bug == "forward_n_without_b_U":
            dbU[:2 * H] += np.einsum("nk->k", dgh[:, :2 * H])
        else:
            dbU += np.einsum("nk->k", dgh)
        dx[t] = np.einsum("nk,kd->nd", dgx, dW if bug == "dx_from_dW" else W)
        if bug == "U_n_block_transposed":
            dh_carry = (dh * Z[t] + np.einsum("nk,kh->nh", dgh[:, :2 * H], U[:2 * H])
                        + np.einsum("nk,hk->nh", dahn, U[2 * H:]))
        else:
            dh_carry = dh * Z[t] + np.einsum("nk,kh->nh", dgh, U)
        if bug == "truncate_after_3" and t == T - 3:
            dh_carry = np.zeros_like(dh_carry)
    return dx, dh_carry, {"dW": dW, "dU": dU, "db_W": dbW, "db_U": dbU}


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "rzn", "zrn", 0), "U": reorder(p["weight_hh"], "rzn", "zrn", 0),
            "b_W": reorder(p["bias_ih"], "rzn", "zrn", 0), "b_U": reorder(p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    names = {"dW": "dweight_ih", "dU": "dweight_hh", "db_W": "dbias_ih", "db_U": "dbias_hh"}
    return {q: reorder(grads[u], "zrn", "rzn", 0) for u, q in names.items() if u in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="einsum_gru", cells=("gru",), axes="TND",
                               weights_as="dict", gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        dx, dh0, grads = gru_backward(dh, cache, bug)
        return {"dx": dx, "dh0": dh0, "dW": grads["dW"], "dU": grads["dU"], "db_W": grads["db_W"],
                "db_U": grads["db_U"]}

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

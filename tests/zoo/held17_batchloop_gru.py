"""A GRU whose every step loops over the batch explicitly (for n in range(N)) with
matrix-vector products, as someone writes it before trusting broadcasting; torch's form
(reset after the recurrent product, keep-old update gate), per-gate weights as torch
stores them: Wr, Wz, Wn (H, D), Ur, Uz, Un (H, H), br, bz (H,) (input and recurrent bias
summed), bn (H,) the input bias of n, bhn (H,) its recurrent bias inside r * (...):

    r = s(Wr x + Ur h + br)   z = s(Wz x + Uz h + bz)   hn = Un h + bhn
    n = tanh(Wn x + bn + r * hn)                          h' = (1 - z) * n + z * h

x (N, T, D), h0 (N, H). The backward loops over the batch too and uses np.outer.
Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dUr_outer_reversed": "gradient_transposed",          # dUr += np.outer(h, da_r): comes out transposed
    "Un_not_transposed": "weight_transposed",             # dh += Un @ dhn (for Un.T @ dhn)
    "hn_recomputed_without_bhn": "term_dropped",          # hn = Un @ h in the backward (bhn left out) for dr
    "dz_n_minus_h": "wrong_sign",                         # dz = g * (n - h)
    "da_n_one_minus_n_squared": "derivative_miswritten",  # da_n = dn * (1 - n) ** 2
    "da_r_no_sigmoid_grad": "derivative_missing",         # da_r = dr
    "bias_grads_over_N": "reduction_scaled",              # dbr, dbz, dbn, dbhn divided by N at the end
    "dh_misses_z_path": "term_dropped",                   # dh_prev without g * z
    "dh_prev_kept_local": "carry_dropped",                # dh_prev computed per example but never written to the carry
    "time_loop_stops_at_1": "loop_skips_step",            # for t in range(T - 1, 0, -1)
    "forward_z_cho_convention": "forward_mistake",        # h' = z * n + (1 - z) * h in the forward; backward consistent
    "da_n_tanh_grad_twice": "derivative_twice",           # da_n = dn * (1 - n ** 2) ** 2
    "dUz_outer_with_h_new": "wrong_time",                 # dUz += np.outer(da_z, h_new) (this step's output)
    "dz_times_1_5": "unknown",                            # da_z = 1.5 * dz * z * (1 - z): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dUr_outer_reversed": "r",
    "Un_not_transposed": "",
    "hn_recomputed_without_bhn": "r",
    "dz_n_minus_h": "z",
    "da_n_one_minus_n_squared": "rn",
    "da_r_no_sigmoid_grad": "r",
    "bias_grads_over_N": "",
    "dh_misses_z_path": "",
    "dh_prev_kept_local": "",
    "time_loop_stops_at_1": "",
    "forward_z_cho_convention": "",
    "da_n_tanh_grad_twice": "rn",
    "dUz_outer_with_h_new": "z",
    "dz_times_1_5": "z",
}


def s(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    cho = bug == "forward_z_cho_convention"

    def forward(x, h0, Wr, Wz, Wn, Ur, Uz, Un, br, bz, bn, bhn):
        N, T, _ = x.shape
        H = h0.shape[1]
        out = np.zeros((N, T, H), dtype=x.dtype)
        h = h0.copy()
        cache = []
        for t in range(T):
            h_new = np.zeros_like(h)
            per_ex = []
            for n in range(N):
                xv, hv = x[n, t], h[n]
                r = s(Wr @ xv + Ur @ hv + br)
                z = s(Wz @ xv + Uz @ hv + bz)
                hn = Un @ hv + bhn
                nn = np.tanh(Wn @ xv + bn + r * hn)
                h_new[n] = z * nn + (1 - z) * hv if cho else (1 - z) * nn + z * hv
                per_ex.append((xv, hv, r, z, hn, nn, h_new[n].copy()))
            cache.append(per_ex)
            out[:, t] = h_new
            h = h_new
        return out, (cache, (Wr, Wz, Wn, Ur, Uz, Un, br, bz, bn, bhn))

    def backward(dout, cache):
        steps, weights = cache
        Wr, Wz, Wn, Ur, Uz, Un, br, bz, bn, bhn = weights
        N, T, H = dout.shape
        grads = [np.zeros_like(w) for w in weights]
        dWr, dWz, dWn, dUr, dUz, dUn, dbr, dbz, dbn, dbhn = grads
        dx = np.zeros((N, T, Wr.shape[1]), dtype=dout.dtype)
        dh_carry = np.zeros((N, H), dtype=dout.dtype)
        last = range(T - 1, 0, -1) if bug == "time_loop_stops_at_1" else range(T - 1, -1, -1)
        for t in last:
            for n in range(N):
                xv, hv, r, z, hn, nn, h_new = steps[t][n]
                g = dout[n, t] + dh_carry[n]
                if cho:
                    dz, dn, dh_direct = g * (nn - hv), g * z, g * (1 - z)
                else:
                    dz = g * (nn - hv) if bug == "dz_n_minus_h" else g * (hv - nn)
                    dn, dh_direct = g * (1 - z), g * z
                if bug == "da_n_one_minus_n_squared":
                    da_n = dn * (1 - nn) ** 2
                elif bug == "da_n_tanh_grad_twice":
                    da_n = dn * (1 - nn ** 2) ** 2
                else:
                    da_n = dn * (1 - nn ** 2)
                hn_used = Un @ hv if bug == "hn_recomputed_without_bhn" else hn
                dr = da_n * hn_used
                dhn = da_n * r
                da_r = dr if bug == "da_r_no_sigmoid_grad" else dr * r * (1 - r)
                da_z = dz * z * (1 - z)
                if bug == "dz_times_1_5":
                    da_z = 1.5 * da_z
                dWr += np.outer(da_r, xv)
                dWz += np.outer(da_z, xv)
                dWn += np.outer(da_n, xv)
                dUr += np.outer(hv, da_r) if bug == "dUr_outer_reversed" else np.outer(da_r, hv)
                dUz += np.outer(da_z, h_new if bug == "dUz_outer_with_h_new" else hv)
                dUn += np.outer(dhn, hv)
                dbr += da_r
                dbz += da_z
                dbn += da_n
                dbhn += dhn
                dx[n, t] = Wr.T @ da_r + Wz.T @ da_z + Wn.T @ da_n
                dh_prev = Ur.T @ da_r + Uz.T @ da_z + (Un @ dhn if bug == "Un_not_transposed" else Un.T @ dhn)
                if bug != "dh_misses_z_path":
                    dh_prev = dh_prev + dh_direct
                if bug == "dh_prev_kept_local":
                    dh_carry_n = dh_prev                   # noqa: F841 (never written back)
                else:
                    dh_carry[n] = dh_prev
        if bug == "bias_grads_over_N":
            for db in (dbr, dbz, dbn, dbhn):
                db /= N
        return (dx, dh_carry, *grads)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    W, U = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)   # torch's r, z, n
    bi, bh = np.split(p["bias_ih"], 3), np.split(p["bias_hh"], 3)
    return {"Wr": W[0], "Wz": W[1], "Wn": W[2], "Ur": U[0], "Uz": U[1], "Un": U[2],
            "br": bi[0] + bh[0], "bz": bi[1] + bh[1], "bn": bi[2], "bhn": bh[2]}


def to_canonical(cell, g, p):
    out = {}
    if all(k in g for k in ("dWr", "dWz", "dWn")):
        out["dweight_ih"] = np.concatenate([g["dWr"], g["dWz"], g["dWn"]])
    if all(k in g for k in ("dUr", "dUz", "dUn")):
        out["dweight_hh"] = np.concatenate([g["dUr"], g["dUz"], g["dUn"]])
    if all(k in g for k in ("dbr", "dbz", "dbn", "dbhn")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbn"]])
        out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g["dbhn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="batch_loop_gru", cells=("gru",), gate_order="rzn")

"""A GRU computed one example row at a time, as a student who does not trust batched
matmuls writes it: x time-major (T, N, D), the hidden states kept as a list over time of
lists of 1-D rows (hs[t][n], shape (H,)), W (3H, D), U (3H, H), bW (3H,), bU (3H,) stored
as torch stores them but with blocks in the student's order z, r, n, applied as W @ x_row;
torch's reset-after form:

    ax = W x + bW    ah = U h + bU    z = s(ax_z + ah_z)   r = s(ax_r + ah_r)
    n = tanh(ax_n + r * ah_n)         h_new = (1 - z) * n + z * h

Weight gradients with np.outer into a collections.defaultdict (zeroed first); the backward returns a dict.
Custom layout, axes "TND", reset_after=True. Twenty-fourth held-out zoo: written without
reading the diagnosis.
"""

import collections

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "dahn_without_r": "term_dropped",                  # dahn = dan (the factor r left out)
    "dr_recomputes_ah_n_without_bU": "term_dropped",   # dr = dan * (U_n @ h): bU_n (inside r * (...)) dropped
    "dU_n_outer_flipped": "gradient_transposed",       # dU[2H:] += np.outer(h, dahn)
    "dh_prev_U_n_untransposed": "weight_transposed",   # dh_prev += U[2H:] @ dahn (no .T)
    "dbU_takes_dax": "wrong_value",                    # dbU += dax (dan read for dahn in the n block)
    "dar_sigmoid_prime_of_z": "derivative_wrong_point",  # dar = dr * z * (1 - z) (also wrong_value: z for r)
    "dan_tanh_prime_miswritten": "derivative_miswritten",  # dan = dn * (1 - n) ** 2
    "dh_prev_direct_one_minus_z": "wrong_value",       # dh_prev = dh * (1 - z) + ...: the other convention's factor
    "dU_assigned_per_row": "carry_overwrites",         # grads["dU"] = np.outer(dah, h) (= for +=)
    "loop_skips_first_step": "loop_skips_step",        # for t in range(T - 1, 0, -1)
    "grads_averaged_over_batch": "reduction_scaled",   # every weight gradient / N at the end
    "truncated_to_last_3": "truncated_bptt",           # the carry cut once 3 steps back from the end
    "h_row_updated_in_place": "inplace_corruption",    # h = hs[t][n]; h *= z; h += (1 - z) * n: the cached row changes
    "dahn_without_r_and_dz_sign": "unknown",           # dahn = dan and dz = dh * (n - h): two mistakes
    "forward_update_flipped": "forward_mistake",       # h_new = z * n + (1 - z) * h; backward consistent
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dahn_without_r": "n",
    "dr_recomputes_ah_n_without_bU": "r",
    "dU_n_outer_flipped": "n",
    "dh_prev_U_n_untransposed": "",
    "dbU_takes_dax": "n",
    "dar_sigmoid_prime_of_z": "r",
    "dan_tanh_prime_miswritten": "rn",
    "dh_prev_direct_one_minus_z": "",
    "dU_assigned_per_row": "",
    "loop_skips_first_step": "",
    "grads_averaged_over_batch": "",
    "truncated_to_last_3": "",
    "h_row_updated_in_place": "",
    "dahn_without_r_and_dz_sign": "zn",
    "forward_update_flipped": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, W, U, bW, bU, bug=None):
    T, N, D = x.shape
    H = h0.shape[1]
    hs = [[h0[n].copy() for n in range(N)]]
    out = np.zeros((T, N, H), dtype=x.dtype)
    steps = []
    for t in range(T):
        row_cache, new_rows = [], []
        for n in range(N):
            h = hs[t][n]
            ax = W @ x[t, n] + bW
            ah = U @ h + bU
            z = sigmoid(ax[:H] + ah[:H])
            r = sigmoid(ax[H:2 * H] + ah[H:2 * H])
            cand = np.tanh(ax[2 * H:] + r * ah[2 * H:])
            if bug == "forward_update_flipped":
                h_new = z * cand + (1 - z) * h
            elif bug == "h_row_updated_in_place":
                h_new = h
                h_new *= z
                h_new += (1 - z) * cand
            else:
                h_new = (1 - z) * cand + z * h
            out[t, n] = h_new
            new_rows.append(h_new)
            row_cache.append((z, r, cand, ah[2 * H:]))
        hs.append(new_rows)
        steps.append(row_cache)
    return out, {"x": x, "hs": hs, "steps": steps, "W": W, "U": U, "bU": bU}


def gru_backward(dh, cache, bug=None):
    x, hs, steps, W, U, bU = (cache[k] for k in ("x", "hs", "steps", "W", "U", "bU"))
    T, N, D = x.shape
    H = U.shape[1]
    grads = collections.defaultdict(float)
    for k, v in (("dW", W), ("dU", U), ("dbW", cache["bU"]), ("dbU", cache["bU"])):
        grads[k] = np.zeros_like(v)                     # so that a step never reached still returns zeros
    dx = np.zeros_like(x)
    dh_next = [np.zeros(H, dtype=dh.dtype) for _ in range(N)]
    stop = 0 if bug == "loop_skips_first_step" else -1
    for t in range(T - 1, stop, -1):
        if bug == "truncated_to_last_3" and t == T - 4:
            dh_next = [np.zeros(H, dtype=dh.dtype) for _ in range(N)]
        for n in range(N):
            z, r, cand, ah_n = steps[t][n]
            h = hs[t][n]
            d = dh[t, n] + dh_next[n]
            if bug in ("forward_update_flipped", "dahn_without_r_and_dz_sign"):
                dz = d * (cand - h)
            else:
                dz = d * (h - cand)
            dn = d * z if bug == "forward_update_flipped" else d * (1 - z)
            dan = dn * (1 - cand) ** 2 if bug == "dan_tanh_prime_miswritten" else dn * (1 - cand ** 2)
            dahn = dan if bug in ("dahn_without_r", "dahn_without_r_and_dz_sign") else dan * r
            dr = dan * (U[2 * H:] @ h) if bug == "dr_recomputes_ah_n_without_bU" else dan * ah_n
            daz = dz * z * (1 - z)
            dar = dr * z * (1 - z) if bug == "dar_sigmoid_prime_of_z" else dr * r * (1 - r)
            dax = np.concatenate([daz, dar, dan])
            dah = np.concatenate([daz, dar, dahn])
            grads["dW"] = grads["dW"] + np.outer(dax, x[t, n])
            dU_row = np.outer(dah, h)
            if bug == "dU_n_outer_flipped":
                dU_row[2 * H:] = np.outer(h, dahn)
            if bug == "dU_assigned_per_row":
                grads["dU"] = dU_row
            else:
                grads["dU"] = grads["dU"] + dU_row
            grads["dbW"] = grads["dbW"] + dax
            grads["dbU"] = grads["dbU"] + (dax if bug == "dbU_takes_dax" else dah)
            dx[t, n] = W.T @ dax
            direct = d * (1 - z) if bug in ("dh_prev_direct_one_minus_z", "forward_update_flipped") else d * z
            U_n = U[2 * H:] if bug == "dh_prev_U_n_untransposed" else U[2 * H:].T
            dh_next[n] = direct + U[:2 * H].T @ dah[:2 * H] + U_n @ dahn
    if bug == "grads_averaged_over_batch":
        grads = {k: v / N for k, v in grads.items()}
    return {"dx": dx, "dh0": np.stack(dh_next), **grads}


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "rzn", "zrn", 0), "U": reorder(p["weight_hh"], "rzn", "zrn", 0),
            "bW": reorder(p["bias_ih"], "rzn", "zrn", 0), "bU": reorder(p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    names = {"dW": "dweight_ih", "dU": "dweight_hh", "dbW": "dbias_ih", "dbU": "dbias_hh"}
    return {names[k]: reorder(v, "zrn", "rzn", 0) for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="rows_gru", cells=("gru",), axes="TND", gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, bW, bU):
        return gru_forward(x, h0, W, U, bW, bU, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

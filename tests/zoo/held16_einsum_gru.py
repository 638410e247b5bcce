"""A GRU with one matrix per gate and the reset applied before the recurrent product
(reset_after=False, TF1's GRUCell form), batch-major x (N, T, D), h0 (N, H) (a custom layout):

    W_z, W_r, W_h (H, D)    U_z, U_r, U_h (H, H)    b_z, b_r, b_h (H,)
    z = s(x W_z^T + h U_z^T + b_z)    r = s(x W_r^T + h U_r^T + b_r)
    hh = tanh(x W_h^T + (r * h) U_h^T + b_h)      h_t = (1 - z) * hh + z * h_(t-1)

Its backward forms every outer product with np.einsum('nh,nd->hd', ...) and keeps the
per-gate gradients of each step in a dict of lists, summed at the end. Sixteenth held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "drh_through_U_r": "wrong_weight",                   # drh = dhh_pre @ U_r for dhh_pre @ U_h
    "carry_z_through_U_r": "wrong_weight",               # dz_pre @ U_r for dz_pre @ U_z in dh_prev
    "U_z_transposed": "weight_transposed",               # dz_pre @ U_z.T in dh_prev
    "einsum_out_swapped_U_h": "gradient_transposed",     # einsum('nh,nd->dh') for dU_h: transposed
    "dU_h_with_h_prev": "term_dropped",                  # dU_h from h_prev for r * h_prev (the factor r left out)
    "dr_with_h_t": "wrong_time",                         # dr = drh * h_t for drh * h_(t-1)
    "dhh_sigmoid_grad": "derivative_wrong_function",     # dhh_pre = dhh * hh * (1 - hh)
    "dr_pre_no_grad": "derivative_missing",              # dr_pre = dr
    "dr_pre_grad_twice": "derivative_twice",             # r * (1 - r) twice
    "lists_averaged": "reduction_scaled",                # np.mean(v, axis=0) for np.sum(v, axis=0) at the end
    "carry_cut_after_3": "truncated_bptt",               # dh_next zeroed once 3 steps have been walked back
    "carry_not_added": "carry_dropped",                  # dh_t = dh[:, t]: dh_next computed and never added
    "dh_next_clipped_0_05": "gradient_clipped",          # np.clip(dh_next, -0.05, 0.05) every step
    "forward_reset_after": "forward_mistake",            # hh = tanh(x W_h^T + r * (h U_h^T) + b_h); backward consistent
    "dz_pre_times_0_7": "unknown",                       # dz_pre scaled by 0.7 (an arbitrary constant)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "drh_through_U_r": "r",
    "carry_z_through_U_r": "",
    "U_z_transposed": "",
    "einsum_out_swapped_U_h": "n",
    "dU_h_with_h_prev": "n",
    "dr_with_h_t": "r",
    "dhh_sigmoid_grad": "rn",
    "dr_pre_no_grad": "r",
    "dr_pre_grad_twice": "r",
    "lists_averaged": "",
    "carry_cut_after_3": "",
    "carry_not_added": "",
    "dh_next_clipped_0_05": "",
    "forward_reset_after": "",
    "dz_pre_times_0_7": "z",
}

GATES = ("z", "r", "h")
CANON = {"r": 0, "z": 1, "h": 2}       # canonical blocks r, z, n


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    rows = {g: slice(CANON[g] * H, (CANON[g] + 1) * H) for g in GATES}
    out = {"W_" + g: p["weight_ih"][rows[g]].copy() for g in GATES}
    out.update({"U_" + g: p["weight_hh"][rows[g]].copy() for g in GATES})
    out.update({"b_" + g: b[rows[g]].copy() for g in GATES})
    return out


def to_canonical(cell, grads, p):
    order = sorted(GATES, key=CANON.get)
    out = {}
    for prefix, q in (("dW_", "dweight_ih"), ("dU_", "dweight_hh"), ("db_", "dbias_ih")):
        if all(prefix + g in grads for g in GATES):
            out[q] = np.concatenate([grads[prefix + g] for g in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="einsum_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    after = bug == "forward_reset_after"

    def forward(x, h0, W_z, W_r, W_h, U_z, U_r, U_h, b_z, b_r, b_h):
        N, T, _ = x.shape
        h, out, tape = h0, np.zeros((N, T, h0.shape[1]), dtype=x.dtype), []
        for t in range(T):
            xt = x[:, t]
            z = sigmoid(xt @ W_z.T + h @ U_z.T + b_z)
            r = sigmoid(xt @ W_r.T + h @ U_r.T + b_r)
            if after:
                uh = h @ U_h.T
                hh = np.tanh(xt @ W_h.T + r * uh + b_h)
            else:
                uh = None
                hh = np.tanh(xt @ W_h.T + (r * h) @ U_h.T + b_h)
            h_new = (1 - z) * hh + z * h
            tape.append({"x": xt, "h_prev": h, "z": z, "r": r, "hh": hh, "h": h_new, "uh": uh})
            h = h_new
            out[:, t] = h
        weights = {"W_z": W_z, "W_r": W_r, "W_h": W_h, "U_z": U_z, "U_r": U_r, "U_h": U_h}
        return out, (tape, weights)

    def backward(dh, cache):
        tape, w = cache
        N, T, H = dh.shape
        lists = {k: [] for k in ("W_z", "W_r", "W_h", "U_z", "U_r", "U_h", "b_z", "b_r", "b_h")}
        dx = np.zeros((N, T, w["W_z"].shape[1]), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        for k, t in enumerate(reversed(range(T))):
            s = tape[t]
            h_prev, z, r, hh = s["h_prev"], s["z"], s["r"], s["hh"]
            dh_t = dh[:, t] if bug == "carry_not_added" else dh[:, t] + dh_next
            dhh = dh_t * (1 - z)
            dz = dh_t * (h_prev - hh)
            dhh_pre = dhh * hh * (1 - hh) if bug == "dhh_sigmoid_grad" else dhh * (1 - hh ** 2)
            if after:
                dr = dhh_pre * s["uh"]
                duh = dhh_pre * r
            else:
                drh = dhh_pre @ (w["U_r"] if bug == "drh_through_U_r" else w["U_h"])
                dr = drh * (s["h"] if bug == "dr_with_h_t" else h_prev)
            if bug == "dr_pre_no_grad":
                dr_pre = dr
            elif bug == "dr_pre_grad_twice":
                dr_pre = dr * r * (1 - r) * r * (1 - r)
            else:
                dr_pre = dr * r * (1 - r)
            dz_pre = dz * z * (1 - z) * (0.7 if bug == "dz_pre_times_0_7" else 1)
            for g, d in (("z", dz_pre), ("r", dr_pre), ("h", dhh_pre)):
                lists["W_" + g].append(np.einsum("nh,nd->hd", d, s["x"]))
                lists["b_" + g].append(d.sum(axis=0))
            lists["U_z"].append(np.einsum("nh,nd->hd", dz_pre, h_prev))
            lists["U_r"].append(np.einsum("nh,nd->hd", dr_pre, h_prev))
            if after:
                lists["U_h"].append(np.einsum("nh,nd->hd", duh, h_prev))
            elif bug == "einsum_out_swapped_U_h":
                lists["U_h"].append(np.einsum("nh,nd->dh", dhh_pre, r * h_prev))
            elif bug == "dU_h_with_h_prev":
                lists["U_h"].append(np.einsum("nh,nd->hd", dhh_pre, h_prev))
            else:
                lists["U_h"].append(np.einsum("nh,nd->hd", dhh_pre, r * h_prev))
            dx[:, t] = dz_pre @ w["W_z"] + dr_pre @ w["W_r"] + dhh_pre @ w["W_h"]
            U_z = w["U_z"].T if bug == "U_z_transposed" else (w["U_r"] if bug == "carry_z_through_U_r" else w["U_z"])
            dh_next = dh_t * z + dz_pre @ U_z + dr_pre @ w["U_r"]
            dh_next = dh_next + (duh @ w["U_h"] if after else drh * r)
            if bug == "dh_next_clipped_0_05":
                dh_next = np.clip(dh_next, -0.05, 0.05)
            if bug == "carry_cut_after_3" and k + 1 >= 3:
                dh_next = np.zeros_like(dh_next)
        reduce = np.mean if bug == "lists_averaged" else np.sum
        grads = {"d" + k: reduce(v, axis=0) for k, v in lists.items()}
        return (dx, dh_next, grads["dW_z"], grads["dW_r"], grads["dW_h"], grads["dU_z"], grads["dU_r"], grads["dU_h"],
                grads["db_z"], grads["db_r"], grads["db_h"])

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

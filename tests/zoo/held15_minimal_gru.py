"""A GRU in the "minimal" tutorial notation: W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h,
plus c_h, the recurrent bias of the candidate, which sits inside the reset product (reset
applied after U_h h, as torch and Keras' reset_after do). Time-major x (T, N, D), an explicit
Python list of states hs = [h0, h1, ...], one cache dict per step:

    z = s(x W_z + h U_z + b_z)      r = s(x W_r + h U_r + b_r)
    h~ = tanh(x W_h + b_h + r * (h U_h + c_h))      h_t = z * h_(t-1) + (1 - z) * h~

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_sign_swapped": "wrong_sign",                  # dz = dh * (hh - h_prev) for dh * (h_prev - hh)
    "dr_without_c_h": "term_dropped",                 # dr = da_h * (h_prev @ U_h): c_h left out of the reset product
    "dhh_no_tanh_grad": "derivative_missing",         # da_h = dhh
    "da_r_grad_at_z": "derivative_wrong_point",       # da_r = dr * z * (1 - z) (also wrong_value: z for r)
    "U_h_untransposed": "weight_transposed",          # dh_prev += (da_h * r) @ U_h
    "z_term_uses_U_r": "wrong_weight",                # dh_prev += da_z @ U_r.T (U_r for U_z)
    "dU_z_transposed": "gradient_transposed",         # dU_z += da_z.T @ h_prev
    "dU_r_with_next_h": "wrong_time",                 # dU_r += hs[t + 1].T @ da_r (h_t for h_(t-1))
    "dh_prev_without_z_path": "term_dropped",         # dh_prev lacks dh * z (the direct path)
    "dh_without_carry": "carry_dropped",              # dh = dhs[t]
    "dc_h_mean": "reduction_scaled",                  # dc_h += (da_h * r).mean(0)
    "carry_cut_after_2": "truncated_bptt",            # the carry zeroed once it has gone back 2 steps
    "dz_sigmoid_grad_twice": "derivative_twice",      # dz = dh * (h_prev - hh) * z * (1 - z), then da_z = dz * z * (1 - z)
    "forward_reset_before": "forward_mistake",        # h~ = tanh(x W_h + b_h + (r * h) @ U_h + c_h); backward consistent
    "dz_sign_and_U_h_untransposed": "unknown",        # two at once: dz_sign_swapped and U_h_untransposed
}

TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "dz_sign_swapped": "z",
    "dr_without_c_h": "r",
    "dhh_no_tanh_grad": "rn",
    "da_r_grad_at_z": "r",
    "U_h_untransposed": "",
    "z_term_uses_U_r": "",
    "dU_z_transposed": "z",
    "dU_r_with_next_h": "r",
    "dh_prev_without_z_path": "",
    "dh_without_carry": "",
    "dc_h_mean": "n",
    "carry_cut_after_2": "",
    "dz_sigmoid_grad_twice": "z",
    "forward_reset_before": "",
    "dz_sign_and_U_h_untransposed": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    before = bug == "forward_reset_before"

    def forward(x, h0, W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h, c_h):
        hs, caches = [h0], []
        for x_t in x:
            h = hs[-1]
            z = sigmoid(x_t @ W_z + h @ U_z + b_z)
            r = sigmoid(x_t @ W_r + h @ U_r + b_r)
            uh = (r * h if before else h) @ U_h + c_h
            hh = np.tanh(x_t @ W_h + b_h + (uh if before else r * uh))
            hs.append(z * h + (1 - z) * hh)
            caches.append({"x": x_t, "z": z, "r": r, "hh": hh, "uh": uh})
        p = dict(W_z=W_z, U_z=U_z, W_r=W_r, U_r=U_r, W_h=W_h, U_h=U_h, c_h=c_h)
        return np.stack(hs[1:]), (hs, caches, p)

    def backward(dhs, cache):
        hs, caches, p = cache
        T = len(caches)
        g = {k: np.zeros_like(v) for k, v in p.items()}
        g.update(b_z=np.zeros_like(p["c_h"]), b_r=np.zeros_like(p["c_h"]), b_h=np.zeros_like(p["c_h"]))
        dx = np.zeros((T,) + caches[0]["x"].shape, dtype=dhs.dtype)
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(T)):
            cc = caches[t]
            z, r, hh, h_prev = cc["z"], cc["r"], cc["hh"], hs[t]
            dh = dhs[t] if bug == "dh_without_carry" else dhs[t] + dh_next
            if bug in ("dz_sign_swapped", "dz_sign_and_U_h_untransposed"):
                dz = dh * (hh - h_prev)
            elif bug == "dz_sigmoid_grad_twice":
                dz = dh * (h_prev - hh) * z * (1 - z)
            else:
                dz = dh * (h_prev - hh)
            dhh = dh * (1 - z)
            da_h = dhh if bug == "dhh_no_tanh_grad" else dhh * (1 - hh ** 2)
            if before:
                duh, drh = da_h, da_h @ p["U_h"].T
                dr = drh * h_prev
            else:
                duh = da_h * r
                dr = da_h * (h_prev @ p["U_h"] if bug == "dr_without_c_h" else cc["uh"])
            da_r = dr * (z * (1 - z) if bug == "da_r_grad_at_z" else r * (1 - r))
            da_z = dz * z * (1 - z)
            x_t = cc["x"]
            g["W_z"] += x_t.T @ da_z
            g["W_r"] += x_t.T @ da_r
            g["W_h"] += x_t.T @ da_h
            g["U_z"] += da_z.T @ h_prev if bug == "dU_z_transposed" else h_prev.T @ da_z
            g["U_r"] += (hs[t + 1] if bug == "dU_r_with_next_h" else h_prev).T @ da_r
            g["U_h"] += (r * h_prev if before else h_prev).T @ duh
            g["b_z"] += da_z.sum(axis=0)
            g["b_r"] += da_r.sum(axis=0)
            g["b_h"] += da_h.sum(axis=0)
            g["c_h"] += duh.mean(axis=0) if bug == "dc_h_mean" else duh.sum(axis=0)
            dx[t] = da_z @ p["W_z"].T + da_r @ p["W_r"].T + da_h @ p["W_h"].T
            dh_prev = 0 if bug == "dh_prev_without_z_path" else dh * z
            dh_prev = dh_prev + da_z @ (p["U_r"] if bug == "z_term_uses_U_r" else p["U_z"]).T + da_r @ p["U_r"].T
            if before:
                dh_prev = dh_prev + drh * r
            else:
                U_h = p["U_h"] if bug in ("U_h_untransposed", "dz_sign_and_U_h_untransposed") else p["U_h"].T
                dh_prev = dh_prev + duh @ U_h
            dh_next = dh_prev
            if bug == "carry_cut_after_2" and T - t >= 2:
                dh_next = np.zeros_like(dh_next)
        return (dx, dh_next, g["W_z"], g["U_z"], g["b_z"], g["W_r"], g["U_r"], g["b_r"], g["W_h"], g["U_h"],
                g["b_h"], g["c_h"])

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    W_r, W_z, W_n = np.split(p["weight_ih"], 3)
    U_r, U_z, U_n = np.split(p["weight_hh"], 3)
    bi_r, bi_z, bi_n = np.split(p["bias_ih"], 3)
    bh_r, bh_z, bh_n = np.split(p["bias_hh"], 3)
    return {"W_z": W_z.T, "U_z": U_z.T, "b_z": bi_z + bh_z, "W_r": W_r.T, "U_r": U_r.T, "b_r": bi_r + bh_r,
            "W_h": W_n.T, "U_h": U_n.T, "b_h": bi_n, "c_h": bh_n}


def to_canonical(cell, grads, p):
    out = {}
    if all(k in grads for k in ("dW_r", "dW_z", "dW_h")):
        out["dweight_ih"] = np.concatenate([grads["dW_r"].T, grads["dW_z"].T, grads["dW_h"].T])
    if all(k in grads for k in ("dU_r", "dU_z", "dU_h")):
        out["dweight_hh"] = np.concatenate([grads["dU_r"].T, grads["dU_z"].T, grads["dU_h"].T])
    if all(k in grads for k in ("db_r", "db_z", "db_h")):
        out["dbias_ih"] = np.concatenate([grads["db_r"], grads["db_z"], grads["db_h"]])
        if "dc_h" in grads:
            out["dbias_hh"] = np.concatenate([grads["db_r"], grads["db_z"], grads["dc_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="minimal_gru", cells=("gru",), axes="TND",
                               gate_order="zrh", gate_letters={"h": "n"})

"""A GRU as a Chinese blog writes it: one weight per gate, W_z, W_r, W_h (H, D) on x and
U_z, U_r, U_h (H, H) on h, separate biases b_z, b_r, b_h (H,), row vectors applied as
x @ W.T, the reset gate applied BEFORE the recurrent product (reset_after=False), pinyin
names for the cache (huancun) and the gates (gengxin men z, chongzhi men r, houxuan h~):

    z = sigmoid(x W_z^T + h U_z^T + b_z)       r = sigmoid(x W_r^T + h U_r^T + b_r)
    h~ = tanh(x W_h^T + (r * h) U_h^T + b_h)   h' = z * h + (1 - z) * h~

x (N, T, D), h0 (N, H). Eleventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dU_z_transposed": "gradient_transposed",             # dU_z += h_prev.T @ da_z (for da_z.T @ h_prev)
    "U_r_transposed_in_dh": "weight_transposed",          # dh_prev += da_r @ U_r.T
    "U_h_for_U_r_in_dh": "wrong_weight",                  # dh_prev += da_r @ U_h
    "d_rh_without_r": "term_dropped",                     # dh_prev += d_rh (the factor r left out)
    "dr_with_h_t": "wrong_time",                          # dr = d_rh * h_new (this step's h, not h_prev)
    "dz_sign_flipped": "wrong_sign",                      # dz = dh * (houxuan - h_prev)
    "dhh_tanh_grad_twice": "derivative_twice",            # da_h = dhh * (1 - hh ** 2) * (1 - hh ** 2)
    "dr_tanh_grad": "derivative_wrong_function",          # da_r = dr * (1 - r ** 2)
    "dh_prev_times_1_minus_z": "wrong_value",             # dh_prev = dh * (1 - z) + ... (1 - z read for z)
    "carry_cut_after_2": "truncated_bptt",                # dh_next zeroed once 2 steps are walked back
    "loop_starts_at_T_minus_2": "loop_skips_step",        # for t in range(T - 2, -1, -1)
    "db_mean_over_batch": "reduction_scaled",             # db_z, db_r, db_h += da.mean(axis=0)
    "forward_houxuan_without_reset": "forward_mistake",   # h~ = tanh(x W_h^T + h U_h^T + b_h); backward consistent
    "dz_sign_and_d_rh_without_r": "unknown",              # dz sign flipped AND the factor r left out (two mistakes)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dU_z_transposed": "z",
    "U_r_transposed_in_dh": "",
    "U_h_for_U_r_in_dh": "",
    "d_rh_without_r": "",
    "dr_with_h_t": "r",
    "dz_sign_flipped": "z",
    "dhh_tanh_grad_twice": "rn",
    "dr_tanh_grad": "r",
    "dh_prev_times_1_minus_z": "",
    "carry_cut_after_2": "",
    "loop_starts_at_T_minus_2": "",
    "db_mean_over_batch": "",
    "forward_houxuan_without_reset": "",
    "dz_sign_and_d_rh_without_r": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, W_z, W_r, W_h, U_z, U_r, U_h, b_z, b_r, b_h, bug=None):
    N, T, D = x.shape
    h = h0
    hs, huancun = [], []
    for t in range(T):
        xt = x[:, t]
        z = sigmoid(xt @ W_z.T + h @ U_z.T + b_z)          # gengxin men
        r = sigmoid(xt @ W_r.T + h @ U_r.T + b_r)          # chongzhi men
        rh = h if bug == "forward_houxuan_without_reset" else r * h
        houxuan = np.tanh(xt @ W_h.T + rh @ U_h.T + b_h)
        h_new = z * h + (1 - z) * houxuan
        huancun.append((xt, h, z, r, rh, houxuan, h_new))
        hs.append(h_new)
        h = h_new
    return np.stack(hs, axis=1), (huancun, (W_z, W_r, W_h, U_z, U_r, U_h))


def gru_backward(dhs, cache, bug=None):
    huancun, (W_z, W_r, W_h, U_z, U_r, U_h) = cache
    N, T, H = dhs.shape
    dW = {k: np.zeros_like(W_z) for k in "zrh"}
    dU = {k: np.zeros_like(U_z) for k in "zrh"}
    db = {k: np.zeros(H, dtype=dhs.dtype) for k in "zrh"}
    dx = np.zeros((N, T, W_z.shape[1]), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    walked = 0
    for t in (range(T - 2, -1, -1) if bug == "loop_starts_at_T_minus_2" else range(T - 1, -1, -1)):
        xt, h_prev, z, r, rh, houxuan, h_new = huancun[t]
        dh = dhs[:, t] + dh_next
        if bug in ("dz_sign_flipped", "dz_sign_and_d_rh_without_r"):
            dz = dh * (houxuan - h_prev)
        else:
            dz = dh * (h_prev - houxuan)
        dhh = dh * (1 - z)
        da_h = dhh * (1 - houxuan ** 2)
        if bug == "dhh_tanh_grad_twice":
            da_h = da_h * (1 - houxuan ** 2)
        d_rh = da_h @ U_h
        if bug == "forward_houxuan_without_reset":
            dr = np.zeros_like(r)
        else:
            dr = d_rh * (h_new if bug == "dr_with_h_t" else h_prev)
        da_r = dr * (1 - r ** 2) if bug == "dr_tanh_grad" else dr * r * (1 - r)
        da_z = dz * z * (1 - z)
        for k, da, hin in (("z", da_z, h_prev), ("r", da_r, h_prev), ("h", da_h, rh)):
            dW[k] += da.T @ xt
            if bug == "dU_z_transposed" and k == "z":
                dU[k] += hin.T @ da
            else:
                dU[k] += da.T @ hin
            db[k] += da.mean(axis=0) if bug == "db_mean_over_batch" else da.sum(axis=0)
        dx[:, t] = da_z @ W_z + da_r @ W_r + da_h @ W_h
        dh_prev = dh * ((1 - z) if bug == "dh_prev_times_1_minus_z" else z)
        if bug in ("d_rh_without_r", "dz_sign_and_d_rh_without_r", "forward_houxuan_without_reset"):
            dh_prev = dh_prev + d_rh
        else:
            dh_prev = dh_prev + d_rh * r
        dh_prev = dh_prev + da_z @ U_z
        if bug == "U_r_transposed_in_dh":
            dh_prev = dh_prev + da_r @ U_r.T
        elif bug == "U_h_for_U_r_in_dh":
            dh_prev = dh_prev + da_r @ U_h
        else:
            dh_prev = dh_prev + da_r @ U_r
        dh_next = dh_prev
        walked += 1
        if bug == "carry_cut_after_2" and walked == 2:
            dh_next = np.zeros_like(dh_next)
    return (dx, dh_next, dW["z"], dW["r"], dW["h"], dU["z"], dU["r"], dU["h"], db["z"], db["r"], db["h"])


def to_user(cell, p):
    W_r, W_z, W_h = np.split(p["weight_ih"], 3)
    U_r, U_z, U_h = np.split(p["weight_hh"], 3)
    b_r, b_z, b_h = np.split(p["bias_ih"] + p["bias_hh"], 3)
    return {"W_z": W_z, "W_r": W_r, "W_h": W_h, "U_z": U_z, "U_r": U_r, "U_h": U_h, "b_z": b_z, "b_r": b_r,
            "b_h": b_h}


def to_canonical(cell, grads, p):
    out = {}
    for pre, q in (("dW_", "dweight_ih"), ("dU_", "dweight_hh"), ("db_", "dbias_ih")):
        if all(pre + k in grads for k in "rzh"):
            out[q] = np.concatenate([grads[pre + k] for k in "rzh"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="pinyin_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_z, W_r, W_h, U_z, U_r, U_h, b_z, b_r, b_h):
        return gru_forward(x, h0, W_z, W_r, W_h, U_z, U_r, U_h, b_z, b_r, b_h, bug)

    def backward(dhs, cache):
        return gru_backward(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

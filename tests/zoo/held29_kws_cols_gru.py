"""A keyword-spotting script ("yes"/"no"/"up"... from MFCC frames): the features come from
the author's audio front end as (T, D, N) (frame, coefficient, clip), so the GRU works on
column blocks, one frame at a time, weights on the left, reset after the recurrent product:

    z = sigmoid(Wz @ x_t + Uz @ h + bz)        r = sigmoid(Wr @ x_t + Ur @ h + br)
    n = tanh(Wn @ x_t + bn_x + r * (Un @ h + bn_h))
    h = (1 - z) * n + z * h                    W* (H, D), U* (H, H), biases (H, 1), h (H, N)

``gru_forward(x, h0, Wz, Uz, bz, Wr, Ur, br, Wn, Un, bn_x, bn_h) -> (hs (T, H, N), cache)``,
the cache a list of per-frame tuples; the backward returns the gradients in the same order.
A classifier on the last frame (not checked) names the keyword. Twenty-ninth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "carry_replaces_frame_grad": "carry_overwrites",      # dh = dh_next for every frame but the last (not dhs[t] + dh_next)
    "n_squared_in_place": "inplace_corruption",           # sq = n; sq **= 2 for tanh': dz then reads n**2 as n
    "frames_in_forward_order": "loop_direction",          # for t in range(T)
    "truncate_three_frames": "truncated_bptt",            # dh_next zeroed once it has gone back three frames
    "dh_prev_from_dUz": "gradient_for_weight",            # dh_prev gets dUz.T @ da_z (the running gradient)
    "z_grad_plus_typo": "derivative_miswritten",          # da_z = dz * z * (1 + z)
    "tanh_grad_previous_frame": "derivative_wrong_point",  # da_n = dn * (1 - n_(t-1)**2): one frame early (also wrong_time)
    "Ur_not_transposed": "weight_transposed",             # dh_prev gets Ur @ da_r
    "dWn_over_clips": "reduction_scaled",                 # dWn /= N
    "forward_bn_h_outside_r": "forward_mistake",          # n = tanh(Wn x + bn_x + r * (Un h) + bn_h); backward consistent
    "dr_with_h_prev": "wrong_value",                      # dr = da_n * h_prev (meant Un @ h_prev + bn_h): the reset-before form
    "no_direct_path": "term_dropped",                     # dh_prev misses z * dh
    "z_sign_and_Ur_untransposed": "unknown",              # two at once: da_z = dz * z * (z - 1) and Ur_not_transposed
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "carry_replaces_frame_grad": "",
    "n_squared_in_place": "z",
    "frames_in_forward_order": "",
    "truncate_three_frames": "",
    "dh_prev_from_dUz": "",
    "z_grad_plus_typo": "z",
    "tanh_grad_previous_frame": "rn",
    "Ur_not_transposed": "",
    "dWn_over_clips": "n",
    "forward_bn_h_outside_r": "",
    "dr_with_h_prev": "r",
    "no_direct_path": "",
    "z_sign_and_Ur_untransposed": "z",
}

ORDER = ("Wz", "Uz", "bz", "Wr", "Ur", "br", "Wn", "Un", "bn_x", "bn_h")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, Wz, Uz, bz, Wr, Ur, br, Wn, Un, bn_x, bn_h, bug=None):
    h = h0
    hs, cache = [], []
    for x_t in x:                                         # x_t (D, N)
        z = sigmoid(Wz @ x_t + Uz @ h + bz)
        r = sigmoid(Wr @ x_t + Ur @ h + br)
        if bug == "forward_bn_h_outside_r":
            hn = Un @ h
            n = np.tanh(Wn @ x_t + bn_x + r * hn + bn_h)
        else:
            hn = Un @ h + bn_h
            n = np.tanh(Wn @ x_t + bn_x + r * hn)
        cache.append((x_t, h, z, r, n, hn))
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.array(hs), (cache, (Wz, Uz, bz, Wr, Ur, br, Wn, Un, bn_x, bn_h))


def gru_backward(dhs, cache, bug=None):
    frames, weights = cache
    Wz, Uz, bz, Wr, Ur, br, Wn, Un, bn_x, bn_h = weights
    g = {k: np.zeros_like(w) for k, w in zip(ORDER, weights)}
    T = len(frames)
    N = dhs.shape[2]
    dx = np.zeros((T,) + frames[0][0].shape, dtype=dhs.dtype)
    dh_next = np.zeros_like(dhs[0])
    for t in (range(T) if bug == "frames_in_forward_order" else reversed(range(T))):
        x_t, h_prev, z, r, n, hn = frames[t]
        if bug == "carry_replaces_frame_grad" and t < T - 1:
            dh = dh_next
        else:
            dh = dhs[t] + dh_next
        dn = dh * (1 - z)
        if bug == "n_squared_in_place":
            sq = n
            sq **= 2
            da_n = dn * (1 - sq)
        elif bug == "tanh_grad_previous_frame":
            n_before = frames[t - 1][4] if t > 0 else np.zeros_like(n)
            da_n = dn * (1 - n_before ** 2)
        else:
            da_n = dn * (1 - n ** 2)
        dz = dh * (h_prev - n)
        dr = da_n * (h_prev if bug == "dr_with_h_prev" else hn)
        dhn = da_n * r
        if bug == "z_grad_plus_typo":
            da_z = dz * z * (1 + z)
        elif bug == "z_sign_and_Ur_untransposed":
            da_z = dz * z * (z - 1)
        else:
            da_z = dz * z * (1 - z)
        da_r = dr * r * (1 - r)
        for k, W, U, d in (("z", Wz, Uz, da_z), ("r", Wr, Ur, da_r), ("n", Wn, Un, None)):
            d_x = da_n if k == "n" else d
            d_h = dhn if k == "n" else d
            g["W" + k] += d_x @ x_t.T
            g["U" + k] += d_h @ h_prev.T
        g["bz"] += da_z.sum(axis=1, keepdims=True)
        g["br"] += da_r.sum(axis=1, keepdims=True)
        g["bn_x"] += da_n.sum(axis=1, keepdims=True)
        g["bn_h"] += (da_n if bug == "forward_bn_h_outside_r" else dhn).sum(axis=1, keepdims=True)
        dx[t] = Wz.T @ da_z + Wr.T @ da_r + Wn.T @ da_n
        dh_prev = Un.T @ dhn + (g["Uz"] if bug == "dh_prev_from_dUz" else Uz).T @ da_z
        dh_prev += (Ur if bug in ("Ur_not_transposed", "z_sign_and_Ur_untransposed") else Ur.T) @ da_r
        if bug != "no_direct_path":
            dh_prev += z * dh
        dh_next = dh_prev
        if bug == "truncate_three_frames" and T - t >= 3:
            dh_next = np.zeros_like(dh_prev)
    if bug == "dWn_over_clips":
        g["Wn"] /= N
    return (dx, dh_next) + tuple(g[k] for k in ORDER)


def keyword_logits(hs, W_cls, b_cls):
    return W_cls @ hs[-1] + b_cls                         # (K, N)


def to_user(cell, p):
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    bir, biz, bin_ = np.split(p["bias_ih"], 3)
    bhr, bhz, bhn = np.split(p["bias_hh"], 3)
    col = lambda v: v[:, None]
    return {"Wz": Wz, "Uz": Uz, "bz": col(biz + bhz), "Wr": Wr, "Ur": Ur, "br": col(bir + bhr),
            "Wn": Wn, "Un": Un, "bn_x": col(bin_), "bn_h": col(bhn)}


def to_canonical(cell, g, p):
    out = {}
    if {"dWr", "dWz", "dWn"} <= set(g):
        out["dweight_ih"] = np.concatenate([g["dWr"], g["dWz"], g["dWn"]])
    if {"dUr", "dUz", "dUn"} <= set(g):
        out["dweight_hh"] = np.concatenate([g["dUr"], g["dUz"], g["dUn"]])
    if {"dbr", "dbz", "dbn_x", "dbn_h"} <= set(g):
        out["dbias_ih"] = np.concatenate([g["dbr"][:, 0], g["dbz"][:, 0], g["dbn_x"][:, 0]])
        out["dbias_hh"] = np.concatenate([g["dbr"][:, 0], g["dbz"][:, 0], g["dbn_h"][:, 0]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="kws_columns", cells=("gru",), axes="TDN",
                               gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, *weights):
        return gru_forward(x, h0, *weights, bug=bug)

    def backward(dhs, cache):
        return gru_backward(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

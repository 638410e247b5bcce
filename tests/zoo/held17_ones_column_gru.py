"""A GRU (Keras's reset_after form, blocks z, r, h) whose biases live in an extra row of
each kernel: the user appends a column of ones to x_t and to h, as in a regression course.
x (N, T, D), h0 (N, H), Wx1 (D+1, 3H) (last row: the input bias), Wh1 (H+1, 3H) (last row:
the recurrent bias):

    mx = [x_t, 1] @ Wx1        mh = [h, 1] @ Wh1         (N, 3H), blocks z, r, h
    z = s(mx_z + mh_z)   r = s(mx_r + mh_r)   hh = tanh(mx_h + r * mh_h)
    h_new = z * h + (1 - z) * hh

Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dx_drops_first_column": "wrong_value",               # dx = (dmx @ Wx1.T)[:, 1:]: the slice drops x's first column, keeps the ones'
    "dmh_h_without_r": "term_dropped",                    # dmh_h = dah (the factor r left out)
    "dr_times_mx_h": "wrong_value",                       # dr = dah * mx_h (the input part for mh_h)
    "dz_with_h_new": "wrong_time",                        # dz = g * (h_new - hh)
    "dah_sigmoid_grad": "derivative_wrong_function",      # dah = dhh * hh * (1 - hh)
    "daz_grad_at_r": "derivative_wrong_point",            # daz = dz * r * (1 - r)
    "dh_prev_r_block_for_h": "wrong_weight",              # dmh_h @ Wh1[:H, H:2H].T (r's block for h's)
    "dh_prev_from_dWh1": "gradient_for_weight",           # dmh @ dWh1[:H].T
    "dWh1_assigned": "carry_overwrites",                  # dWh1 = ha.T @ dmh (= for +=)
    "global_norm_clip": "gradient_clipped",               # every gradient rescaled to a global norm of 0.5 when larger
    "carry_cut_after_3": "truncated_bptt",                # dh_next = 0 after three steps walked back
    "loop_in_time_order": "loop_direction",               # for t in range(T)
    "r_into_mh_in_place": "inplace_corruption",           # mh[:, 2H:] *= r in the forward: the cached mh_h is r * mh_h
    "dz_sign_and_dmh_h_without_r": "unknown",             # dz = g * (hh - h) and dmh_h_without_r together
    "dah_times_0_8": "unknown",                           # dah = 0.8 * dhh * (1 - hh ** 2): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dx_drops_first_column": "",
    "dmh_h_without_r": "n",
    "dr_times_mx_h": "r",
    "dz_with_h_new": "z",
    "dah_sigmoid_grad": "rn",
    "daz_grad_at_r": "z",
    "dh_prev_r_block_for_h": "",
    "dh_prev_from_dWh1": "",
    "dWh1_assigned": "",
    "global_norm_clip": "",
    "carry_cut_after_3": "",
    "loop_in_time_order": "",
    "r_into_mh_in_place": "r",
    "dz_sign_and_dmh_h_without_r": "zn",
    "dah_times_0_8": "rn",
}


def s(v):
    return 1.0 / (1.0 + np.exp(-v))


def ones_col(a):
    return np.concatenate([a, np.ones((a.shape[0], 1), dtype=a.dtype)], axis=1)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx1, Wh1):
        N, T, _ = x.shape
        H = h0.shape[1]
        h, hs, cache = h0, [], []
        for t in range(T):
            xa, ha = ones_col(x[:, t]), ones_col(h)
            mx, mh = xa @ Wx1, ha @ Wh1
            z = s(mx[:, :H] + mh[:, :H])
            r = s(mx[:, H:2 * H] + mh[:, H:2 * H])
            if bug == "r_into_mh_in_place":
                rmh = mh[:, 2 * H:]
                rmh *= r
                hh = np.tanh(mx[:, 2 * H:] + rmh)
            else:
                hh = np.tanh(mx[:, 2 * H:] + r * mh[:, 2 * H:])
            h_new = z * h + (1 - z) * hh
            cache.append((xa, ha, mx, mh, z, r, hh, h_new))
            hs.append(h_new)
            h = h_new
        return np.stack(hs, axis=1), (cache, Wx1, Wh1)

    def backward(dh, cache):
        steps, Wx1, Wh1 = cache
        N, T, H = dh.shape
        D = Wx1.shape[0] - 1
        dWx1, dWh1 = np.zeros_like(Wx1), np.zeros_like(Wh1)
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        order = range(T) if bug == "loop_in_time_order" else reversed(range(T))
        for walked, t in enumerate(order):
            xa, ha, mx, mh, z, r, hh, h_new = steps[t]
            h = ha[:, :H]
            g = dh[:, t] + dh_next
            if bug == "dz_with_h_new":
                dz = g * (h_new - hh)
            elif bug == "dz_sign_and_dmh_h_without_r":
                dz = g * (hh - h)
            else:
                dz = g * (h - hh)
            dhh = g * (1 - z)
            dah = dhh * hh * (1 - hh) if bug == "dah_sigmoid_grad" else dhh * (1 - hh ** 2)
            if bug == "dah_times_0_8":
                dah = 0.8 * dah
            dr = dah * (mx[:, 2 * H:] if bug == "dr_times_mx_h" else mh[:, 2 * H:])
            dmh_h = dah if bug in ("dmh_h_without_r", "dz_sign_and_dmh_h_without_r") else dah * r
            daz = dz * r * (1 - r) if bug == "daz_grad_at_r" else dz * z * (1 - z)
            dar = dr * r * (1 - r)
            dmx = np.concatenate([daz, dar, dah], axis=1)
            dmh = np.concatenate([daz, dar, dmh_h], axis=1)
            dWx1 += xa.T @ dmx
            if bug == "dWh1_assigned":
                dWh1 = ha.T @ dmh
            else:
                dWh1 += ha.T @ dmh
            dx[:, t] = (dmx @ Wx1.T)[:, 1:] if bug == "dx_drops_first_column" else dmx @ Wx1[:D].T
            if bug == "dh_prev_from_dWh1":
                dh_next = g * z + dmh @ dWh1[:H].T
            elif bug == "dh_prev_r_block_for_h":
                dh_next = g * z + dmh[:, :2 * H] @ Wh1[:H, :2 * H].T + dmh_h @ Wh1[:H, H:2 * H].T
            else:
                dh_next = g * z + dmh @ Wh1[:H].T
            if bug == "carry_cut_after_3" and walked == 2:
                dh_next = np.zeros_like(dh_next)
        grads = [dx, dh_next, dWx1, dWh1]
        if bug == "global_norm_clip":
            norm = np.sqrt(sum((a ** 2).sum() for a in grads))
            if norm > 0.5:
                grads = [a * (0.5 / norm) for a in grads]
        return tuple(grads)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def _zrh(a, axis=0):
    r, z, n = np.split(a, 3, axis=axis)                   # torch's r, z, n <-> the user's z, r, h (a swap)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    Wx1 = np.concatenate([_zrh(p["weight_ih"]).T, _zrh(p["bias_ih"])[None]], axis=0)
    Wh1 = np.concatenate([_zrh(p["weight_hh"]).T, _zrh(p["bias_hh"])[None]], axis=0)
    return {"Wx1": Wx1, "Wh1": Wh1}


def to_canonical(cell, g, p):
    out = {}
    if "dWx1" in g:
        out.update(dweight_ih=_zrh(g["dWx1"][:-1].T), dbias_ih=_zrh(g["dWx1"][-1]))
    if "dWh1" in g:
        out.update(dweight_hh=_zrh(g["dWh1"][:-1].T), dbias_hh=_zrh(g["dWh1"][-1]))
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="ones_column_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})

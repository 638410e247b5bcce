"""A time-major GRU (x (T, N, D), h (T, N, H)) written with scipy.special.expit for the
sigmoid, the hidden states kept in a growing Python list ``hs = [h0]`` and the steps'
values in parallel lists; weights Wx (D, 3H), Uh (H, 3H), one bias b (3H,), blocks in the
student's order z, r, h (h the candidate, canonical n), the reset gate applied before the
recurrent product (reset_after=False, TF1 GRUCell / the original paper):

    z = expit(x Wx_z + h Uh_z + b_z)    r = expit(x Wx_r + h Uh_r + b_r)
    hh = tanh(x Wx_h + (r * h) Uh_h + b_h)     h_new = z * h + (1 - z) * hh

The backward walks the lists with enumerate(reversed(...)). Custom layout, axes "TND".
Twenty-fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

try:
    from scipy.special import expit
except ImportError:                                     # no scipy: the same function
    def expit(v):
        return 1.0 / (1.0 + np.exp(-v))

BUGS = {
    "dhh_sigmoid_prime": "derivative_wrong_function",  # da_h = dhh * hh * (1 - hh)
    "dz_sign_flipped": "wrong_sign",                   # dz = dh * (hh - h_prev)
    "dz_no_sigmoid_prime": "derivative_missing",       # da_z = dz
    "drh_through_Ur_block": "wrong_weight",            # drh = da_h @ Uh[:, H:2H].T (r's block for h's)
    "dz_with_h_t": "wrong_time",                       # dz = dh * (h_t - hh)
    "dh_prev_misses_reset_path": "term_dropped",       # dh_prev without drh * r
    "dr_expit_of_r": "derivative_wrong_point",         # da_r = dr * expit(r) * (1 - expit(r)): sigmoid' at s(r)
    "dhh_tanh_prime_twice": "derivative_twice",        # da_h = dhh * (1 - hh**2) * (1 - hh**2)
    "backward_walks_forward": "loop_direction",        # for t, step in enumerate(steps): forward in time
    "dUh_assigned": "carry_overwrites",                # dUh = dUh_t (= for +=)
    "dUh_over_N": "reduction_scaled",                  # dUh / N
    "dgates_stacked_r_z_h": "gate_order",              # da = hstack([da_r, da_z, da_h]): torch's order
    "dh_next_norm_clipped": "gradient_clipped",        # dh_next rescaled to norm 0.3 when above
    "dhh_times_0p9": "unknown",                        # dhh = 0.9 * dh * (1 - z): an arbitrary constant
    "forward_reset_after_hUh": "forward_mistake",      # hh = tanh(x Wx_h + r * (h Uh_h) + b_h); backward consistent
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dhh_sigmoid_prime": "rn",
    "dz_sign_flipped": "z",
    "dz_no_sigmoid_prime": "z",
    "drh_through_Ur_block": "r",
    "dz_with_h_t": "z",
    "dh_prev_misses_reset_path": "",
    "dr_expit_of_r": "r",
    "dhh_tanh_prime_twice": "rn",
    "backward_walks_forward": "",
    "dUh_assigned": "",
    "dUh_over_N": "",
    "dgates_stacked_r_z_h": "rz",
    "dh_next_norm_clipped": "",
    "dhh_times_0p9": "rn",
    "forward_reset_after_hUh": "",
}


def gru_forward(x, h0, Wx, Uh, b, bug=None):
    H = h0.shape[1]
    hs, steps = [h0], []
    for x_t in x:
        h_prev = hs[-1]
        xw = x_t @ Wx + b
        z = expit(xw[:, :H] + h_prev @ Uh[:, :H])
        r = expit(xw[:, H:2 * H] + h_prev @ Uh[:, H:2 * H])
        if bug == "forward_reset_after_hUh":
            hU = h_prev @ Uh[:, 2 * H:]
            hh = np.tanh(xw[:, 2 * H:] + r * hU)
        else:
            hU = None
            hh = np.tanh(xw[:, 2 * H:] + (r * h_prev) @ Uh[:, 2 * H:])
        hs.append(z * h_prev + (1 - z) * hh)
        steps.append((x_t, z, r, hh, hU))
    return np.stack(hs[1:]), (hs, steps, Wx, Uh)


def gru_backward(dh, cache, bug=None):
    hs, steps, Wx, Uh = cache
    T, N, H = dh.shape
    dx = np.zeros((T, N, Wx.shape[0]), dtype=dh.dtype)
    dWx, dUh, db = np.zeros_like(Wx), np.zeros_like(Uh), np.zeros(3 * H, dtype=dh.dtype)
    dh_next = np.zeros_like(hs[0])
    walk = list(enumerate(steps)) if bug == "backward_walks_forward" else reversed(list(enumerate(steps)))
    for t, (x_t, z, r, hh, hU) in walk:
        h_prev = hs[t]
        dh_t = dh[t] + dh_next
        if bug == "dz_sign_flipped":
            dz = dh_t * (hh - h_prev)
        elif bug == "dz_with_h_t":
            dz = dh_t * (hs[t + 1] - hh)
        else:
            dz = dh_t * (h_prev - hh)
        dhh = (0.9 if bug == "dhh_times_0p9" else 1.0) * dh_t * (1 - z)
        if bug == "dhh_sigmoid_prime":
            da_h = dhh * hh * (1 - hh)
        elif bug == "dhh_tanh_prime_twice":
            da_h = dhh * (1 - hh ** 2) * (1 - hh ** 2)
        else:
            da_h = dhh * (1 - hh ** 2)
        U_for_h = Uh[:, H:2 * H] if bug == "drh_through_Ur_block" else Uh[:, 2 * H:]
        if bug == "forward_reset_after_hUh":
            dr = da_h * hU
            dhU = da_h * r
        else:
            drh = da_h @ U_for_h.T
            dr = drh * h_prev
        if bug == "dr_expit_of_r":
            da_r = dr * expit(r) * (1 - expit(r))
        else:
            da_r = dr * r * (1 - r)
        da_z = dz if bug == "dz_no_sigmoid_prime" else dz * z * (1 - z)
        if bug == "dgates_stacked_r_z_h":
            da = np.hstack([da_r, da_z, da_h])
        else:
            da = np.hstack([da_z, da_r, da_h])
        dWx += x_t.T @ da
        db += da.sum(axis=0)
        dUh_t = np.zeros_like(Uh)
        dUh_t[:, :2 * H] = h_prev.T @ da[:, :2 * H]
        if bug == "forward_reset_after_hUh":
            dUh_t[:, 2 * H:] = h_prev.T @ dhU
        else:
            dUh_t[:, 2 * H:] = (r * h_prev).T @ da_h
        if bug == "dUh_assigned":
            dUh = dUh_t
        else:
            dUh += dUh_t
        dx[t] = da @ Wx.T
        dh_next = dh_t * z + da[:, :2 * H] @ Uh[:, :2 * H].T
        if bug == "forward_reset_after_hUh":
            dh_next = dh_next + dhU @ Uh[:, 2 * H:].T
        elif bug != "dh_prev_misses_reset_path":
            dh_next = dh_next + drh * r
        if bug == "dh_next_norm_clipped":
            norm = np.linalg.norm(dh_next)
            if norm > 0.3:
                dh_next = dh_next * (0.3 / norm)
    if bug == "dUh_over_N":
        dUh = dUh / N
    return dx, dh_next, dWx, dUh, db


def to_user(cell, p):
    return {"Wx": reorder(p["weight_ih"], "rzn", "zrn", 0).T, "Uh": reorder(p["weight_hh"], "rzn", "zrn", 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dWx" in grads:
        out["dweight_ih"] = reorder(grads["dWx"].T, "zrn", "rzn", 0)
    if "dUh" in grads:
        out["dweight_hh"] = reorder(grads["dUh"].T, "zrn", "rzn", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "zrn", "rzn", 0)
        out["dbias_hh"] = out["dbias_ih"].copy()       # reset before: b_in and b_hn enter alike
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="expit_list_gru", cells=("gru",), axes="TND",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Uh, b):
        return gru_forward(x, h0, Wx, Uh, b, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A time-major GRU (x (T, N, D), h0 (N, H)) in TF1 GRUCell's convention (reset before the
recurrent product, new_h = u * h + (1 - u) * c), with Wx (D, 3H), U (H, 3H), one bias
b (3H,), the blocks u, r, c, and one preallocated (T, N, 3H) gate buffer G: the forward
fills G[t] with the activated u, r, c; the backward overwrites G[t] in place with the
pre-activation gradients (reading the gates first), and after the loop the weight
gradients come from the whole buffer at once with einsum.

    u = sigmoid(x Wx_u + h U_u + b_u)    r = sigmoid(x Wx_r + h U_r + b_r)
    c = tanh(x Wx_c + (r * h) U_c + b_c)      h_new = u * h + (1 - u) * c

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "du_written_before_dc": "inplace_corruption",      # G[t, :, :H] = du_pre before dc = d * (1 - G[t, :, :H]) reads u
    "dr_written_before_carry": "inplace_corruption",   # G[t, :, H:2H] = dr_pre before dprev's drh * r reads r from G
    "dprev_no_candidate_path": "term_dropped",          # dprev leaves out drh * r (the path through the candidate)
    "dr_with_h_new": "wrong_time",                      # dr = drh * hs[t] (h_t for h_(t-1))
    "du_c_minus_h": "wrong_sign",                       # du = d * (c - h_prev)
    "dc_tanh_prime_not_squared": "derivative_miswritten",  # dc_pre = dc * (1 - c)
    "dr_sigmoid_prime_twice": "derivative_twice",       # drh * h already times r (1 - r), then dr_pre = dr * r (1 - r)
    "dc_tanh_prime_of_u": "derivative_wrong_point",     # dc_pre = dc * (1 - u ** 2) (also a wrong value: u for c)
    "drh_U_c_untransposed": "weight_transposed",        # drh = dc_pre @ U_c
    "drh_through_U_r": "wrong_weight",                  # drh = dc_pre @ U_r.T
    "carry_not_added": "carry_dropped",                 # d = dh[t] (the carry computed and never used)
    "clip_global_norm_1": "gradient_clipped",           # every gradient rescaled to a global norm of 1 in the backward
    "forward_u_weights_c": "forward_mistake",           # h_new = (1 - u) * h + u * c; backward consistent
    "no_carry_and_dr_h_new": "unknown",                 # two at once: the carry dropped and dr = drh * h_t
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "du_written_before_dc": "rn",
    "dr_written_before_carry": "",
    "dprev_no_candidate_path": "",
    "dr_with_h_new": "r",
    "du_c_minus_h": "z",
    "dc_tanh_prime_not_squared": "rn",
    "dr_sigmoid_prime_twice": "r",
    "dc_tanh_prime_of_u": "rn",
    "drh_U_c_untransposed": "r",
    "drh_through_U_r": "r",
    "carry_not_added": "",
    "clip_global_norm_1": "",
    "forward_u_weights_c": "",
    "no_carry_and_dr_h_new": "r",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, Wx, U, b, bug=None):
    T, N, _ = x.shape
    H = h0.shape[1]
    G = np.empty((T, N, 3 * H), dtype=x.dtype)
    hs = np.empty((T, N, H), dtype=x.dtype)
    rh = np.empty((T, N, H), dtype=x.dtype)
    h = h0
    for t in range(T):
        xp = x[t] @ Wx + b
        G[t, :, :2 * H] = sigmoid(xp[:, :2 * H] + h @ U[:, :2 * H])
        u, r = G[t, :, :H], G[t, :, H:2 * H]
        rh[t] = r * h
        G[t, :, 2 * H:] = np.tanh(xp[:, 2 * H:] + rh[t] @ U[:, 2 * H:])
        c = G[t, :, 2 * H:]
        h = (1 - u) * h + u * c if bug == "forward_u_weights_c" else u * h + (1 - u) * c
        hs[t] = h
    return hs, (x, h0, hs, rh, G, Wx, U)


def backward(dh, cache, bug=None):
    x, h0, hs, rh, G, Wx, U = cache
    G = G.copy()
    T, N, H = dh.shape
    U_r, U_c = U[:, H:2 * H], U[:, 2 * H:]
    dx = np.zeros_like(x)
    carry = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = hs[t - 1] if t > 0 else h0
        d = dh[t] if bug in ("carry_not_added", "no_carry_and_dr_h_new") else dh[t] + carry
        u, r, c = G[t, :, :H].copy(), G[t, :, H:2 * H].copy(), G[t, :, 2 * H:].copy()
        if bug == "forward_u_weights_c":
            du, dc = d * (c - h_prev), d * u
        else:
            du = d * ((c - h_prev) if bug == "du_c_minus_h" else (h_prev - c))
            if bug == "du_written_before_dc":
                G[t, :, :H] = du * u * (1 - u)
                dc = d * (1 - G[t, :, :H])
            else:
                dc = d * (1 - u)
        if bug == "dc_tanh_prime_not_squared":
            dc_pre = dc * (1 - c)
        elif bug == "dc_tanh_prime_of_u":
            dc_pre = dc * (1 - u ** 2)
        else:
            dc_pre = dc * (1 - c ** 2)
        if bug == "drh_U_c_untransposed":
            drh = dc_pre @ U_c
        elif bug == "drh_through_U_r":
            drh = dc_pre @ U_r.T
        else:
            drh = dc_pre @ U_c.T
        h_for_r = hs[t] if bug in ("dr_with_h_new", "no_carry_and_dr_h_new") else h_prev
        dr = drh * h_for_r
        if bug == "dr_sigmoid_prime_twice":
            dr = dr * r * (1 - r)
        G[t, :, :H] = du * u * (1 - u)
        G[t, :, H:2 * H] = dr * r * (1 - r)
        G[t, :, 2 * H:] = dc_pre
        dx[t] = G[t] @ Wx.T
        dprev = d * ((1 - u) if bug == "forward_u_weights_c" else u) + G[t, :, :2 * H] @ U[:, :2 * H].T
        if bug == "dr_written_before_carry":
            dprev = dprev + drh * G[t, :, H:2 * H]
        elif bug != "dprev_no_candidate_path":
            dprev = dprev + drh * r
        carry = dprev
    h_prevs = np.concatenate([h0[None], hs[:-1]], axis=0)
    dWx = np.einsum("tnd,tnk->dk", x, G)
    dU = np.concatenate([np.einsum("tnh,tnk->hk", h_prevs, G[:, :, :2 * H]),
                         np.einsum("tnh,tnk->hk", rh, G[:, :, 2 * H:])], axis=1)
    db = G.sum(axis=(0, 1))
    if bug == "clip_global_norm_1":
        total = np.sqrt(sum(np.sum(g ** 2) for g in (dWx, dU, db)))
        if total > 1.0:
            dWx, dU, db = (g / total for g in (dWx, dU, db))
    return dx, carry, dWx, dU, db


def _zrn(a, axis):
    """Canonical r, z, n <-> the author's u, r, c (the swap is its own inverse)."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    return {"Wx": _zrn(p["weight_ih"], 0).T, "U": _zrn(p["weight_hh"], 0).T, "b": _zrn(p["bias_ih"] + p["bias_hh"], 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dWx" in grads:
        out["dweight_ih"] = _zrn(grads["dWx"].T, 0)
    if "dU" in grads:
        out["dweight_hh"] = _zrn(grads["dU"].T, 0)
    if "db" in grads:
        out["dbias_ih"] = _zrn(grads["db"], 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="buffer_gru", cells=("gru",), axes="TND",
                               gate_order="urc", gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wx, U, b):
        return forward(x, h0, Wx, U, b, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

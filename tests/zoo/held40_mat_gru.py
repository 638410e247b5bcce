"""A reset-after GRU (torch's form) in np.matrix rows, time-major x (T, N, D): the input and
recurrent pre-activations gx = x_t * Wx + bx and gh = h * Wh + bh are (N, 3H) matrices with
blocks r, z, n, the gate products np.multiply, the biases 1-D arrays made rows by np.asmatrix.

    r, z = sigmoid(gx_r + gh_r), sigmoid(gx_z + gh_z)    n = tanh(gx_n + r * gh_n)
    h_t = (1 - z) * n + z * h_(t-1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

mat = np.asmatrix

BUGS = {
    "dr_reads_gx_n": "wrong_value",                 # dr = dan * gx_n for dan * gh_n
    "dz_reversed": "wrong_sign",                    # dz = dh * (n - h_prev)
    "dh_prev_z_path_dropped": "term_dropped",       # dh_prev = dgh * Wh.T only: z * dh left out
    "dz_tanh_grad": "derivative_wrong_function",    # 1 - z^2 for the sigmoid update gate
    "dn_at_preact": "derivative_wrong_point",       # 1 - a_n^2 on the pre-activation
    "dn_one_minus_n": "derivative_miswritten",      # 1 - n for 1 - n^2
    "dbh_from_dgx": "wrong_value",                  # dbh += dgx.sum(0): the n block without r
    "dWh_h_new": "wrong_time",                      # dWh += h_t.T * dgh
    "loop_from_T_minus_2": "loop_skips_step",       # range(T - 2, -1, -1)
    "dh_next_dropped": "carry_dropped",             # dh = dh[t] only
    "dWx_over_NT": "reduction_scaled",              # dWx / float(N * T)
    "stack_z_r_n": "gate_order",                    # np.hstack([daz, dar, dan]) for r, z, n
    "dWh_assigned": "carry_overwrites",             # dWh = h_prev.T * dgh
    "keras_convention": "forward_mistake",          # h_t = z * n + (1 - z) * h_prev, backward consistent
}
TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "dr_reads_gx_n": "r",
    "dz_reversed": "z",
    "dh_prev_z_path_dropped": "",
    "dz_tanh_grad": "z",
    "dn_at_preact": "rn",
    "dn_one_minus_n": "rn",
    "dbh_from_dgx": "n",
    "dWh_h_new": "",
    "loop_from_T_minus_2": "",
    "dh_next_dropped": "",
    "dWx_over_NT": "",
    "stack_z_r_n": "rz",
    "dWh_assigned": "",
    "keras_convention": "",
}


def sigmoid(m):
    return 1.0 / (1.0 + np.exp(-m))


def gru_forward(x, h0, Wx, Wh, bx, bh, bug=None):
    """x (T, N, D), h0 (N, H) -> h (T, N, H) ndarray, cache."""
    Wx, Wh, bx, bh = mat(Wx), mat(Wh), mat(bx), mat(bh)
    H = Wh.shape[0]
    h = mat(h0)
    out = np.zeros((x.shape[0], x.shape[1], H), dtype=x.dtype)
    cache = []
    for t in range(x.shape[0]):
        xt = mat(x[t])
        gx, gh = xt * Wx + bx, h * Wh + bh
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        an = gx[:, 2 * H:] + np.multiply(r, gh[:, 2 * H:])
        n = np.tanh(an)
        if bug == "keras_convention":
            h_new = np.multiply(z, n) + np.multiply(1 - z, h)
        else:
            h_new = np.multiply(1 - z, n) + np.multiply(z, h)
        cache.append((xt, h, r, z, n, an, gx, gh, h_new))
        h = h_new
        out[t] = h.A
    return out, (cache, Wx, Wh)


def gru_backward(dh, cache, bug=None):
    """dh (T, N, H) -> dx (T, N, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), dbx, dbh (3H,)."""
    steps, Wx, Wh = cache
    T, N, H = dh.shape
    dx = np.zeros((T, N, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh = mat(np.zeros((1, 3 * H), dtype=dh.dtype)), mat(np.zeros((1, 3 * H), dtype=dh.dtype))
    dh_next = mat(np.zeros((N, H), dtype=dh.dtype))
    start = T - 2 if bug == "loop_from_T_minus_2" else T - 1
    for t in range(start, -1, -1):
        xt, h_prev, r, z, n, an, gx, gh, h_t = steps[t]
        dht = mat(dh[t]) if bug == "dh_next_dropped" else mat(dh[t]) + dh_next
        if bug == "keras_convention":
            dn, dz = np.multiply(dht, z), np.multiply(dht, n - h_prev)
            dh_prev = np.multiply(dht, 1 - z)
        else:
            dn = np.multiply(dht, 1 - z)
            dz = np.multiply(dht, n - h_prev) if bug == "dz_reversed" else np.multiply(dht, h_prev - n)
            dh_prev = np.multiply(dht, z)
        if bug == "dn_at_preact":
            dan = np.multiply(dn, 1 - np.multiply(an, an))
        elif bug == "dn_one_minus_n":
            dan = np.multiply(dn, 1 - n)
        else:
            dan = np.multiply(dn, 1 - np.multiply(n, n))
        dr = np.multiply(dan, gx[:, 2 * H:] if bug == "dr_reads_gx_n" else gh[:, 2 * H:])
        dar = np.multiply(dr, np.multiply(r, 1 - r))
        if bug == "dz_tanh_grad":
            daz = np.multiply(dz, 1 - np.multiply(z, z))
        else:
            daz = np.multiply(dz, np.multiply(z, 1 - z))
        if bug == "stack_z_r_n":
            dgx = np.hstack([daz, dar, dan])
            dgh = np.hstack([daz, dar, np.multiply(dan, r)])
        else:
            dgx = np.hstack([dar, daz, dan])
            dgh = np.hstack([dar, daz, np.multiply(dan, r)])
        dWx += xt.T * dgx
        if bug == "dWh_assigned":
            dWh = h_prev.T * dgh
        else:
            dWh += (h_t if bug == "dWh_h_new" else h_prev).T * dgh
        dbx += dgx.sum(0)
        dbh += (dgx if bug == "dbh_from_dgx" else dgh).sum(0)
        dx[t] = (dgx * Wx.T).A
        if bug == "dh_prev_z_path_dropped":
            dh_next = dgh * Wh.T
        else:
            dh_next = dh_prev + dgh * Wh.T
    if bug == "dWx_over_NT":
        dWx = dWx / float(N * T)
    return dx, dh_next.A, dWx.A, dWh.A, dbx.A1, dbh.A1


def to_user(cell, p):
    return {"Wx": p["weight_ih"].T.copy(), "Wh": p["weight_hh"].T.copy(),
            "bx": np.array(p["bias_ih"]), "bh": np.array(p["bias_hh"])}


def to_canonical(cell, g, p):
    out = {}
    for u, q in (("dWx", "dweight_ih"), ("dWh", "dweight_hh")):
        if u in g:
            out[q] = g[u].T
    for u, q in (("dbx", "dbias_ih"), ("dbh", "dbias_hh")):
        if u in g:
            out[q] = g[u]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="mat_gru", cells=("gru",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(gru_forward, bug=bug), partial(gru_backward, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

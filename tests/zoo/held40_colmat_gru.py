"""A reset-before GRU (TF1 GRUCell's form) in column-vector np.matrix code, as in a 2016
course port: x (D, N, T), states (H, N), a ``parameters`` dict of Wz, Wr, Wc (H, H + D) on
np.vstack([h, x]) (the candidate on np.vstack([r * h, x])) and column biases (H, 1);
Python-2 habits kept: ``range(len(...))``, float() casts, ``.A`` at the boundary.

    z = sigmoid(Wz [h; x] + bz)   r = sigmoid(Wr [h; x] + br)   c = tanh(Wc [r * h; x] + bc)
    h_t = (1 - z) * c + z * h_(t-1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

mat = np.asmatrix

BUGS = {
    "dWc_on_plain_concat": "wrong_value",         # dWc += dac * concat.T: h where r * h was used
    "dh_prev_r_path_dropped": "term_dropped",     # the drh * r share of dh_prev left out
    "dr_with_h_t": "wrong_time",                  # dr = drh * h_t for drh * h_(t-1)
    "Wz_for_Wr": "wrong_weight",                  # dconcat = Wz.T * dar + Wz.T * daz
    "dr_no_sigmoid_grad": "derivative_missing",   # dar = dr
    "dc_tanh_grad_twice": "derivative_twice",     # (1 - c^2) on dc and again on dac
    "dz_one_minus_z": "derivative_miswritten",    # daz = dz * (1 - z)
    "loop_forward_in_time": "loop_direction",     # for t in range(len(xs))
    "truncated_3": "truncated_bptt",              # dh_next cut after 3 steps back
    "clip_by_norm": "gradient_clipped",           # dh_next rescaled to norm <= 0.1 every step
    "dx_subtracts": "wrong_sign",                 # dx = dconcat[H:] - dconcat_r[H:]
    "candidate_without_reset": "forward_mistake",  # c = tanh(Wc [h; x] + bc), backward consistent
    "biases_mean": "reduction_scaled",            # dbz, dbr, dbc += da.mean(1)
    "dh_prev_assigned": "carry_overwrites",       # dh_prev = np.multiply(drh, r) (= for +=)
}
TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "dWc_on_plain_concat": "n",
    "dh_prev_r_path_dropped": "",
    "dr_with_h_t": "r",
    "Wz_for_Wr": "",
    "dr_no_sigmoid_grad": "r",
    "dc_tanh_grad_twice": "rn",
    "dz_one_minus_z": "z",
    "loop_forward_in_time": "",
    "truncated_3": "",
    "clip_by_norm": "",
    "dx_subtracts": "",
    "candidate_without_reset": "",
    "biases_mean": "",
    "dh_prev_assigned": "",
}


def sigmoid(m):
    return 1.0 / (1.0 + np.exp(-m))


def gru_forward(x, h0, parameters, bug=None):
    """x (D, N, T), h0 (H, N) -> h (H, N, T) ndarray, caches."""
    Wz, Wr, Wc = mat(parameters["Wz"]), mat(parameters["Wr"]), mat(parameters["Wc"])
    bz, br, bc = mat(parameters["bz"]), mat(parameters["br"]), mat(parameters["bc"])
    T = x.shape[2]
    h = mat(h0)
    out = np.zeros((h.shape[0], h.shape[1], T), dtype=x.dtype)
    caches = []
    for t in range(T):
        xt = mat(x[:, :, t])
        concat = np.vstack([h, xt])
        z = sigmoid(Wz * concat + bz)
        r = sigmoid(Wr * concat + br)
        concat_r = concat if bug == "candidate_without_reset" else np.vstack([np.multiply(r, h), xt])
        c = np.tanh(Wc * concat_r + bc)
        h_new = np.multiply(1 - z, c) + np.multiply(z, h)
        caches.append({"concat": concat, "concat_r": concat_r, "h_prev": h, "z": z, "r": r, "c": c, "h": h_new})
        h = h_new
        out[:, :, t] = h.A
    return out, (caches, parameters)


def gru_backward(dh, caches, bug=None):
    """dh (H, N, T) -> {dx (D, N, T), dh0 (H, N), dWz, dWr, dWc, dbz, dbr, dbc} as ndarrays."""
    caches, parameters = caches
    Wz, Wr, Wc = mat(parameters["Wz"]), mat(parameters["Wr"]), mat(parameters["Wc"])
    H, N, T = dh.shape
    g = {k: np.zeros_like(mat(parameters[k])) for k in ("Wz", "Wr", "Wc", "bz", "br", "bc")}
    dx = np.zeros((Wz.shape[1] - H, N, T), dtype=dh.dtype)
    dh_next = mat(np.zeros((H, N), dtype=dh.dtype))
    order = range(len(caches)) if bug == "loop_forward_in_time" else range(len(caches) - 1, -1, -1)
    for t in order:
        s = caches[t]
        z, r, c, h_prev = s["z"], s["r"], s["c"], s["h_prev"]
        dht = mat(dh[:, :, t]) + dh_next
        dc = np.multiply(dht, 1 - z)
        dz = np.multiply(dht, h_prev - c)
        dh_prev = np.multiply(dht, z)
        if bug == "dc_tanh_grad_twice":
            dc = np.multiply(dc, 1 - np.multiply(c, c))
        dac = np.multiply(dc, 1 - np.multiply(c, c))
        g["Wc"] += dac * (s["concat"] if bug == "dWc_on_plain_concat" else s["concat_r"]).T
        dconcat_r = Wc.T * dac
        drh = dconcat_r[:H, :]
        if bug == "candidate_without_reset":
            dr = 0 * drh
            dh_prev += drh
        else:
            dr = np.multiply(drh, s["h"] if bug == "dr_with_h_t" else h_prev)
            if bug == "dh_prev_assigned":
                dh_prev = np.multiply(drh, r)
            elif bug != "dh_prev_r_path_dropped":
                dh_prev += np.multiply(drh, r)
        dar = dr if bug == "dr_no_sigmoid_grad" else np.multiply(dr, np.multiply(r, 1 - r))
        daz = np.multiply(dz, 1 - z) if bug == "dz_one_minus_z" else np.multiply(dz, np.multiply(z, 1 - z))
        g["Wr"] += dar * s["concat"].T
        g["Wz"] += daz * s["concat"].T
        for k, d in (("bz", daz), ("br", dar), ("bc", dac)):
            g[k] += d.mean(axis=1) if bug == "biases_mean" else d.sum(axis=1)
        dconcat = (Wz if bug == "Wz_for_Wr" else Wr).T * dar + Wz.T * daz
        dh_prev += dconcat[:H, :]
        if bug == "dx_subtracts":
            dx[:, :, t] = (dconcat[H:, :] - dconcat_r[H:, :]).A
        else:
            dx[:, :, t] = (dconcat[H:, :] + dconcat_r[H:, :]).A
        dh_next = dh_prev
        if bug == "truncated_3" and t <= T - 4:
            dh_next = mat(np.zeros((H, N), dtype=dh.dtype))
        if bug == "clip_by_norm":
            norm = float(np.sqrt(np.sum(np.multiply(dh_next, dh_next))))
            if norm > 0.1:
                dh_next = dh_next * (0.1 / norm)
    grads = {"d" + k: v.A for k, v in g.items()}
    grads.update(dx=dx, dh0=dh_next.A)
    return grads


def _split(a, H):
    return {"r": a[:H], "z": a[H:2 * H], "c": a[2 * H:]}                 # torch r, z, n


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    wh, wx, b = _split(p["weight_hh"], H), _split(p["weight_ih"], H), _split(p["bias_ih"] + p["bias_hh"], H)
    user = {"W" + k: np.hstack([wh[k], wx[k]]) for k in "zrc"}
    user.update({"b" + k: b[k][:, None] for k in "zrc"})
    return user


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all("dW" + k in g for k in "zrc"):
        out["dweight_hh"] = np.concatenate([g["dW" + k][:, :H] for k in "rzc"])
        out["dweight_ih"] = np.concatenate([g["dW" + k][:, H:] for k in "rzc"])
    if all("db" + k in g for k in "zrc"):
        out["dbias_ih"] = np.concatenate([g["db" + k][:, 0] for k in "rzc"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="colmat_gru", cells=("gru",), axes="DNT",
                               weights_as="dict", gate_order="zrc", gate_letters={"c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(gru_forward, bug=bug), partial(gru_backward, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": False})

"""A GRU (reset before the product, TF1 GRUCell's form) with all its weights in one dict of
(H, D + H + 1) matrices applied to the augmented vector [x, h, 1] (x first, the bias folded
in as the last column):

    v = [x_t, h, 1]    z = sigmoid(v @ Wz.T)    r = sigmoid(v @ Wr.T)
    u = [x_t, r * h, 1]    n = tanh(u @ Wn.T)    h_new = z * h + (1 - z) * n

x (N, T, D), h0 (N, H). Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dh_prev_misses_rh_path": "term_dropped",           # dh_prev = dh * z + dv_h: the drh * r term left out
    "dz_sign_swapped": "wrong_sign",                    # dz = dh * (n - h)
    "dn_uses_z": "wrong_value",                         # dn = dh * z (z read in place of 1 - z)
    "dr_from_new_h": "wrong_time",                      # dr = drh * h_new (this step's output for h_prev)
    "n_tanh_grad_missing": "derivative_missing",        # dan = dn
    "z_sigmoid_grad_at_r": "derivative_wrong_point",    # daz = dz * r * (1 - r)
    "grad_dict_z_r_swapped": "gate_order",              # {"dWz": dWr, "dWr": dWz} in the returned dict
    "dWz_assigned": "carry_overwrites",                 # dWz = daz.T @ v (= for +=)
    "r_sigmoid_grad_twice": "derivative_twice",         # dar = dr * r(1-r) * r(1-r)
    "forward_reset_after": "forward_mistake",           # n = tanh(x, 1 part + r * (h @ Wn_h.T)); backward consistent
    "dWn_batch_mean": "reduction_scaled",               # dWn += dan.T @ u / N
    "backward_loop_ascending": "loop_direction",        # for t in range(T) in the backward
    "dn_uses_z_and_no_tanh_grad": "unknown",            # two at once: z for 1 - z and tanh' missing
}

TOUCHES = {
    "dh_prev_misses_rh_path": "",
    "dz_sign_swapped": "z",
    "dn_uses_z": "rn",
    "dr_from_new_h": "r",
    "n_tanh_grad_missing": "rn",
    "z_sigmoid_grad_at_r": "z",
    "grad_dict_z_r_swapped": "rz",
    "dWz_assigned": "",
    "r_sigmoid_grad_twice": "r",
    "forward_reset_after": "",
    "dWn_batch_mean": "n",
    "backward_loop_ascending": "",
    "dn_uses_z_and_no_tanh_grad": "rn",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_forward(x, h0, weights, bug=None):
    Wz, Wr, Wn = weights["Wz"], weights["Wr"], weights["Wn"]
    N, T, D = x.shape
    H = h0.shape[1]
    ones = np.ones((N, 1), dtype=x.dtype)
    h, out, tape = h0, np.zeros((N, T, H), dtype=x.dtype), []
    for t in range(T):
        v = np.hstack([x[:, t], h, ones])
        z = sigmoid(v @ Wz.T)
        r = sigmoid(v @ Wr.T)
        if bug == "forward_reset_after":
            u = np.hstack([x[:, t], np.zeros_like(h), ones])
            a_hn = h @ Wn[:, D:D + H].T
            n = np.tanh(u @ Wn.T + r * a_hn)
        else:
            u = np.hstack([x[:, t], r * h, ones])
            a_hn = None
            n = np.tanh(u @ Wn.T)
        h_new = z * h + (1 - z) * n
        tape.append(dict(v=v, u=u, z=z, r=r, n=n, h=h, h_new=h_new, a_hn=a_hn))
        h = h_new
        out[:, t] = h
    return out, (tape, weights, D)


def gru_backward(dout, cache, bug=None):
    tape, weights, D = cache
    Wz, Wr, Wn = weights["Wz"], weights["Wr"], weights["Wn"]
    N, T, H = dout.shape
    dWz, dWr, dWn = np.zeros_like(Wz), np.zeros_like(Wr), np.zeros_like(Wn)
    dx = np.zeros((N, T, D), dtype=dout.dtype)
    dh_next = np.zeros((N, H), dtype=dout.dtype)
    for t in (range(T) if bug == "backward_loop_ascending" else reversed(range(T))):
        s = tape[t]
        z, r, n, h = s["z"], s["r"], s["n"], s["h"]
        dh = dout[:, t] + dh_next
        dz = dh * (n - h) if bug == "dz_sign_swapped" else dh * (h - n)
        dn = dh * z if bug in ("dn_uses_z", "dn_uses_z_and_no_tanh_grad") else dh * (1 - z)
        dan = dn if bug in ("n_tanh_grad_missing", "dn_uses_z_and_no_tanh_grad") else dn * (1 - n ** 2)
        if bug == "forward_reset_after":
            dr = dan * s["a_hn"]
            dWn[:, D:D + H] += (dan * r).T @ h
            dWn += dan.T @ s["u"]
            du = dan @ Wn
            d_hpath = (dan * r) @ Wn[:, D:D + H]
            drh_term = d_hpath
        else:
            du = dan @ Wn
            drh = du[:, D:D + H]
            dr = drh * (s["h_new"] if bug == "dr_from_new_h" else h)
            dWn += dan.T @ s["u"] / N if bug == "dWn_batch_mean" else dan.T @ s["u"]
            drh_term = 0 if bug == "dh_prev_misses_rh_path" else drh * r
        dar = dr * r * (1 - r)
        if bug == "r_sigmoid_grad_twice":
            dar = dar * r * (1 - r)
        daz = dz * r * (1 - r) if bug == "z_sigmoid_grad_at_r" else dz * z * (1 - z)
        dv = daz @ Wz + dar @ Wr
        if bug == "dWz_assigned":
            dWz = daz.T @ s["v"]
        else:
            dWz += daz.T @ s["v"]
        dWr += dar.T @ s["v"]
        dx[:, t] = dv[:, :D] + du[:, :D]
        dh_next = dh * z + drh_term + dv[:, D:D + H]
    if bug == "grad_dict_z_r_swapped":
        return {"dx": dx, "dh0": dh_next, "dWz": dWr, "dWr": dWz, "dWn": dWn}
    return {"dx": dx, "dh0": dh_next, "dWz": dWz, "dWr": dWr, "dWn": dWn}


BLOCK = {"r": 0, "z": 1, "n": 2}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for q in "zrn":
        k = slice(BLOCK[q] * H, (BLOCK[q] + 1) * H)
        out["W" + q] = np.concatenate([p["weight_ih"][k], p["weight_hh"][k], b[k][:, None]], axis=1)
    return out


def to_canonical(cell, g, p):
    if not all("dW" + q in g for q in "rzn"):
        return {}
    D = p["weight_ih"].shape[1]
    H = p["weight_hh"].shape[1]
    blocks = [g["dW" + q] for q in "rzn"]
    return {"dweight_ih": np.concatenate([m[:, :D] for m in blocks]),
            "dweight_hh": np.concatenate([m[:, D:D + H] for m in blocks]),
            "dbias_ih": np.concatenate([m[:, -1] for m in blocks])}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="augdict_gru", cells=("gru",), weights_as="dict",
                               gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, weights):
        return gru_forward(x, h0, weights, bug)

    def backward(dout, cache):
        return gru_backward(dout, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

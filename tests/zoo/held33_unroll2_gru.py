"""A time-major GRU (x (T, N, D)) with the reset gate applied before the recurrent product
(TF1 GRUCell, reset_after=False), nine arrays Wz, Wr, Wh (D, H), Uz, Ur, Uh (H, H), bz, br,
bh (H,), whose loop is unrolled by hand two steps at a time, with the odd step left over
handled on its own:

    while t + 1 < T: h1 = cell(x[t], h); h = cell(x[t + 1], h1); caches.append((c1, c2))
    if t < T: caches.append((cell(x[t], h)[1],))                  (T = 5: two pairs and one)
    cell: z = s(x Wz + h Uz + bz)   r = s(x Wr + h Ur + br)
          hh = tanh(x Wh + (r * h) Uh + bh)   h_new = z * h + (1 - z) * hh

The backward is unrolled the same way: for a pair, the second step back, then the first
with the carry the second gave. Thirty-third held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "leftover_step_skipped": "loop_skips_step",           # the odd last step (a 1-tuple) passed over in the backward
    "drh_through_Ur": "wrong_weight",                     # drh = dhh_a @ Ur.T (Ur for Uh)
    "dz_into_h_with_Uz": "weight_transposed",             # dh_prev += dz_a @ Uz (Uz not transposed)
    "dUr_other_way": "gradient_transposed",               # dUr += dr_a.T @ h: dUr written transposed
    "drh_from_dUh": "gradient_for_weight",                # drh = dhh_a @ dUh.T (the running gradient)
    "dr_no_sigmoid_grad": "derivative_missing",           # dr_a = dr
    "dr_sigmoid_grad_plus": "derivative_miswritten",      # dr * r * (1 + r): a + typed for the -
    "reset_path_into_h_dropped": "term_dropped",          # dh_prev without drh * r: the path through r * h left out
    "dr_with_new_h": "wrong_time",                        # dr = drh * h_new (h_t) for drh * h (h_(t-1))
    "dh_mean_over_time": "reduction_scaled",              # dh = dh / T first (the loss taken as a mean over time)
    "forward_reset_after": "forward_mistake",             # hh = tanh(x Wh + r * (h Uh) + bh) (torch's form); backward consistent
    "pair_inner_carry_lost": "carry_dropped",             # dh1 = dh[t]: inside a pair the carry from the second step not added
    "Uz_plain_and_dbr_over_N": "unknown",                 # two at once: dz_a @ Uz untransposed and dbr / N
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "leftover_step_skipped": "",
    "drh_through_Ur": "r",
    "dz_into_h_with_Uz": "",
    "dUr_other_way": "r",
    "drh_from_dUh": "r",
    "dr_no_sigmoid_grad": "r",
    "dr_sigmoid_grad_plus": "r",
    "reset_path_into_h_dropped": "",
    "dr_with_new_h": "r",
    "dh_mean_over_time": "",
    "forward_reset_after": "",
    "pair_inner_carry_lost": "",
    "Uz_plain_and_dbr_over_N": "r",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _cell(xt, h, P, bug):
    Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh = P
    z = sigmoid(xt @ Wz + h @ Uz + bz)
    r = sigmoid(xt @ Wr + h @ Ur + br)
    if bug == "forward_reset_after":
        hh = np.tanh(xt @ Wh + r * (h @ Uh) + bh)
    else:
        hh = np.tanh(xt @ Wh + (r * h) @ Uh + bh)
    h_new = z * h + (1 - z) * hh
    return h_new, (xt, h, z, r, hh, h_new)


def gru_forward(x, h0, P, bug=None):
    T = x.shape[0]
    hs, caches, h, t = [], [], h0, 0
    while t + 1 < T:
        h1, c1 = _cell(x[t], h, P, bug)
        h, c2 = _cell(x[t + 1], h1, P, bug)
        caches.append((c1, c2))
        hs += [h1, h]
        t += 2
    if t < T:
        h, c1 = _cell(x[t], h, P, bug)
        caches.append((c1,))
        hs.append(h)
    return np.stack(hs), (caches, P)


def _cell_back(dh_t, c, P, G, bug):
    """One step back; adds into the gradient dict G; returns (dx_t, dh_prev)."""
    Wz, Wr, Wh, Uz, Ur, Uh = P[:6]
    xt, h, z, r, hh, h_new = c
    dz, dhh, dh_prev = dh_t * (h - hh), dh_t * (1 - z), dh_t * z
    dhh_a = dhh * (1 - hh ** 2)
    G["dWh"] += xt.T @ dhh_a
    G["dbh"] += dhh_a.sum(axis=0)
    if bug == "forward_reset_after":
        hU = h @ Uh
        G["dUh"] += h.T @ (dhh_a * r)
        dr = dhh_a * hU
        dh_prev = dh_prev + (dhh_a * r) @ Uh.T
    else:
        G["dUh"] += (r * h).T @ dhh_a
        if bug == "drh_through_Ur":
            drh = dhh_a @ Ur.T
        elif bug == "drh_from_dUh":
            drh = dhh_a @ G["dUh"].T
        else:
            drh = dhh_a @ Uh.T
        dr = drh * (h_new if bug == "dr_with_new_h" else h)
        if bug != "reset_path_into_h_dropped":
            dh_prev = dh_prev + drh * r
    if bug == "dr_no_sigmoid_grad":
        dr_a = dr
    elif bug == "dr_sigmoid_grad_plus":
        dr_a = dr * r * (1 + r)
    else:
        dr_a = dr * r * (1 - r)
    dz_a = dz * z * (1 - z)
    G["dWz"] += xt.T @ dz_a
    G["dWr"] += xt.T @ dr_a
    G["dUz"] += h.T @ dz_a
    G["dUr"] += dr_a.T @ h if bug == "dUr_other_way" else h.T @ dr_a
    G["dbz"] += dz_a.sum(axis=0)
    G["dbr"] += dr_a.sum(axis=0)
    dx_t = dz_a @ Wz.T + dr_a @ Wr.T + dhh_a @ Wh.T
    Uz_back = Uz if bug in ("dz_into_h_with_Uz", "Uz_plain_and_dbr_over_N") else Uz.T
    dh_prev = dh_prev + dz_a @ Uz_back + dr_a @ Ur.T
    return dx_t, dh_prev


def gru_backward(dh, cache, bug=None):
    caches, P = cache
    T, N = dh.shape[:2]
    if bug == "dh_mean_over_time":
        dh = dh / T
    G = {k: np.zeros_like(w) for k, w in zip(("dWz", "dWr", "dWh", "dUz", "dUr", "dUh", "dbz", "dbr", "dbh"), P)}
    dx = np.zeros((T, N, P[0].shape[0]), dtype=dh.dtype)
    dcarry = np.zeros_like(dh[0])
    t = T
    for entry in reversed(caches):
        if len(entry) == 2:
            t -= 2
            dx[t + 1], dprev2 = _cell_back(dh[t + 1] + dcarry, entry[1], P, G, bug)
            dh1 = dh[t] if bug == "pair_inner_carry_lost" else dh[t] + dprev2
            dx[t], dcarry = _cell_back(dh1, entry[0], P, G, bug)
        else:
            t -= 1
            if bug == "leftover_step_skipped":
                continue
            dx[t], dcarry = _cell_back(dh[t] + dcarry, entry[0], P, G, bug)
    if bug == "Uz_plain_and_dbr_over_N":
        G["dbr"] /= N
    return (dx, dcarry) + tuple(G[k] for k in ("dWz", "dWr", "dWh", "dUz", "dUr", "dUh", "dbz", "dbr", "dbh"))


def to_user(cell, p):
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    b = p["bias_ih"] + p["bias_hh"]
    br, bz, bn = np.split(b, 3)
    return {"Wz": Wz.T, "Wr": Wr.T, "Wh": Wn.T, "Uz": Uz.T, "Ur": Ur.T, "Uh": Un.T, "bz": bz, "br": br, "bh": bn}


def to_canonical(cell, g, p):
    out = {}
    if all(k in g for k in ("dWr", "dWz", "dWh")):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWh"].T])
    if all(k in g for k in ("dUr", "dUz", "dUh")):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUh"].T])
    if all(k in g for k in ("dbr", "dbz", "dbh")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbh"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="unroll2_gru", cells=("gru",), axes="TND",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh):
        return gru_forward(x, h0, (Wz, Wr, Wh, Uz, Ur, Uh, bz, br, bh), bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

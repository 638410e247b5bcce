"""A time-major GRU (reset before the product) with nine separate arrays passed as
arguments, input weights (D, H) and recurrent weights (H, H) applied on the right, one bias
per gate, and a cache that is a list of tuples unpacked in the backward:

    r = sigmoid(x_t @ Wxr + h @ Whr + br)     z = sigmoid(x_t @ Wxz + h @ Whz + bz)
    n = tanh(x_t @ Wxh + (r * h) @ Whh + bh)  h_new = z * h + (1 - z) * n
    x (T, N, D), h0 (N, H) -> hs (T, N, H)

Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "Whh_not_transposed": "weight_transposed",          # drh = dan @ Whh (no .T)
    "dWhz_transposed": "gradient_transposed",           # dWhz += daz.T @ h
    "dWhh_with_h_not_rh": "wrong_value",                # dWhh += h.T @ dan (h read in place of r * h)
    "dh_prev_drops_drh_r": "term_dropped",              # dh_prev leaves out drh * r
    "z_sigmoid_grad_missing": "derivative_missing",     # daz = dz
    "n_grad_as_sigmoid": "derivative_wrong_function",   # dan = dn * n * (1 - n)
    "dz_with_h_new": "wrong_time",                      # dz = dh * (h_new - n)
    "dbz_assigned": "carry_overwrites",                 # dbz = daz.sum(0) (= for +=)
    "loop_from_T_minus_2": "loop_skips_step",           # for t in range(T - 2, -1, -1)
    "carry_norm_clipped": "gradient_clipped",           # dh_next rescaled to norm <= 1 each step
    "forward_n_ignores_r": "forward_mistake",           # n = tanh(x Wxh + h Whh + bh): r unused; consistent
    "returns_r_and_z_swapped": "gate_order",            # the r and z gradients returned in each other's places
    "z_grad_missing_and_dbz_assigned": "unknown",       # two at once
    "drh_through_Whr": "wrong_weight",                  # drh = dan @ Whr.T (r's recurrent matrix for Whh)
}

TOUCHES = {
    "Whh_not_transposed": "r",
    "dWhz_transposed": "z",
    "dWhh_with_h_not_rh": "n",
    "dh_prev_drops_drh_r": "",
    "z_sigmoid_grad_missing": "z",
    "n_grad_as_sigmoid": "rn",
    "dz_with_h_new": "z",
    "dbz_assigned": "",
    "loop_from_T_minus_2": "",
    "carry_norm_clipped": "",
    "forward_n_ignores_r": "",
    "returns_r_and_z_swapped": "rz",
    "z_grad_missing_and_dbz_assigned": "z",
    "drh_through_Whr": "r",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_forward(x, h0, Wxr, Whr, br, Wxz, Whz, bz, Wxh, Whh, bh, bug=None):
    T = x.shape[0]
    hs = np.zeros((T,) + h0.shape, dtype=x.dtype)
    cache = []
    h = h0
    for t in range(T):
        r = sigmoid(x[t] @ Wxr + h @ Whr + br)
        z = sigmoid(x[t] @ Wxz + h @ Whz + bz)
        rh = h if bug == "forward_n_ignores_r" else r * h
        n = np.tanh(x[t] @ Wxh + rh @ Whh + bh)
        h_new = z * h + (1 - z) * n
        cache.append((x[t], h, r, z, n, h_new))
        h = hs[t] = h_new
    return hs, (cache, (Wxr, Whr, Wxz, Whz, Wxh, Whh))


def gru_backward(dhs, cache, bug=None):
    steps, (Wxr, Whr, Wxz, Whz, Wxh, Whh) = cache
    T, N, H = dhs.shape
    g = {k: np.zeros_like(v) for k, v in (("Wxr", Wxr), ("Whr", Whr), ("Wxz", Wxz), ("Whz", Whz),
                                          ("Wxh", Wxh), ("Whh", Whh))}
    g.update(br=np.zeros(H, dtype=dhs.dtype), bz=np.zeros(H, dtype=dhs.dtype), bh=np.zeros(H, dtype=dhs.dtype))
    dx = np.zeros((T, N, Wxr.shape[0]), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    start = T - 2 if bug == "loop_from_T_minus_2" else T - 1
    for t in range(start, -1, -1):
        x_t, h, r, z, n, h_new = steps[t]
        dh = dhs[t] + dh_next
        dz = dh * ((h_new if bug == "dz_with_h_new" else h) - n)
        dn = dh * (1 - z)
        dan = dn * n * (1 - n) if bug == "n_grad_as_sigmoid" else dn * (1 - n ** 2)
        rh = h if bug == "forward_n_ignores_r" else r * h
        drh = dan @ (Whh if bug == "Whh_not_transposed" else Whr.T if bug == "drh_through_Whr" else Whh.T)
        dr = np.zeros_like(r) if bug == "forward_n_ignores_r" else drh * h
        dar = dr * r * (1 - r)
        daz = dz if bug in ("z_sigmoid_grad_missing", "z_grad_missing_and_dbz_assigned") else dz * z * (1 - z)
        g["Wxr"] += x_t.T @ dar
        g["Whr"] += h.T @ dar
        g["br"] += dar.sum(axis=0)
        g["Wxz"] += x_t.T @ daz
        g["Whz"] += daz.T @ h if bug == "dWhz_transposed" else h.T @ daz
        if bug in ("dbz_assigned", "z_grad_missing_and_dbz_assigned"):
            g["bz"] = daz.sum(axis=0)
        else:
            g["bz"] += daz.sum(axis=0)
        g["Wxh"] += x_t.T @ dan
        g["Whh"] += (h if bug == "dWhh_with_h_not_rh" else rh).T @ dan
        g["bh"] += dan.sum(axis=0)
        dx[t] = dar @ Wxr.T + daz @ Wxz.T + dan @ Wxh.T
        if bug == "forward_n_ignores_r":
            via_n = drh
        else:
            via_n = 0 if bug == "dh_prev_drops_drh_r" else drh * r
        dh_next = dh * z + dar @ Whr.T + daz @ Whz.T + via_n
        if bug == "carry_norm_clipped":
            norm = np.linalg.norm(dh_next)
            if norm > 1.0:
                dh_next = dh_next / norm
    if bug == "returns_r_and_z_swapped":
        return (dx, dh_next, g["Wxz"], g["Whz"], g["bz"], g["Wxr"], g["Whr"], g["br"], g["Wxh"], g["Whh"], g["bh"])
    return (dx, dh_next, g["Wxr"], g["Whr"], g["br"], g["Wxz"], g["Whz"], g["bz"], g["Wxh"], g["Whh"], g["bh"])


NAMES = {"r": ("Wxr", "Whr", "br"), "z": ("Wxz", "Whz", "bz"), "n": ("Wxh", "Whh", "bh")}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for k, q in enumerate("rzn"):
        s = slice(k * H, (k + 1) * H)
        wx, wh, bb = NAMES[q]
        out[wx], out[wh], out[bb] = p["weight_ih"][s].T, p["weight_hh"][s].T, b[s]
    return out


def to_canonical(cell, g, p):
    out = {}
    names = [NAMES[q] for q in "rzn"]
    if all("d" + n[0] in g for n in names):
        out["dweight_ih"] = np.concatenate([g["d" + n[0]].T for n in names])
    if all("d" + n[1] in g for n in names):
        out["dweight_hh"] = np.concatenate([g["d" + n[1]].T for n in names])
    if all("d" + n[2] in g for n in names):
        out["dbias_ih"] = np.concatenate([g["d" + n[2]] for n in names])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="timemajor_pergate_gru", cells=("gru",), axes="TND",
                               gate_order="rzh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxr, Whr, br, Wxz, Whz, bz, Wxh, Whh, bh):
        return gru_forward(x, h0, Wxr, Whr, br, Wxz, Whz, bz, Wxh, Whh, bh, bug)

    def backward(dhs, cache):
        return gru_backward(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

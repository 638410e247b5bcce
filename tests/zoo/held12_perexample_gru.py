"""A GRU written one example at a time in the style of Karpathy's min-char-rnn: column
vectors, dicts keyed by time with ``hs[-1] = h0`` so that ``hs[t - 1]`` works at t = 0,
Karpathy's weight names, and a reset-before candidate:

    z = s(Wxz x + Whz h + bz)      r = s(Wxr x + Whr h + br)
    hhat = tanh(Wxh x + Whh (r * h) + bh)
    h_t = z * h_(t-1) + (1 - z) * hhat

x (T, D, 1), h0 (H, 1) -> h (T, H, 1). forward(x, h0, Wxz, Whz, bz, Wxr, Whr, br, Wxh, Whh, bh)
-> (h, cache); backward -> (dx, dh0, dWxz, dWhz, dbz, ...). Twelfth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dr_times_r": "wrong_value",                          # dr = drh * rs[t] for drh * hs[t - 1]
    "dh_prev_without_r": "term_dropped",                  # dhnext gets drh (the factor r of r * h left out)
    "dWhz_outer_transposed": "gradient_transposed",       # dWhz += hs[t - 1] @ dzraw.T (square): written transposed
    "z_sigmoid_grad_twice": "derivative_twice",           # dzraw = dz * z (1 - z) * z (1 - z)
    "dhnext_typo": "carry_dropped",                       # dh_next = ... while the loop reads dhnext
    "range_from_1": "loop_skips_step",                    # reversed(range(1, len(xs)))
    "t_ascending": "loop_direction",                      # for t in range(len(xs)) in the backward
    "wildml_truncate_2": "truncated_bptt",                # each dh[t] taken back at most 2 steps (bptt_truncate)
    "karpathy_clip": "gradient_clipped",                  # np.clip(dparam, -0.5, 0.5, out=dparam) for every dparam
    "dparams_over_T": "reduction_scaled",                 # every weight gradient / len(xs)
    "z_with_tanh_forward": "forward_mistake",             # z = tanh(...); backward consistent (1 - z ** 2)
    "hhat_grad_squared_wrong": "derivative_miswritten",   # (1 - hhat) ** 2 for 1 - hhat ** 2
    "Whr_for_Whz": "wrong_weight",                        # dhnext += Whr.T @ dzraw (the reset's recurrent weight)
    "hhat_squared_in_place": "inplace_corruption",        # hh = hhats[t]; hh **= 2; then dz reads hhats[t]
    "dr_times_r_and_db_over_T": "unknown",                # two at once: dr = drh * r and the biases / T
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dr_times_r": "r",
    "dh_prev_without_r": "",
    "dWhz_outer_transposed": "z",
    "z_sigmoid_grad_twice": "z",
    "dhnext_typo": "",
    "range_from_1": "",
    "t_ascending": "",
    "wildml_truncate_2": "",
    "karpathy_clip": "zn",
    "dparams_over_T": "",
    "z_with_tanh_forward": "",
    "hhat_grad_squared_wrong": "rn",
    "Whr_for_Whz": "",
    "hhat_squared_in_place": "z",
    "dr_times_r_and_db_over_T": "r",
}

WEIGHTS = ("Wxz", "Whz", "bz", "Wxr", "Whr", "br", "Wxh", "Whh", "bh")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, Wxz, Whz, bz, Wxr, Whr, br, Wxh, Whh, bh, bug=None):
    xs, hs, zs, rs, hhats = {}, {}, {}, {}, {}
    hs[-1] = np.copy(h0)
    for t in range(len(x)):
        xs[t] = x[t]
        zraw = np.dot(Wxz, xs[t]) + np.dot(Whz, hs[t - 1]) + bz
        zs[t] = np.tanh(zraw) if bug == "z_with_tanh_forward" else sigmoid(zraw)
        rs[t] = sigmoid(np.dot(Wxr, xs[t]) + np.dot(Whr, hs[t - 1]) + br)
        hhats[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, rs[t] * hs[t - 1]) + bh)
        hs[t] = zs[t] * hs[t - 1] + (1 - zs[t]) * hhats[t]
    h = np.stack([hs[t] for t in range(len(x))])
    return h, (xs, hs, zs, rs, hhats, (Wxz, Whz, bz, Wxr, Whr, br, Wxh, Whh, bh))


def step_back(t, dh, c, d, bug):
    """Push dh (the total gradient of hs[t]) back through step t; add into d; return dh_(t-1), dx_t."""
    xs, hs, zs, rs, hhats, (Wxz, Whz, bz, Wxr, Whr, br, Wxh, Whh, bh) = c
    if bug == "hhat_squared_in_place":
        hh = hhats[t]
        hh **= 2
        dhraw = (1 - hh) * dh * (1 - zs[t])
    elif bug == "hhat_grad_squared_wrong":
        dhraw = (1 - hhats[t]) ** 2 * dh * (1 - zs[t])
    else:
        dhraw = (1 - hhats[t] * hhats[t]) * dh * (1 - zs[t])
    dz = dh * (hs[t - 1] - hhats[t])
    if bug == "z_with_tanh_forward":
        dzraw = dz * (1 - zs[t] * zs[t])
    elif bug == "z_sigmoid_grad_twice":
        dzraw = dz * zs[t] * (1 - zs[t]) * zs[t] * (1 - zs[t])
    else:
        dzraw = dz * zs[t] * (1 - zs[t])
    drh = np.dot(Whh.T, dhraw)
    dr = drh * (rs[t] if bug in ("dr_times_r", "dr_times_r_and_db_over_T") else hs[t - 1])
    drraw = dr * rs[t] * (1 - rs[t])
    d["dWxh"] += np.dot(dhraw, xs[t].T)
    d["dWhh"] += np.dot(dhraw, (rs[t] * hs[t - 1]).T)
    d["dbh"] += dhraw
    d["dWxz"] += np.dot(dzraw, xs[t].T)
    d["dWhz"] += np.dot(hs[t - 1], dzraw.T) if bug == "dWhz_outer_transposed" else np.dot(dzraw, hs[t - 1].T)
    d["dbz"] += dzraw
    d["dWxr"] += np.dot(drraw, xs[t].T)
    d["dWhr"] += np.dot(drraw, hs[t - 1].T)
    d["dbr"] += drraw
    dx = np.dot(Wxz.T, dzraw) + np.dot(Wxr.T, drraw) + np.dot(Wxh.T, dhraw)
    dprev = dh * zs[t] + (drh if bug == "dh_prev_without_r" else drh * rs[t])
    dprev = dprev + np.dot((Whr if bug == "Whr_for_Whz" else Whz).T, dzraw) + np.dot(Whr.T, drraw)
    return dprev, dx


def backward(dh, cache, bug=None):
    xs, hs = cache[0], cache[1]
    d = {"d" + k: np.zeros_like(v) for k, v in zip(WEIGHTS, cache[5])}
    T = len(xs)
    dx = np.zeros((T,) + xs[0].shape, dtype=dh.dtype)
    if bug == "wildml_truncate_2":
        dh0 = np.zeros_like(hs[-1])
        for t in reversed(range(T)):
            delta = dh[t]
            for s in range(t, max(-1, t - 3), -1):        # this step and at most 2 before it
                delta, dx_s = step_back(s, delta, cache, d, bug)
                dx[s] += dx_s
                if s == 0:
                    dh0 += delta
    else:
        dhnext = np.zeros_like(hs[-1])
        order = range(T) if bug == "t_ascending" else reversed(range(1 if bug == "range_from_1" else 0, T))
        for t in order:
            dh_t = dh[t] + dhnext
            if bug == "dhnext_typo":
                dh_next, dx[t] = step_back(t, dh_t, cache, d, bug)    # noqa: F841 (never read)
            else:
                dhnext, dx[t] = step_back(t, dh_t, cache, d, bug)
        dh0 = dhnext
    if bug == "karpathy_clip":
        for dparam in d.values():
            np.clip(dparam, -0.5, 0.5, out=dparam)
    if bug == "dparams_over_T":
        d = {k: v / T for k, v in d.items()}
    if bug == "dr_times_r_and_db_over_T":
        for k in ("dbz", "dbr", "dbh"):
            d[k] = d[k] / T
    return (dx, dh0) + tuple(d["d" + k] for k in WEIGHTS)


BLOCK = {"z": 1, "r": 0, "h": 2}                          # canonical blocks r, z, n


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for g, k in (("z", 1), ("r", 0), ("h", 2)):
        rows = slice(k * H, (k + 1) * H)
        user.update({f"Wx{g}": p["weight_ih"][rows], f"Wh{g}": p["weight_hh"][rows], f"b{g}": b[rows, None]})
    return user


def to_canonical(cell, g, p):
    out = {}
    for mine, theirs in (("dWx", "dweight_ih"), ("dWh", "dweight_hh"), ("db", "dbias_ih")):
        if all(f"{mine}{k}" in g for k in "zrh"):
            stacked = np.concatenate([g[f"{mine}{k}"] for k in "rzh"])
            out[theirs] = stacked[:, 0] if mine == "db" else stacked
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="per_example_gru", cells=("gru",), per_example=True,
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxz, Whz, bz, Wxr, Whr, br, Wxh, Whh, bh):
        return forward(x, h0, Wxz, Whz, bz, Wxr, Whr, br, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

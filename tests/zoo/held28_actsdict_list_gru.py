"""A GRU (reset after the recurrent product, torch's form) as a chatbot answer writes it with
a params list [Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)] in torch's block order r, z, n:
every activation kept in a dict of preallocated (N, T, H) arrays
(``acts = {k: np.empty(...) for k in "r z n hn h".split()}``), each step's input and
recurrent projections cut with ``np.hsplit``, the gradients in a dict comprehension
``{k: np.zeros_like(v) ...}`` returned with ``*g.values()``, and h_(t-1) for every step
made once by shifting the cached states. Twenty-eighth held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dn_sigmoid_grad": "derivative_wrong_function",      # dn = d * (1 - z) * n * (1 - n)
    "dr_hn_without_bias": "term_dropped",                # dr = dn * (hp @ Wh_n) * r * (1 - r): b_hn left out of hn
    "dhg_n_times_z": "wrong_value",                      # dhg's n block dn * z (z read for r)
    "dz_sigmoid_grad_twice": "derivative_twice",         # dz = d * (hp - n) * z * (1 - z); hstack's z block dz * z * (1 - z)
    "dn_sign": "wrong_sign",                             # dn = d * (z - 1) * (1 - n**2)
    "dx_from_dWx": "gradient_for_weight",                # dx[:, t] = dxg @ g["Wx"].T
    "dnext_without_direct_path": "term_dropped",         # dnext = dhg @ Wh.T: the d * z path left out
    "dWh_assigned": "carry_overwrites",                  # g["Wh"] = hp.T @ dhg (= for +=)
    "hprev_negative_index": "wrong_time",                # hp = A["h"][:, t - 1]: at t = 0 that is h_(T-1), not h0
    "dbx_batch_mean": "reduction_scaled",                # g["bx"] += dxg.mean(0)
    "loop_forward": "loop_direction",                    # for t in range(T)
    "n_squared_in_place": "inplace_corruption",          # tn = A["n"][:, t]; tn **= 2: the cached n squared before dz reads it
    "clip_d_per_step": "gradient_clipped",               # d = np.clip(dh[:, t] + dnext, -0.05, 0.05)
    "forward_bhn_outside_r": "forward_mistake",          # n = tanh(xn + r * (hp @ Wh_n) + bh_n); backward consistent
    "dz_flipped_and_dWh_assigned": "unknown",            # two mistakes: dz from (n - hp) and g["Wh"] = ... (= for +=)
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "dn_sigmoid_grad": "rn",
    "dr_hn_without_bias": "r",
    "dhg_n_times_z": "n",
    "dz_sigmoid_grad_twice": "z",
    "dn_sign": "rn",
    "dx_from_dWx": "",
    "dnext_without_direct_path": "",
    "dWh_assigned": "",
    "hprev_negative_index": "",
    "dbx_batch_mean": "",
    "loop_forward": "",
    "n_squared_in_place": "z",
    "clip_d_per_step": "",
    "forward_bhn_outside_r": "",
    "dz_flipped_and_dWh_assigned": "z",
}

sigm = lambda a: 1 / (1 + np.exp(-a))                    # noqa: E731


def forward(x, h0, params, bug=None):
    Wx, Wh, bx, bh = params
    N, T, _ = x.shape
    H = h0.shape[1]
    acts = {k: np.empty((N, T, H), x.dtype) for k in "r z n hn h".split()}
    h = h0
    for t in range(T):
        xr, xz, xn = np.hsplit(x[:, t] @ Wx + bx, 3)
        hr, hz, hn = np.hsplit(h @ Wh + bh, 3)
        r, z = sigm(xr + hr), sigm(xz + hz)
        if bug == "forward_bhn_outside_r":
            hn = h @ Wh[:, 2 * H:]
            n = np.tanh(xn + r * hn + bh[2 * H:])
        else:
            n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        for k, v in zip("r z n hn h".split(), (r, z, n, hn, h)):
            acts[k][:, t] = v
    return acts["h"].copy(), (x, h0, params, acts)


def backward(dh, cache, bug=None):
    x, h0, (Wx, Wh, bx, bh), A = cache
    N, T, H = dh.shape
    hprev = np.concatenate([h0[:, None], A["h"][:, :-1]], axis=1)
    g = {k: np.zeros_like(v) for k, v in zip(("Wx", "Wh", "bx", "bh"), (Wx, Wh, bx, bh))}
    dx = np.zeros_like(x)
    dnext = np.zeros_like(h0)
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        r, z, hn = A["r"][:, t], A["z"][:, t], A["hn"][:, t]
        hp = A["h"][:, t - 1] if bug == "hprev_negative_index" else hprev[:, t]
        d = dh[:, t] + dnext
        if bug == "clip_d_per_step":
            d = np.clip(d, -0.05, 0.05)
        if bug == "n_squared_in_place":
            tn = A["n"][:, t]
            tn **= 2
            dn = d * (1 - z) * (1 - tn)
        else:
            n = A["n"][:, t]
            if bug == "dn_sigmoid_grad":
                dn = d * (1 - z) * n * (1 - n)
            elif bug == "dn_sign":
                dn = d * (z - 1) * (1 - n ** 2)
            else:
                dn = d * (1 - z) * (1 - n ** 2)
        n = A["n"][:, t]
        dz = d * ((n - hp) if bug == "dz_flipped_and_dWh_assigned" else (hp - n)) * z * (1 - z)
        hn_for_r = hp @ Wh[:, 2 * H:] if bug == "dr_hn_without_bias" else hn
        dr = dn * hn_for_r * r * (1 - r)
        dz_blk = dz * z * (1 - z) if bug == "dz_sigmoid_grad_twice" else dz
        dxg = np.hstack([dr, dz_blk, dn])
        dhg = np.hstack([dr, dz_blk, dn * (z if bug == "dhg_n_times_z" else r)])
        g["Wx"] += x[:, t].T @ dxg
        if bug in ("dWh_assigned", "dz_flipped_and_dWh_assigned"):
            g["Wh"] = hp.T @ dhg
        else:
            g["Wh"] += hp.T @ dhg
        g["bx"] += dxg.mean(0) if bug == "dbx_batch_mean" else dxg.sum(0)
        if bug == "forward_bhn_outside_r":
            g["bh"] += np.hstack([dr, dz, dn]).sum(0)
        else:
            g["bh"] += dhg.sum(0)
        dx[:, t] = dxg @ (g["Wx"].T if bug == "dx_from_dWx" else Wx.T)
        dnext = dhg @ Wh.T if bug == "dnext_without_direct_path" else d * z + dhg @ Wh.T
    return (dx, dnext, *g.values())


def to_user(cell, p):
    return {"Wx": p["weight_ih"].T, "Wh": p["weight_hh"].T, "bx": p["bias_ih"], "bh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dWx": ("dweight_ih", True), "dWh": ("dweight_hh", True), "dbx": ("dbias_ih", False),
             "dbh": ("dbias_hh", False)}
    return {q: (grads[k].T if transpose else grads[k]) for k, (q, transpose) in names.items() if k in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="actsdict_list_gru", cells=("gru",), weights_as="list",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, params):
        return forward(x, h0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

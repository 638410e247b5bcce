"""A reset-after GRU (torch's equations and weight names, one matrix per gate) written
min-char-rnn style on np.matrix column vectors, one example at a time: x (T, D, 1), h (H, 1),
``*`` the matrix product, np.multiply the elementwise one, states in dicts keyed by t with
hs[-1] the initial state, ``.A`` on the way out.

    r = sigmoid(Wir x + bir + Whr h + bhr)    z = sigmoid(Wiz x + biz + Whz h + bhz)
    n = tanh(Win x + bin + r * (Whn h + bhn))  h_t = (1 - z) * n + z * h_(t-1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

mat = np.asmatrix
NAMES = ("Wir", "Wiz", "Win", "Whr", "Whz", "Whn", "bir", "biz", "bin", "bhr", "bhz", "bhn")

BUGS = {
    "dWhz_outer_flipped": "gradient_transposed",  # dWhz += hs[t - 1] * daz.T
    "dr_dot_product": "derivative_miswritten",    # np.multiply(dr, r.T * (1 - r)): a (1, 1) matrix
    "Whn_not_T": "weight_transposed",             # dh_prev += Whn * dhn
    "Whz_for_Whr": "wrong_weight",                # dh_prev += Whz.T * dar
    "dr_without_bhn": "term_dropped",             # dr = dan * (Whn * h_prev): bhn left out
    "n_view_squared": "inplace_corruption",       # na = n.A; na **= 2 before dz reads n
    "dz_with_h_t": "wrong_time",                  # dz = dh * (h_t - n)
    "dbhn_without_r": "wrong_value",              # dbhn += dan for dan * r
    "skip_step_0": "loop_skips_step",             # range(len(xs) - 1, 0, -1)
    "dhnext_forgotten": "carry_dropped",          # dh = dhs[t]
    "dWin_over_T": "reduction_scaled",            # dWin / float(len(xs))
    "dn_sign": "wrong_sign",                      # dn = dh * (z - 1)
    "dn_sigmoid_grad": "derivative_wrong_function",  # n (1 - n) for the tanh candidate
    "dx_from_dWiz": "gradient_for_weight",        # dxs[t] uses dWiz.T * daz
}
TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "dWhz_outer_flipped": "z",
    "dr_dot_product": "r",
    "Whn_not_T": "",
    "Whz_for_Whr": "",
    "dr_without_bhn": "r",
    "n_view_squared": "z",
    "dz_with_h_t": "z",
    "dbhn_without_r": "n",
    "skip_step_0": "",
    "dhnext_forgotten": "",
    "dWin_over_T": "",
    "dn_sign": "rn",
    "dn_sigmoid_grad": "rn",
    "dx_from_dWiz": "",
}


def sigmoid(m):
    return 1.0 / (1.0 + np.exp(-m))


def forward(inputs, hprev, *weights):
    """inputs (T, D, 1), hprev (H, 1) -> hs (T, H, 1) ndarray, cache."""
    P = dict(zip(NAMES, [mat(w) for w in weights]))
    xs, hs, r, z, n, hn = {}, {-1: mat(np.copy(hprev))}, {}, {}, {}, {}
    for t in range(len(inputs)):
        xs[t] = mat(inputs[t])
        r[t] = sigmoid(P["Wir"] * xs[t] + P["bir"] + P["Whr"] * hs[t - 1] + P["bhr"])
        z[t] = sigmoid(P["Wiz"] * xs[t] + P["biz"] + P["Whz"] * hs[t - 1] + P["bhz"])
        hn[t] = P["Whn"] * hs[t - 1] + P["bhn"]
        n[t] = np.tanh(P["Win"] * xs[t] + P["bin"] + np.multiply(r[t], hn[t]))
        hs[t] = np.multiply(1 - z[t], n[t]) + np.multiply(z[t], hs[t - 1])
    return np.array([hs[t].A for t in range(len(inputs))]), (xs, hs, r, z, n, hn, P)


def backward(dhs, cache, bug=None):
    """dhs (T, H, 1) -> dxs (T, D, 1), dh0 (H, 1), then the gradients of NAMES in order."""
    xs, hs, r, z, n, hn, P = cache
    G = {k: np.zeros_like(P[k]) for k in NAMES}
    dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dhs.dtype)
    dhnext = mat(np.zeros_like(hs[-1]))
    stop = 0 if bug == "skip_step_0" else -1
    for t in range(len(xs) - 1, stop, -1):
        dh = mat(dhs[t]) if bug == "dhnext_forgotten" else mat(dhs[t]) + dhnext
        h_prev = hs[t - 1]
        if bug == "n_view_squared":
            na = n[t].A
            na **= 2
            dan = np.multiply(np.multiply(dh, 1 - z[t]), 1 - n[t])
        elif bug == "dn_sigmoid_grad":
            dan = np.multiply(np.multiply(dh, 1 - z[t]), np.multiply(n[t], 1 - n[t]))
        elif bug == "dn_sign":
            dan = np.multiply(np.multiply(dh, z[t] - 1), 1 - np.multiply(n[t], n[t]))
        else:
            dan = np.multiply(np.multiply(dh, 1 - z[t]), 1 - np.multiply(n[t], n[t]))
        dz = np.multiply(dh, (hs[t] if bug == "dz_with_h_t" else h_prev) - n[t])
        daz = np.multiply(dz, np.multiply(z[t], 1 - z[t]))
        hn_t = P["Whn"] * h_prev if bug == "dr_without_bhn" else hn[t]
        dr = np.multiply(dan, hn_t)
        if bug == "dr_dot_product":
            dar = np.multiply(dr, r[t].T * (1 - r[t]))
        else:
            dar = np.multiply(dr, np.multiply(r[t], 1 - r[t]))
        dhn = np.multiply(dan, r[t])
        G["Wir"] += dar * xs[t].T
        G["Wiz"] += daz * xs[t].T
        G["Win"] += dan * xs[t].T
        G["Whr"] += dar * h_prev.T
        G["Whz"] += h_prev * daz.T if bug == "dWhz_outer_flipped" else daz * h_prev.T
        G["Whn"] += dhn * h_prev.T
        G["bir"] += dar
        G["biz"] += daz
        G["bin"] += dan
        G["bhr"] += dar
        G["bhz"] += daz
        G["bhn"] += dan if bug == "dbhn_without_r" else dhn
        Wiz = G["Wiz"] if bug == "dx_from_dWiz" else P["Wiz"]
        dxs[t] = (P["Wir"].T * dar + Wiz.T * daz + P["Win"].T * dan).A
        dh_prev = np.multiply(dh, z[t])
        dh_prev += (P["Whz"] if bug == "Whz_for_Whr" else P["Whr"]).T * dar
        dh_prev += P["Whz"].T * daz
        dh_prev += (P["Whn"] if bug == "Whn_not_T" else P["Whn"].T) * dhn
        dhnext = dh_prev
    if bug == "dWin_over_T":
        G["Win"] = G["Win"] / float(len(xs))
    return (dxs, dhnext.A) + tuple(G[k].A for k in NAMES)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    parts = {}
    for pre, key in (("Wi", "weight_ih"), ("Wh", "weight_hh"), ("bi", "bias_ih"), ("bh", "bias_hh")):
        for j, g in enumerate("rzn"):
            block = np.array(p[key][j * H:(j + 1) * H])
            parts[pre + g] = block[:, None] if pre[0] == "b" else block
    return {k: parts[k] for k in NAMES}


def to_canonical(cell, g, p):
    out = {}
    for pre, key in (("dWi", "dweight_ih"), ("dWh", "dweight_hh"), ("dbi", "dbias_ih"), ("dbh", "dbias_hh")):
        if all(pre + q in g for q in "rzn"):
            blocks = [g[pre + q] for q in "rzn"]
            out[key] = np.concatenate([b[:, 0] for b in blocks] if pre.startswith("db") else blocks)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="perex_gru", cells=("gru",), per_example=True)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return forward, partial(backward, bug=bug), {"cell": "gru", "layout": LAYOUT, "reset_after": True}

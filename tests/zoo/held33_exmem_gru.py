"""A GRU that keeps a memory per example: a list of dicts, one per example, each holding
that example's 1-D states and gates over time, filled by a loop over the examples outside
the loop over time (torch's reset-after form, weights in a dict by gate):

    mem[n] = {"h": [h0[n]], "z": [], "r": [], "n": [], "x": []}
    z = s(x Wxz + h Whz + bz)    r = s(x Wxr + h Whr + br)
    hn = h Whn + bhn             n = tanh(x Wxn + bxn + r * hn)
    h = (1 - z) * n + z * h      mem[n]["h"] grows to T + 1 entries (h_t at index t + 1)

x (N, T, D); Wx* (D, H), Wh* (H, H), bz = b_iz + b_hz, br = b_ir + b_hr, bxn = b_in,
bhn = b_hn. The backward walks each example back on its own, recomputes hn, adds the
weight gradients with np.outer and returns a dict of gradients in the user's names.
Thirty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "hn_recomputed_without_bhn": "term_dropped",          # hn = h_prev @ Whn in the backward: + bhn left out
    "dr_reads_n_for_hn": "wrong_value",                   # dr = dan * n_t (the candidate) for dan * hn
    "carry_never_added": "carry_dropped",                 # g = dh[n, t]: the carry from t + 1 dropped
    "daz_tanh_grad": "derivative_wrong_function",         # daz = dz * (1 - z ** 2)
    "dn_tanh_grad_twice": "derivative_twice",             # dn = g * (1 - z) * (1 - n**2), and (1 - n**2) again for dan
    "h_list_index_plus_one": "wrong_time",                # h[t + 1] (h_t) for h[t] (h_(t-1)) in the recurrent weight gradients
    "z_r_keys_swapped": "gate_order",                     # the returned dict has dWxz/dWxr, dWhz/dWhr, dbz/dbr swapped
    "grads_over_examples": "reduction_scaled",            # every weight gradient / N at the end (a mean over examples)
    "dr_aliases_dan": "inplace_corruption",               # dr = dan; dr *= hn: dhn = dan * r then reads dan * hn
    "bz_added_twice": "forward_mistake",                  # z = s(x Wxz + bz + h Whz + bz); dbz += 2 * daz consistent
    "dn_sign": "wrong_sign",                              # dn = g * (z - 1)
    "dx_through_dWxn": "gradient_for_weight",             # dx = ... + dWxn @ dan (the running gradient)
    "bptt_window_three": "truncated_bptt",                # the carry zeroed once 3 steps are walked back
    "dh_prev_r_through_Whz": "wrong_weight",              # dh_prev = ... + Whz @ dar (Whz for Whr)
    "dbhn_no_r_and_dWhz_T": "unknown",                    # two at once: dbhn += dan (no r) and dWhz transposed
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "hn_recomputed_without_bhn": "r",
    "dr_reads_n_for_hn": "r",
    "carry_never_added": "",
    "daz_tanh_grad": "z",
    "dn_tanh_grad_twice": "rn",
    "h_list_index_plus_one": "",
    "z_r_keys_swapped": "rz",
    "grads_over_examples": "",
    "dr_aliases_dan": "n",
    "bz_added_twice": "",
    "dn_sign": "rn",
    "dx_through_dWxn": "",
    "bptt_window_three": "",
    "dh_prev_r_through_Whz": "",
    "dbhn_no_r_and_dWhz_T": "zn",
}

NAMES = ("Wxz", "Wxr", "Wxn", "Whz", "Whr", "Whn", "bz", "br", "bxn", "bhn")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, W, bug=None):
    N, T, _ = x.shape
    mem = []
    out = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    for n in range(N):
        m = {"h": [h0[n]], "z": [], "r": [], "n": [], "x": []}
        for t in range(T):
            xt, h = x[n, t], m["h"][-1]
            bz = 2 * W["bz"] if bug == "bz_added_twice" else W["bz"]
            z = sigmoid(xt @ W["Wxz"] + h @ W["Whz"] + bz)
            r = sigmoid(xt @ W["Wxr"] + h @ W["Whr"] + W["br"])
            cand = np.tanh(xt @ W["Wxn"] + W["bxn"] + r * (h @ W["Whn"] + W["bhn"]))
            h = (1 - z) * cand + z * h
            for key, val in (("z", z), ("r", r), ("n", cand), ("x", xt), ("h", h)):
                m[key].append(val)
            out[n, t] = h
        mem.append(m)
    return out, (mem, W)


def _step(g, m, t, W, G, bug):
    """One step of one example back: adds into G, returns (dx_t, dh_prev)."""
    z, r, cand, xt, h_prev = m["z"][t], m["r"][t], m["n"][t], m["x"][t], m["h"][t]
    h_w = m["h"][t + 1] if bug == "h_list_index_plus_one" else h_prev
    hn = h_prev @ W["Whn"] if bug == "hn_recomputed_without_bhn" else h_prev @ W["Whn"] + W["bhn"]
    dn = g * (z - 1) if bug == "dn_sign" else g * (1 - z)
    if bug == "dn_tanh_grad_twice":
        dn = dn * (1 - cand ** 2)
    dz = g * (h_prev - cand)
    dan = dn * (1 - cand ** 2)
    if bug == "dr_aliases_dan":
        dr = dan
        dr *= hn
    else:
        dr = dan * (cand if bug == "dr_reads_n_for_hn" else hn)
    dhn = dan * r
    dar = dr * r * (1 - r)
    daz = dz * (1 - z ** 2) if bug == "daz_tanh_grad" else dz * z * (1 - z)
    for w, d in (("z", daz), ("r", dar), ("n", dan)):
        G["dWx" + w] += np.outer(xt, d)
    G["dWhz"] += np.outer(daz, h_w) if bug == "dbhn_no_r_and_dWhz_T" else np.outer(h_w, daz)
    G["dWhr"] += np.outer(h_w, dar)
    G["dWhn"] += np.outer(h_w, dhn)
    G["dbz"] += 2 * daz if bug == "bz_added_twice" else daz
    G["dbr"] += dar
    G["dbxn"] += dan
    G["dbhn"] += dan if bug == "dbhn_no_r_and_dWhz_T" else dhn
    Wxn = G["dWxn"] if bug == "dx_through_dWxn" else W["Wxn"]
    dx_t = W["Wxz"] @ daz + W["Wxr"] @ dar + Wxn @ dan
    W_r = W["Whz"] if bug == "dh_prev_r_through_Whz" else W["Whr"]
    return dx_t, g * z + W["Whz"] @ daz + W_r @ dar + W["Whn"] @ dhn


def backward(dh, cache, bug=None):
    mem, W = cache
    N, T, H = dh.shape
    G = {"d" + k: np.zeros_like(W[k]) for k in NAMES}
    dx = np.zeros((N, T, W["Wxz"].shape[0]), dtype=dh.dtype)
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    for n, m in enumerate(mem):
        carry = np.zeros(H, dtype=dh.dtype)
        for t in reversed(range(T)):
            if bug == "bptt_window_three" and T - t > 3:
                carry = np.zeros(H, dtype=dh.dtype)
            g = dh[n, t] if bug == "carry_never_added" else dh[n, t] + carry
            dx[n, t], carry = _step(g, m, t, W, G, bug)
        dh0[n] = carry
    if bug == "grads_over_examples":
        for k in G:
            G[k] /= N
    if bug == "z_r_keys_swapped":
        G = {k.replace("z", "#").replace("r", "z").replace("#", "r") if k[-1] in "zr" else k: v
             for k, v in G.items()}
    return dict(G, dx=dx, dh0=dh0)


def to_user(cell, p):
    (Wxr, Wxz, Wxn), (Whr, Whz, Whn) = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    bir, biz, bin_ = np.split(p["bias_ih"], 3)
    bhr, bhz, bhn = np.split(p["bias_hh"], 3)
    return {"Wxz": Wxz.T, "Wxr": Wxr.T, "Wxn": Wxn.T, "Whz": Whz.T, "Whr": Whr.T, "Whn": Whn.T,
            "bz": biz + bhz, "br": bir + bhr, "bxn": bin_, "bhn": bhn}


def to_canonical(cell, g, p):
    out = {}
    for q, names in (("dweight_ih", ("dWxr", "dWxz", "dWxn")), ("dweight_hh", ("dWhr", "dWhz", "dWhn"))):
        if all(k in g for k in names):
            out[q] = np.concatenate([g[k].T for k in names])
    if all(k in g for k in ("dbr", "dbz", "dbxn", "dbhn")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbxn"]])
        out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g["dbhn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="exmem_gru", cells=("gru",), weights_as="dict",
                               gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, W):
        return forward(x, h0, W, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

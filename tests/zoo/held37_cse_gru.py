"""A GRU (torch's reset-after candidate, bhn inside the reset) with one matrix per gate
in (in, out) orientation, whose step backward is sympy's ``cse`` of the expanded
pre-activation gradients, pasted as printed.

    z = sig(x Wz + h Uz + bz),  r = sig(x Wr + h Ur + br),  hn = h Un + bhn
    n = tanh(x Wn + bn + r*hn),  h' = (1 - z) n + z h = n - n z + h z
    >>> cse([expand(e) for e in (da_n, da_z, da_r, dhn)])      # d: all of dL/dh'

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "x2_term_missing": "derivative_miswritten",  # x2 = d - x0 - d*x1: the + x0*x1 of the expansion lost
    "x4_all_signs": "wrong_sign",                # x4 = -h*x0 + d*h*x3 + n*x0 - d*n*x3
    "x6_index_off": "derivative_missing",        # x6 = r*x2 - r**2*x2: hn left out of dr
    "x7_reads_z": "wrong_value",                 # x7 = z*x2
    "Un_untransposed": "weight_transposed",      # x7 @ Un in dh_prev
    "Ur_for_Uz": "wrong_weight",                 # x4 @ Ur.T in dh_prev
    "hn_without_bhn": "term_dropped",            # hn recomputed as h @ Un in the backward
    "direct_x0_dropped": "term_dropped",         # dh_prev = x4 @ Uz.T + ...: x0 left out
    "dUz_h_new": "wrong_time",                   # h'.T @ x4
    "dUn_transposed": "gradient_transposed",     # x7.T @ h
    "dh_next_dropped": "carry_dropped",          # d = dh[:, t]
    "loop_skips_last": "loop_skips_step",        # range(T - 2, -1, -1)
    "dW_over_N": "reduction_scaled",             # dWz, dWr, dWn / N
    "forward_other_convention": "forward_mistake",   # h' = z n + (1 - z) h, cse redone for it
}
TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "x2_term_missing": "rn",
    "x4_all_signs": "z",
    "x6_index_off": "r",
    "x7_reads_z": "n",
    "Un_untransposed": "",
    "Ur_for_Uz": "",
    "hn_without_bhn": "r",
    "direct_x0_dropped": "",
    "dUz_h_new": "z",
    "dUn_transposed": "n",
    "dh_next_dropped": "",
    "loop_skips_last": "",
    "dW_over_N": "",
    "forward_other_convention": "",
}


def sig(v):
    return 1/(1 + np.exp(-v))


def forward(x, h0, Wz, Wr, Wn, Uz, Ur, Un, bz, br, bn, bhn, bug=None):
    T = x.shape[1]
    hs, steps = [h0], []
    for t in range(T):
        xt, h = x[:, t], hs[-1]
        z = sig(xt @ Wz + h @ Uz + bz)
        r = sig(xt @ Wr + h @ Ur + br)
        hn = h @ Un + bhn
        n = np.tanh(xt @ Wn + bn + r*hn)
        hs.append(z*n + (1 - z)*h if bug == "forward_other_convention" else n - n*z + h*z)
        steps.append((z, r, n, hn))
    return np.stack(hs[1:], axis=1), (x, hs, steps, (Wz, Wr, Wn, Uz, Ur, Un))


def backward(dh, cache, bug=None):
    x, hs, steps, (Wz, Wr, Wn, Uz, Ur, Un) = cache
    N, T, H = dh.shape
    g = {k: np.zeros_like(w) for k, w in (("dWz", Wz), ("dWr", Wr), ("dWn", Wn), ("dUz", Uz), ("dUr", Ur),
                                          ("dUn", Un))}
    g.update({k: np.zeros(H, dtype=dh.dtype) for k in ("dbz", "dbr", "dbn", "dbhn")})
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(hs[0])
    for t in (range(T - 2, -1, -1) if bug == "loop_skips_last" else range(T - 1, -1, -1)):
        z, r, n, hn = steps[t]
        h, xt = hs[t], x[:, t]
        if bug == "hn_without_bhn":
            hn = h @ Un
        d = dh[:, t] if bug == "dh_next_dropped" else dh[:, t] + dh_next
        # ---- pasted from sympy.cse ----
        x0 = d*z
        x1 = n**2
        x3 = z**2
        if bug == "forward_other_convention":
            x2 = x0 - x0*x1
            x4 = n*x0 - d*n*x3 - h*x0 + d*h*x3
            x0 = d - x0
        else:
            x2 = d - x0 - d*x1 if bug == "x2_term_missing" else d - x0 - d*x1 + x0*x1
            if bug == "x4_all_signs":
                x4 = -h*x0 + d*h*x3 + n*x0 - d*n*x3
            else:
                x4 = h*x0 - d*h*x3 - n*x0 + d*n*x3
        x5 = hn*x2
        x6 = r*x2 - r**2*x2 if bug == "x6_index_off" else r*x5 - r**2*x5
        x7 = (z if bug == "x7_reads_z" else r)*x2
        # -------------------------------
        dh_prev = (x4 @ (Ur if bug == "Ur_for_Uz" else Uz).T + x6 @ Ur.T
                   + x7 @ (Un if bug == "Un_untransposed" else Un.T))
        if bug != "direct_x0_dropped":
            dh_prev = dh_prev + x0
        dx[:, t] = x4 @ Wz.T + x6 @ Wr.T + x2 @ Wn.T
        g["dWz"] += xt.T @ x4
        g["dWr"] += xt.T @ x6
        g["dWn"] += xt.T @ x2
        g["dUz"] += (hs[t + 1] if bug == "dUz_h_new" else h).T @ x4
        g["dUr"] += h.T @ x6
        g["dUn"] += x7.T @ h if bug == "dUn_transposed" else h.T @ x7
        g["dbz"] += x4.sum(0)
        g["dbr"] += x6.sum(0)
        g["dbn"] += x2.sum(0)
        g["dbhn"] += x7.sum(0)
        dh_next = dh_prev
    if bug == "dW_over_N":
        for k in ("dWz", "dWr", "dWn"):
            g[k] = g[k] / N
    return (dx, dh_next) + tuple(g[k] for k in ("dWz", "dWr", "dWn", "dUz", "dUr", "dUn", "dbz", "dbr", "dbn",
                                                "dbhn"))


def to_user(cell, p):
    (Wr, Wz, Wn), (Ur, Uz, Un) = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    (bir, biz, bin_), (bhr, bhz, bhn) = np.split(p["bias_ih"], 3), np.split(p["bias_hh"], 3)
    return {"Wz": Wz.T, "Wr": Wr.T, "Wn": Wn.T, "Uz": Uz.T, "Ur": Ur.T, "Un": Un.T,
            "bz": biz + bhz, "br": bir + bhr, "bn": np.array(bin_), "bhn": np.array(bhn)}


def to_canonical(cell, g, p):
    out = {}
    if all(f"dW{q}" in g for q in "rzn"):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWn"].T])
    if all(f"dU{q}" in g for q in "rzn"):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUn"].T])
    if all(f"db{q}" in g for q in "rzn"):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbn"]])
        if "dbhn" in g:
            out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g["dbhn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cse_gru", cells=("gru",), axes="NTD")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), partial(backward, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

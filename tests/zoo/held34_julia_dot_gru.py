"""A GRU ported from a Julia script (``gru.jl``) that never used a framework: time-major
sequences as a vector of column-major (D, N) matrices (x (T, D, N)), states (H, N), one
matrix per gate in a NamedTuple ``p = (Wr=.., Wz=.., Wn=.., Ur=.., Uz=.., Un=.., br=..,
bz=.., bn=.., bhn=..)`` with (H, 1) bias columns, the candidate in the reset-after form
(the recurrent candidate bias bhn inside the reset product), h' = (1 - z) n + z h.

    r  = σ.(Wr*x .+ Ur*h .+ br);   z = σ.(Wz*x .+ Uz*h .+ bz)
    hn = Un*h .+ bhn;              n = tanh.(Wn*x .+ bn .+ r .* hn)
    h′ = @. (1 - z) * n + z * h

The port keeps Julia's habits: 1-based state vectors (``hs[1] = h0``, ``hs[t + 1]`` the
state after step t), broadcast dots turned into NumPy broadcasting, in-place ``.=`` and
``.+=`` on preallocated buffers written ``buf[...] = ..`` and ``buf += ..``, ``sum(.., dims=2)``
for the bias gradients and a NamedTuple of gradients out of the backward.

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "dh_aliases_dhnext": "inplace_corruption",          # dh = dhnext (no similar()): dhnext .= dh .* z clobbers dh
    "z_convention_flipped": "forward_mistake",          # h′ = z n + (1 - z) h, backward consistent with it
    "Un_without_adjoint": "weight_transposed",          # Un * dhn in the carry for Un' * dhn
    "Uz_for_Un": "wrong_weight",                        # Uz' * dhn in the carry
    "dUr_outer_reversed": "gradient_transposed",        # dUr .+= h * dr_pre'
    "dot_macro_square": "derivative_miswritten",        # @. dn * (1 - n)^2
    "dz_sigma_of_gate": "derivative_wrong_point",       # σ.(z) .* (1 .- σ.(z)) on the gate's output
    "hs_t_plus_1_in_dUz": "wrong_time",                 # dUz .+= dz_pre * hs[t + 1]': h_t for h_(t-1)
    "sum_without_dims": "unknown",                      # dbhn .+= sum(dhn): every entry the grand total
    "dbz_mean_dims2": "reduction_scaled",               # dbz .+= mean(dz_pre, dims=2)
    "dz_sign": "wrong_sign",                            # dz = dh .* (n .- h)
    "fill_dhnext_at_top": "carry_dropped",              # fill!(dhnext, 0) at the top of the loop body
    "direct_path_dropped": "term_dropped",              # dhnext .= Ur'*dr_pre .+ ..: dh .* z left out
    "dhn_without_r": "derivative_missing",              # dhn = dn_pre (the factor r left out)
    "dx_from_dWn": "gradient_for_weight",               # dWn' * dn_pre in dxs[t]
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dh_aliases_dhnext": "",
    "z_convention_flipped": "",
    "Un_without_adjoint": "",
    "Uz_for_Un": "",
    "dUr_outer_reversed": "r",
    "dot_macro_square": "rn",
    "dz_sigma_of_gate": "z",
    "hs_t_plus_1_in_dUz": "z",
    "sum_without_dims": "n",
    "dbz_mean_dims2": "z",
    "dz_sign": "z",
    "fill_dhnext_at_top": "",
    "direct_path_dropped": "",
    "dhn_without_r": "n",
    "dx_from_dWn": "",
}


def σ(x):
    return 1 / (1 + np.exp(-x))


def gru_forward(x, h0, p, bug=None):
    """x (T, D, N), h0 (H, N), p the NamedTuple -> h (T, H, N), cache."""
    T = x.shape[0]
    xs = [x[t] for t in range(T)]                        # xs::Vector{Matrix}
    hs = [None] * (T + 1)
    hs[0] = h0                                           # hs[1] = h0
    rs, zs, ns, hns = ([None] * T for _ in range(4))
    for t in range(1, T + 1):                            # for t in 1:T
        xt, h = xs[t - 1], hs[t - 1]
        r = σ(p["Wr"] @ xt + p["Ur"] @ h + p["br"])
        z = σ(p["Wz"] @ xt + p["Uz"] @ h + p["bz"])
        hn = p["Un"] @ h + p["bhn"]
        n = np.tanh(p["Wn"] @ xt + p["bn"] + r * hn)
        if bug == "z_convention_flipped":
            hs[t] = z * n + (1 - z) * h
        else:
            hs[t] = (1 - z) * n + z * h                  # @. (1 - z) * n + z * h
        rs[t - 1], zs[t - 1], ns[t - 1], hns[t - 1] = r, z, n, hn
    return np.stack(hs[1:]), (xs, hs, rs, zs, ns, hns, p)


def gru_backward(dH, cache, bug=None):
    """dH (T, H, N) -> (dx=, dh0=, dWr=, ..): the gradients as a NamedTuple (a dict here)."""
    xs, hs, rs, zs, ns, hns, p = cache
    T = len(xs)
    H, N = hs[0].shape
    g = {"d" + k: np.zeros_like(v) for k, v in p.items()}      # map(zero, p)
    dxs = [None] * T
    dhnext = np.zeros((H, N), dtype=dH.dtype)
    dh = dhnext if bug == "dh_aliases_dhnext" else np.zeros_like(dhnext)   # similar(dhnext)
    for t in range(T, 0, -1):                            # for t in T:-1:1
        if bug == "fill_dhnext_at_top":
            dhnext.fill(0)                               # fill!(dhnext, 0)
        xt, h = xs[t - 1], hs[t - 1]
        r, z, n, hn = rs[t - 1], zs[t - 1], ns[t - 1], hns[t - 1]
        dh[...] = dH[t - 1] + dhnext                     # dh .= dH[t] .+ dhnext
        if bug == "z_convention_flipped":
            dhnext[...] = dh * (1 - z)
        elif bug == "direct_path_dropped":
            dhnext[...] = 0
        else:
            dhnext[...] = dh * z                         # dhnext .= dh .* z
        if bug == "z_convention_flipped":
            dn, dz = dh * z, dh * (n - h)
        else:
            dn = dh * (1 - z)
            dz = dh * (n - h) if bug == "dz_sign" else dh * (h - n)
        dn_pre = dn * (1 - n) ** 2 if bug == "dot_macro_square" else dn * (1 - n ** 2)
        if bug == "dz_sigma_of_gate":
            dz_pre = dz * σ(z) * (1 - σ(z))
        else:
            dz_pre = dz * z * (1 - z)
        dhn = dn_pre if bug == "dhn_without_r" else dn_pre * r
        dr_pre = dn_pre * hn * r * (1 - r)
        g["dWr"] += dr_pre @ xt.T
        g["dUr"] += h @ dr_pre.T if bug == "dUr_outer_reversed" else dr_pre @ h.T
        g["dbr"] += dr_pre.sum(axis=1, keepdims=True)
        g["dWz"] += dz_pre @ xt.T
        g["dUz"] += dz_pre @ (hs[t] if bug == "hs_t_plus_1_in_dUz" else h).T
        if bug == "dbz_mean_dims2":
            g["dbz"] += dz_pre.mean(axis=1, keepdims=True)
        else:
            g["dbz"] += dz_pre.sum(axis=1, keepdims=True)
        g["dWn"] += dn_pre @ xt.T
        g["dbn"] += dn_pre.sum(axis=1, keepdims=True)
        g["dUn"] += dhn @ h.T
        if bug == "sum_without_dims":
            g["dbhn"] += dhn.sum()
        else:
            g["dbhn"] += dhn.sum(axis=1, keepdims=True)
        Wn = g["dWn"] if bug == "dx_from_dWn" else p["Wn"]
        dxs[t - 1] = p["Wr"].T @ dr_pre + p["Wz"].T @ dz_pre + Wn.T @ dn_pre
        if bug == "Un_without_adjoint":
            Un_t = p["Un"]
        elif bug == "Uz_for_Un":
            Un_t = p["Uz"].T
        else:
            Un_t = p["Un"].T
        dhnext += p["Ur"].T @ dr_pre + p["Uz"].T @ dz_pre + Un_t @ dhn
    return {"dx": np.stack(dxs), "dh0": dhnext.copy(), **g}


NAMES = ("Wr", "Wz", "Wn", "Ur", "Uz", "Un", "br", "bz", "bn", "bhn")


def to_user(cell, p):
    """Canonical torch GRU (rows r, z, n) -> the NamedTuple (H, 1) bias columns."""
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    bir, biz, bin_ = np.split(p["bias_ih"], 3)
    bhr, bhz, bhn = np.split(p["bias_hh"], 3)
    user = {"Wr": Wr, "Wz": Wz, "Wn": Wn, "Ur": Ur, "Uz": Uz, "Un": Un, "br": (bir + bhr)[:, None],
            "bz": (biz + bhz)[:, None], "bn": bin_[:, None], "bhn": bhn[:, None]}
    return {k: np.array(user[k]) for k in NAMES}


def to_canonical(cell, g, p):
    out = {}
    if all("d" + k in g for k in ("Wr", "Wz", "Wn")):
        out["dweight_ih"] = np.concatenate([g["dWr"], g["dWz"], g["dWn"]])
    if all("d" + k in g for k in ("Ur", "Uz", "Un")):
        out["dweight_hh"] = np.concatenate([g["dUr"], g["dUz"], g["dUn"]])
    if all("d" + k in g for k in ("br", "bz", "bn")):
        out["dbias_ih"] = np.concatenate([g["dbr"][:, 0], g["dbz"][:, 0], g["dbn"][:, 0]])
        if "dbhn" in g:
            out["dbias_hh"] = np.concatenate([g["dbr"][:, 0], g["dbz"][:, 0], g["dbhn"][:, 0]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="julia_gru", cells=("gru",), axes="TDN",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(gru_forward, bug=bug), partial(gru_backward, bug=bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": True})

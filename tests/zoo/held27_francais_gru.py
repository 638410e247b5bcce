"""A GRU as a French tutorial writes it, with French names and one cache tuple per step:
x (N, T, D), h0 (N, H); per gate an input matrix W_* (D, H), a recurrent matrix U_* (H, H)
and a bias b_* (H,) for the gates ``maj`` (mise à jour, z), ``rei`` (réinitialisation, r)
and ``cand`` (candidat, n), plus ``bU_cand`` (H,), the recurrent candidate bias that sits
inside r ⊙ (...) (torch's reset-after form):

    maj = σ(x W_maj + h U_maj + b_maj)     rei = σ(x W_rei + h U_rei + b_rei)
    cand = tanh(x W_cand + b_cand + rei ⊙ (h U_cand + bU_cand))
    h' = maj ⊙ h + (1 - maj) ⊙ cand

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

NOMS = ("W_maj", "U_maj", "b_maj", "W_rei", "U_rei", "b_rei", "W_cand", "U_cand", "b_cand", "bU_cand")

BUGS = {
    "drei_sans_biais": "term_dropped",                   # d_rei = d_acand * (h @ U_cand): bU_cand left out of (h U + bU)
    "sigmoide_rei_deux_fois": "derivative_twice",        # rei (1 - rei) applied to d_rei and again to d_arei
    "tanh_au_preactivation": "derivative_wrong_point",   # 1 - a_cand**2 (the pre-activation) for 1 - cand**2
    "dU_cand_transpose": "gradient_transposed",          # dU_cand += (d_hcand.T @ h) (written transposed)
    "W_rei_pour_maj": "wrong_weight",                    # dx += d_amaj @ W_rei.T (the maj term with rei's matrix)
    "dU_a_la_place_de_U": "gradient_for_weight",         # dh_prec += d_hcand @ grads["U_cand"].T
    "faute_de_frappe_suiv": "carry_dropped",             # dh_suiv = ... typed dh_suiv_ (the carry never read again)
    "saute_dernier": "loop_skips_step",                  # for t in list(reversed(range(T)))[1:]: the last step skipped
    "ecretage_par_pas": "gradient_clipped",              # d_acand = np.clip(d_acand, -0.02, 0.02) each step
    "dcand_avec_maj": "wrong_value",                     # d_cand = dh * maj (maj read for 1 - maj)
    "convention_inversee": "forward_mistake",            # h' = (1 - maj) h + maj cand in the forward; backward consistent
    "biais_moyenne": "reduction_scaled",                 # d b_maj, b_rei, b_cand = mean over the batch (np.mean)
    "amortissement": "unknown",                          # dh_suiv *= 0.5 ("amortissement", an arbitrary constant)
    "deux_erreurs": "unknown",                           # d_rei with bU_cand left out and dx without the cand term
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "drei_sans_biais": "r",
    "sigmoide_rei_deux_fois": "r",
    "tanh_au_preactivation": "rn",
    "dU_cand_transpose": "n",
    "W_rei_pour_maj": "",
    "dU_a_la_place_de_U": "",
    "faute_de_frappe_suiv": "",
    "saute_dernier": "",
    "ecretage_par_pas": "rn",
    "dcand_avec_maj": "rn",
    "convention_inversee": "",
    "biais_moyenne": "",
    "amortissement": "",
    "deux_erreurs": "r",
}


def sigmoide(v):
    return 1.0 / (1.0 + np.exp(-v))


def pas_avant(x, h, p, bug):
    maj = sigmoide(x @ p["W_maj"] + h @ p["U_maj"] + p["b_maj"])
    rei = sigmoide(x @ p["W_rei"] + h @ p["U_rei"] + p["b_rei"])
    hU = h @ p["U_cand"] + p["bU_cand"]
    a_cand = x @ p["W_cand"] + p["b_cand"] + rei * hU
    cand = np.tanh(a_cand)
    if bug == "convention_inversee":
        h_suiv = (1 - maj) * h + maj * cand
    else:
        h_suiv = maj * h + (1 - maj) * cand
    return h_suiv, (x, h, maj, rei, hU, a_cand, cand)


def pas_arriere(dh, cache, p, grads, bug):
    x, h, maj, rei, hU, a_cand, cand = cache
    if bug == "convention_inversee":
        d_maj, d_cand, dh_prec = dh * (cand - h), dh * maj, dh * (1 - maj)
    else:
        d_maj, d_cand, dh_prec = dh * (h - cand), dh * (1 - maj), dh * maj
    if bug == "dcand_avec_maj":
        d_cand = dh * maj
    if bug == "tanh_au_preactivation":
        d_acand = d_cand * (1 - a_cand ** 2)
    else:
        d_acand = d_cand * (1 - cand ** 2)
    if bug == "ecretage_par_pas":
        d_acand = np.clip(d_acand, -0.02, 0.02)
    d_rei = d_acand * (h @ p["U_cand"] if bug in ("drei_sans_biais", "deux_erreurs") else hU)
    d_hcand = d_acand * rei
    if bug == "sigmoide_rei_deux_fois":
        d_rei = d_rei * rei * (1 - rei)
    d_arei = d_rei * rei * (1 - rei)
    d_amaj = d_maj * maj * (1 - maj)
    for nom, d in (("maj", d_amaj), ("rei", d_arei), ("cand", d_acand)):
        grads["W_" + nom] += x.T @ d
        grads["b_" + nom] += d.mean(axis=0) if bug == "biais_moyenne" else d.sum(axis=0)
    grads["U_maj"] += h.T @ d_amaj
    grads["U_rei"] += h.T @ d_arei
    grads["U_cand"] += (d_hcand.T @ h) if bug == "dU_cand_transpose" else h.T @ d_hcand
    grads["bU_cand"] += d_hcand.sum(axis=0)
    dx = d_amaj @ (p["W_rei"] if bug == "W_rei_pour_maj" else p["W_maj"]).T + d_arei @ p["W_rei"].T
    if bug != "deux_erreurs":
        dx = dx + d_acand @ p["W_cand"].T
    U_c = grads["U_cand"] if bug == "dU_a_la_place_de_U" else p["U_cand"]
    dh_prec = dh_prec + d_amaj @ p["U_maj"].T + d_arei @ p["U_rei"].T + d_hcand @ U_c.T
    return dx, dh_prec


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def avant(x, h0, *poids):
        p = dict(zip(NOMS, poids))
        N, T, _ = x.shape
        sorties, caches, h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype), [], h0
        for t in range(T):
            h, c = pas_avant(x[:, t], h, p, bug)
            sorties[:, t] = h
            caches.append(c)
        return sorties, (caches, p)

    def arriere(dsorties, cache):
        caches, p = cache
        N, T, H = dsorties.shape
        grads = {k: np.zeros_like(v) for k, v in p.items()}
        dx = np.zeros((N, T, p["W_maj"].shape[0]), dtype=dsorties.dtype)
        dh_suiv = np.zeros((N, H), dtype=dsorties.dtype)
        temps = list(reversed(range(T)))
        if bug == "saute_dernier":
            temps = temps[1:]
        for t in temps:
            dx[:, t], dh_prec = pas_arriere(dsorties[:, t] + dh_suiv, caches[t], p, grads, bug)
            if bug == "faute_de_frappe_suiv":
                dh_suiv_ = dh_prec
            else:
                dh_suiv = dh_prec
            if bug == "amortissement":
                dh_suiv = dh_suiv * 0.5
        if bug == "faute_de_frappe_suiv":
            dh_suiv = dh_suiv_
        return (dx, dh_suiv) + tuple(grads[k] for k in NOMS)

    return avant, arriere, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blk = {"r": slice(0, H), "z": slice(H, 2 * H), "n": slice(2 * H, 3 * H)}
    out = {}
    for nom, gate in (("maj", "z"), ("rei", "r"), ("cand", "n")):
        out["W_" + nom] = p["weight_ih"][blk[gate]].T.copy()
        out["U_" + nom] = p["weight_hh"][blk[gate]].T.copy()
        out["b_" + nom] = p["bias_ih"][blk[gate]] + (p["bias_hh"][blk[gate]] if gate != "n" else 0)
    out["bU_cand"] = p["bias_hh"][blk["n"]].copy()
    return {k: out[k] for k in NOMS}


def to_canonical(cell, g, p):
    out = {}
    if all("dW_" + k in g for k in ("rei", "maj", "cand")):
        out["dweight_ih"] = np.concatenate([g["dW_" + k].T for k in ("rei", "maj", "cand")])
    if all("dU_" + k in g for k in ("rei", "maj", "cand")):
        out["dweight_hh"] = np.concatenate([g["dU_" + k].T for k in ("rei", "maj", "cand")])
    if all("db_" + k in g for k in ("rei", "maj", "cand")):
        out["dbias_ih"] = np.concatenate([g["db_" + k] for k in ("rei", "maj", "cand")])
        if "dbU_cand" in g:
            out["dbias_hh"] = np.concatenate([g["db_rei"], g["db_maj"], g["dbU_cand"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="francais_gru", cells=("gru",))

"""An LSTM as a Russian course writes it, with transliterated names: per-gate matrices in a
dict ``vesa`` (веса): W_vkhod, W_zabyt, W_kandidat, W_vykhod (D, H) on the input, U_* (H, H)
on the state, b_* (H,); gates vkhod (input, i), zabyt (forget, f), kandidat (g), vykhod
(output, o); x (N, T, D); c0 an argument; a forget bias ``SMESHCHENIE_ZABYT`` = 1.0 added
to zabyt at call time (TF's forget_bias); the per-step values in a list of dicts ``pamyat``:

    zabyt = sigmoid(x W_zabyt + h U_zabyt + b_zabyt + 1)      (and vkhod, vykhod alike)
    kandidat = tanh(x W_kandidat + h U_kandidat + b_kandidat)
    c = zabyt * c_prev + vkhod * kandidat       h = vykhod * tanh(c)

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

SMESHCHENIE_ZABYT = 1.0
GATES = {"vkhod": "i", "zabyt": "f", "kandidat": "g", "vykhod": "o"}

BUGS = {
    "d_vykhod_s_c": "wrong_value",                       # d_vykhod = dh * c (the cell state read for tanh(c))
    "dc_bez_dtanh": "derivative_missing",                # dc = dc_sled + dh * vykhod: tanh'(c) left out
    "d_zabyt_s_novym_c": "wrong_time",                   # d_zabyt = dc * c (c_t for c_(t-1))
    "bez_perenosa_c": "carry_dropped",                   # dc = dh * vykhod * (1 - tanh(c)**2): dc_sled never added
    "dc_prev_bez_zabyt": "term_dropped",                 # dc_sled = dc (the factor zabyt left out)
    "sigmoida_zabyt_ot_vkhod": "derivative_wrong_point", # da_zabyt = d_zabyt * vkhod * (1 - vkhod) (also a wrong_value)
    "zabyl_smeshchenie": "forget_bias",                  # the forward never adds SMESHCHENIE_ZABYT; backward unchanged
    "U_vkhod_vmesto_U_zabyt": "wrong_weight",            # dh_prev's zabyt term da_zabyt @ U_vkhod.T
    "dU_vmesto_U": "gradient_for_weight",                # dh_prev's vykhod term da_vykhod @ dU_vykhod.T
    "obrezka_tri_shaga": "truncated_bptt",               # both carries zeroed once three steps were walked back
    "c_prev_izmenen_na_meste": "inplace_corruption",     # c = c_prev; c *= zabyt; c += ...: the cached c_prev becomes c_t
    "srednee_po_vremeni": "reduction_scaled",            # every weight gradient / T ("srednee po vremeni")
    "c_vmesto_tanh_i_bez_vykhod": "unknown",             # d_vykhod = dh * c and dc = dc_sled + dh * (1 - tanh(c)**2)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "d_vykhod_s_c": "o",
    "dc_bez_dtanh": "ifg",
    "d_zabyt_s_novym_c": "f",
    "bez_perenosa_c": "",
    "dc_prev_bez_zabyt": "",
    "sigmoida_zabyt_ot_vkhod": "f",
    "zabyl_smeshchenie": "",
    "U_vkhod_vmesto_U_zabyt": "",
    "dU_vmesto_U": "",
    "obrezka_tri_shaga": "",
    "c_prev_izmenen_na_meste": "f",
    "srednee_po_vremeni": "",
    "c_vmesto_tanh_i_bez_vykhod": "",
}


def sigmoida(v):
    return 1.0 / (1.0 + np.exp(-v))


def vpered(x, h0, c0, vesa, bug=None):
    """x (N, T, D), h0, c0 (N, H) -> h (N, T, H), pamyat."""
    N, T, _ = x.shape
    h, c = h0, c0
    vykhody = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    pamyat = []
    smeshchenie = 0.0 if bug == "zabyl_smeshchenie" else SMESHCHENIE_ZABYT
    for t in range(T):
        xt = x[:, t]
        lin = {k: xt @ vesa["W_" + k] + h @ vesa["U_" + k] + vesa["b_" + k] for k in GATES}
        vkhod, vykhod = sigmoida(lin["vkhod"]), sigmoida(lin["vykhod"])
        zabyt = sigmoida(lin["zabyt"] + smeshchenie)
        kandidat = np.tanh(lin["kandidat"])
        c_prev = c
        if bug == "c_prev_izmenen_na_meste":
            c = c_prev
            c *= zabyt
            c += vkhod * kandidat
        else:
            c = zabyt * c_prev + vkhod * kandidat
        tanh_c = np.tanh(c)
        h_prev, h = h, vykhod * tanh_c
        pamyat.append(dict(x=xt, h_prev=h_prev, c_prev=c_prev, c=c, tanh_c=tanh_c, vkhod=vkhod, zabyt=zabyt,
                           kandidat=kandidat, vykhod=vykhod))
        vykhody[:, t] = h
    return vykhody, (pamyat, vesa)


def nazad(dh_vse, cache, bug=None):
    """dh_vse (N, T, H) -> dx, dh0, dc0, then the gradients of vesa in its order."""
    pamyat, vesa = cache
    N, T, H = dh_vse.shape
    grady = {k: np.zeros_like(v) for k, v in vesa.items()}
    dx = np.zeros((N, T, vesa["W_vkhod"].shape[0]), dtype=dh_vse.dtype)
    dh_sled = np.zeros((N, H), dtype=dh_vse.dtype)
    dc_sled = np.zeros((N, H), dtype=dh_vse.dtype)
    for t in reversed(range(T)):
        m = pamyat[t]
        dh = dh_vse[:, t] + dh_sled
        if bug in ("d_vykhod_s_c", "c_vmesto_tanh_i_bez_vykhod"):
            d_vykhod = dh * m["c"]
        else:
            d_vykhod = dh * m["tanh_c"]
        if bug == "dc_bez_dtanh":
            dc = dc_sled + dh * m["vykhod"]
        elif bug == "bez_perenosa_c":
            dc = dh * m["vykhod"] * (1 - m["tanh_c"] ** 2)
        elif bug == "c_vmesto_tanh_i_bez_vykhod":
            dc = dc_sled + dh * (1 - m["tanh_c"] ** 2)
        else:
            dc = dc_sled + dh * m["vykhod"] * (1 - m["tanh_c"] ** 2)
        d_zabyt = dc * (m["c"] if bug == "d_zabyt_s_novym_c" else m["c_prev"])
        d_vkhod = dc * m["kandidat"]
        d_kandidat = dc * m["vkhod"]
        dc_sled = dc if bug == "dc_prev_bez_zabyt" else dc * m["zabyt"]
        da = {"vkhod": d_vkhod * m["vkhod"] * (1 - m["vkhod"]),
              "zabyt": d_zabyt * m["zabyt"] * (1 - m["zabyt"]),
              "kandidat": d_kandidat * (1 - m["kandidat"] ** 2),
              "vykhod": d_vykhod * m["vykhod"] * (1 - m["vykhod"])}
        if bug == "sigmoida_zabyt_ot_vkhod":
            da["zabyt"] = d_zabyt * m["vkhod"] * (1 - m["vkhod"])
        dx_t = np.zeros_like(m["x"])
        dh_sled = np.zeros_like(dh)
        for k in GATES:
            grady["W_" + k] += m["x"].T @ da[k]
            grady["U_" + k] += m["h_prev"].T @ da[k]
            grady["b_" + k] += da[k].sum(axis=0)
            dx_t += da[k] @ vesa["W_" + k].T
            U = vesa["U_" + k]
            if bug == "U_vkhod_vmesto_U_zabyt" and k == "zabyt":
                U = vesa["U_vkhod"]
            if bug == "dU_vmesto_U" and k == "vykhod":
                U = grady["U_vykhod"]
            dh_sled += da[k] @ U.T
        dx[:, t] = dx_t
        if bug == "obrezka_tri_shaga" and T - t >= 3:
            dh_sled, dc_sled = np.zeros_like(dh_sled), np.zeros_like(dc_sled)
    if bug == "srednee_po_vremeni":
        grady = {k: v / T for k, v in grady.items()}
    return (dx, dh_sled, dc_sled) + tuple(grady[k] for k in vesa)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    vesa = {}
    for kind, src in (("W_", p["weight_ih"]), ("U_", p["weight_hh"])):
        for k, gate in GATES.items():
            j = "ifgo".index(gate)
            vesa[kind + k] = src[j * H:(j + 1) * H].T.copy()
    for k, gate in GATES.items():
        j = "ifgo".index(gate)
        vesa["b_" + k] = b[j * H:(j + 1) * H].copy()
    return vesa


def to_canonical(cell, g, p):
    out = {}
    for kind, name in (("dW_", "dweight_ih"), ("dU_", "dweight_hh")):
        if all(kind + k in g for k in GATES):
            out[name] = np.concatenate([g[kind + k].T for k in GATES])          # vkhod, zabyt, kandidat, vykhod = i, f, g, o
    if all("db_" + k in g for k in GATES):
        out["dbias_ih"] = np.concatenate([g["db_" + k] for k in GATES])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="russkiy_lstm", cells=("lstm",), weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, vesa):
        return vpered(x, h0, c0, vesa, bug)

    def backward(dh, cache):
        return nazad(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": SMESHCHENIE_ZABYT}

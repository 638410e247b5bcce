"""An LSTM on TF's kernel as a German lecture's exercise solution writes it: x (N, T, D),
h0, c0 (N, H), ``kern`` (D + H, 4H) on concat([x_t, h_(t-1)]), ``bias`` (4H,), columns in
TF's order i, j, f, o (Eingangstor, Kandidat, Vergessenstor, Ausgangstor), a forget bias
``VERGESSEN_BIAS`` = 1.0 added to the f pre-activation at call time. States in arrays
``H_zust``, ``C_zust`` (T + 1, N, H), index 0 the initial ones; gradients ``d_*``:

    z = [x_t, h] @ kern + bias      e, k, v, a = split(z, 4)     (i, j, f, o)
    c = sig(v + 1) * c_prev + sig(e) * tanh(k)      h = sig(a) * tanh(c)

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

VERGESSEN_BIAS = 1.0

BUGS = {
    "bias_abgezogen": "forget_bias",                     # sig(v - VERGESSEN_BIAS) in the forward; backward unchanged
    "split_wie_keras": "gate_order",                     # e, v, k, a = split(z, 4) (Keras' i, f, c, o) fwd and bwd alike
    "globale_norm_kappung": "gradient_clipped",          # d_kern scaled to norm 0.5 when larger (clip by global norm)
    "h_uebertrag_vergessen": "carry_dropped",            # dh = dH[:, t]: dh_next never added
    "tanh_ableitung_quadrat_falsch": "derivative_miswritten",  # (1 - tanh_c) ** 2 for 1 - tanh_c ** 2
    "vergessen_ohne_sigmoid_ableitung": "derivative_missing",  # dv = df (σ' of the forget gate left out)
    "df_mit_neuem_c": "wrong_time",                      # df = dc * C_zust[t + 1] (c_t for c_(t-1))
    "erster_schritt_fehlt": "loop_skips_step",           # if t == 0: break (step 0 never walked back)
    "dc_mit_f_statt_o": "wrong_value",                   # dc += dh * f * (1 - tanh_c**2) (f read for o)
    "dc_ohne_h_pfad": "term_dropped",                    # dc = dc_next: the dh * o * tanh' term left out
    "kandidat_sigmoid": "forward_mistake",               # the candidate sig(k) for tanh(k); backward consistent
    "bias_durch_NT": "reduction_scaled",                 # d_bias /= N * T ("Mittelwert")
    "df_neues_c_und_a_vorzeichen": "unknown",            # df with c_t and da = -do * o * (1 - o)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "bias_abgezogen": "",
    "split_wie_keras": "",
    "globale_norm_kappung": "",
    "h_uebertrag_vergessen": "",
    "tanh_ableitung_quadrat_falsch": "ifg",
    "vergessen_ohne_sigmoid_ableitung": "f",
    "df_mit_neuem_c": "f",
    "erster_schritt_fehlt": "",
    "dc_mit_f_statt_o": "ifg",
    "dc_ohne_h_pfad": "ifg",
    "kandidat_sigmoid": "",
    "bias_durch_NT": "",
    "df_neues_c_und_a_vorzeichen": "fo",
}


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    order = "ifjo" if bug == "split_wie_keras" else "ijfo"

    def vorwaerts(x, h0, c0, kern, bias):
        N, T, D = x.shape
        H = h0.shape[1]
        H_zust = np.zeros((T + 1, N, H), dtype=x.dtype)
        C_zust = np.zeros((T + 1, N, H), dtype=x.dtype)
        H_zust[0], C_zust[0] = h0, c0
        tore = []
        vb = -VERGESSEN_BIAS if bug == "bias_abgezogen" else VERGESSEN_BIAS
        for t in range(T):
            z = np.concatenate([x[:, t], H_zust[t]], axis=1) @ kern + bias
            teile = dict(zip(order, np.split(z, 4, axis=1)))
            e, v, a = sig(teile["i"]), sig(teile["f"] + vb), sig(teile["o"])
            k = sig(teile["j"]) if bug == "kandidat_sigmoid" else np.tanh(teile["j"])
            C_zust[t + 1] = v * C_zust[t] + e * k
            H_zust[t + 1] = a * np.tanh(C_zust[t + 1])
            tore.append((e, k, v, a))
        return np.transpose(H_zust[1:], (1, 0, 2)).copy(), (x, H_zust, C_zust, tore, kern)

    def rueckwaerts(dH, cache):
        x, H_zust, C_zust, tore, kern = cache
        N, T, D = x.shape
        H = H_zust.shape[2]
        d_kern, d_bias = np.zeros_like(kern), np.zeros(4 * H, dtype=dH.dtype)
        dx = np.zeros_like(x)
        dh_next, dc_next = np.zeros((N, H), dtype=dH.dtype), np.zeros((N, H), dtype=dH.dtype)
        for t in reversed(range(T)):
            if bug == "erster_schritt_fehlt" and t == 0:
                break
            e, k, v, a = tore[t]
            tanh_c = np.tanh(C_zust[t + 1])
            dh = dH[:, t] if bug == "h_uebertrag_vergessen" else dH[:, t] + dh_next
            da_ = dh * tanh_c
            if bug == "tanh_ableitung_quadrat_falsch":
                dc = dc_next + dh * a * (1 - tanh_c) ** 2
            elif bug == "dc_mit_f_statt_o":
                dc = dc_next + dh * v * (1 - tanh_c ** 2)
            elif bug == "dc_ohne_h_pfad":
                dc = dc_next
            else:
                dc = dc_next + dh * a * (1 - tanh_c ** 2)
            c_alt = C_zust[t + 1] if bug in ("df_mit_neuem_c", "df_neues_c_und_a_vorzeichen") else C_zust[t]
            de, dk, dv = dc * k, dc * e, dc * c_alt
            dc_next = dc * v
            gd = {"i": de * e * (1 - e),
                  "j": dk * k * (1 - k) if bug == "kandidat_sigmoid" else dk * (1 - k ** 2),
                  "f": dv if bug == "vergessen_ohne_sigmoid_ableitung" else dv * v * (1 - v),
                  "o": -da_ * a * (1 - a) if bug == "df_neues_c_und_a_vorzeichen" else da_ * a * (1 - a)}
            dz = np.concatenate([gd[q] for q in order], axis=1)
            xh = np.concatenate([x[:, t], H_zust[t]], axis=1)
            d_kern += xh.T @ dz
            d_bias += dz.sum(axis=0)
            dxh = dz @ kern.T
            dx[:, t] = dxh[:, :D]
            dh_next = dxh[:, D:]
        if bug == "globale_norm_kappung":
            norm = np.sqrt(np.sum(d_kern ** 2))
            if norm > 0.5:
                d_kern *= 0.5 / norm
        if bug == "bias_durch_NT":
            d_bias /= N * T
        return dx, dh_next, dc_next, d_kern, d_bias

    return vorwaerts, rueckwaerts, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": VERGESSEN_BIAS}

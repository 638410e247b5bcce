"""A GRU from Italian lecture notes, time-major: x (T, N, D), h0 (N, H); the weights a list
``pesi`` = [Wx (D, 3H), Wh (H, 3H), bx (3H,), bh (3H,)] (d2l's params idiom) with the
column blocks in the notes' order a, r, c (aggiornamento = z, reset = r, candidato = n), the
reset applied after the recurrent product (Keras's reset_after). The states ``stati``
(T + 1, N, H), stati[0] = h0, and one dict per step in ``memoria``:

    px = x_t Wx + bx     ph = h Wh + bh          (N, 3H) blocks a, r, c
    a = σ(px_a + ph_a)   r = σ(px_r + ph_r)   c = tanh(px_c + r ⊙ ph_c)
    h' = a ⊙ h + (1 - a) ⊙ c

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "blocchi_r_a_c": "gate_order",                       # dpx = [dr, da, dc]: r's and a's blocks swapped in the backward
    "segno_da": "wrong_sign",                            # da = dh * (c - h_prec)
    "sigmoide_scritta_male": "derivative_miswritten",    # σ'(a) written (1 - a) (the factor a forgotten)
    "dWh_con_h_nuovo": "wrong_time",                     # dWh += stati[t + 1].T @ dph (h_t for h_(t-1))
    "riporto_nello_slot_sbagliato": "carry_dropped",     # dh[t] += dh_prec after step t (the slot already used)
    "h_prec_modificato": "inplace_corruption",           # h = stati_h; h *= a; h += (1 - a) c: the cached h_(t-1) becomes h_t
    "dWh_per_dh_prec": "gradient_for_weight",            # dh_prec = ... + dph @ dWh.T
    "while_salta_zero": "loop_skips_step",               # while t > 0: step 0 never walked back
    "memoria_del_passo_prima": "wrong_time",             # the step's gates read from memoria[t - 1] (one step early)
    "media_su_NT": "reduction_scaled",                   # every weight gradient / (N * T) ("media")
    "candidato_senza_reset": "forward_mistake",          # c = tanh(px_c + ph_c) (no r); backward consistent
    "sigmoide_a_preattivazione": "derivative_wrong_point",  # σ'(a) from the pre-activation: pa * (1 - pa)
    "segno_e_senza_tanh": "unknown",                     # da with the wrong sign and dc without tanh'
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "blocchi_r_a_c": "rz",
    "segno_da": "z",
    "sigmoide_scritta_male": "z",
    "dWh_con_h_nuovo": "",
    "riporto_nello_slot_sbagliato": "",
    "h_prec_modificato": "",
    "dWh_per_dh_prec": "",
    "while_salta_zero": "",
    "memoria_del_passo_prima": "",
    "media_su_NT": "",
    "candidato_senza_reset": "",
    "sigmoide_a_preattivazione": "z",
    "segno_e_senza_tanh": "",
}


def sigma(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def avanti(x, h0, pesi):
        Wx, Wh, bx, bh = pesi
        T, N, _ = x.shape
        H = h0.shape[1]
        stati = [h0]
        uscita = np.zeros((T, N, H), dtype=x.dtype)
        memoria = []
        for t in range(T):
            h_prec = stati[t]
            px, ph = x[t] @ Wx + bx, h_prec @ Wh + bh
            pa = px[:, :H] + ph[:, :H]
            a = sigma(pa)
            r = sigma(px[:, H:2 * H] + ph[:, H:2 * H])
            if bug == "candidato_senza_reset":
                c = np.tanh(px[:, 2 * H:] + ph[:, 2 * H:])
            else:
                c = np.tanh(px[:, 2 * H:] + r * ph[:, 2 * H:])
            if bug == "h_prec_modificato":
                h = h_prec
                h *= a
                h += (1 - a) * c
            else:
                h = a * h_prec + (1 - a) * c
            uscita[t] = h
            stati.append(h)
            memoria.append({"x": x[t], "h_prec": h_prec, "pa": pa, "a": a, "r": r, "c": c, "ph_c": ph[:, 2 * H:]})
        return uscita, (memoria, stati, pesi)

    def indietro(dh, cache):
        memoria, stati, (Wx, Wh, bx, bh) = cache
        dh = dh.copy()
        T, N, H = dh.shape
        dWx, dWh, dbx, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(bx), np.zeros_like(bh)
        dx = np.zeros((T, N, Wx.shape[0]), dtype=dh.dtype)
        dh_prec = np.zeros((N, H), dtype=dh.dtype)
        t = T - 1
        while t >= (1 if bug == "while_salta_zero" else 0):
            m = memoria[t - 1] if bug == "memoria_del_passo_prima" else memoria[t]
            a, r, c, h_prec = m["a"], m["r"], m["c"], m["h_prec"]
            if bug == "memoria_del_passo_prima":
                h_prec = memoria[t]["h_prec"]
            g = dh[t] if bug == "riporto_nello_slot_sbagliato" else dh[t] + dh_prec
            if bug in ("segno_da", "segno_e_senza_tanh"):
                da = g * (c - h_prec)
            else:
                da = g * (h_prec - c)
            dc = g * (1 - a)
            dac = dc if bug == "segno_e_senza_tanh" else dc * (1 - c ** 2)
            if bug == "candidato_senza_reset":
                dr, dph_c = np.zeros_like(dac), dac
            else:
                dr, dph_c = dac * m["ph_c"], dac * r
            if bug == "sigmoide_scritta_male":
                daa = da * (1 - a)
            elif bug == "sigmoide_a_preattivazione":
                daa = da * m["pa"] * (1 - m["pa"])
            else:
                daa = da * a * (1 - a)
            dar = dr * r * (1 - r)
            if bug == "blocchi_r_a_c":
                dpx = np.concatenate([dar, daa, dac], axis=1)
                dph = np.concatenate([dar, daa, dph_c], axis=1)
            else:
                dpx = np.concatenate([daa, dar, dac], axis=1)
                dph = np.concatenate([daa, dar, dph_c], axis=1)
            dWx += m["x"].T @ dpx
            dWh += (stati[t + 1] if bug == "dWh_con_h_nuovo" else h_prec).T @ dph
            dbx += dpx.sum(axis=0)
            dbh += dph.sum(axis=0)
            dx[t] = dpx @ Wx.T
            dh_prec = g * a + dph @ (dWh if bug == "dWh_per_dh_prec" else Wh).T
            if bug == "riporto_nello_slot_sbagliato":
                dh[t] += dh_prec
            t -= 1
        if bug == "media_su_NT":
            dWx, dWh = dWx / (N * T), dWh / (N * T)
        return dx, dh_prec, dWx, dWh, dbx, dbh

    return avanti, indietro, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def _arc(a, axis):
    """Canonical blocks r, z, n -> the notes' a (= z), r, c (= n)."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    return {"Wx": _arc(p["weight_ih"], 0).T, "Wh": _arc(p["weight_hh"], 0).T, "bx": _arc(p["bias_ih"], 0),
            "bh": _arc(p["bias_hh"], 0)}


def to_canonical(cell, g, p):
    out = {}
    for mine, name in (("dWx", "dweight_ih"), ("dWh", "dweight_hh"), ("dbx", "dbias_ih"), ("dbh", "dbias_hh")):
        if mine in g:
            out[name] = _arc(g[mine].T if g[mine].ndim == 2 else g[mine], 0)   # the swap is its own inverse
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="italiano_gru", cells=("gru",), axes="TND",
                               weights_as="list", gate_order="arc", gate_letters={"a": "z", "c": "n"})

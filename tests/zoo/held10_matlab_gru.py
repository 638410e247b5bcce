"""A GRU ported line by line from a MATLAB course script: data (N, D, T) (examples, features,
time, as MATLAB's x(:, :, t)), column states inside (H, N), per-gate weights W* (H, D) and
U* (H, H) and column biases (H, 1), all passed as one list ``params`` in a fixed order
[Wr, Ur, br, Wz, Uz, bz, Wn, Un, bnx, bnh] (weights_as="list"); the reset gate applied after the
recurrent product (reset_after=True) with the recurrent bias bnh inside it:

    r = sig(Wr x + Ur h + br)     z = sig(Wz x + Uz h + bz)
    hn = Un h + bnh               n = tanh(Wn x + bnx + r .* hn)
    h = (1 - z) .* n + z .* h

The backward returns the gradients in a list in the same fixed order. Tenth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "hn_without_bnh": "term_dropped",                   # dr = dan .* (Un h): the bias bnh left out of hn
    "dUn_without_r": "term_dropped",                    # dUn += dan * h' (dan for dan .* r)
    "dbnx_from_dhn": "wrong_value",                     # dbnx += sum(dhn) (dhn read for dan)
    "carry_Un_untransposed": "weight_transposed",       # dh_prev += Un * dhn (Un for Un')
    "carry_z_through_Ur": "wrong_weight",               # dh_prev += Ur' * daz (Ur for Uz)
    "dUz_transposed": "gradient_transposed",            # dUz += h * daz' (the (H, H) gradient written transposed)
    "tanh_grad_at_preact": "derivative_wrong_point",    # dan = dn .* (1 - a_n.^2): at the pre-activation, not n
    "dz_with_older_h": "wrong_time",                    # dz = dh .* (h_{t-2} - n): hs{t-1} for hs{t}
    "loop_to_two": "loop_skips_step",                   # for t = T:-1:2 (step 1 never back-propagated)
    "dbr_mean": "reduction_scaled",                     # dbr += mean(dar, 2)
    "dUn_assigned": "carry_overwrites",                 # dUn = dhn * h' (= for +=)
    "dr_written_into_dan": "inplace_corruption",        # dr = dan; dr *= hn (dan changed before dWn, dbnx read it)
    "forward_z_without_Uz": "forward_mistake",          # z = sig(Wz x + bz); backward consistent (dUz = 0)
    "dz_sign_and_no_dbnh": "unknown",                   # dz = dh .* (n - h) and dbnh never accumulated
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "hn_without_bnh": "r",
    "dUn_without_r": "n",
    "dbnx_from_dhn": "n",
    "carry_Un_untransposed": "",
    "carry_z_through_Ur": "",
    "dUz_transposed": "z",
    "tanh_grad_at_preact": "rn",
    "dz_with_older_h": "z",
    "loop_to_two": "",
    "dbr_mean": "r",
    "dUn_assigned": "",
    "dr_written_into_dan": "n",
    "forward_z_without_Uz": "",
    "dz_sign_and_no_dbnh": "zn",
}

NAMES = ("Wr", "Ur", "br", "Wz", "Uz", "bz", "Wn", "Un", "bnx", "bnh")


def sig(v):
    return 1 / (1 + np.exp(-v))                          # MATLAB's 1 ./ (1 + exp(-v))


def gru_forward(x, h0, params, bug=None):
    Wr, Ur, br, Wz, Uz, bz, Wn, Un, bnx, bnh = params
    N, D, T = x.shape
    h = h0.T                                              # (H, N)
    hs, cache = [h], []
    for t in range(T):
        xt = x[:, :, t].T                                 # (D, N)
        r = sig(Wr @ xt + Ur @ h + br)
        z = sig(Wz @ xt + bz) if bug == "forward_z_without_Uz" else sig(Wz @ xt + Uz @ h + bz)
        hn = Un @ h + bnh
        an = Wn @ xt + bnx + r * hn
        n = np.tanh(an)
        h = (1 - z) * n + z * h
        hs.append(h)
        cache.append((xt, r, z, hn, an, n))
    H = np.stack([hh.T for hh in hs[1:]], axis=2)       # (N, H, T)
    return H, (hs, cache, params)


def gru_backward(dH, c, bug=None):
    hs, cache, params = c
    Wr, Ur, br, Wz, Uz, bz, Wn, Un, bnx, bnh = params
    N, Hd, T = dH.shape
    grads = [np.zeros_like(p) for p in params]
    dWr, dUr, dbr, dWz, dUz, dbz, dWn, dUn, dbnx, dbnh = grads
    dx = np.zeros((N, Wr.shape[1], T), dtype=dH.dtype)
    dh_next = np.zeros_like(hs[0])
    for t in range(T - 1, 0 if bug == "loop_to_two" else -1, -1):
        xt, r, z, hn, an, n = cache[t]
        h = hs[t]
        dh = dH[:, :, t].T + dh_next
        dn = dh * (1 - z)
        if bug == "dz_sign_and_no_dbnh":
            dz = dh * (n - h)
        else:
            dz = dh * ((hs[t - 1] if bug == "dz_with_older_h" else h) - n)
        dan = dn * (1 - an ** 2) if bug == "tanh_grad_at_preact" else dn * (1 - n ** 2)
        dhn = dan * r
        if bug == "dr_written_into_dan":
            dr = dan
            dr *= hn
        else:
            dr = dan * ((hn - bnh) if bug == "hn_without_bnh" else hn)
        dar = dr * r * (1 - r)
        daz = dz * z * (1 - z)
        dWr += dar @ xt.T
        dUr += dar @ h.T
        dbr += dar.mean(axis=1, keepdims=True) if bug == "dbr_mean" else dar.sum(axis=1, keepdims=True)
        dWz += daz @ xt.T
        if bug == "dUz_transposed":
            dUz += h @ daz.T
        elif bug != "forward_z_without_Uz":
            dUz += daz @ h.T
        dbz += daz.sum(axis=1, keepdims=True)
        dWn += dan @ xt.T
        if bug == "dUn_assigned":
            dUn[...] = dhn @ h.T
        else:
            dUn += (dan if bug == "dUn_without_r" else dhn) @ h.T
        dbnx += (dhn if bug == "dbnx_from_dhn" else dan).sum(axis=1, keepdims=True)
        if bug != "dz_sign_and_no_dbnh":
            dbnh += dhn.sum(axis=1, keepdims=True)
        dx[:, :, t] = (Wr.T @ dar + Wz.T @ daz + Wn.T @ dan).T
        dh_next = dh * z + Ur.T @ dar + (Un @ dhn if bug == "carry_Un_untransposed" else Un.T @ dhn)
        if bug != "forward_z_without_Uz":
            dh_next = dh_next + (Ur.T if bug == "carry_z_through_Ur" else Uz.T) @ daz
    return [dx, dh_next.T] + grads


def to_user(cell, p):
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    bir, biz, bin_ = np.split(p["bias_ih"], 3)
    bhr, bhz, bhn = np.split(p["bias_hh"], 3)
    return {"Wr": Wr, "Ur": Ur, "br": (bir + bhr)[:, None], "Wz": Wz, "Uz": Uz, "bz": (biz + bhz)[:, None],
            "Wn": Wn, "Un": Un, "bnx": bin_[:, None], "bnh": bhn[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if all("d" + k in g for k in NAMES):
        out["dweight_ih"] = np.concatenate([g["dWr"], g["dWz"], g["dWn"]])
        out["dweight_hh"] = np.concatenate([g["dUr"], g["dUz"], g["dUn"]])
        rz = np.concatenate([g["dbr"][:, 0], g["dbz"][:, 0]])
        out["dbias_ih"] = np.concatenate([rz, g["dbnx"][:, 0]])
        out["dbias_hh"] = np.concatenate([rz, g["dbnh"][:, 0]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="matlab_port_gru", cells=("gru",), axes="NDT",
                               weights_as="list", gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dH, cache):
        return gru_backward(dH, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

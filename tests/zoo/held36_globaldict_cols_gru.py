"""A reset-before GRU (TF1's GRUCell form) from a notebook on column-major arrays: the
parameters sit in a global dict ``P`` set by an earlier cell and read inside the functions,
every step's values are memoized in global dicts keyed by t (``Hs`` with h0 at -1, ``Z``,
``R``, ``N_``) cleared by hand, and the sigmoid is the stable np.where form.

    z = sigmoid(Wz x + Uz h + bz),  r = sigmoid(Wr x + Ur h + br)
    n = tanh(Wh x + Uh (r * h) + bh),  h' = (1 - z) n + z h          x (D, N, T), h0 (H, N)

Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_sign": "wrong_sign",                       # dz = dh * (n - h_prev)
    "dh_prev_reset_path_no_r": "derivative_missing",  # dh_prev += Uh.T @ dn_pre, the factor r left out
    "dr_tanh_grad": "derivative_wrong_function",   # dr * (1 - r**2)
    "dn_one_minus_n": "derivative_miswritten",     # (1 - n) for (1 - n**2)
    "Uz_not_transposed": "weight_transposed",      # Uz @ dz_pre
    "Ur_for_Uz": "wrong_weight",                   # Ur.T @ dz_pre in dh_prev
    "dWh_x_prev": "wrong_time",                    # X[:, :, t - 1] in dWh
    "dUh_h_prev_not_rh": "wrong_value",            # dUh += dn_pre @ h_prev.T for (r * h_prev).T
    "db_over_T": "reduction_scaled",               # the bias gradients / T
    "loop_forward": "loop_direction",              # for t in range(T)
    "dh_next_dropped": "carry_dropped",            # dh = dH[:, :, t]
    "z_memo_inplace": "inplace_corruption",        # omz = Z[t]; omz -= 1; omz *= -1: Z[t] now holds 1 - z
    "forward_Uz_in_r": "forward_mistake",          # r = sigmoid(Wr x + Uz h + br), backward consistent
    "dh_next_clipped": "gradient_clipped",         # np.clip(dh_next, -0.05, 0.05)
    "dUr_transposed": "gradient_transposed",       # dUr += h_prev @ dr_pre.T
}
TOUCHES = {
    "dz_sign": "z",
    "dh_prev_reset_path_no_r": "",
    "dr_tanh_grad": "r",
    "dn_one_minus_n": "rn",
    "Uz_not_transposed": "",
    "Ur_for_Uz": "",
    "dWh_x_prev": "",
    "dUh_h_prev_not_rh": "n",
    "db_over_T": "",
    "loop_forward": "",
    "dh_next_dropped": "",
    "z_memo_inplace": "",
    "forward_Uz_in_r": "",
    "dh_next_clipped": "",
    "dUr_transposed": "r",
}

# In[1]:
P = {}
Hs, Z, R, N_ = {}, {}, {}, {}
BUG = None


# In[2]:
def sigmoid(v):
    return np.where(v >= 0, 1 / (1 + np.exp(-v)), np.exp(v) / (1 + np.exp(v)))


def gru_forward(X, h0):
    for memo in (Hs, Z, R, N_):
        memo.clear()
    Hs[-1] = h0
    for t in range(X.shape[2]):
        x, h = X[:, :, t], Hs[t - 1]
        Z[t] = sigmoid(P["Wz"] @ x + P["Uz"] @ h + P["bz"])
        R[t] = sigmoid(P["Wr"] @ x + P["Uz" if BUG == "forward_Uz_in_r" else "Ur"] @ h + P["br"])
        N_[t] = np.tanh(P["Wh"] @ x + P["Uh"] @ (R[t] * h) + P["bh"])
        Hs[t] = (1 - Z[t]) * N_[t] + Z[t] * h
    return np.stack([Hs[t] for t in range(X.shape[2])], axis=2)


# In[3]:
def gru_backward(dH, X):
    T = dH.shape[2]
    g = {"d" + k: np.zeros_like(v) for k, v in P.items()}
    dX = np.zeros_like(X)
    dh_next = np.zeros_like(Hs[-1])
    for t in (range(T) if BUG == "loop_forward" else reversed(range(T))):
        x, h_prev, z, r, n = X[:, :, t], Hs[t - 1], Z[t], R[t], N_[t]
        dh = dH[:, :, t] if BUG == "dh_next_dropped" else dH[:, :, t] + dh_next
        if BUG == "z_memo_inplace":
            omz = Z[t]
            omz -= 1
            omz *= -1
            dn = dh * omz
        else:
            dn = dh * (1 - z)
        dz = dh * (n - h_prev) if BUG == "dz_sign" else dh * (h_prev - n)
        dh_prev = dh * Z[t]
        dn_pre = dn * ((1 - n) if BUG == "dn_one_minus_n" else (1 - n ** 2))
        dz_pre = dz * z * (1 - z)
        drh = P["Uh"].T @ dn_pre
        dr = drh * h_prev
        dr_pre = dr * (1 - r ** 2) if BUG == "dr_tanh_grad" else dr * r * (1 - r)
        dh_prev = dh_prev + (drh if BUG == "dh_prev_reset_path_no_r" else drh * r)
        Uz = P["Ur"] if BUG == "Ur_for_Uz" else P["Uz"]
        dh_prev = dh_prev + (Uz if BUG == "Uz_not_transposed" else Uz.T) @ dz_pre
        dr_into = "dUz" if BUG == "forward_Uz_in_r" else "dUr"
        dh_prev = dh_prev + P[dr_into[1:]].T @ dr_pre
        g["dWz"] += dz_pre @ x.T
        g["dUz"] += dz_pre @ h_prev.T
        g["dbz"] += dz_pre.sum(axis=1, keepdims=True)
        g["dWr"] += dr_pre @ x.T
        g[dr_into] += h_prev @ dr_pre.T if BUG == "dUr_transposed" else dr_pre @ h_prev.T
        g["dbr"] += dr_pre.sum(axis=1, keepdims=True)
        g["dWh"] += dn_pre @ (X[:, :, t - 1] if BUG == "dWh_x_prev" else x).T
        g["dUh"] += dn_pre @ (h_prev if BUG == "dUh_h_prev_not_rh" else r * h_prev).T
        g["dbh"] += dn_pre.sum(axis=1, keepdims=True)
        dX[:, :, t] = P["Wz"].T @ dz_pre + P["Wr"].T @ dr_pre + P["Wh"].T @ dn_pre
        dh_next = np.clip(dh_prev, -0.05, 0.05) if BUG == "dh_next_clipped" else dh_prev
    if BUG == "db_over_T":
        for k in ("dbz", "dbr", "dbh"):
            g[k] = g[k] / T
    return {"dx": dX, "dh0": dh_next, **g}


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(X, h0, params):
        global P, BUG
        P, BUG = params, bug
        h = gru_forward(X, h0)
        return h, {"X": X, "P": params, "memos": [dict(m) for m in (Hs, Z, R, N_)]}

    def backward(dH, cache):
        global P, BUG
        P, BUG = cache["P"], bug
        for memo, saved in zip((Hs, Z, R, N_), cache["memos"]):
            memo.clear()
            memo.update(saved)
        return gru_backward(dH, cache["X"])

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for n, k in enumerate("rzh"):
        rows = slice(n * H, (n + 1) * H)
        user.update({"W" + k: np.array(p["weight_ih"][rows]), "U" + k: np.array(p["weight_hh"][rows]),
                     "b" + k: b[rows][:, None]})
    return {k: user[k] for k in ("Wz", "Uz", "bz", "Wr", "Ur", "br", "Wh", "Uh", "bh")}


def to_canonical(cell, g, p):
    out = {}
    if all("dW" + k in g for k in "rzh"):
        out["dweight_ih"] = np.concatenate([g["dW" + k] for k in "rzh"])
    if all("dU" + k in g for k in "rzh"):
        out["dweight_hh"] = np.concatenate([g["dU" + k] for k in "rzh"])
    if all("db" + k in g for k in "rzh"):
        out["dbias_ih"] = np.concatenate([g["db" + k][:, 0] for k in "rzh"])
        out["dbias_hh"] = out["dbias_ih"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="nb_cols_gru", cells=("gru",), axes="DNT",
                               weights_as="dict", gate_letters={"h": "n"})

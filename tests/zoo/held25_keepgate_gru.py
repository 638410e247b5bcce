"""A GRU that never stores z: it computes the keep gate k = 1 - z directly as sigmoid(-a_z)
(one subtraction fewer per step) and caches k, so the update reads h_t = k n + (1 - k) h_(t-1)
and the backward differentiates through k (dk/da_z = -k (1 - k)). Reset after the recurrent
product (torch's form); time-major x (T, N, D), h0 (N, H); a parameters dict with one matrix
per gate, applied as x @ W:

    params = {"Wz", "Wr", "Wn" (D, H), "Uz", "Ur", "Un" (H, H), "bz", "br", "bxn", "bhn" (H,)}
    k = s(-(x Wz + h Uz + bz))   r = s(x Wr + h Ur + br)   n = tanh(x Wn + bxn + r (h Un + bhn))

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "da_z_minus_lost": "wrong_sign",                # da_z = dk * k * (1 - k): the minus of s(-a) forgotten
    "da_r_at_k": "derivative_wrong_point",          # da_r = dr * k * (1 - k): k's sigmoid' for r's (also wrong_value)
    "dn_reads_z": "wrong_value",                    # dn = dh_t * (1 - k) (z read for k = 1 - z)
    "da_n_sigmoid_grad": "derivative_wrong_function",  # da_n = dn * n * (1 - n)
    "dhn_without_r": "term_dropped",                # dhn = da_n (the factor r dropped)
    "Un_untransposed": "weight_transposed",         # carry += dhn @ Un
    "dUr_with_h_t": "wrong_time",                   # dUr += h_t.T @ da_r (h_t for h_(t-1))
    "carry_never_added": "carry_dropped",           # dh_t = dh[t]
    "dUz_assigned": "carry_overwrites",             # grads["Uz"] = h_prev.T @ da_z (= for +=)
    "loop_runs_forward": "loop_direction",          # for t in range(T)
    "dU_over_T": "reduction_scaled",                # dUz, dUr, dUn divided by T at the end
    "truncated_after_2": "truncated_bptt",          # the carry zeroed once 2 steps have been walked back
    "carry_from_dUn": "gradient_for_weight",        # carry += dhn @ dUn.T (the running dUn for Un)
    "fwd_reset_before": "forward_mistake",          # n = tanh(x Wn + bxn + (r h) Un + bhn); backward consistent
    "minus_lost_and_forward_loop": "unknown",       # two at once: da_z_minus_lost and loop_runs_forward
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "da_z_minus_lost": "z",
    "da_r_at_k": "r",
    "dn_reads_z": "rn",
    "da_n_sigmoid_grad": "rn",
    "dhn_without_r": "n",
    "Un_untransposed": "",
    "dUr_with_h_t": "r",
    "carry_never_added": "",
    "dUz_assigned": "",
    "loop_runs_forward": "",
    "dU_over_T": "",
    "truncated_after_2": "",
    "carry_from_dUn": "",
    "fwd_reset_before": "",
    "minus_lost_and_forward_loop": "z",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, params, bug=None):
    Wz, Wr, Wn, Uz, Ur, Un = (params[k] for k in ("Wz", "Wr", "Wn", "Uz", "Ur", "Un"))
    bz, br, bxn, bhn = (params[k] for k in ("bz", "br", "bxn", "bhn"))
    T = x.shape[0]
    hs, ks, rs, ns, hns = [h0], [], [], [], []
    for t in range(T):
        h = hs[-1]
        k = sigmoid(-(x[t] @ Wz + h @ Uz + bz))
        r = sigmoid(x[t] @ Wr + h @ Ur + br)
        if bug == "fwd_reset_before":
            hn = (r * h) @ Un + bhn
            n = np.tanh(x[t] @ Wn + bxn + hn)
        else:
            hn = h @ Un + bhn
            n = np.tanh(x[t] @ Wn + bxn + r * hn)
        hs.append(k * n + (1 - k) * h)
        ks.append(k)
        rs.append(r)
        ns.append(n)
        hns.append(hn)
    cache = {"x": x, "hs": hs, "ks": ks, "rs": rs, "ns": ns, "hns": hns, "params": params}
    return np.stack(hs[1:]), cache


def gru_backward(dh, cache, bug=None):
    x, hs, ks, rs, ns, hns, params = (cache[k] for k in ("x", "hs", "ks", "rs", "ns", "hns", "params"))
    T = x.shape[0]
    grads = {name: np.zeros_like(v) for name, v in params.items()}
    dx = np.zeros_like(x)
    carry = np.zeros_like(hs[0])
    order = range(T) if bug in ("loop_runs_forward", "minus_lost_and_forward_loop") else reversed(range(T))
    for walked, t in enumerate(order):
        if bug == "truncated_after_2" and walked == 2:
            carry = np.zeros_like(carry)
        k, r, n, hn, h_prev = ks[t], rs[t], ns[t], hns[t], hs[t]
        dh_t = dh[t] if bug == "carry_never_added" else dh[t] + carry
        dk = dh_t * (n - h_prev)
        dn = dh_t * ((1 - k) if bug == "dn_reads_z" else k)
        da_n = dn * n * (1 - n) if bug == "da_n_sigmoid_grad" else dn * (1 - n ** 2)
        if bug == "fwd_reset_before":
            drh = da_n @ params["Un"].T
            dr, dhn = drh * h_prev, da_n
        else:
            dr = da_n * hn
            dhn = da_n if bug == "dhn_without_r" else da_n * r
        da_r = dr * k * (1 - k) if bug == "da_r_at_k" else dr * r * (1 - r)
        if bug in ("da_z_minus_lost", "minus_lost_and_forward_loop"):
            da_z = dk * k * (1 - k)
        else:
            da_z = -dk * k * (1 - k)
        grads["Wz"] += x[t].T @ da_z
        grads["Wr"] += x[t].T @ da_r
        grads["Wn"] += x[t].T @ da_n
        if bug == "dUz_assigned":
            grads["Uz"] = h_prev.T @ da_z
        else:
            grads["Uz"] += h_prev.T @ da_z
        grads["Ur"] += (hs[t + 1] if bug == "dUr_with_h_t" else h_prev).T @ da_r
        grads["Un"] += ((r * h_prev) if bug == "fwd_reset_before" else h_prev).T @ dhn
        grads["bz"] += da_z.sum(axis=0)
        grads["br"] += da_r.sum(axis=0)
        grads["bxn"] += da_n.sum(axis=0)
        grads["bhn"] += dhn.sum(axis=0)
        dx[t] = da_z @ params["Wz"].T + da_r @ params["Wr"].T + da_n @ params["Wn"].T
        if bug == "fwd_reset_before":
            carry = dh_t * (1 - k) + da_z @ params["Uz"].T + da_r @ params["Ur"].T + drh * r
        else:
            U_n = {"Un_untransposed": params["Un"], "carry_from_dUn": grads["Un"].T}.get(bug, params["Un"].T)
            carry = dh_t * (1 - k) + da_z @ params["Uz"].T + da_r @ params["Ur"].T + dhn @ U_n
    if bug == "dU_over_T":
        for name in ("Uz", "Ur", "Un"):
            grads[name] /= T
    return {"dx": dx, "dh0": carry, **{"d" + name: g for name, g in grads.items()}}


def to_user(cell, p):
    (Wr, Wz, Wn), (Ur, Uz, Un) = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    (bir, biz, bin_), (bhr, bhz, bhn) = np.split(p["bias_ih"], 3), np.split(p["bias_hh"], 3)
    return {"Wz": Wz.T.copy(), "Wr": Wr.T.copy(), "Wn": Wn.T.copy(), "Uz": Uz.T.copy(), "Ur": Ur.T.copy(),
            "Un": Un.T.copy(), "bz": biz + bhz, "br": bir + bhr, "bxn": bin_.copy(), "bhn": bhn.copy()}


def to_canonical(cell, g, p):
    out = {}
    if all("d" + k in g for k in ("Wr", "Wz", "Wn")):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWn"].T])
    if all("d" + k in g for k in ("Ur", "Uz", "Un")):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUn"].T])
    if all("d" + k in g for k in ("br", "bz", "bxn", "bhn")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbxn"]])
        out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g["dbhn"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keepgate_gru", cells=("gru",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

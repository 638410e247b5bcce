"""A human-activity-recognition script (accelerometer windows (N, T, D) -> walking, sitting,
...): a GRU over the window, mean-pooling of its states over time, a softmax layer. The
author learnt the GRU from a blog that writes the update gate the other way round, u = 1 - z:

    u = sigmoid(x Wu + h Uu + bu)      r = sigmoid(x Wr + h Ur + br)
    cand = tanh(x Wc + (r * h) Uc + bc)                 (reset before the product)
    h_new = (1 - u) * h + u * cand                      W* (D, H), U* (H, H), b* (H,)

One dict ``P`` holds the nine arrays. ``gru_pool_forward(x, h0, P) -> (hs, pooled, cache)``;
``gru_backward(dhs, cache)`` takes the gradient of every state (the pooling's dpooled / T,
spread over time, in the script) and returns a dict of gradients. Twenty-ninth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "du_torch_formula": "wrong_sign",                     # du = dh * (h_prev - cand): torch's z formula for u
    "direct_path_times_u": "wrong_value",                 # dh_prev = dh * u (meant 1 - u)
    "dUc_without_r": "term_dropped",                      # dUc += h_prev.T @ dcand_pre (meant (r * h_prev).T)
    "drh_Uc_untransposed": "weight_transposed",           # drh = dcand_pre @ Uc
    "cand_sigmoid_grad": "derivative_wrong_function",     # dcand_pre = dcand * cand * (1 - cand)
    "dr_pre_at_u": "derivative_wrong_point",              # dr_pre = dr * u * (1 - u)
    "du_no_sigmoid_grad": "derivative_missing",           # du_pre = du
    "Uu_for_Ur": "wrong_weight",                          # dh_prev += dr_pre @ Uu.T
    "dx_from_dWu": "gradient_for_weight",                 # dx gets du_pre @ G["dWu"].T (the running gradient)
    "divides_by_window": "reduction_scaled",              # dhs / T again: the mean pool's 1/T applied a second time
    "carry_name_typo": "carry_dropped",                   # dh_prev computed, dh_next never updated
    "forward_reset_after": "forward_mistake",             # cand = tanh(x Wc + r * (h Uc) + bc); backward consistent
    "du_flip_and_cand_sigmoid": "unknown",                # two at once: du_torch_formula and cand_sigmoid_grad
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "du_torch_formula": "z",
    "direct_path_times_u": "",
    "dUc_without_r": "n",
    "drh_Uc_untransposed": "r",
    "cand_sigmoid_grad": "rn",
    "dr_pre_at_u": "r",
    "du_no_sigmoid_grad": "z",
    "Uu_for_Ur": "",
    "dx_from_dWu": "",
    "divides_by_window": "",
    "carry_name_typo": "",
    "forward_reset_after": "",
    "du_flip_and_cand_sigmoid": "",
}

GATES = ("u", "r", "c")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_pool_forward(x, h0, P, bug=None):
    N, T, D = x.shape
    h = h0
    hs, steps = [], []
    for t in range(T):
        xt = x[:, t]
        u = sigmoid(xt @ P["Wu"] + h @ P["Uu"] + P["bu"])
        r = sigmoid(xt @ P["Wr"] + h @ P["Ur"] + P["br"])
        if bug == "forward_reset_after":
            hU = h @ P["Uc"]
            cand = np.tanh(xt @ P["Wc"] + r * hU + P["bc"])
        else:
            hU = None
            cand = np.tanh(xt @ P["Wc"] + (r * h) @ P["Uc"] + P["bc"])
        steps.append((xt, h, u, r, cand, hU))
        h = (1 - u) * h + u * cand
        hs.append(h)
    hs = np.stack(hs, axis=1)
    return hs, hs.mean(axis=1), {"steps": steps, "P": P}


def gru_backward(dhs, cache, bug=None):
    steps, P = cache["steps"], cache["P"]
    N, T, H = dhs.shape
    if bug == "divides_by_window":
        dhs = dhs / T
    G = {"d" + k: np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros((N, T, P["Wu"].shape[0]), dtype=dhs.dtype)
    dh_next = np.zeros((N, H), dtype=dhs.dtype)
    for t in reversed(range(T)):
        xt, h_prev, u, r, cand, hU = steps[t]
        dh = dhs[:, t] + dh_next
        dcand = dh * u
        if bug in ("du_torch_formula", "du_flip_and_cand_sigmoid"):
            du = dh * (h_prev - cand)
        else:
            du = dh * (cand - h_prev)
        dh_prev = dh * (u if bug == "direct_path_times_u" else 1 - u)
        if bug in ("cand_sigmoid_grad", "du_flip_and_cand_sigmoid"):
            dcand_pre = dcand * cand * (1 - cand)
        else:
            dcand_pre = dcand * (1 - cand ** 2)
        G["dWc"] += xt.T @ dcand_pre
        G["dbc"] += dcand_pre.sum(axis=0)
        if bug == "forward_reset_after":
            dhU = dcand_pre * r
            G["dUc"] += h_prev.T @ dhU
            dr = dcand_pre * hU
            dh_prev += dhU @ P["Uc"].T
        else:
            G["dUc"] += (h_prev if bug == "dUc_without_r" else r * h_prev).T @ dcand_pre
            drh = dcand_pre @ (P["Uc"] if bug == "drh_Uc_untransposed" else P["Uc"].T)
            dr = drh * h_prev
            dh_prev += drh * r
        dr_pre = dr * (u * (1 - u) if bug == "dr_pre_at_u" else r * (1 - r))
        du_pre = du if bug == "du_no_sigmoid_grad" else du * u * (1 - u)
        for g, d in (("u", du_pre), ("r", dr_pre)):
            G["dW" + g] += xt.T @ d
            G["dU" + g] += h_prev.T @ d
            G["db" + g] += d.sum(axis=0)
        dh_prev += du_pre @ P["Uu"].T + dr_pre @ (P["Uu"] if bug == "Uu_for_Ur" else P["Ur"]).T
        Wu = G["dWu"] if bug == "dx_from_dWu" else P["Wu"]
        dx[:, t] = du_pre @ Wu.T + dr_pre @ P["Wr"].T + dcand_pre @ P["Wc"].T
        if bug != "carry_name_typo":
            dh_next = dh_prev
    G.update(dx=dx, dh0=dh_next)
    return G


def softmax_head(pooled, W, b, labels):
    s = pooled @ W + b
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    N = labels.shape[0]
    loss = -np.log(p[np.arange(N), labels]).mean()
    ds = p
    ds[np.arange(N), labels] -= 1
    ds /= N
    return loss, ds @ W.T, pooled.T @ ds, ds.sum(axis=0)


def train_epoch(windows, labels, P, head, lr=0.05, batch=32):
    H = P["Uu"].shape[0]
    for k in range(0, len(windows), batch):
        x, y = windows[k:k + batch], labels[k:k + batch]
        hs, pooled, cache = gru_pool_forward(x, np.zeros((len(x), H)), P)
        loss, dpooled, dW, db = softmax_head(pooled, head["W"], head["b"], y)
        dhs = np.repeat(dpooled[:, None, :] / hs.shape[1], hs.shape[1], axis=1)
        G = gru_backward(dhs, cache)
        for name in P:
            P[name] -= lr * G["d" + name]
        head["W"] -= lr * dW
        head["b"] -= lr * db


def to_user(cell, p):
    Wi, Wh = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)   # canonical r, z, n
    bi, bh = np.split(p["bias_ih"], 3), np.split(p["bias_hh"], 3)
    return {"Wu": -Wi[1].T, "Uu": -Wh[1].T, "bu": -(bi[1] + bh[1]),
            "Wr": Wi[0].T, "Ur": Wh[0].T, "br": bi[0] + bh[0],
            "Wc": Wi[2].T, "Uc": Wh[2].T, "bc": bi[2] + bh[2]}


def to_canonical(cell, g, p):
    out = {}
    if {"dWu", "dWr", "dWc"} <= set(g):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, -g["dWu"].T, g["dWc"].T])
    if {"dUu", "dUr", "dUc"} <= set(g):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, -g["dUu"].T, g["dUc"].T])
    if {"dbu", "dbr", "dbc"} <= set(g):
        out["dbias_ih"] = np.concatenate([g["dbr"], -g["dbu"], g["dbc"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="activity_gru", cells=("gru",), weights_as="dict",
                               forward_returns=("h", "pooled", "cache"), gate_order="urc",
                               gate_letters={"u": "z", "c": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, P):
        return gru_pool_forward(x, h0, P, bug)

    def backward(dhs, cache):
        return gru_backward(dhs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

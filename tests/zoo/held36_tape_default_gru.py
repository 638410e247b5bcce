"""A reset-after GRU (torch's nn.GRU equations and stacked weights) from a notebook whose
functions keep their state in mutable default arguments: the forward's ``_tape=[]`` list of
per-step dicts and the backward's ``_acc={}`` gradient dict are cleared by hand at the top
of each call; the sigmoid is written 0.5 (1 + tanh(v / 2)) to stay finite. Batch first.

    r, z, n blocks of w_ih (3H, D), w_hh (3H, H), b_ih, b_hh (3H,)
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),  h' = (1 - z) n + z h

Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dhn_without_r": "derivative_missing",          # dhn = dn_pre (the factor r left out)
    "dr_from_input_branch": "wrong_value",          # dr = dn_pre * (x W_in^T + b_in) for * (h W_hn^T + b_hn)
    "dz_grad_at_preact": "derivative_wrong_point",  # a_z * (1 - a_z)
    "dz_grad_twice": "derivative_twice",            # z (1 - z) applied twice
    "dW_hn_transposed": "gradient_transposed",      # h_prev.T @ dhn into the n rows of dw_hh
    "W_hr_transposed": "weight_transposed",         # dr_pre @ W_hr.T into dh_prev
    "W_hr_rows_of_z": "wrong_weight",               # W_hr = w_hh[H:2H] in the backward
    "dx_from_dW_in": "gradient_for_weight",         # dn_pre @ _acc["w_ih"][2H:] into dx
    "db_hn_assigned": "carry_overwrites",           # _acc["b_hh"][2H:] = dhn.sum(0)
    "loop_skips_first": "loop_skips_step",          # range(T - 1, 0, -1)
    "dW_hh_over_N": "reduction_scaled",             # dw_hh / N at the end
    "truncate_3": "truncated_bptt",                 # dh_next = 0 every 3 steps back
    "forward_reset_before": "forward_mistake",      # r * h before W_hn, backward consistent
    "dgates_z_r_n": "gate_order",                   # da = np.hstack([dz_pre, dr_pre, dn_pre])
}
TOUCHES = {
    "dhn_without_r": "n",
    "dr_from_input_branch": "r",
    "dz_grad_at_preact": "z",
    "dz_grad_twice": "z",
    "dW_hn_transposed": "n",
    "W_hr_transposed": "",
    "W_hr_rows_of_z": "",
    "dx_from_dW_in": "",
    "db_hn_assigned": "",
    "loop_skips_first": "",
    "dW_hh_over_N": "",
    "truncate_3": "",
    "forward_reset_before": "",
    "dgates_z_r_n": "rz",
}


def sigmoid(v):
    return 0.5 * (1 + np.tanh(0.5 * v))


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, bug=None, _tape=[]):
    _tape.clear()
    H = h0.shape[1]
    h, hs = h0, []
    for t in range(x.shape[1]):
        gi = x[:, t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        a_r, a_z = gi[:, :H] + gh[:, :H], gi[:, H:2 * H] + gh[:, H:2 * H]
        r, z = sigmoid(a_r), sigmoid(a_z)
        if bug == "forward_reset_before":
            hn = (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:]
            n = np.tanh(gi[:, 2 * H:] + hn)
        else:
            hn = gh[:, 2 * H:]
            n = np.tanh(gi[:, 2 * H:] + r * hn)
        h_new = (1 - z) * n + z * h
        _tape.append({"x": x[:, t], "h": h, "r": r, "z": z, "n": n, "hn": hn, "a_z": a_z, "in": gi[:, 2 * H:]})
        h = h_new
        hs.append(h)
    return np.stack(hs, axis=1), {"tape": list(_tape), "w": (w_ih, w_hh, b_ih, b_hh)}


def gru_backward(dh, cache, bug=None, _acc={}):
    _acc.clear()
    tape, (w_ih, w_hh, b_ih, b_hh) = cache["tape"], cache["w"]
    _acc.update(w_ih=np.zeros_like(w_ih), w_hh=np.zeros_like(w_hh), b_ih=np.zeros_like(b_ih),
                b_hh=np.zeros_like(b_hh))
    N, T, H = dh.shape
    dx = np.zeros((N, T, w_ih.shape[1]), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    W_hr = w_hh[H:2 * H] if bug == "W_hr_rows_of_z" else w_hh[:H]
    W_hz, W_hn = w_hh[H:2 * H], w_hh[2 * H:]
    for t in (range(T - 1, 0, -1) if bug == "loop_skips_first" else range(T - 1, -1, -1)):
        if bug == "truncate_3" and (T - 1 - t) % 3 == 0:
            dh_next = np.zeros_like(dh_next)
        s = tape[t]
        h_prev, r, z, n = s["h"], s["r"], s["z"], s["n"]
        dht = dh[:, t] + dh_next
        dn_pre = dht * (1 - z) * (1 - n ** 2)
        dz = dht * (h_prev - n)
        if bug == "dz_grad_at_preact":
            dz_pre = dz * s["a_z"] * (1 - s["a_z"])
        elif bug == "dz_grad_twice":
            dz_pre = dz * (z * (1 - z)) ** 2
        else:
            dz_pre = dz * z * (1 - z)
        if bug == "forward_reset_before":
            drh = dn_pre @ W_hn
            dr = drh * h_prev
            dhn = dn_pre
            dh_prev = dht * z + drh * r
            _acc["w_hh"][2 * H:] += dn_pre.T @ (r * h_prev)
        else:
            dhn = dn_pre if bug == "dhn_without_r" else dn_pre * r
            dr = dn_pre * (s["in"] if bug == "dr_from_input_branch" else s["hn"])
            dh_prev = dht * z + dhn @ W_hn
            if bug == "dW_hn_transposed":
                _acc["w_hh"][2 * H:] += h_prev.T @ dhn
            else:
                _acc["w_hh"][2 * H:] += dhn.T @ h_prev
        dr_pre = dr * r * (1 - r)
        dh_prev = dh_prev + dz_pre @ W_hz + dr_pre @ (W_hr.T if bug == "W_hr_transposed" else W_hr)
        if bug == "dgates_z_r_n":
            da = np.hstack([dz_pre, dr_pre, dn_pre])
        else:
            da = np.hstack([dr_pre, dz_pre, dn_pre])
        _acc["w_ih"] += da.T @ s["x"]
        _acc["w_hh"][:2 * H] += da[:, :2 * H].T @ h_prev
        _acc["b_ih"] += da.sum(axis=0)
        _acc["b_hh"][:2 * H] += da[:, :2 * H].sum(axis=0)
        if bug == "db_hn_assigned":
            _acc["b_hh"][2 * H:] = dhn.sum(axis=0)
        else:
            _acc["b_hh"][2 * H:] += dhn.sum(axis=0)
        if bug == "dx_from_dW_in":
            dx[:, t] = da[:, :2 * H] @ w_ih[:2 * H] + dn_pre @ _acc["w_ih"][2 * H:]
        else:
            dx[:, t] = da @ w_ih
        dh_next = dh_prev
    if bug == "dW_hh_over_N":
        _acc["w_hh"] = _acc["w_hh"] / N
    return dx, dh_next, _acc["w_ih"], _acc["w_hh"], _acc["b_ih"], _acc["b_hh"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, w_ih, w_hh, b_ih, b_hh):
        return gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, bug=bug)

    def backward(dh, cache):
        return tuple(np.copy(a) for a in gru_backward(dh, cache, bug=bug))

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    return {"w_ih": np.array(p["weight_ih"]), "w_hh": np.array(p["weight_hh"]), "b_ih": np.array(p["bias_ih"]),
            "b_hh": np.array(p["bias_hh"])}


def to_canonical(cell, g, p):
    names = {"dw_ih": "dweight_ih", "dw_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in g.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="nb_tape_gru", cells=("gru",), axes="NTD")

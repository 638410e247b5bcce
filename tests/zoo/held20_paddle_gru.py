"""A GRU ported from PaddlePaddle's fluid ``dynamic_gru`` / ``gru_unit`` (origin_mode=True):
the input is projected once by an ``fc`` (``W_in`` (D, 3H) and ``b_in`` (3H,), the blocks in
Paddle's order u (update), r (reset), c (candidate)), the hidden weight is split as Paddle
stores it: ``W_gate`` (H, 2H) for [u, r] and ``W_cand`` (H, H); reset applied *before* the
candidate's matrix product; everything in one ``params`` dict, gradients in a dict.

    x_proj = x_t @ W_in + b_in                               blocks xu, xr, xc
    u = s(xu + h_(t-1) @ W_gate[:, :H])   r = s(xr + h_(t-1) @ W_gate[:, H:])
    c = tanh(xc + (r * h_(t-1)) @ W_cand)
    h_t = u * h_(t-1) + (1 - u) * c                          (origin_mode=True)

x (N, T, D), h0 (N, H). Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "du_non_origin_mode": "wrong_sign",                 # du = dh * (c - h_prev): the origin_mode=False formula in the backward
    "forward_non_origin_mode": "forward_mistake",       # forward h = (1 - u) * h_prev + u * c; backward consistent with it
    "dc_without_tanh_grad": "derivative_missing",       # dc_pre = dc
    "dr_with_new_h": "wrong_time",                      # dr = drh * h_t (h_t for h_(t-1))
    "dh_prev_misses_reset_path": "term_dropped",        # dh_prev without drh * r
    "W_cand_untransposed": "weight_transposed",         # drh = dc_pre @ W_cand (no .T)
    "dW_gate_blocks_r_u": "gate_order",                 # dW_gate = h_prev.T @ [dr_pre, du_pre]
    "du_grad_at_r": "derivative_wrong_point",           # du_pre = du * r * (1 - r)
    "dW_cand_with_plain_h": "wrong_value",              # dW_cand = h_prev.T @ dc_pre (h_prev read for r * h_prev)
    "loop_skips_first": "loop_skips_step",              # for t in reversed(range(1, T)); dh0 = the carry into step 1
    "dW_in_over_batch": "reduction_scaled",             # dW_in / N
    "dr_sigmoid_grad_twice": "derivative_twice",        # dr_pre = dr * r(1-r) * r(1-r)
    "r_block_reads_u_weights": "wrong_weight",          # dr_pre @ W_gate[:, :H].T (u's block) in dh_prev
    "du_sign_and_dW_in_over_batch": "unknown",          # two at once: du_non_origin_mode and dW_in_over_batch
    "dr_new_h_and_W_cand_untransposed": "unknown",      # two at once: dr_with_new_h and W_cand_untransposed
}

TOUCHES = {
    "du_non_origin_mode": "z",
    "forward_non_origin_mode": "",
    "dc_without_tanh_grad": "rn",
    "dr_with_new_h": "r",
    "dh_prev_misses_reset_path": "",
    "W_cand_untransposed": "r",
    "dW_gate_blocks_r_u": "rz",
    "du_grad_at_r": "z",
    "dW_cand_with_plain_h": "n",
    "loop_skips_first": "",
    "dW_in_over_batch": "",
    "dr_sigmoid_grad_twice": "r",
    "r_block_reads_u_weights": "",
    "du_sign_and_dW_in_over_batch": "",
    "dr_new_h_and_W_cand_untransposed": "r",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_unit(x_t, h_prev, params, bug):
    H = h_prev.shape[1]
    x_proj = x_t @ params["W_in"] + params["b_in"]
    gate = x_proj[:, :2 * H] + h_prev @ params["W_gate"]
    u, r = sigmoid(gate[:, :H]), sigmoid(gate[:, H:])
    rh = r * h_prev
    c = np.tanh(x_proj[:, 2 * H:] + rh @ params["W_cand"])
    if bug == "forward_non_origin_mode":
        h = (1 - u) * h_prev + u * c
    else:
        h = u * h_prev + (1 - u) * c
    return h, {"x": x_t, "h_prev": h_prev, "u": u, "r": r, "rh": rh, "c": c, "h": h}


def gru_unit_backward(dh, s, params, bug):
    H = dh.shape[1]
    u, r, c, h_prev = s["u"], s["r"], s["c"], s["h_prev"]
    if bug == "forward_non_origin_mode":
        du, dc, dh_prev = dh * (c - h_prev), dh * u, dh * (1 - u)
    else:
        du = dh * ((c - h_prev) if bug in ("du_non_origin_mode", "du_sign_and_dW_in_over_batch") else (h_prev - c))
        dc, dh_prev = dh * (1 - u), dh * u
    dc_pre = dc if bug == "dc_without_tanh_grad" else dc * (1 - c ** 2)
    W_cand = params["W_cand"]
    drh = dc_pre @ (W_cand if bug in ("W_cand_untransposed", "dr_new_h_and_W_cand_untransposed") else W_cand.T)
    dr = drh * (s["h"] if bug in ("dr_with_new_h", "dr_new_h_and_W_cand_untransposed") else h_prev)
    if bug != "dh_prev_misses_reset_path":
        dh_prev = dh_prev + drh * r
    dr_pre = dr * r * (1 - r)
    if bug == "dr_sigmoid_grad_twice":
        dr_pre = dr_pre * r * (1 - r)
    du_pre = du * (r * (1 - r) if bug == "du_grad_at_r" else u * (1 - u))
    W_gate = params["W_gate"]
    W_r = W_gate[:, :H] if bug == "r_block_reads_u_weights" else W_gate[:, H:]
    dh_prev = dh_prev + du_pre @ W_gate[:, :H].T + dr_pre @ W_r.T
    dgate = np.concatenate([dr_pre, du_pre] if bug == "dW_gate_blocks_r_u" else [du_pre, dr_pre], axis=1)
    dx_proj = np.concatenate([du_pre, dr_pre, dc_pre], axis=1)
    grads = {"dW_in": s["x"].T @ dx_proj, "db_in": dx_proj.sum(axis=0), "dW_gate": h_prev.T @ dgate,
             "dW_cand": (h_prev if bug == "dW_cand_with_plain_h" else s["rh"]).T @ dc_pre}
    return dx_proj @ params["W_in"].T, dh_prev, grads


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        hs, saved, h = [], [], h0
        for t in range(x.shape[1]):
            h, s = gru_unit(x[:, t], h, params, bug)
            hs.append(h)
            saved.append(s)
        return np.stack(hs, axis=1), {"params": params, "saved": saved}

    def backward(dhs, cache):
        params, saved = cache["params"], cache["saved"]
        N, T, H = dhs.shape
        grads = {"d" + k: np.zeros_like(v) for k, v in params.items()}
        dx = np.zeros((N, T, params["W_in"].shape[0]), dtype=dhs.dtype)
        dh_next = np.zeros((N, H), dtype=dhs.dtype)
        for t in reversed(range(1 if bug == "loop_skips_first" else 0, T)):
            dx[:, t], dh_next, g = gru_unit_backward(dhs[:, t] + dh_next, saved[t], params, bug)
            for k, v in g.items():
                grads[k] += v
        if bug in ("dW_in_over_batch", "du_sign_and_dW_in_over_batch"):
            grads["dW_in"] /= N
        return {"dx": dx, "dh0": dh_next, **grads}

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


def to_user(cell, p):
    W_hr, W_hz, W_hn = np.split(p["weight_hh"], 3)
    return {"W_in": reorder(p["weight_ih"], "rzn", "zrn", 0).T,
            "b_in": reorder(p["bias_ih"] + p["bias_hh"], "rzn", "zrn", 0),
            "W_gate": np.concatenate([W_hz.T, W_hr.T], axis=1), "W_cand": W_hn.T.copy()}


def to_canonical(cell, grads, p):
    out = {}
    if "dW_in" in grads:
        out["dweight_ih"] = reorder(grads["dW_in"].T, "zrn", "rzn", 0)
    if "db_in" in grads:
        out["dbias_ih"] = reorder(grads["db_in"], "zrn", "rzn", 0)
    if "dW_gate" in grads and "dW_cand" in grads:
        H = grads["dW_cand"].shape[0]
        dWg = grads["dW_gate"]
        out["dweight_hh"] = np.concatenate([dWg[:, H:].T, dWg[:, :H].T, grads["dW_cand"].T], axis=0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="paddle_gru", cells=("gru",), weights_as="dict",
                               gate_order="urc", gate_letters={"u": "z", "c": "n"})

"""A GRU whose gates live in a dict keyed 'update', 'reset', 'cand', and whose backward is a
tape: the forward appends, for every step, a closure that knows how to push a gradient back
through that step (the "autograd by hand" style of some blog posts). Batch-major
x (N, T, D), torch's reset-after form:

    gate["update"] = s(x W_update + h U_update + b_update)
    gate["reset"]  = s(x W_reset + h U_reset + b_reset)
    hn = h U_cand + b_cand_h
    gate["cand"]   = tanh(x W_cand + b_cand + gate["reset"] * hn)
    h = gate["update"] * h + (1 - gate["update"]) * gate["cand"]

W_* (D, H), U_* (H, H), b_* (H,) in one dict; the closures add into a dict of gradients.
forward(x, h0, params) -> (h, tape); backward(dh, tape) -> dict of gradients.
Twelfth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "closure_late_binds_x": "wrong_time",                 # lambda ...: back(..., xt=x_t): x_t bound late (the last x)
    "dhn_without_reset": "term_dropped",                  # dhn = da_cand (the factor reset left out)
    "dreset_hn_without_bias": "term_dropped",             # dreset = da_cand * (h @ U_cand): b_cand_h left out of hn
    "da_update_at_reset": "derivative_wrong_point",       # dupdate * r (1 - r) (also wrong_value)
    "dupdate_flipped": "wrong_sign",                      # dupdate = dh * (cand - h_prev)
    "cand_grad_sigmoid": "derivative_wrong_function",     # dcand * cand * (1 - cand)
    "U_update_untransposed": "weight_transposed",         # dh_prev += da_update @ U_update (for U_update.T)
    "dW_batch_mean": "reduction_scaled",                  # the W gradients added / N
    "tape_skips_first": "loop_skips_step",                # for fn in reversed(tape[1:])
    "grads_dict_update": "carry_overwrites",              # grads.update(step_grads) instead of adding
    "reset_before_forward": "forward_mistake",            # cand uses (r h) U_cand + b_cand_h; consistent
    "clip_each_step_grad": "gradient_clipped",            # each step's gradients clipped to [-0.3, 0.3]
    "hn_scaled_in_place": "inplace_corruption",           # hn *= reset in the forward: the closure's hn is r hn
    "dcand_half": "unknown",                              # dcand = 0.5 * dh * (1 - update): an arbitrary constant
    "dupdate_flipped_U_untransposed": "unknown",          # two at once: dupdate sign and da_update @ U_update
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "closure_late_binds_x": "",
    "dhn_without_reset": "n",
    "dreset_hn_without_bias": "r",
    "da_update_at_reset": "z",
    "dupdate_flipped": "z",
    "cand_grad_sigmoid": "rn",
    "U_update_untransposed": "",
    "dW_batch_mean": "",
    "tape_skips_first": "",
    "grads_dict_update": "",
    "reset_before_forward": "",
    "clip_each_step_grad": "zn",
    "hn_scaled_in_place": "r",
    "dcand_half": "rn",
    "dupdate_flipped_U_untransposed": "z",
}

NAMES = ("update", "reset", "cand")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def gru_forward(x, h0, params, bug=None):
    P = params
    N, T, D = x.shape
    h = h0
    tape, outs = [], []
    for t in range(T):
        x_t = x[:, t]
        gate = {}
        gate["update"] = sigmoid(x_t @ P["W_update"] + h @ P["U_update"] + P["b_update"])
        gate["reset"] = sigmoid(x_t @ P["W_reset"] + h @ P["U_reset"] + P["b_reset"])
        if bug == "reset_before_forward":
            hn = (gate["reset"] * h) @ P["U_cand"] + P["b_cand_h"]
            gate["cand"] = np.tanh(x_t @ P["W_cand"] + P["b_cand"] + hn)
        elif bug == "hn_scaled_in_place":
            hn = h @ P["U_cand"] + P["b_cand_h"]
            hn *= gate["reset"]
            gate["cand"] = np.tanh(x_t @ P["W_cand"] + P["b_cand"] + hn)
        else:
            hn = h @ P["U_cand"] + P["b_cand_h"]
            gate["cand"] = np.tanh(x_t @ P["W_cand"] + P["b_cand"] + gate["reset"] * hn)
        back = _step_back(P, gate, h, hn, x_t, bug)
        if bug == "closure_late_binds_x":
            tape.append(lambda dh_t, grads, back=back: back(dh_t, grads, xt=x_t))    # x_t looked up when called
        else:
            tape.append(back)
        h = gate["update"] * h + (1 - gate["update"]) * gate["cand"]
        outs.append(h)
    return np.stack(outs, axis=1), {"tape": tape, "params": P, "D": D}


def _step_back(P, gate, h_prev, hn, x_t, bug):
    z, r, n = (gate[k] for k in NAMES)

    def back(dh_t, grads, xt=x_t):
        N = dh_t.shape[0]
        flipped = bug in ("dupdate_flipped", "dupdate_flipped_U_untransposed")
        dupdate = dh_t * ((n - h_prev) if flipped else (h_prev - n))
        dcand = dh_t * (1 - z)
        if bug == "dcand_half":
            dcand = 0.5 * dcand
        da_cand = dcand * (n * (1 - n) if bug == "cand_grad_sigmoid" else (1 - n ** 2))
        if bug == "reset_before_forward":
            dhn = da_cand
            drh = dhn @ P["U_cand"].T
            dreset = drh * h_prev
        else:
            dhn = da_cand if bug == "dhn_without_reset" else da_cand * r
            if bug == "dreset_hn_without_bias":
                dreset = da_cand * (h_prev @ P["U_cand"])
            else:
                dreset = da_cand * hn
        da_update = dupdate * (r * (1 - r) if bug == "da_update_at_reset" else z * (1 - z))
        da_reset = dreset * r * (1 - r)
        da = {"update": da_update, "reset": da_reset, "cand": da_cand}
        step = {}
        for k in NAMES:
            step[f"dW_{k}"] = xt.T @ da[k]
            if bug == "dW_batch_mean":
                step[f"dW_{k}"] = step[f"dW_{k}"] / N
            step[f"db_{k}"] = da[k].sum(axis=0)
        step["dU_update"] = h_prev.T @ da_update
        step["dU_reset"] = h_prev.T @ da_reset
        if bug == "reset_before_forward":
            step["dU_cand"] = (r * h_prev).T @ dhn
        else:
            step["dU_cand"] = h_prev.T @ dhn
        step["db_cand_h"] = dhn.sum(axis=0)
        if bug == "clip_each_step_grad":
            step = {k: np.clip(v, -0.3, 0.3) for k, v in step.items()}
        if bug == "grads_dict_update":
            grads.update(step)
        else:
            for k, v in step.items():
                grads[k] = grads[k] + v
        dx_t = sum(da[k] @ P[f"W_{k}"].T for k in NAMES)
        U_z = P["U_update"] if bug in ("U_update_untransposed", "dupdate_flipped_U_untransposed") else P["U_update"].T
        dh_prev = dh_t * z + da_update @ U_z + da_reset @ P["U_reset"].T
        dh_prev = dh_prev + (drh * r if bug == "reset_before_forward" else dhn @ P["U_cand"].T)
        return dx_t, dh_prev

    return back


def gru_backward(dh, cache, bug=None):
    tape, P = cache["tape"], cache["params"]
    N, T, H = dh.shape
    grads = {f"d{k}": np.zeros_like(v) for k, v in P.items()}
    dx = np.zeros((N, T, cache["D"]), dtype=dh.dtype)
    dh_prev = np.zeros((N, H), dtype=dh.dtype)
    first = 1 if bug == "tape_skips_first" else 0
    for t in reversed(range(first, T)):
        dx[:, t], dh_prev = tape[t](dh[:, t] + dh_prev, grads)
    return {"dx": dx, "dh0": dh_prev, **grads}


BLOCK = {"reset": 0, "update": 1, "cand": 2}              # canonical blocks r, z, n


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    user = {}
    for k in NAMES:
        rows = slice(BLOCK[k] * H, (BLOCK[k] + 1) * H)
        b = p["bias_ih"][rows] if k == "cand" else p["bias_ih"][rows] + p["bias_hh"][rows]
        user.update({f"W_{k}": p["weight_ih"][rows].T, f"U_{k}": p["weight_hh"][rows].T, f"b_{k}": b})
    user["b_cand_h"] = p["bias_hh"][2 * H:]
    return user


def to_canonical(cell, g, p):
    out = {}
    order = ("reset", "update", "cand")
    for mine, theirs in (("dW", "dweight_ih"), ("dU", "dweight_hh")):
        if all(f"{mine}_{k}" in g for k in order):
            out[theirs] = np.concatenate([g[f"{mine}_{k}"].T for k in order])
    if all(f"db_{k}" in g for k in order):
        out["dbias_ih"] = np.concatenate([g[f"db_{k}"] for k in order])
        if "db_cand_h" in g:
            out["dbias_hh"] = np.concatenate([out["dbias_ih"][:2 * len(g["db_cand_h"])], g["db_cand_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gate_dict_tape_gru", cells=("gru",), weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

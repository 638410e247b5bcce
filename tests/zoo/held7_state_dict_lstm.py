"""An LSTM whose forward keeps its state as a dict {"h": ..., "c": ...} and whose backward
carries the two gradients the same way, ``d = {"h": dh, "c": dc}``, from step to step. One
weight W (4H, H+D) applied to the concatenation [h, x] (h first) plus b (4H,), blocks in the
order g, i, f, o (as nicodjimenez's lstm.py lists them), time-major x (T, N, D), h (T, N, H):

    hx = [h_(t-1), x_t]      z = hx @ W.T + b
    g = tanh(z_g)  i = s(z_i)  f = s(z_f)  o = s(z_o)
    c_t = f * c_(t-1) + i * g           h_t = o * tanh(c_t)

Each step's cache is a dict. Custom layout, axes "TND", c0 an argument. Seventh held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dx_from_h_block": "wrong_weight",                    # dx[t] = dhx[:, :D]: the h columns of W read as x's
    "dc_carry_not_added": "carry_dropped",                # dc = dh * o * (1 - tc ** 2): d["c"] left out
    "tanh_grad_at_c": "derivative_wrong_point",           # (1 - s["c"] ** 2) for (1 - tanh(c) ** 2)
    "tanh_c_prev": "wrong_time",                          # tc = np.tanh(s["c_prev"]) (c_(t-1) for c_t)
    "do_tanh_grad": "derivative_wrong_function",          # dz_o = do * (1 - o ** 2)
    "dz_blocks_igfo": "gate_order",                       # dz = hstack([dz_i, dz_g, dz_f, dz_o])
    "di_no_sigmoid_grad": "derivative_missing",           # dz_i = di
    "dhx_from_dW": "gradient_for_weight",                 # dhx = dz @ dW
    "grads_over_T": "reduction_scaled",                   # return dW / T, db / T
    "c_in_place": "inplace_corruption",                   # c = state["c"]; c *= f; c += i * g
    "forward_hx_swapped": "forward_mistake",              # hx = [x, h] in the forward; backward consistent
    "skips_last_step": "loop_skips_step",                 # for t in range(T - 2, -1, -1)
    "cut_after_3": "truncated_bptt",                      # d = zeros once 3 steps are behind (T - t >= 3)
    "tanh_c_prev_and_do_tanh_grad": "unknown",            # both tanh_c_prev and do_tanh_grad
    "dc_carry_half": "unknown",                           # d["c"] = 0.5 * dc * f (an arbitrary constant)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dx_from_h_block": "",
    "dc_carry_not_added": "",
    "tanh_grad_at_c": "ifg",
    "tanh_c_prev": "",
    "do_tanh_grad": "o",
    "dz_blocks_igfo": "ig",
    "di_no_sigmoid_grad": "i",
    "dhx_from_dW": "",
    "grads_over_T": "",
    "c_in_place": "f",
    "forward_hx_swapped": "",
    "skips_last_step": "",
    "cut_after_3": "",
    "tanh_c_prev_and_do_tanh_grad": "",
    "dc_carry_half": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, W, b, bug=None):
    T, N, D = x.shape
    H = h0.shape[1]
    state = {"h": h0, "c": np.array(c0)}
    out = np.empty((T, N, H), dtype=x.dtype)
    steps = []
    for t in range(T):
        if bug == "forward_hx_swapped":
            hx = np.hstack([x[t], state["h"]])
        else:
            hx = np.hstack([state["h"], x[t]])
        z = hx @ W.T + b
        g = np.tanh(z[:, :H])
        i = sigmoid(z[:, H:2 * H])
        f = sigmoid(z[:, 2 * H:3 * H])
        o = sigmoid(z[:, 3 * H:])
        if bug == "c_in_place":
            c = state["c"]
            c *= f
            c += i * g
        else:
            c = f * state["c"] + i * g
        h = o * np.tanh(c)
        steps.append({"hx": hx, "c_prev": state["c"], "c": c, "g": g, "i": i, "f": f, "o": o})
        state = {"h": h, "c": c}
        out[t] = h
    return out, {"steps": steps, "W": W, "D": D}


def lstm_backward(dh_seq, cache, bug=None):
    steps, W, D = cache["steps"], cache["W"], cache["D"]
    T, N, H = dh_seq.shape
    dW, db = np.zeros_like(W), np.zeros(4 * H, dtype=dh_seq.dtype)
    dx = np.zeros((T, N, D), dtype=dh_seq.dtype)
    d = {"h": np.zeros((N, H), dtype=dh_seq.dtype), "c": np.zeros((N, H), dtype=dh_seq.dtype)}
    for t in (range(T - 2, -1, -1) if bug == "skips_last_step" else range(T - 1, -1, -1)):
        if bug == "cut_after_3" and T - t > 3:
            d = {"h": np.zeros_like(d["h"]), "c": np.zeros_like(d["c"])}
        s = steps[t]
        dh = dh_seq[t] + d["h"]
        tc = np.tanh(s["c_prev"] if bug in ("tanh_c_prev", "tanh_c_prev_and_do_tanh_grad") else s["c"])
        tanh_grad = 1 - s["c"] ** 2 if bug == "tanh_grad_at_c" else 1 - tc ** 2
        dc = dh * s["o"] * tanh_grad
        if bug != "dc_carry_not_added":
            dc = dc + d["c"]
        do = dh * tc
        di = dc * s["g"]
        dg = dc * s["i"]
        df = dc * s["c_prev"]
        dz_g = dg * (1 - s["g"] ** 2)
        dz_i = di if bug == "di_no_sigmoid_grad" else di * s["i"] * (1 - s["i"])
        dz_f = df * s["f"] * (1 - s["f"])
        if bug in ("do_tanh_grad", "tanh_c_prev_and_do_tanh_grad"):
            dz_o = do * (1 - s["o"] ** 2)
        else:
            dz_o = do * s["o"] * (1 - s["o"])
        if bug == "dz_blocks_igfo":
            dz = np.hstack([dz_i, dz_g, dz_f, dz_o])
        else:
            dz = np.hstack([dz_g, dz_i, dz_f, dz_o])
        dW += dz.T @ s["hx"]
        db += dz.sum(axis=0)
        dhx = dz @ (dW if bug == "dhx_from_dW" else W)
        if bug == "forward_hx_swapped":
            dx[t], dh_prev = dhx[:, :D], dhx[:, D:]
        else:
            dx[t] = dhx[:, :D] if bug == "dx_from_h_block" else dhx[:, H:]
            dh_prev = dhx[:, :H]
        d = {"h": dh_prev, "c": 0.5 * dc * s["f"] if bug == "dc_carry_half" else dc * s["f"]}
    if bug == "grads_over_T":
        return dx, d["h"], d["c"], dW / T, db / T
    return dx, d["h"], d["c"], dW, db


ORDER = "gifo"                                            # the user's blocks; canonical is i, f, g, o


def _blocks(a, src, dst):
    parts = dict(zip(src, np.split(np.asarray(a), 4)))
    return np.concatenate([parts[k] for k in dst])


def to_user(cell, p):
    W = np.concatenate([p["weight_hh"], p["weight_ih"]], axis=1)          # (4H, H + D), h columns first
    return {"W": _blocks(W, "ifgo", ORDER), "b": _blocks(p["bias_ih"] + p["bias_hh"], "ifgo", ORDER)}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW" in grads:
        dW = _blocks(grads["dW"], ORDER, "ifgo")
        out["dweight_hh"], out["dweight_ih"] = dW[:, :H], dW[:, H:]
    if "db" in grads:
        out["dbias_ih"] = _blocks(grads["db"], ORDER, "ifgo")
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="state_dict_lstm", cells=("lstm",), axes="TND",
                               gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W, b):
        return lstm_forward(x, h0, c0, W, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""A GRU as "Dive into Deep Learning" writes it from scratch (its ``gru`` function and the
``params`` list), in NumPy, with the backpropagation through time a reader writes by hand for it:

    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h]      W_x* (D, H), W_h* (H, H), b_* (H,)
    for X in inputs:                                                     inputs (T, N, D): time-major
        Z = sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = sigmoid(X @ W_xr + H @ W_hr + b_r)
        H_tilda = tanh(X @ W_xh + (R * H) @ W_hh + b_h)                 (reset before the product)
        H = Z * H + (1 - Z) * H_tilda

d2l concatenates the outputs along the time axis; here they are stacked (T, N, H) and the final
state is returned as d2l does, ``(H,)``. Each b_* is torch's bias_ih + bias_hh of that gate; d2l's
H_tilda is torch's n. Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dW_hz_transposed": "gradient_transposed",           # dW_hz += dA_z.T @ H_prev: dW_hz written transposed
    "dH_prev_through_W_hr_for_W_hz": "wrong_weight",      # dA_z @ W_hr.T in dH_prev
    "dRH_W_hh_untransposed": "weight_transposed",         # dRH = dA_h @ W_hh
    "dZ_sign_flipped": "wrong_sign",                      # dZ = dH * (H_tilda - H_prev)
    "dA_r_tanh_grad": "derivative_wrong_function",        # dA_r = dR * (1 - R ** 2)
    "tanh_grad_in_dH_tilda_and_dA_h": "derivative_twice",  # dH_tilda already times 1 - H_tilda^2, and dA_h again
    "dX_misses_reset_gate": "term_dropped",               # dX = dA_z @ W_xz.T + dA_h @ W_xh.T
    "db_z_batch_mean": "reduction_scaled",                # db_z += dA_z.mean(axis=0)
    "backward_loop_forward_in_time": "loop_direction",    # for t in range(len(cache))
    "grads_clipped_to_1": "gradient_clipped",             # np.clip(g, -1, 1) on every weight gradient
    "forward_candidate_without_reset": "forward_mistake",  # H_tilda = tanh(X @ W_xh + H @ W_hh + b_h); consistent
    "cache_holds_new_H": "wrong_time",                    # the step cache stores H after the update (H_t for H_t-1)
    "dZ_sign_and_db_z_mean": "unknown",                   # two mistakes: dZ sign flipped and db_z a batch mean
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dW_hz_transposed": "z",
    "dH_prev_through_W_hr_for_W_hz": "",
    "dRH_W_hh_untransposed": "r",
    "dZ_sign_flipped": "z",
    "dA_r_tanh_grad": "r",
    "tanh_grad_in_dH_tilda_and_dA_h": "rn",
    "dX_misses_reset_gate": "",
    "db_z_batch_mean": "z",
    "backward_loop_forward_in_time": "",
    "grads_clipped_to_1": "zn",
    "forward_candidate_without_reset": "",
    "cache_holds_new_H": "",
    "dZ_sign_and_db_z_mean": "z",
}

NAMES = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")


def sigmoid(X):
    return 1 / (1 + np.exp(-X))


def gru(inputs, state, params, bug=None):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h = params
    H, = state
    outputs, cache = [], []
    for X in inputs:
        Z = sigmoid(X @ W_xz + H @ W_hz + b_z)
        R = sigmoid(X @ W_xr + H @ W_hr + b_r)
        if bug == "forward_candidate_without_reset":
            H_tilda = np.tanh(X @ W_xh + H @ W_hh + b_h)
        else:
            H_tilda = np.tanh(X @ W_xh + (R * H) @ W_hh + b_h)
        H_prev = H
        H = Z * H + (1 - Z) * H_tilda
        cache.append((X, H if bug == "cache_holds_new_H" else H_prev, Z, R, H_tilda))
        outputs.append(H)
    return np.stack(outputs), (H,), (cache, params)


def gru_backward(dHs, cache, bug=None):
    """dHs (T, N, H): the gradient of every step's output. Returns dX, dH0 and the params' grads."""
    cache, params = cache
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h = params
    grads = [np.zeros_like(p) for p in params]
    dW_xz, dW_hz, db_z, dW_xr, dW_hr, db_r, dW_xh, dW_hh, db_h = grads
    dXs = np.zeros((len(cache),) + cache[0][0].shape, dtype=dHs.dtype)
    dH_next = np.zeros_like(dHs[0])
    steps = range(len(cache)) if bug == "backward_loop_forward_in_time" else reversed(range(len(cache)))
    for t in steps:
        X, H_prev, Z, R, H_tilda = cache[t]
        dH = dHs[t] + dH_next
        if bug in ("dZ_sign_flipped", "dZ_sign_and_db_z_mean"):
            dZ = dH * (H_tilda - H_prev)
        else:
            dZ = dH * (H_prev - H_tilda)
        dH_tilda = dH * (1 - Z)
        if bug == "tanh_grad_in_dH_tilda_and_dA_h":
            dH_tilda = dH_tilda * (1 - H_tilda ** 2)
        dH_prev = dH * Z
        dA_h = dH_tilda * (1 - H_tilda ** 2)
        if bug == "forward_candidate_without_reset":
            dW_hh += H_prev.T @ dA_h
            dH_prev += dA_h @ W_hh.T
            dR = np.zeros_like(R)
        else:
            dW_hh += (R * H_prev).T @ dA_h
            dRH = dA_h @ (W_hh if bug == "dRH_W_hh_untransposed" else W_hh.T)
            dR = dRH * H_prev
            dH_prev += dRH * R
        dW_xh += X.T @ dA_h
        db_h += dA_h.sum(axis=0)
        dA_z = dZ * Z * (1 - Z)
        dA_r = dR * (1 - R ** 2) if bug == "dA_r_tanh_grad" else dR * R * (1 - R)
        dW_xz += X.T @ dA_z
        dW_hz += dA_z.T @ H_prev if bug == "dW_hz_transposed" else H_prev.T @ dA_z
        if bug in ("db_z_batch_mean", "dZ_sign_and_db_z_mean"):
            db_z += dA_z.mean(axis=0)
        else:
            db_z += dA_z.sum(axis=0)
        dW_xr += X.T @ dA_r
        dW_hr += H_prev.T @ dA_r
        db_r += dA_r.sum(axis=0)
        dX = dA_z @ W_xz.T + dA_h @ W_xh.T
        if bug != "dX_misses_reset_gate":
            dX = dX + dA_r @ W_xr.T
        dXs[t] = dX
        dH_prev += dA_z @ (W_hr.T if bug == "dH_prev_through_W_hr_for_W_hz" else W_hz.T) + dA_r @ W_hr.T
        dH_next = dH_prev
    if bug == "grads_clipped_to_1":
        for g in grads:
            np.clip(g, -1, 1, out=g)
    return (dXs, dH_next, *grads)


def _gates(w):
    return dict(zip("rzn", np.split(w, 3)))


def to_user(cell, p):
    Wi, Wh = _gates(p["weight_ih"]), _gates(p["weight_hh"])
    b = {k: _gates(p["bias_ih"])[k] + _gates(p["bias_hh"])[k] for k in "rzn"}
    return {"W_xz": Wi["z"].T, "W_hz": Wh["z"].T, "b_z": b["z"], "W_xr": Wi["r"].T, "W_hr": Wh["r"].T,
            "b_r": b["r"], "W_xh": Wi["n"].T, "W_hh": Wh["n"].T, "b_h": b["n"]}


def to_canonical(cell, grads, p):
    out = {}
    for q, names in (("dweight_ih", ("dW_xr", "dW_xz", "dW_xh")), ("dweight_hh", ("dW_hr", "dW_hz", "dW_hh"))):
        if all(n in grads for n in names):
            out[q] = np.concatenate([grads[n].T for n in names])
    if all(n in grads for n in ("db_r", "db_z", "db_h")):
        out["dbias_ih"] = np.concatenate([grads["db_r"], grads["db_z"], grads["db_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="d2l_gru", cells=("gru",), axes="TND",
                               weights_as="list", forward_returns=("h", "state", "cache"),
                               gate_order="zrh", gate_letters={"h": "n"}, names={"h": "H"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, H0, params):
        return gru(inputs, (H0,), params, bug)

    def backward(dHs, cache):
        return gru_backward(dHs, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU written from Wikipedia's "fully gated unit" equations, reset before the recurrent
product, with z weighting the candidate (h_t = (1 - z) h_(t-1) + z h~), as a research
prototype that registers a hand-written VJP on the step function with a small
``custom_vjp`` decorator imitating JAX's (``@custom_vjp`` then ``step.defvjp(fwd, bwd)``):

    z = sigmoid(x @ W_z + h @ U_z + b_z)     r = sigmoid(x @ W_r + h @ U_r + b_r)
    h~ = tanh(x @ W_h + (r * h) @ U_h + b_h)
    h' = (1 - z) * h + z * h~

Nine arrays W_* (D, H), U_* (H, H), b_* (H,), x (N, T, D). Wikipedia's z is 1 - torch's z (the
layout negates its weights). Option ``reset_after=False``. Twenty-sixth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

NAMES = ("W_z", "W_r", "W_h", "U_z", "U_r", "U_h", "b_z", "b_r", "b_h")

BUGS = {
    "dU_h_from_plain_h": "wrong_value",                   # dU_h = h.T @ d_ah (h read for r * h)
    "d_rh_path_to_h_dropped": "term_dropped",             # d_h += d_rh * r left out
    "d_r_with_new_h": "wrong_time",                       # d_r = d_rh * h_new (h_t for h_(t-1))
    "d_z_sign": "wrong_sign",                             # d_z = g * (h - h_tilde)
    "d_ah_sigmoid_grad": "derivative_wrong_function",     # d_ah = d_ht * h_tilde * (1 - h_tilde)
    "d_ar_no_sigmoid_grad": "derivative_missing",         # d_ar = d_r
    "d_az_sigmoid_grad_twice": "derivative_twice",        # d_z * z (1 - z) * z (1 - z)
    "U_h_untransposed": "weight_transposed",              # d_rh = d_ah @ U_h (no .T)
    "carry_U_r_for_U_z": "wrong_weight",                  # d_h += d_az @ U_r.T + d_ar @ U_r.T
    "dU_r_outer_reversed": "gradient_transposed",         # dU_r = d_ar.T @ h
    "forward_reset_after": "forward_mistake",             # h~ = tanh(x @ W_h + r * (h @ U_h) + b_h); consistent
    "scan_skips_last_step": "loop_skips_step",            # for t in range(T - 2, -1, -1)
    "grads_dict_update": "carry_overwrites",              # grads.update(step_grads): each step replaces the sum
    "d_ah_doubled": "unknown",                            # d_ah * 2 ("tanh = 2 s(2a) - 1: a factor 2"): a constant
    "d_z_sign_and_raw_ar": "unknown",                     # d_z sign and d_ar = d_r together: two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dU_h_from_plain_h": "n",
    "d_rh_path_to_h_dropped": "",
    "d_r_with_new_h": "r",
    "d_z_sign": "z",
    "d_ah_sigmoid_grad": "rn",
    "d_ar_no_sigmoid_grad": "r",
    "d_az_sigmoid_grad_twice": "z",
    "U_h_untransposed": "r",
    "carry_U_r_for_U_z": "",
    "dU_r_outer_reversed": "r",
    "forward_reset_after": "",
    "scan_skips_last_step": "",
    "grads_dict_update": "",
    "d_ah_doubled": "rn",
    "d_z_sign_and_raw_ar": "rz",
}


class custom_vjp:
    """Just enough of jax.custom_vjp to keep a function and its hand-written VJP together."""

    def __init__(self, fun):
        self.fun, self.fwd, self.bwd = fun, None, None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        return self.fun(*args)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def build(bug=None):
    """The step with its VJP, for one planted mistake."""

    def _gates(P, h, x):
        z = sigmoid(x @ P["W_z"] + h @ P["U_z"] + P["b_z"])
        r = sigmoid(x @ P["W_r"] + h @ P["U_r"] + P["b_r"])
        if bug == "forward_reset_after":
            h_tilde = np.tanh(x @ P["W_h"] + r * (h @ P["U_h"]) + P["b_h"])
        else:
            h_tilde = np.tanh(x @ P["W_h"] + (r * h) @ P["U_h"] + P["b_h"])
        return z, r, h_tilde

    @custom_vjp
    def step(P, h, x):
        z, _, h_tilde = _gates(P, h, x)
        return (1 - z) * h + z * h_tilde

    def step_fwd(P, h, x):
        z, r, h_tilde = _gates(P, h, x)
        h_new = (1 - z) * h + z * h_tilde
        return h_new, (x, h, z, r, h_tilde, h_new)

    def step_bwd(P, res, g):
        x, h, z, r, h_tilde, h_new = res
        d_ht = g * z
        d_z = g * (h - h_tilde) if bug in ("d_z_sign", "d_z_sign_and_raw_ar") else g * (h_tilde - h)
        d_h = g * (1 - z)
        if bug == "d_ah_sigmoid_grad":
            d_ah = d_ht * h_tilde * (1 - h_tilde)
        else:
            d_ah = d_ht * (1 - h_tilde ** 2)
        if bug == "d_ah_doubled":
            d_ah = d_ah * 2
        G = {"W_h": x.T @ d_ah, "b_h": d_ah.sum(axis=0)}
        if bug == "forward_reset_after":
            uh = h @ P["U_h"]
            d_uh = d_ah * r
            d_r = d_ah * uh
            G["U_h"] = h.T @ d_uh
            d_h = d_h + d_uh @ P["U_h"].T
        else:
            d_rh = d_ah @ (P["U_h"] if bug == "U_h_untransposed" else P["U_h"].T)
            d_r = d_rh * (h_new if bug == "d_r_with_new_h" else h)
            if bug != "d_rh_path_to_h_dropped":
                d_h = d_h + d_rh * r
            G["U_h"] = (h if bug == "dU_h_from_plain_h" else r * h).T @ d_ah
        if bug == "d_az_sigmoid_grad_twice":
            d_az = d_z * z * (1 - z) * z * (1 - z)
        else:
            d_az = d_z * z * (1 - z)
        d_ar = d_r if bug in ("d_ar_no_sigmoid_grad", "d_z_sign_and_raw_ar") else d_r * r * (1 - r)
        G.update(W_z=x.T @ d_az, U_z=h.T @ d_az, b_z=d_az.sum(axis=0),
                 W_r=x.T @ d_ar, b_r=d_ar.sum(axis=0))
        G["U_r"] = d_ar.T @ h if bug == "dU_r_outer_reversed" else h.T @ d_ar
        U_for_z = P["U_r"] if bug == "carry_U_r_for_U_z" else P["U_z"]
        d_h = d_h + d_az @ U_for_z.T + d_ar @ P["U_r"].T
        d_x = d_az @ P["W_z"].T + d_ar @ P["W_r"].T + d_ah @ P["W_h"].T
        return G, d_h, d_x

    step.defvjp(step_fwd, step_bwd)
    return step


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    step = build(bug)

    def forward(x, h0, *weights):
        P = dict(zip(NAMES, weights))
        h, hs, residuals = h0, [], []
        for t in range(x.shape[1]):
            h, res = step.fwd(P, h, x[:, t])
            hs.append(h)
            residuals.append(res)
        return np.stack(hs, axis=1), (P, residuals)

    def backward(dh, cache):
        P, residuals = cache
        N, T, H = dh.shape
        grads = {k: np.zeros_like(v) for k, v in P.items()}
        dx = np.zeros((N, T, P["W_z"].shape[0]), dtype=dh.dtype)
        d_h = np.zeros((N, H), dtype=dh.dtype)
        last = T - 2 if bug == "scan_skips_last_step" else T - 1
        for t in range(last, -1, -1):
            step_grads, d_h, dx[:, t] = step.bwd(P, residuals[t], dh[:, t] + d_h)
            if bug == "grads_dict_update":
                grads.update(step_grads)
            else:
                for k, v in step_grads.items():
                    grads[k] += v
        return (dx, d_h, *(grads[k] for k in NAMES))

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    W = {g: p["weight_ih"][k * H:(k + 1) * H].T for k, g in enumerate("rzn")}
    U = {g: p["weight_hh"][k * H:(k + 1) * H].T for k, g in enumerate("rzn")}
    bb = {g: b[k * H:(k + 1) * H] for k, g in enumerate("rzn")}
    return {"W_z": -W["z"], "W_r": W["r"], "W_h": W["n"], "U_z": -U["z"], "U_r": U["r"], "U_h": U["n"],
            "b_z": -bb["z"], "b_r": bb["r"], "b_h": bb["n"]}


def to_canonical(cell, grads, p):
    out = {}
    if all(f"d{k}" in grads for k in ("W_r", "W_z", "W_h")):
        out["dweight_ih"] = np.concatenate([grads["dW_r"].T, -grads["dW_z"].T, grads["dW_h"].T])
    if all(f"d{k}" in grads for k in ("U_r", "U_z", "U_h")):
        out["dweight_hh"] = np.concatenate([grads["dU_r"].T, -grads["dU_z"].T, grads["dU_h"].T])
    if all(f"d{k}" in grads for k in ("b_r", "b_z", "b_h")):
        out["dbias_ih"] = np.concatenate([grads["db_r"], -grads["db_z"], grads["db_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="wiki_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})

"""A GRU as the popular sequence-models course writes its cells (a ``parameters`` dict, a list
of ``caches``, a gradients dict), but batch-major with row vectors and one W, U, b per gate:
x (N, T, D), h0 (N, H), Wz, Wr, Wh (D, H), Uz, Ur, Uh (H, H), bz, br, bh (H,); the reset gate
applied before the recurrent product (reset_after=False, as the course and TF1 do) and the
update gate keeping the old state (d2l's convention, torch's z):

    z = sigmoid(x Wz + h Uz + bz)        r = sigmoid(x Wr + h Ur + br)
    h~ = tanh(x Wh + (r * h) Uh + bh)    h' = z * h + (1 - z) * h~

The candidate's bias bh is torch's b_in + b_hn (both outside the reset), so one bias per gate
is exact. Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dh_prev_misses_direct_path": "term_dropped",         # dh_prev without dh * z (only the gates' paths)
    "dUh_without_r": "term_dropped",                      # dUh += h_prev.T @ dah: the r of (r * h_prev) left out
    "dz_sign_course_convention": "wrong_sign",            # dz = dh * (h~ - h_prev): the course's z convention
    "drh_Uh_untransposed": "weight_transposed",           # drh = dah @ Uh
    "daz_through_Ur": "wrong_weight",                     # daz @ Ur.T in dh_prev (copy-paste of the r line)
    "dah_sigmoid_grad": "derivative_wrong_function",      # dah = dh~ * h~ * (1 - h~)
    "daz_sigmoid_applied_again": "derivative_wrong_point",  # sigmoid(z) * (1 - sigmoid(z)): z is already a sigmoid
    "loop_from_T_minus_2": "loop_skips_step",             # for t in reversed(range(T - 1))
    "h_prev_read_at_t": "wrong_time",                     # h_prev = h[:, t] (the output) for h[:, t - 1] / h0
    "forward_reset_after_Uh": "forward_mistake",          # h~ = tanh(x Wh + r * (h Uh) + bh); backward consistent
    "grads_averaged_over_N": "reduction_scaled",          # every parameter gradient / N at the end (dx, dh0 not)
    "h_updated_in_place": "inplace_corruption",           # h *= z; h += (1 - z) * h~: every cache's h_prev is the last h
    "dUh_without_r_and_dz_sign": "unknown",               # two mistakes at once
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dh_prev_misses_direct_path": "",
    "dUh_without_r": "n",
    "dz_sign_course_convention": "z",
    "drh_Uh_untransposed": "r",
    "daz_through_Ur": "",
    "dah_sigmoid_grad": "rn",
    "daz_sigmoid_applied_again": "z",
    "loop_from_T_minus_2": "",
    "h_prev_read_at_t": "",
    "forward_reset_after_Uh": "",
    "grads_averaged_over_N": "",
    "h_updated_in_place": "",
    "dUh_without_r_and_dz_sign": "zn",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, parameters, bug=None):
    p = parameters
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    h_next = h0.copy()
    caches = []
    for t in range(T):
        xt, h_prev = x[:, t], h_next
        z = sigmoid(xt @ p["Wz"] + h_prev @ p["Uz"] + p["bz"])
        r = sigmoid(xt @ p["Wr"] + h_prev @ p["Ur"] + p["br"])
        if bug == "forward_reset_after_Uh":
            h_tilde = np.tanh(xt @ p["Wh"] + r * (h_prev @ p["Uh"]) + p["bh"])
        else:
            h_tilde = np.tanh(xt @ p["Wh"] + (r * h_prev) @ p["Uh"] + p["bh"])
        caches.append({"xt": xt, "h_prev": h_prev, "z": z, "r": r, "h_tilde": h_tilde})
        if bug == "h_updated_in_place":
            h_next *= z
            h_next += (1 - z) * h_tilde
        else:
            h_next = z * h_prev + (1 - z) * h_tilde
        h[:, t] = h_next
    return h, (caches, x, h0, h, parameters)


def gru_backward(dh, cache, bug=None):
    caches, x, h0, h, p = cache
    N, T, H = dh.shape
    grads = {f"d{k}": np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    dh_prevt = np.zeros((N, H), dtype=dh.dtype)
    last = T - 2 if bug == "loop_from_T_minus_2" else T - 1
    for t in range(last, -1, -1):
        c = caches[t]
        z, r, h_tilde, xt = c["z"], c["r"], c["h_tilde"], c["xt"]
        if bug == "h_prev_read_at_t":
            h_prev = h[:, t]
        else:
            h_prev = c["h_prev"]
        dht = dh[:, t] + dh_prevt
        dh_tilde = dht * (1 - z)
        dz = dht * ((h_tilde - h_prev) if bug in ("dz_sign_course_convention", "dUh_without_r_and_dz_sign")
                    else (h_prev - h_tilde))
        dah = dh_tilde * (h_tilde * (1 - h_tilde) if bug == "dah_sigmoid_grad" else 1 - h_tilde ** 2)
        if bug == "forward_reset_after_Uh":
            hU = h_prev @ p["Uh"]
            dr = dah * hU
            drh = (dah * r) @ p["Uh"].T
        else:
            drh = dah @ (p["Uh"] if bug == "drh_Uh_untransposed" else p["Uh"].T)
            dr = drh * h_prev
        dar = dr * r * (1 - r)
        if bug == "daz_sigmoid_applied_again":
            daz = dz * sigmoid(z) * (1 - sigmoid(z))
        else:
            daz = dz * z * (1 - z)
        for name, da in (("z", daz), ("r", dar), ("h", dah)):
            grads[f"dW{name}"] += xt.T @ da
            grads[f"db{name}"] += da.sum(axis=0)
        grads["dUz"] += h_prev.T @ daz
        grads["dUr"] += h_prev.T @ dar
        if bug == "forward_reset_after_Uh":
            grads["dUh"] += h_prev.T @ (dah * r)
        elif bug in ("dUh_without_r", "dUh_without_r_and_dz_sign"):
            grads["dUh"] += h_prev.T @ dah
        else:
            grads["dUh"] += (r * h_prev).T @ dah
        dx[:, t] = daz @ p["Wz"].T + dar @ p["Wr"].T + dah @ p["Wh"].T
        dh_prevt = drh if bug == "forward_reset_after_Uh" else drh * r
        dh_prevt = dh_prevt + daz @ (p["Ur"] if bug == "daz_through_Ur" else p["Uz"]).T + dar @ p["Ur"].T
        if bug != "dh_prev_misses_direct_path":
            dh_prevt = dh_prevt + dht * z
    if bug == "grads_averaged_over_N":
        grads = {k: v / N for k, v in grads.items()}
    grads.update(dx=dx, dh0=dh_prevt)
    return grads


def _blocks(a):
    return dict(zip("rzn", np.split(a, 3, axis=0)))          # torch's rows r, z, n


def to_user(cell, p):
    W, U, b = _blocks(p["weight_ih"]), _blocks(p["weight_hh"]), _blocks(p["bias_ih"] + p["bias_hh"])
    return {"Wz": W["z"].T, "Uz": U["z"].T, "bz": b["z"], "Wr": W["r"].T, "Ur": U["r"].T, "br": b["r"],
            "Wh": W["n"].T, "Uh": U["n"].T, "bh": b["n"]}


def to_canonical(cell, grads, p):
    out = {}
    for q, (w, t) in {"dweight_ih": ("dW", True), "dweight_hh": ("dU", True), "dbias_ih": ("db", False)}.items():
        names = [w + g for g in "rzh"]
        if all(n in grads for n in names):
            out[q] = np.concatenate([grads[n].T if t else grads[n] for n in names])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="course_gru_dicts", cells=("gru",), weights_as="dict",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, parameters):
        return gru_forward(x, h0, parameters, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

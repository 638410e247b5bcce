"""A GRU (the reset gate applied before the recurrent product, reset_after=False) whose
backward accumulates every weight gradient into one flat vector, as code written for a
generic optimizer does: a table of shapes gives each parameter an offset, ``view(name)``
is a reshaped view into the flat vector that the step adds into, and ``unflatten`` turns
the vector back into the gradients dict at the end. Parameters in a dict, per gate:

    r = s(x Wr + h Ur + br)    z = s(x Wz + h Uz + bz)    n = tanh(x Wn + (r * h) Un + bn)
    h' = z * h + (1 - z) * n              Wr, Wz, Wn (D, H); Ur, Uz, Un (H, H); b* (H,)

x (N, T, D). Twenty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

NAMES = ("Wr", "Wz", "Wn", "Ur", "Uz", "Un", "br", "bz", "bn")

BUGS = {
    "Un_untransposed": "weight_transposed",               # drh = da_n @ Un (for Un.T)
    "dUz_transposed": "gradient_transposed",              # view("Uz") += da_z.T @ h_prev
    "Ur_in_z_path": "wrong_weight",                       # dh_prev gets da_z @ Ur.T (for Uz.T)
    "dh_prev_without_z_path": "term_dropped",             # dh_prev = drh * r + gate terms (g * z left out)
    "dr_times_h_t": "wrong_time",                         # dr = drh * hs[:, t] (h_t for h_(t-1))
    "dz_sign_flipped": "wrong_sign",                      # dz = g * (n - h_prev)
    "da_r_sigmoid_prime_twice": "derivative_twice",       # da_r = dr * r(1 - r) * r(1 - r)
    "da_n_at_preactivation": "derivative_wrong_point",    # da_n = dn * (1 - a_n ** 2), a_n the cached pre-activation
    "bias_grads_mean": "reduction_scaled",                # view("b*") += da.mean(axis=0) (for sum)
    "truncated_after_2": "truncated_bptt",                # carry zeroed two steps before the end
    "forward_n_without_r": "forward_mistake",             # n = tanh(x Wn + h Un + bn); backward consistent
    "h_updated_in_place": "inplace_corruption",           # h *= z; h += (1 - z) * n: every cached h_prev is the last h
    "da_r_no_prime_and_Un_untransposed": "unknown",       # da_r = dr and drh = da_n @ Un (two mistakes)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "Un_untransposed": "r",
    "dUz_transposed": "z",
    "Ur_in_z_path": "",
    "dh_prev_without_z_path": "",
    "dr_times_h_t": "r",
    "dz_sign_flipped": "z",
    "da_r_sigmoid_prime_twice": "r",
    "da_n_at_preactivation": "rn",
    "bias_grads_mean": "",
    "truncated_after_2": "",
    "forward_n_without_r": "",
    "h_updated_in_place": "",
    "da_r_no_prime_and_Un_untransposed": "r",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_forward(x, h0, params, bug=None):
    Wr, Wz, Wn, Ur, Uz, Un, br, bz, bn = (params[k] for k in NAMES)
    N, T, _ = x.shape
    hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    h, steps = h0.copy(), []
    for t in range(T):
        xt = x[:, t]
        r = sigmoid(xt @ Wr + h @ Ur + br)
        z = sigmoid(xt @ Wz + h @ Uz + bz)
        a_n = xt @ Wn + (h if bug == "forward_n_without_r" else r * h) @ Un + bn
        n = np.tanh(a_n)
        steps.append((xt, h, r, z, n, a_n))
        if bug == "h_updated_in_place":
            h *= z
            h += (1 - z) * n
        else:
            h = z * h + (1 - z) * n
        hs[:, t] = h
    return hs, (steps, hs, params)


def _offsets(params):
    offsets, start = {}, 0
    for k in NAMES:
        offsets[k] = (start, start + params[k].size)
        start += params[k].size
    return offsets, start


def unflatten(grad, params, offsets):
    return {"d" + k: grad[offsets[k][0]:offsets[k][1]].reshape(params[k].shape).copy() for k in NAMES}


def gru_backward(dh, cache, bug=None):
    steps, hs, params = cache
    Wr, Wz, Wn, Ur, Uz, Un = (params[k] for k in NAMES[:6])
    N, T, H = dh.shape
    offsets, total = _offsets(params)
    grad = np.zeros(total, dtype=dh.dtype)

    def view(name):
        return grad[offsets[name][0]:offsets[name][1]].reshape(params[name].shape)

    dx = np.zeros((N, T, Wr.shape[0]), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        if bug == "truncated_after_2" and t == T - 3:
            dh_next = np.zeros_like(dh_next)
        xt, h_prev, r, z, n, a_n = steps[t]
        g = dh[:, t] + dh_next
        dz = g * ((n - h_prev) if bug == "dz_sign_flipped" else (h_prev - n))
        dn = g * (1 - z)
        da_n = dn * (1 - (a_n ** 2 if bug == "da_n_at_preactivation" else n ** 2))
        untransposed = bug in ("Un_untransposed", "da_r_no_prime_and_Un_untransposed")
        drh = da_n @ (Un if untransposed else Un.T)
        if bug == "forward_n_without_r":
            dr, rh = np.zeros_like(r), h_prev
        else:
            dr, rh = drh * (hs[:, t] if bug == "dr_times_h_t" else h_prev), r * h_prev
        da_r = dr * r * (1 - r)
        if bug == "da_r_sigmoid_prime_twice":
            da_r = da_r * r * (1 - r)
        elif bug == "da_r_no_prime_and_Un_untransposed":
            da_r = dr
        da_z = dz * z * (1 - z)
        for gate, da in (("r", da_r), ("z", da_z), ("n", da_n)):
            view("W" + gate)[...] += xt.T @ da
            view("b" + gate)[...] += da.mean(axis=0) if bug == "bias_grads_mean" else da.sum(axis=0)
        view("Ur")[...] += h_prev.T @ da_r
        view("Uz")[...] += da_z.T @ h_prev if bug == "dUz_transposed" else h_prev.T @ da_z
        view("Un")[...] += rh.T @ da_n
        dx[:, t] = da_r @ Wr.T + da_z @ Wz.T + da_n @ Wn.T
        via_n = drh if bug == "forward_n_without_r" else drh * r
        dh_next = via_n + da_r @ Ur.T + da_z @ (Ur.T if bug == "Ur_in_z_path" else Uz.T)
        if bug != "dh_prev_without_z_path":
            dh_next = dh_next + g * z
    return {"dx": dx, "dh0": dh_next, **unflatten(grad, params, offsets)}


def to_user(cell, p):
    W, U, b = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3), np.split(p["bias_ih"] + p["bias_hh"], 3)
    user = {}
    for k, gate in enumerate("rzn"):
        user["W" + gate], user["U" + gate], user["b" + gate] = W[k].T, U[k].T, b[k]
    return {k: user[k] for k in NAMES}


def to_canonical(cell, grads, p):
    out = {}
    if all("dW" + g in grads for g in "rzn"):
        out["dweight_ih"] = np.concatenate([grads["dW" + g].T for g in "rzn"])
    if all("dU" + g in grads for g in "rzn"):
        out["dweight_hh"] = np.concatenate([grads["dU" + g].T for g in "rzn"])
    if all("db" + g in grads for g in "rzn"):
        out["dbias_ih"] = np.concatenate([grads["db" + g] for g in "rzn"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flatgrad_gru", cells=("gru",), weights_as="dict",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return gru_forward(x, h0, params, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

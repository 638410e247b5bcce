"""A GRU from a homework whose starter code gives ``linear(x, W, b)`` and
``linear_backward(dout, x, W) -> (dx, dW, db)``; the student's code keeps nine arrays in a
``params`` dict (batch-first x (N, T, D), W* (D, H), U* (H, H), b* (H,)), the reset gate
applied to h before the recurrent product (reset_after=False), and returns a ``grads``
dict:

    z = s(x W_z + h U_z + b_z);  r = s(x W_r + h U_r + b_r)
    hh = tanh(x W_h + (r * h) U_h + b_h);  h' = z * h + (1 - z) * hh

Thirtieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dhh_no_tanh_grad": "derivative_missing",    # dahh = dhh
    "dz_sign": "wrong_sign",                     # dz = dh * (hh - h_prev)
    "drh_Uh_untransposed": "weight_transposed",  # drh = dahh @ Uh (linear_backward written inline)
    "dr_with_h_new": "wrong_time",               # dr = drh * h_new (h_t for h_(t-1))
    "dprev_misses_rh_path": "term_dropped",      # dh_prev = dh * z + dh_z + dh_r (the drh * r term left out)
    "Ur_for_Uz": "wrong_weight",                 # the z path carried back through Ur
    "dUz_outer_flipped": "gradient_transposed",  # dUz += daz.T @ h_prev
    "carry_key_typo": "carry_dropped",           # carry["dh_prev"] written, carry["dhprev"] read (stays zero)
    "dbz_assigned": "carry_overwrites",          # grads["dbz"] = dbz_t (= for +=)
    "loop_skips_last": "loop_skips_step",        # for t in reversed(range(T - 1))
    "daz_with_r_grad": "derivative_wrong_point",  # daz = dz * r * (1 - r) (r's sigmoid' for z; also wrong_value)
    "z_buffer_one_minus": "inplace_corruption",  # omz = z; omz *= -1; omz += 1: the cached z becomes 1 - z
    "forward_no_reset": "forward_mistake",       # hh = tanh(x Wh + h Uh + bh) (r computed, unused); consistent
    "clip_global_norm": "gradient_clipped",      # all weight gradients rescaled to global norm 1 at the end
    "dhh_no_tanh_grad_and_dz_sign": "unknown",   # two at once
    "dr_sign_and_loop_skips_last": "unknown",    # two at once: dar = dr * r * (r - 1) and the last step skipped
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "dhh_no_tanh_grad": "rn",
    "dz_sign": "z",
    "drh_Uh_untransposed": "r",
    "dr_with_h_new": "r",
    "dprev_misses_rh_path": "",
    "Ur_for_Uz": "",
    "dUz_outer_flipped": "z",
    "carry_key_typo": "",
    "dbz_assigned": "",
    "loop_skips_last": "",
    "daz_with_r_grad": "z",
    "z_buffer_one_minus": "rn",
    "forward_no_reset": "",
    "clip_global_norm": "",
    "dhh_no_tanh_grad_and_dz_sign": "",
    "dr_sign_and_loop_skips_last": "",
}

NAMES = ("Wz", "Uz", "bz", "Wr", "Ur", "br", "Wh", "Uh", "bh")


# ---- starter code ----
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def linear(x, W, b=None):
    return x @ W if b is None else x @ W + b


def linear_backward(dout, x, W):
    return dout @ W.T, x.T @ dout, dout.sum(axis=0)


# ---- student code ----
def gru_forward(x, h0, params, bug=None):
    p = params
    N, T, _ = x.shape
    hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    h, caches = h0, []
    for t in range(T):
        xt = x[:, t]
        z = sigmoid(linear(xt, p["Wz"], p["bz"]) + linear(h, p["Uz"]))
        r = sigmoid(linear(xt, p["Wr"], p["br"]) + linear(h, p["Ur"]))
        rh = h if bug == "forward_no_reset" else r * h
        hh = np.tanh(linear(xt, p["Wh"], p["bh"]) + linear(rh, p["Uh"]))
        h_new = z * h
        if bug == "z_buffer_one_minus":
            omz = z
            omz *= -1
            omz += 1
        else:
            omz = 1 - z
        h_new = h_new + omz * hh
        caches.append({"x": xt, "h": h, "z": z, "r": r, "rh": rh, "hh": hh, "h_new": h_new})
        hs[:, t] = h_new
        h = h_new
    return hs, (caches, params)


def gru_backward(dh, cache, bug=None):
    caches, p = cache
    N, T, H = dh.shape
    grads = {"d" + k: np.zeros_like(p[k]) for k in NAMES}
    grads["dx"] = np.zeros((N, T, p["Wz"].shape[0]), dtype=dh.dtype)
    carry = {"dh_prev": np.zeros((N, H), dtype=dh.dtype), "dhprev": np.zeros((N, H), dtype=dh.dtype)}
    read = "dhprev" if bug == "carry_key_typo" else "dh_prev"
    for t in reversed(range(T - 1 if bug in ("loop_skips_last", "dr_sign_and_loop_skips_last") else T)):
        c = caches[t]
        z, r, hh, h_prev = c["z"], c["r"], c["hh"], c["h"]
        dht = dh[:, t] + carry[read]
        dhh = dht * (1 - z)
        dz = dht * (hh - h_prev) if bug in ("dz_sign", "dhh_no_tanh_grad_and_dz_sign") else dht * (h_prev - hh)
        dahh = dhh if bug in ("dhh_no_tanh_grad", "dhh_no_tanh_grad_and_dz_sign") else dhh * (1 - hh ** 2)
        dx_h, dWh, dbh = linear_backward(dahh, c["x"], p["Wh"])
        drh, dUh, _ = linear_backward(dahh, c["rh"], p["Uh"])
        if bug == "drh_Uh_untransposed":
            drh = dahh @ p["Uh"]
        if bug == "forward_no_reset":
            dr = np.zeros_like(r)
        else:
            dr = drh * (c["h_new"] if bug == "dr_with_h_new" else h_prev)
        dar = dr * r * (r - 1) if bug == "dr_sign_and_loop_skips_last" else dr * r * (1 - r)
        daz = dz * r * (1 - r) if bug == "daz_with_r_grad" else dz * z * (1 - z)
        dx_z, dWz, dbz = linear_backward(daz, c["x"], p["Wz"])
        dh_z, dUz, _ = linear_backward(daz, h_prev, p["Ur"] if bug == "Ur_for_Uz" else p["Uz"])
        if bug == "dUz_outer_flipped":
            dUz = daz.T @ h_prev
        dx_r, dWr, dbr = linear_backward(dar, c["x"], p["Wr"])
        dh_r, dUr, _ = linear_backward(dar, h_prev, p["Ur"])
        grads["dx"][:, t] = dx_h + dx_z + dx_r
        dh_prev = dht * z + dh_z + dh_r
        if bug == "forward_no_reset":
            dh_prev = dh_prev + drh
        elif bug != "dprev_misses_rh_path":
            dh_prev = dh_prev + drh * r
        carry["dh_prev"] = dh_prev
        for k, v in (("dWz", dWz), ("dUz", dUz), ("dWr", dWr), ("dUr", dUr), ("dbr", dbr), ("dWh", dWh),
                     ("dUh", dUh), ("dbh", dbh)):
            grads[k] += v
        if bug == "dbz_assigned":
            grads["dbz"] = dbz
        else:
            grads["dbz"] += dbz
    if bug == "clip_global_norm":
        total = np.sqrt(sum(np.sum(grads["d" + k] ** 2) for k in NAMES))
        if total > 1:
            for k in NAMES:
                grads["d" + k] = grads["d" + k] / total
    grads["dh0"] = carry["dh_prev"]
    return grads


def to_user(cell, p):
    Wr, Wz, Wn = np.split(p["weight_ih"], 3)
    Ur, Uz, Un = np.split(p["weight_hh"], 3)
    bi, bh = np.split(p["bias_ih"], 3), np.split(p["bias_hh"], 3)
    return {"Wz": Wz.T, "Uz": Uz.T, "bz": bi[1] + bh[1], "Wr": Wr.T, "Ur": Ur.T, "br": bi[0] + bh[0],
            "Wh": Wn.T, "Uh": Un.T, "bh": bi[2] + bh[2]}


def to_canonical(cell, g, p):
    out = {}
    if all("d" + k in g for k in ("Wr", "Wz", "Wh")):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWh"].T])
    if all("d" + k in g for k in ("Ur", "Uz", "Uh")):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUh"].T])
    if all("d" + k in g for k in ("br", "bz", "bh")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbh"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="helpers_dict_gru", cells=("gru",), weights_as="dict",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, params: gru_forward(x, h0, params, bug), lambda dh, cache: gru_backward(dh, cache, bug),
            {"cell": "gru", "layout": LAYOUT, "reset_after": False})

"""A Keras-style reset-after GRU from a notebook, time-major: ``kernel`` (D, 3H),
``recurrent_kernel`` (H, 3H) in z, r, h column blocks and ``bias`` (2, 3H) (input row,
recurrent row) are globals from an earlier cell, and each step is a functools.lru_cache'd
function of t returning a dict (``step(t)`` reads ``step(t - 1)["h"]``); the notebook calls
``step.cache_clear()`` by hand whenever the globals change. Pre-activations are clipped to
[-40, 40] (never reached on a probe) before the np.where sigmoid.

    z, r = sigmoid(x Wz + bz_i + h Uz + bz_h), ...;  hh = tanh(x Wh + bh_i + r * (h Uh + bh_h))
    h' = z h + (1 - z) hh                       x (T, N, D), h0 (N, H)

Held-out zoo: written without reading the diagnosis.
"""

import functools

import numpy as np

import harness

BUGS = {
    "Uh_not_transposed": "weight_transposed",        # dhn @ Uh for dhn @ Uh.T in dh_prev
    "dr_times_h_prev": "wrong_value",                # dr = dhh_pre * h_prev for * (h Uh + bh_h)
    "dz_one_minus_z": "derivative_miswritten",       # dz * (1 - z)
    "dU_from_h_t": "wrong_time",                     # step(t)["h"] for h_prev in drecurrent_kernel
    "dkernel_assigned": "carry_overwrites",          # dkernel = ... each step
    "dbias_mean_N": "reduction_scaled",              # dbias rows: mean over the batch
    "loop_forward": "loop_direction",                # for t in range(T)
    "dhh_pre_clipped": "gradient_clipped",           # np.clip(dhh_pre, -0.02, 0.02)
    "dhh_sign": "wrong_sign",                        # dhh = dht * (z - 1)
    "dhh_sigmoid_grad": "derivative_wrong_function", # hh * (1 - hh) for 1 - hh**2
    "update_flipped_forward": "forward_mistake",     # h' = (1 - z) h + z hh, backward consistent
    "dx_r_path_dropped": "term_dropped",             # dx without dr_pre Wr.T
    "dh_prev_from_drec": "gradient_for_weight",      # drecurrent_kernel's z block for Uz in dh_prev
    "hn_memo_inplace": "inplace_corruption",         # rhn = s["hn"]; rhn *= r, then dr = dhh_pre * s["hn"]
}
TOUCHES = {
    "Uh_not_transposed": "",
    "dr_times_h_prev": "r",
    "dz_one_minus_z": "z",
    "dU_from_h_t": "",
    "dkernel_assigned": "",
    "dbias_mean_N": "",
    "loop_forward": "",
    "dhh_pre_clipped": "rn",
    "dhh_sign": "rn",
    "dhh_sigmoid_grad": "rn",
    "update_flipped_forward": "",
    "dx_r_path_dropped": "",
    "dh_prev_from_drec": "",
    "hn_memo_inplace": "r",
}

# In[1]:
X = H0 = None
kernel = recurrent_kernel = bias = None
UNITS = 0
BUG = None


# In[2]:
def sigmoid(v):
    v = np.clip(v, -40, 40)
    return np.where(v >= 0, 1 / (1 + np.exp(-v)), np.exp(v) / (1 + np.exp(v)))


@functools.lru_cache(maxsize=None)
def step(t):
    H = UNITS
    h = H0 if t == 0 else step(t - 1)["h"]
    xk = X[t] @ kernel + bias[0]
    hk = h @ recurrent_kernel[:, :2 * H] + bias[1, :2 * H]
    z = sigmoid(xk[:, :H] + hk[:, :H])
    r = sigmoid(xk[:, H:2 * H] + hk[:, H:])
    hn = h @ recurrent_kernel[:, 2 * H:] + bias[1, 2 * H:]
    hh = np.tanh(np.clip(xk[:, 2 * H:] + r * hn, -40, 40))
    h_new = (1 - z) * h + z * hh if BUG == "update_flipped_forward" else z * h + (1 - z) * hh
    return {"h_prev": h, "z": z, "r": r, "hn": hn, "hh": hh, "h": h_new}


# In[3]:
def gru_backward(dH):
    T, N, H = dH.shape
    Uz, Ur, Uh = (recurrent_kernel[:, k * H:(k + 1) * H] for k in range(3))
    dkernel, drec, dbias = np.zeros_like(kernel), np.zeros_like(recurrent_kernel), np.zeros_like(bias)
    dX = np.zeros_like(X)
    dh_next = np.zeros((N, H), dtype=dH.dtype)
    for t in (range(T) if BUG == "loop_forward" else reversed(range(T))):
        s = step(t)
        z, r, hh, h_prev = s["z"], s["r"], s["hh"], s["h_prev"]
        dht = dH[t] + dh_next
        if BUG == "update_flipped_forward":
            dz, dhh, dh_prev = dht * (hh - h_prev), dht * z, dht * (1 - z)
        else:
            dz = dht * (h_prev - hh)
            dhh = dht * (z - 1) if BUG == "dhh_sign" else dht * (1 - z)
            dh_prev = dht * z
        dz_pre = dz * (1 - z) if BUG == "dz_one_minus_z" else dz * z * (1 - z)
        dhh_pre = dhh * (hh * (1 - hh) if BUG == "dhh_sigmoid_grad" else 1 - hh ** 2)
        if BUG == "dhh_pre_clipped":
            dhh_pre = np.clip(dhh_pre, -0.02, 0.02)
        if BUG == "hn_memo_inplace":
            rhn = s["hn"]
            rhn *= r
        dhn = dhh_pre * r
        dr = dhh_pre * (h_prev if BUG == "dr_times_h_prev" else s["hn"])
        dr_pre = dr * r * (1 - r)
        dxk = np.hstack([dz_pre, dr_pre, dhh_pre])
        dhk = np.hstack([dz_pre, dr_pre, dhn])
        if BUG == "dkernel_assigned":
            dkernel = X[t].T @ dxk
        else:
            dkernel += X[t].T @ dxk
        drec += (s["h"] if BUG == "dU_from_h_t" else h_prev).T @ dhk
        if BUG == "dbias_mean_N":
            dbias += np.stack([dxk.mean(axis=0), dhk.mean(axis=0)])
        else:
            dbias += np.stack([dxk.sum(axis=0), dhk.sum(axis=0)])
        if BUG == "dx_r_path_dropped":
            dX[t] = dz_pre @ kernel[:, :H].T + dhh_pre @ kernel[:, 2 * H:].T
        else:
            dX[t] = dxk @ kernel.T
        U_z = drec[:, :H] if BUG == "dh_prev_from_drec" else Uz
        dh_prev = dh_prev + dz_pre @ U_z.T + dr_pre @ Ur.T + dhn @ (Uh if BUG == "Uh_not_transposed" else Uh.T)
        dh_next = dh_prev
    return dX, dh_next, dkernel, drec, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def use(x, h0, k, rk, b):
        global X, H0, kernel, recurrent_kernel, bias, UNITS, BUG
        X, H0, kernel, recurrent_kernel, bias, UNITS, BUG = x, h0, k, rk, b, h0.shape[1], bug
        step.cache_clear()

    def forward(x, h0, k, rk, b):
        use(x, h0, k, rk, b)
        h = np.stack([step(t)["h"] for t in range(x.shape[0])])
        return h, (x, h0, k, rk, b)

    def backward(dH, cache):
        use(*cache)
        out = gru_backward(dH)
        step.cache_clear()
        return out

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    zrn = [slice(H, 2 * H), slice(0, H), slice(2 * H, 3 * H)]      # torch rows r, z, n -> Keras z, r, h
    return {"kernel": np.concatenate([p["weight_ih"][s] for s in zrn]).T,
            "recurrent_kernel": np.concatenate([p["weight_hh"][s] for s in zrn]).T,
            "bias": np.stack([np.concatenate([p["bias_ih"][s] for s in zrn]),
                              np.concatenate([p["bias_hh"][s] for s in zrn])])}


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]

    def rzn(a):                                                    # Keras z, r, h blocks (axis 0) -> r, z, n
        return np.concatenate([a[H:2 * H], a[:H], a[2 * H:]])
    out = {}
    if "dkernel" in g:
        out["dweight_ih"] = rzn(g["dkernel"].T)
    if "drecurrent_kernel" in g:
        out["dweight_hh"] = rzn(g["drecurrent_kernel"].T)
    if "dbias" in g:
        out["dbias_ih"], out["dbias_hh"] = rzn(g["dbias"][0]), rzn(g["dbias"][1])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="nb_keras_gru", cells=("gru",), axes="TND",
                               gate_order="zrh", gate_letters={"h": "n"})

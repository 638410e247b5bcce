"""An LSTM whose states live in Python dicts keyed by the time step (h[-1] = h0,
c[-1] = c0), with one weight matrix on np.hstack([h, x]) (h first) and the gate blocks in
the order f, i, o, g, weights passed as a dict {"Wg": (H+D, 4H), "bg": (4H,)}; the backward
keeps its gradients in dicts keyed by t too (dhs pre-filled with the upstream gradient,
carries added into dhs[t-1] and dcs[t-1]). x (N, T, D).

    z_t = [h_(t-1), x_t] Wg + bg       f, i, o = sigmoid(z_f, z_i, z_o)    g = tanh(z_g)
    c_t = f c_(t-1) + i g              h_t = o tanh(c_t)

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dWg_with_h_t": "wrong_time",                       # dWg += hstack([h[t], x_t]).T @ dz: h_t for h_(t-1)
    "dg_times_f": "wrong_value",                        # dg = dc * f[t] (f read for i)
    "do_tanh_c_prev": "wrong_time",                     # do = dh * tanh(c[t - 1])
    "dc_carry_key_typo": "carry_dropped",               # dcs[t] = dc * f[t] for dcs[t - 1]: the c carry never read
    "dh_carry_assigned": "carry_overwrites",            # dhs[t - 1] = carry for += carry (the upstream dh lost)
    "dz_g_sigmoid_prime": "derivative_wrong_function",  # dz_g = dg * g * (1 - g)
    "dz_g_tanh_prime_twice": "derivative_twice",        # dg already times (1 - g ** 2), then dz_g = dg * (1 - g ** 2)
    "dh_prev_g_through_o_block": "wrong_weight",        # dhx (dh_prev and dx) takes dz_g @ Wg[:, 2H:3H].T: o's block for g
    "stack_i_f_o_g": "gate_order",                      # the backward stacks [dz_i, dz_f, dz_o, dz_g]
    "skip_last_step": "loop_skips_step",                # for t in range(T - 2, -1, -1)
    "clip_dWg_half": "gradient_clipped",                # np.clip(dWg, -0.5, 0.5, out=dWg) in the backward
    "dz_o_at_logit": "derivative_wrong_point",          # dz_o = do * z_o * (1 - z_o): s' at the pre-activation
    "forward_h_without_tanh": "forward_mistake",        # h = o * c in the forward; backward consistent
    "carry_decay_0_9": "unknown",                       # dhs[t - 1] += 0.9 * carry: an arbitrary factor on the h carry
}

TOUCHES = {                                             # computed: blind_index.touched_gates(module, bug)
    "dWg_with_h_t": "",
    "dg_times_f": "g",
    "do_tanh_c_prev": "o",
    "dc_carry_key_typo": "",
    "dh_carry_assigned": "",
    "dz_g_sigmoid_prime": "g",
    "dz_g_tanh_prime_twice": "g",
    "dh_prev_g_through_o_block": "",
    "stack_i_f_o_g": "if",
    "skip_last_step": "",
    "clip_dWg_half": "g",
    "dz_o_at_logit": "o",
    "forward_h_without_tanh": "",
    "carry_decay_0_9": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, c0, params, bug=None):
    Wg, bg = params["Wg"], params["bg"]
    H = h0.shape[1]
    h, c = {-1: h0}, {-1: c0}
    z, f, i, o, g = {}, {}, {}, {}, {}
    for t in range(x.shape[1]):
        z[t] = np.hstack([h[t - 1], x[:, t]]) @ Wg + bg
        f[t], i[t], o[t] = sigmoid(z[t][:, :H]), sigmoid(z[t][:, H:2 * H]), sigmoid(z[t][:, 2 * H:3 * H])
        g[t] = np.tanh(z[t][:, 3 * H:])
        c[t] = f[t] * c[t - 1] + i[t] * g[t]
        h[t] = o[t] * (c[t] if bug == "forward_h_without_tanh" else np.tanh(c[t]))
    hs = np.stack([h[t] for t in range(x.shape[1])], axis=1)
    return hs, dict(x=x, h=h, c=c, z=z, f=f, i=i, o=o, g=g, Wg=Wg)


def backward(dout, cache, bug=None):
    x, h, c, z, f, i, o, g, Wg = (cache[k] for k in ("x", "h", "c", "z", "f", "i", "o", "g", "Wg"))
    N, T, H = dout.shape
    dWg, dbg = np.zeros_like(Wg), np.zeros(4 * H, dtype=dout.dtype)
    dx = np.zeros_like(x)
    dhs = {t: dout[:, t].copy() for t in range(T)}
    dhs[-1] = np.zeros((N, H), dtype=dout.dtype)
    dcs = {t: np.zeros((N, H), dtype=dout.dtype) for t in range(-1, T)}
    top = T - 2 if bug == "skip_last_step" else T - 1
    for t in range(top, -1, -1):
        dh = dhs[t]
        tc = np.tanh(c[t])
        if bug == "forward_h_without_tanh":
            do, dc = dh * c[t], dcs[t] + dh * o[t]
        else:
            do = dh * (np.tanh(c[t - 1]) if bug == "do_tanh_c_prev" else tc)
            dc = dcs[t] + dh * o[t] * (1 - tc ** 2)
        df, di = dc * c[t - 1], dc * g[t]
        dg = dc * (f[t] if bug == "dg_times_f" else i[t])
        if bug == "dz_g_tanh_prime_twice":
            dg = dg * (1 - g[t] ** 2)
        dz_f, dz_i = df * f[t] * (1 - f[t]), di * i[t] * (1 - i[t])
        zo = z[t][:, 2 * H:3 * H]
        dz_o = do * (zo * (1 - zo) if bug == "dz_o_at_logit" else o[t] * (1 - o[t]))
        dz_g = dg * (g[t] * (1 - g[t]) if bug == "dz_g_sigmoid_prime" else (1 - g[t] ** 2))
        blocks = [dz_i, dz_f, dz_o, dz_g] if bug == "stack_i_f_o_g" else [dz_f, dz_i, dz_o, dz_g]
        dz = np.hstack(blocks)
        h_in = h[t] if bug == "dWg_with_h_t" else h[t - 1]
        dWg += np.hstack([h_in, x[:, t]]).T @ dz
        dbg += dz.sum(axis=0)
        dhx = dz @ Wg.T
        if bug == "dh_prev_g_through_o_block":
            dhx = np.hstack([dz_f, dz_i, dz_o]) @ Wg[:, :3 * H].T + dz_g @ Wg[:, 2 * H:3 * H].T
        dx[:, t] = dhx[:, H:]
        carry = dhx[:, :H]
        if bug == "dh_carry_assigned":
            dhs[t - 1] = carry
        elif bug == "carry_decay_0_9":
            dhs[t - 1] += 0.9 * carry
        else:
            dhs[t - 1] += carry
        if bug == "dc_carry_key_typo":
            dcs[t] = dc * f[t]
        else:
            dcs[t - 1] = dc * f[t]
    if bug == "clip_dWg_half":
        np.clip(dWg, -0.5, 0.5, out=dWg)
    return {"dx": dx, "dh0": dhs[-1], "dc0": dcs[-1], "dWg": dWg, "dbg": dbg}


def _fiog(a, axis):
    """Canonical blocks i, f, g, o -> the author's f, i, o, g."""
    i, f, g, o = np.split(a, 4, axis=axis)
    return np.concatenate([f, i, o, g], axis=axis)


def _ifgo(a, axis):
    f, i, o, g = np.split(a, 4, axis=axis)
    return np.concatenate([i, f, g, o], axis=axis)


def to_user(cell, p):
    W = np.concatenate([p["weight_hh"], p["weight_ih"]], axis=1)          # (4H, H+D) on [h, x]
    return {"Wg": _fiog(W, 0).T, "bg": _fiog(p["bias_ih"] + p["bias_hh"], 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dWg" in grads:
        H = p["weight_hh"].shape[1]
        W = _ifgo(grads["dWg"].T, 0)
        out["dweight_hh"], out["dweight_ih"] = W[:, :H], W[:, H:]
    if "dbg" in grads:
        out["dbias_ih"] = _ifgo(grads["dbg"], 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tdict_lstm", cells=("lstm",), gate_order="fiog",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, params):
        return forward(x, h0, c0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT}

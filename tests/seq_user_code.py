"""User-style NumPy layers for check_backward on the layers people ship: a bidirectional
Elman RNN over a padded batch (each sequence reversed within its own length, outputs
[forward | reverse], 0 at padded steps) and an LSTM with peepholes and a projection
(TF1 LSTMCell's math), each with the planted mistakes of the porting traps."""

import numpy as np


def _run(x, h0, Wx, Wh, b, steps):
    """An Elman RNN over the listed steps of one sequence x (T, D): {step: h}."""
    h, out = h0, {}
    for t in steps:
        h = np.tanh(x[t] @ Wx + h @ Wh + b)
        out[t] = h
    return out


def birnn_forward(x, lengths, h0, Wx, Wh, b, Wx_r, Wh_r, b_r, reverse_over_padding=False):
    """x (N, T, D), lengths (N,), h0 (2, N, H); cs231n-style weights per direction
    (Wx (D, H), Wh (H, H), b (H,)) -> h (N, T, 2H): [forward | reverse], 0 at padded steps."""
    N, T, _ = x.shape
    H = Wh.shape[0]
    h = np.zeros((N, T, 2 * H))
    for n in range(N):
        L = T if reverse_over_padding else int(lengths[n])
        fwd = _run(x[n], h0[0, n], Wx, Wh, b, range(int(lengths[n])))
        rev = _run(x[n], h0[1, n], Wx_r, Wh_r, b_r, reversed(range(L)))
        for t in range(int(lengths[n])):
            h[n, t] = np.concatenate([fwd[t], rev[t]])
    return h, (x, lengths, h0, (Wx, Wh, b), (Wx_r, Wh_r, b_r), reverse_over_padding)


def _back(x, h0, Wx, Wh, steps, hs, dh):
    """BPTT of one direction of one sequence over ``steps`` (processing order)."""
    dx, dWx, dWh, db = np.zeros_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0])
    dnext = np.zeros(Wh.shape[0])
    steps = list(steps)
    for i in reversed(range(len(steps))):
        t = steps[i]
        prev = hs[steps[i - 1]] if i else h0
        da = (dh.get(t, 0) + dnext) * (1 - hs[t] ** 2)
        dx[t] = da @ Wx.T
        dWx += np.outer(x[t], da)
        dWh += np.outer(prev, da)
        db += da
        dnext = da @ Wh.T
    return dx, dnext, dWx, dWh, db


def birnn_backward(dh, cache):
    x, lengths, h0, fw, rv, over = cache
    N, T, _ = x.shape
    H = fw[1].shape[0]
    dx, dh0 = np.zeros_like(x), np.zeros_like(h0)
    grads = [np.zeros_like(w) for w in fw + rv]
    for n in range(N):
        L = int(lengths[n])
        for d, (w, steps) in enumerate(((fw, range(L)), (rv, list(reversed(range(T if over else L)))))):
            hs = _run(x[n], h0[d, n], *w, steps)
            up = {t: dh[n, t, d * H:(d + 1) * H] for t in range(L)}
            ddx, ddh0, *dw = _back(x[n], h0[d, n], w[0], w[1], steps, hs, up)
            dx[n] += ddx
            dh0[d, n] = ddh0
            for i, g in enumerate(dw):
                grads[3 * d + i] += g
    return (dx, dh0, *grads)


def birnn_backward_over_padding(dh, cache):
    return birnn_backward(dh, cache)


def birnn_forward_over_padding(x, lengths, h0, *w):
    """The classic porting bug: the reverse direction flips the whole padded sequence
    (x[:, ::-1] over T) instead of each sequence within its own length."""
    return birnn_forward(x, lengths, h0, *w, reverse_over_padding=True)


def birnn_to_user(cell, p):
    user = {}
    for suffix, mine in (("", ""), ("_reverse", "_r")):
        user[f"Wx{mine}"] = p[f"weight_ih{suffix}"].T
        user[f"Wh{mine}"] = p[f"weight_hh{suffix}"].T
        user[f"b{mine}"] = p[f"bias_ih{suffix}"] + p[f"bias_hh{suffix}"]
    return user


def birnn_to_canonical(cell, g, p):
    out = {}
    for suffix, mine in (("", ""), ("_reverse", "_r")):
        if f"dWx{mine}" in g:
            out[f"dweight_ih{suffix}"] = g[f"dWx{mine}"].T
        if f"dWh{mine}" in g:
            out[f"dweight_hh{suffix}"] = g[f"dWh{mine}"].T
        if f"db{mine}" in g:
            out[f"dbias_ih{suffix}"] = g[f"db{mine}"]
    return out


# ---- LSTM with peepholes and a projection (one direction, full length) ------------------------

def _sig(a):
    return 1 / (1 + np.exp(-a))


def lstmp_forward(x, h0, c0, w):
    """x (N, T, D), h0 (N, P), c0 (N, H), w the canonical weights -> h (N, T, P)."""
    h, c, caches = h0, c0, []
    out = []
    for t in range(x.shape[1]):
        a = x[:, t] @ w["weight_ih"].T + h @ w["weight_hh"].T + w["bias_ih"] + w["bias_hh"]
        a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
        i, f, g = _sig(a_i + w["weight_ci"] * c), _sig(a_f + w["weight_cf"] * c), np.tanh(a_g)
        c_new = f * c + i * g
        o = _sig(a_o + w["weight_co"] * c_new)
        m = o * np.tanh(c_new)
        caches.append((x[:, t], h, c, i, f, g, o, c_new, m))
        h, c = m @ w["weight_hr"].T, c_new
        out.append(h)
    return np.stack(out, axis=1), (caches, w)


def lstmp_backward(dh, cache, mistake=None):
    caches, w = cache
    grads = {k: np.zeros_like(v) for k, v in w.items()}
    dx = np.zeros((dh.shape[0], dh.shape[1], w["weight_ih"].shape[1]))
    dnext_h, dnext_c = np.zeros_like(dh[:, 0]), np.zeros_like(caches[0][2])
    for t in reversed(range(dh.shape[1])):
        x, h, c, i, f, g, o, c_new, m = caches[t]
        dr = dh[:, t] + dnext_h
        if mistake == "projection_before_gate":          # W_hr's gradient from tanh(c_t), before o
            grads["weight_hr"] += dr.T @ np.tanh(c_new)
        else:
            grads["weight_hr"] += dr.T @ m
        dm = dr @ w["weight_hr"]
        da_o = dm * np.tanh(c_new) * o * (1 - o)
        dc = dnext_c + dm * o * (1 - np.tanh(c_new) ** 2) + da_o * w["weight_co"]
        grads["weight_co"] += (da_o * c_new).sum(0)
        da_i, da_f, da_g = dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g)
        peep_c = c_new if mistake == "peephole_on_new_c" else c   # i and f read c_(t-1)
        grads["weight_ci"] += (da_i * peep_c).sum(0)
        grads["weight_cf"] += (da_f * peep_c).sum(0)
        da = np.concatenate([da_i, da_f, da_g, da_o], axis=1)
        grads["weight_ih"] += da.T @ x
        grads["weight_hh"] += da.T @ h
        grads["bias_ih"] += da.sum(0)
        grads["bias_hh"] += da.sum(0)
        dx[:, t] = da @ w["weight_ih"]
        dnext_h = da @ w["weight_hh"]
        dnext_c = dc * f + da_i * w["weight_ci"] + da_f * w["weight_cf"]
    return {"dx": dx, "dh0": dnext_h, "dc0": dnext_c, **{f"d{k}": v for k, v in grads.items()}}


def lstmp_backward_projection_before_gate(dh, cache):
    return lstmp_backward(dh, cache, "projection_before_gate")


def lstmp_backward_peephole_on_new_c(dh, cache):
    return lstmp_backward(dh, cache, "peephole_on_new_c")


def lstmp_to_user(cell, p):
    return dict(p)                   # the canonical names: forward(x, h0, c0, w) with weights_as="dict"


def lstmp_to_canonical(cell, g, p):
    return dict(g)


# ---- a whole model: a bidirectional layer over a padded batch, a linear head, squared error ----

def birnn_model_fn(params, x, target, lengths, reverse_over_padding=False):
    """One bidirectional tanh layer (zero initial states), y = h W^T + b, squared error summed
    over each sequence's real steps."""
    w = birnn_to_user("rnn", {k[:-3] if k.endswith("_l0") else k.replace("_l0_", "_"): v
                              for k, v in params.items() if not k.startswith("head.")})
    N, T, _ = x.shape
    H = w["Wh"].shape[0]
    h0 = np.zeros((2, N, H))
    args = (x, lengths, h0, w["Wx"], w["Wh"], w["b"], w["Wx_r"], w["Wh_r"], w["b_r"])
    h, cache = birnn_forward(*args, reverse_over_padding=reverse_over_padding)
    y = h @ params["head.weight"].T + params["head.bias"]
    mask = (np.arange(T)[None] < lengths[:, None])[..., None]
    diff = (y - target) * mask
    loss = (diff ** 2).sum()
    dy = 2 * diff
    grads = {"head.weight": np.einsum("nto,nth->oh", dy, h), "head.bias": dy.sum((0, 1))}
    _, _, dWx, dWh, db, dWx_r, dWh_r, db_r = birnn_backward(dy @ params["head.weight"], cache)
    for suffix, (a, b_, c) in (("_l0", (dWx, dWh, db)), ("_l0_reverse", (dWx_r, dWh_r, db_r))):
        grads.update({f"weight_ih{suffix}": a.T, f"weight_hh{suffix}": b_.T, f"bias_ih{suffix}": c,
                      f"bias_hh{suffix}": c})
    return loss, grads


import harness as _harness  # noqa: E402  (the layouts, for `gradharness check ... --layout seq_user_code:BI`)

BI = _harness.Layout.custom(birnn_to_user, birnn_to_canonical, cells=("rnn",), bidirectional=True,
                            takes_lengths=True)

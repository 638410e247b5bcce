"""Whole models for check_model, written the way people write them (per-step loops, a dict
of caches), each with a ``bug=`` switch planting one mistake.

    lstm_model  two LSTM layers, a linear head with bias, softmax cross-entropy at every
                step, averaged over batch and steps (reduction="mean")
    gru_model   one GRU layer (reset after the product, torch's form), a linear head with
                bias, squared error on the last step, summed

``LSTM_BUGS`` / ``GRU_BUGS``: {bug: what check_model should say}, see tests/test_model_diagnosis.py.
"""

import numpy as np

LSTM = dict(cell="lstm", layers=2, head="linear", output_size=3, loss="softmax_cross_entropy",
            reduction="mean")
GRU = dict(cell="gru", layers=1, head="linear", output_size=2, loss="squared_error", loss_steps=[-1])


def sig(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


# ---------------------------------------------------------------- two LSTM layers + softmax


def _softmax_xent(logits, labels, bug):
    """Mean cross-entropy over (N, T); logits (N, T, O), labels (N, T) -> loss, dlogits."""
    N, T, O = logits.shape
    z = logits if bug == "no_max_shift" else logits - logits.max(axis=-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    onehot = np.eye(O)[labels]
    scale = N * T * (T if bug == "loss_over_T_twice" else 1)
    loss = -(onehot * np.log(p)).sum() / scale
    return loss, (p - onehot) / scale


def _lstm_layer_forward(x, W, U, b, bug, layer):
    N, T, _ = x.shape
    H = U.shape[1]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    hs, cache = [], []
    for t in range(T):
        a = x[:, t] @ W.T + h @ U.T + b
        i, f, o = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 3 * H:])
        g = np.tanh(a[:, 2 * H:3 * H])
        c_prev, h_prev = c, h
        c = f * c + i * g
        h = o * np.tanh(c)
        cache.append((x[:, t], h_prev, c_prev, i, f, g, o, c))
        hs.append(h)
    return np.stack(hs, axis=1), cache


def _lstm_layer_backward(dh, cache, W, U, bug, layer):
    N, T, H = dh.shape
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(4 * H)
    dx = np.zeros((N, T, W.shape[1]))
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        x, h_prev, c_prev, i, f, g, o, c = cache[t]
        dht = dh[:, t] + dh_next
        tc = np.tanh(c)
        dc = dht * o * (1 - tc ** 2)
        if bug != "c_carry_dropped":
            dc = dc + dc_next
        dsig_f = f * (1 + f) if (bug == "df_miswritten_l1" and layer == 1) else f * (1 - f)
        da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * dsig_f, dc * i * (1 - g ** 2),
                             dht * tc * o * (1 - o)], axis=1)
        dW += da.T @ x
        dU += da.T @ h_prev
        db += da.sum(axis=0)
        dx[:, t] = da @ W
        dh_next, dc_next = da @ U, dc * f
    return dx, dW, dU, db


def lstm_model(bug=None):
    """fn(params, x, target) -> (loss, grads) for LSTM (the check_model options)."""
    def fn(p, x, labels):
        layers = [(p[f"weight_ih_l{k}"], p[f"weight_hh_l{k}"], p[f"bias_ih_l{k}"] + p[f"bias_hh_l{k}"])
                  for k in range(2)]
        caches, inp = [], x
        for k, (W, U, b) in enumerate(layers):
            inp, cache = _lstm_layer_forward(inp, W, U, b, bug, k)
            caches.append(cache)
        logits = inp @ p["head.weight"].T + p["head.bias"]
        loss, dlogits = _softmax_xent(logits, labels, bug)
        grads = {"head.weight": np.einsum("nto,nth->oh", dlogits, inp), "head.bias": dlogits.sum(axis=(0, 1))}
        if bug == "head_bias_mean":
            grads["head.bias"] = grads["head.bias"] / x.shape[0]
        dh = dlogits @ p["head.weight"]
        for k in reversed(range(2)):
            W, U, _ = layers[k]
            dh, dW, dU, db = _lstm_layer_backward(dh, caches[k], W, U, bug, k)
            grads.update({f"weight_ih_l{k}": dW, f"weight_hh_l{k}": dU, f"bias_ih_l{k}": db,
                          f"bias_hh_l{k}": db.copy()})
        return loss, grads
    return fn


LSTM_BUGS = {
    "no_max_shift": "softmax without its max shift",
    "loss_over_T_twice": "loss divided by the number of steps T=5 once more",
    "df_miswritten_l1": "derivative_miswritten",
    "c_carry_dropped": "carry_dropped",
    "head_bias_mean": "averaged instead of summed",
}

# ---------------------------------------------------------------- one GRU layer + squared error


def gru_model(bug=None):
    """fn(params, x, target) -> (loss, grads) for GRU (the check_model options)."""
    def fn(p, x, y):
        Wi, Wh = p["weight_ih_l0"], p["weight_hh_l0"]
        bi, bh = p["bias_ih_l0"], p["bias_hh_l0"]
        N, T, _ = x.shape
        H = Wh.shape[1]
        h, cache = np.zeros((N, H)), []
        for t in range(T):
            ax, ah = x[:, t] @ Wi.T + bi, h @ Wh.T + bh
            r = sig(ax[:, :H] + ah[:, :H])
            z = sig(ax[:, H:2 * H] + ah[:, H:2 * H])
            if bug == "reset_before":
                ahn = (r * h) @ Wh[2 * H:].T + bh[2 * H:]
                n = np.tanh(ax[:, 2 * H:] + ahn)
            else:
                ahn = ah[:, 2 * H:]
                n = np.tanh(ax[:, 2 * H:] + r * ahn)
            cache.append((x[:, t], h, r, z, n, ahn))
            h = (1 - z) * n + z * h
        out = h @ p["head.weight"].T + p["head.bias"]
        err = out - y[:, -1]
        loss = (err ** 2).sum()
        dout = err if bug == "factor_2_dropped" else 2 * err
        grads = {"head.weight": dout.T @ h, "head.bias": dout.sum(axis=0)}
        dh = dout @ p["head.weight"]
        dWi, dWh, dbi, dbh = np.zeros_like(Wi), np.zeros_like(Wh), np.zeros_like(bi), np.zeros_like(bh)
        for t in reversed(range(T)):
            xt, hp, r, z, n, ahn = cache[t]
            dn = dh * (1 - z)
            dz = dh * ((n - hp) if bug == "dz_sign" else (hp - n))
            dan = dn * (1 - n ** 2)
            if bug == "reset_before":
                dahn, drh = dan, dan @ Wh[2 * H:]
                dr = drh * hp
            else:
                dahn, dr = dan * r, dan * ahn
            dar, daz = dr * r * (1 - r), dz * z * (1 - z)
            dax = np.concatenate([dar, daz, dan], axis=1)
            dah = np.concatenate([dar, daz, dahn], axis=1)
            dWi += dax.T @ xt
            dbi += dax.sum(axis=0)
            dbh += dah.sum(axis=0)
            if bug == "reset_before":
                dWh[:2 * H] += dah[:, :2 * H].T @ hp
                dWh[2 * H:] += dahn.T @ (r * hp)
                dh = dh * z + dah[:, :2 * H] @ Wh[:2 * H] + drh * r
            else:
                dWh += dah.T @ hp
                dh = dh * z + dah @ Wh
        grads.update(weight_ih_l0=dWi, weight_hh_l0=dWh, bias_ih_l0=dbi, bias_hh_l0=dbh)
        return loss, grads
    return fn


GRU_BUGS = {
    "reset_before": "the reset gate applied before the recurrent product",
    "dz_sign": "wrong_sign",
    "factor_2_dropped": "the loss's derivative written wrongly",
}

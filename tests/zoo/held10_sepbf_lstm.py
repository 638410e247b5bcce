"""An LSTM by someone who initialises the forget-gate bias on its own (``b_f``, "set to 1 so the
LSTM remembers at first") and keeps the other biases in one vector ``b`` (3H,) for the blocks
i, o, g; on top the forward adds TF's constant forget_bias = 1.0 (options forget_bias=1.0).
One weight W (H+D, 4H) on concat([h, x]) (h first), blocks i, f, o, g; x (N, T, D), c starts at 0:

    z = concat([h, x_t]) @ W;  zi, zf, zo, zg = split(z, 4)
    i = sigmoid(zi + b[:H]);  f = sigmoid(zf + b_f + FORGET_BIAS);  o = sigmoid(zo + b[H:2H]);  g = tanh(zg + b[2H:])
    c = f * c + i * g;  h = o * tanh(c)

Tenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

FORGET_BIAS = 1.0

BUGS = {
    "forward_forgets_forget_bias": "forget_bias",        # f = sigmoid(zf + b_f): FORGET_BIAS never added; backward consistent
    "f_recomputed_without_bias": "forget_bias",          # backward recomputes f = sigmoid(zf + b_f) for f's sigmoid'
                                                         # (sigmoid' at the wrong point, caused by the forget bias)
    "db_f_assigned": "carry_overwrites",                 # db_f = dzf.sum(0) (= for +=)
    "db_f_from_i_block": "wrong_value",                  # db_f += dz[:, :H].sum(0): the i block's slice for f's
    "df_with_new_c": "wrong_time",                       # df = dc * c_t (for c_{t-1})
    "dh_prev_from_dW": "gradient_for_weight",            # dh_prev = dz @ dW[:H].T (dW accumulated so far)
    "f_rows_untransposed": "weight_transposed",          # dh_prev's f part: dzf @ Wf_h written dzf @ Wf_h.T
    "g_tanh_grad_twice": "derivative_twice",             # dzg = dg * (1 - g**2) ** 2
    "f_grad_sign": "wrong_sign",                         # dzf = df * f * (f - 1)
    "skips_last_step": "loop_skips_step",                # for t in range(T - 2, -1, -1)
    "dc_norm_clipped": "gradient_clipped",               # dc rescaled to norm 0.5 when larger, at every step
    "do_with_c_prev": "wrong_time",                      # do = dh_t * tanh(c_{t-1})
    "forward_i_g_swapped": "forward_mistake",            # i = sigmoid(zi + b[2H:]), g = tanh(zg + b[:H]): the two bias slices swapped in the forward; backward consistent
    "zf_times_quarter": "unknown",                       # dzf = df * 0.2 (a constant for f's sigmoid')
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forward_forgets_forget_bias": "",
    "f_recomputed_without_bias": "",
    "db_f_assigned": "",
    "db_f_from_i_block": "f",
    "df_with_new_c": "f",
    "dh_prev_from_dW": "",
    "f_rows_untransposed": "",
    "g_tanh_grad_twice": "g",
    "f_grad_sign": "",
    "skips_last_step": "",
    "dc_norm_clipped": "ig",
    "do_with_c_prev": "o",
    "forward_i_g_swapped": "",
    "zf_times_quarter": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, W, b, b_f, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    fb = 0.0 if bug == "forward_forgets_forget_bias" else FORGET_BIAS
    bi, bo, bg = (b[2 * H:], b[H:2 * H], b[:H]) if bug == "forward_i_g_swapped" else (b[:H], b[H:2 * H], b[2 * H:])
    h, c = h0, np.zeros_like(h0)
    steps, hs = [], np.zeros((N, T, H), dtype=x.dtype)
    for t in range(T):
        hx = np.concatenate([h, x[:, t]], axis=1)
        z = hx @ W
        zi, zf, zo, zg = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
        i = sigmoid(zi + bi)
        f = sigmoid(zf + b_f + fb)
        o = sigmoid(zo + bo)
        g = np.tanh(zg + bg)
        c_prev = c
        c = f * c + i * g
        h = o * np.tanh(c)
        steps.append(dict(hx=hx, zf=zf, i=i, f=f, o=o, g=g, c=c, c_prev=c_prev))
        hs[:, t] = h
    return hs, (steps, W, b_f, D)


def lstm_backward(dh, cache, bug=None):
    steps, W, b_f, D = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dW, db, db_f = np.zeros_like(W), np.zeros(3 * H, dtype=dh.dtype), np.zeros_like(b_f)
    dh_prev, dc_prev = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 2 if bug == "skips_last_step" else T - 1, -1, -1):
        s = steps[t]
        i, f, o, g, c, c_prev = s["i"], s["f"], s["o"], s["g"], s["c"], s["c_prev"]
        if bug == "f_recomputed_without_bias":
            f_grad = sigmoid(s["zf"] + b_f)
        else:
            f_grad = f
        dh_t = dh[:, t] + dh_prev
        tc = np.tanh(c)
        do = dh_t * (np.tanh(c_prev) if bug == "do_with_c_prev" else tc)
        dc = dc_prev + dh_t * o * (1 - tc ** 2)
        if bug == "dc_norm_clipped":
            norm = np.linalg.norm(dc)
            if norm > 0.5:
                dc = dc * (0.5 / norm)
        di, dg = dc * g, dc * i
        df = dc * (c if bug == "df_with_new_c" else c_prev)
        dc_prev = dc * f
        dzi = di * i * (1 - i)
        if bug == "f_grad_sign":
            dzf = df * f_grad * (f_grad - 1)
        elif bug == "zf_times_quarter":
            dzf = df * 0.2
        else:
            dzf = df * f_grad * (1 - f_grad)
        dzo = do * o * (1 - o)
        dzg = dg * (1 - g ** 2) ** 2 if bug == "g_tanh_grad_twice" else dg * (1 - g ** 2)
        if bug == "forward_i_g_swapped":
            db += np.concatenate([dzg, dzo, dzi], axis=1).sum(axis=0)
        else:
            db += np.concatenate([dzi, dzo, dzg], axis=1).sum(axis=0)
        if bug == "db_f_assigned":
            db_f = dzf.sum(axis=0)
        else:
            db_f += (dzi if bug == "db_f_from_i_block" else dzf).sum(axis=0)
        dz = np.concatenate([dzi, dzf, dzo, dzg], axis=1)
        dW += s["hx"].T @ dz
        dhx = dz @ W.T
        if bug == "dh_prev_from_dW":
            dh_prev = dz @ dW[:H].T
        elif bug == "f_rows_untransposed":
            Wh = W[:H]
            dh_prev = dhx[:, :H] - dzf @ Wh[:, H:2 * H].T + dzf @ Wh[:, H:2 * H]
        else:
            dh_prev = dhx[:, :H]
        dx[:, t] = dhx[:, H:]
    return dx, dh_prev, dW, db, db_f


ORDER = "ifog"


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    W = np.concatenate([reorder(p["weight_hh"], "ifgo", ORDER, 0).T, reorder(p["weight_ih"], "ifgo", ORDER, 0).T])
    bias = reorder(p["bias_ih"] + p["bias_hh"], "ifgo", ORDER, 0)
    return {"W": W, "b": np.concatenate([bias[:H], bias[2 * H:]]), "b_f": bias[H:2 * H]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW" in grads:
        out["dweight_hh"] = reorder(grads["dW"][:H].T, ORDER, "ifgo", 0)
        out["dweight_ih"] = reorder(grads["dW"][H:].T, ORDER, "ifgo", 0)
    if "db" in grads and "db_f" in grads:
        db = grads["db"]
        out["dbias_ih"] = reorder(np.concatenate([db[:H], grads["db_f"], db[H:]]), ORDER, "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="separate_bf_lstm", cells=("lstm",), takes_c0=False,
                               gate_order="ifog")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, b, b_f):
        return lstm_forward(x, h0, W, b, b_f, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

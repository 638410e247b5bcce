"""An LSTM in Keras's storage and gate order i, f, c, o, written as step functions; the
backward stacks the four pre-activation gradients with np.hstack and does every weight
gradient in one matmul.

    z = x_t @ kernel + h_(t-1) @ recurrent_kernel + bias      (N, 4H) blocks i, f, c, o
    i = s(z_i)  f = s(z_f)  g = tanh(z_c)  o = s(z_o)
    c_t = f * c_(t-1) + i * g       h_t = o * tanh(c_t)

kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,), x (N, T, D), forward(x, h0, c0,
kernel, recurrent_kernel, bias). Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "hstack_in_cs231n_order": "gate_order",            # dz = np.hstack([dzi, dzf, dzo, dzc]): i, f, o, g
    "f_sigmoid_grad_missing": "derivative_missing",    # dzf = df
    "tanh_grad_at_c": "derivative_wrong_point",        # dc += dh * o * (1 - c_t ** 2): tanh' at c, not at tanh(c)
    "drk_with_h_t": "wrong_time",                      # drk += h_t.T @ dz
    "do_with_prev_c": "wrong_time",                    # do = dh * tanh(c_(t-1))
    "dc_prev_without_f": "term_dropped",               # dc_prev = dc (the factor f left out)
    "dx_from_dkernel": "gradient_for_weight",          # dx = dz @ dkernel.T (the running dkernel)
    "dbias_over_N": "reduction_scaled",                # dbias += dz.sum(axis=0) / N
    "carry_written_over_upstream": "carry_overwrites",  # dh_all[:, t - 1] = dh_prev (= for +=)
    "c_updated_in_place": "inplace_corruption",        # c *= f; c += i * g in the forward: the cached c_prev is c_t
    "g_tanh_grad_twice": "derivative_twice",           # dg = dc * i * (1 - g ** 2), dzc = dg * (1 - g ** 2)
    "forward_h_without_tanh": "forward_mistake",       # h = o * c in the forward, backward consistent
    "dc_prev_times_i": "wrong_value",                  # dc_prev = dc * i (i read for f)
    "cs231n_order_and_dbias_over_N": "unknown",      # the hstack in i, f, o, g AND dbias / N
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "hstack_in_cs231n_order": "go",
    "f_sigmoid_grad_missing": "f",
    "tanh_grad_at_c": "ifg",
    "drk_with_h_t": "",
    "do_with_prev_c": "o",
    "dc_prev_without_f": "",
    "dx_from_dkernel": "",
    "dbias_over_N": "",
    "carry_written_over_upstream": "",
    "c_updated_in_place": "f",
    "g_tanh_grad_twice": "g",
    "forward_h_without_tanh": "",
    "dc_prev_times_i": "",
    "cs231n_order_and_dbias_over_N": "",
}


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def step_forward(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, bug=None):
    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    zi, zf, zc, zo = np.hsplit(z, 4)
    i, f, g, o = _sigmoid(zi), _sigmoid(zf), np.tanh(zc), _sigmoid(zo)
    if bug == "c_updated_in_place":
        c = c_prev
        c *= f
        c += i * g
    else:
        c = f * c_prev + i * g
    h = o * c if bug == "forward_h_without_tanh" else o * np.tanh(c)
    return h, c, (x_t, h_prev, c_prev, i, f, g, o, c)


def step_backward(dh, dc_next, cache, kernel, recurrent_kernel, bug=None):
    x_t, h_prev, c_prev, i, f, g, o, c = cache
    if bug == "forward_h_without_tanh":
        do, dc = dh * c, dc_next + dh * o
    else:
        tc = np.tanh(c)
        do = dh * (np.tanh(c_prev) if bug == "do_with_prev_c" else tc)
        dc = dc_next + dh * o * (1 - (c ** 2 if bug == "tanh_grad_at_c" else tc ** 2))
    di, df, dg = dc * g, dc * c_prev, dc * i
    if bug == "g_tanh_grad_twice":
        dg = dg * (1 - g ** 2)
    dzi = di * i * (1 - i)
    dzf = df if bug == "f_sigmoid_grad_missing" else df * f * (1 - f)
    dzc = dg * (1 - g ** 2)
    dzo = do * o * (1 - o)
    if bug in ("hstack_in_cs231n_order", "cs231n_order_and_dbias_over_N"):
        dz = np.hstack([dzi, dzf, dzo, dzc])
    else:
        dz = np.hstack([dzi, dzf, dzc, dzo])
    if bug == "dc_prev_without_f":
        dc_prev = dc
    elif bug == "dc_prev_times_i":
        dc_prev = dc * i
    else:
        dc_prev = dc * f
    dh_prev = dz @ recurrent_kernel.T
    return dz, dh_prev, dc_prev


def lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, bug=None):
    N, T, _ = x.shape
    h, c = h0, c0
    hs, caches = [], []
    for t in range(T):
        h, c, cache = step_forward(x[:, t], h, c, kernel, recurrent_kernel, bias, bug)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), (caches, kernel, recurrent_kernel, bias)


def lstm_backward(dh_all, cache, bug=None):
    caches, kernel, recurrent_kernel, bias = cache
    N, T, H = dh_all.shape
    dkernel, drk, dbias = np.zeros_like(kernel), np.zeros_like(recurrent_kernel), np.zeros_like(bias)
    dx = np.zeros((N, T, kernel.shape[0]), dtype=dh_all.dtype)
    dh_prev, dc_prev = np.zeros((N, H), dtype=dh_all.dtype), np.zeros((N, H), dtype=dh_all.dtype)
    for t in reversed(range(T)):
        dh = dh_all[:, t] if bug == "carry_written_over_upstream" else dh_all[:, t] + dh_prev
        dz, dh_prev, dc_prev = step_backward(dh, dc_prev, caches[t], kernel, recurrent_kernel, bug)
        x_t, h_prev, _, _, _, _, o, c = caches[t]
        dkernel += x_t.T @ dz
        h_t = o * np.tanh(c)
        drk += (h_t if bug == "drk_with_h_t" else h_prev).T @ dz
        if bug in ("dbias_over_N", "cs231n_order_and_dbias_over_N"):
            dbias += dz.sum(axis=0) / N
        else:
            dbias += dz.sum(axis=0)
        if bug == "dx_from_dkernel":
            dx[:, t] = dz @ dkernel.T
        else:
            dx[:, t] = dz @ kernel.T
        if bug == "carry_written_over_upstream" and t > 0:
            dh_all[:, t - 1] = dh_prev
    return dx, dh_prev, dc_prev, dkernel, drk, dbias


def _ifco(a, axis):
    """Canonical i, f, g, o blocks -> Keras's i, f, c, o: the same order."""
    return np.array(a, copy=True)


def to_user(cell, p):
    return {"kernel": _ifco(p["weight_ih"], 0).T, "recurrent_kernel": _ifco(p["weight_hh"], 0).T,
            "bias": _ifco(p["bias_ih"] + p["bias_hh"], 0)}


def to_canonical(cell, grads, p):
    names = {"dkernel": "dweight_ih", "drecurrent_kernel": "dweight_hh"}
    out = {q: grads[u].T for u, q in names.items() if u in grads}
    if "dbias" in grads:
        out["dbias_ih"] = grads["dbias"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras_ifco_lstm", cells=("lstm",), gate_order="ifco",
                               gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, recurrent_kernel, bias):
        return lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

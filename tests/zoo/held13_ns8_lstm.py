"""An LSTM written from Graves' equations with one input matrix and one recurrent matrix
per gate (8 matrices W_xi, W_hi, W_xf, ... and 4 biases b_i ... in a SimpleNamespace), time
major (x (T, N, D)), a TF-style forget_bias of 1.0 added at call time, weights passed as a
dict and gradients returned as a dict keyed by name:

    i = s(x W_xi + h W_hi + b_i)    f = s(x W_xf + h W_hf + b_f + 1)
    g = tanh(x W_xg + h W_hg + b_g) o = s(x W_xo + h W_ho + b_o)
    c_t = f c_(t-1) + i g           h_t = o tanh(c_t)          W_x* (D, H), W_h* (H, H)

Thirteenth held-out zoo: written without reading the diagnosis.
"""

from types import SimpleNamespace

import numpy as np

import harness

FORGET_BIAS = 1.0
GATES = "ifgo"

BUGS = {
    "dprev_h_W_hf_for_i": "wrong_weight",                 # dh_prev's i term read through W_hf
    "dW_hg_transposed": "gradient_transposed",            # dW_hg += da_g.T @ h_prev
    "dx_without_o_term": "term_dropped",                  # dx leaves out da_o @ W_xo.T
    "f_recomputed_without_bias": "forget_bias",           # the backward recomputes f = s(z_f): forget_bias left out
    "dprev_c_times_i": "wrong_value",                     # dc_prev = dc * i (i_t read for f_t)
    "dc_replaced_by_carry": "carry_overwrites",           # dc = dc_next when a carry exists (dh's own term lost)
    "time_loop_forward": "loop_direction",                # for t in range(T)
    "da_o_sig_at_f": "derivative_wrong_point",            # da_o = do * f * (1 - f) (also a wrong_value)
    "grads_divided_by_T": "reduction_scaled",             # every weight gradient / T
    "weight_grads_clipped": "gradient_clipped",           # np.clip(dW, -0.05, 0.05) for each weight gradient
    "forward_g_sigmoid": "forward_mistake",               # g = s(...), backward with s': consistent
    "h_aliases_tanh_c": "inplace_corruption",             # h = tc; h *= o: the cached tanh(c) becomes h
    "dc_carry_damped": "unknown",                         # dc_prev * 0.95: an arbitrary constant
    "sig_grad_typo": "derivative_miswritten",             # da_o = do * (o - o * 2) for o - o ** 2
}


def sig(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, params, bug=None):
    P = SimpleNamespace(**params)
    T = x.shape[0]
    h, c, hs, steps = h0, c0, [], []
    for t in range(T):
        xt = x[t]
        z = {k: xt @ getattr(P, "W_x" + k) + h @ getattr(P, "W_h" + k) + getattr(P, "b_" + k) for k in GATES}
        i, f, o = sig(z["i"]), sig(z["f"] + FORGET_BIAS), sig(z["o"])
        g = sig(z["g"]) if bug == "forward_g_sigmoid" else np.tanh(z["g"])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        if bug == "h_aliases_tanh_c":
            h_new = tc
            h_new *= o
        else:
            h_new = o * tc
        steps.append(SimpleNamespace(x=xt, h_prev=h, c_prev=c, z=z, i=i, f=f, g=g, o=o, tc=tc))
        h, c = h_new, c_new
        hs.append(h)
    return np.stack(hs), (steps, P)


def lstm_backward(dh, cache, bug=None):
    steps, P = cache
    T, N, H = dh.shape
    grads = {"d" + name: np.zeros_like(val) for name, val in vars(P).items()}
    dx = np.zeros((T, N, P.W_xi.shape[0]), dtype=dh.dtype)
    dh_next, dc_next = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "time_loop_forward" else reversed(range(T))
    for t in order:
        s = steps[t]
        dht = dh[t] + dh_next
        f = sig(s.z["f"]) if bug == "f_recomputed_without_bias" else s.f
        do = dht * s.tc
        if bug == "dc_replaced_by_carry" and t < T - 1:
            dc = dc_next
        else:
            dc = dc_next + dht * s.o * (1 - s.tc ** 2)
        if bug == "da_o_sig_at_f":
            da = {"o": do * f * (1 - f)}
        elif bug == "sig_grad_typo":
            da = {"o": do * (s.o - s.o * 2)}
        else:
            da = {"o": do * s.o * (1 - s.o)}
        da["i"] = dc * s.g * s.i * (1 - s.i)
        da["f"] = dc * s.c_prev * f * (1 - f)
        if bug == "forward_g_sigmoid":
            da["g"] = dc * s.i * s.g * (1 - s.g)
        else:
            da["g"] = dc * s.i * (1 - s.g ** 2)
        dh_prev = np.zeros_like(dht)
        dx_t = np.zeros_like(s.x)
        for k in GATES:
            W_h = P.W_hf if (bug == "dprev_h_W_hf_for_i" and k == "i") else getattr(P, "W_h" + k)
            dh_prev += da[k] @ W_h.T
            if not (bug == "dx_without_o_term" and k == "o"):
                dx_t += da[k] @ getattr(P, "W_x" + k).T
            grads["dW_x" + k] += s.x.T @ da[k]
            grads["dW_h" + k] += (da[k].T @ s.h_prev) if (bug == "dW_hg_transposed" and k == "g") \
                else s.h_prev.T @ da[k]
            grads["db_" + k] += da[k].sum(axis=0)
        dx[t] = dx_t
        dc_next = dc * (s.i if bug == "dprev_c_times_i" else f)
        if bug == "dc_carry_damped":
            dc_next = dc_next * 0.95
        dh_next = dh_prev
    if bug == "grads_divided_by_T":
        grads = {k: v / T for k, v in grads.items()}
    if bug == "weight_grads_clipped":
        grads = {k: np.clip(v, -0.05, 0.05) for k, v in grads.items()}
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next, **grads}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for k, gate in enumerate(GATES):
        rows = slice(k * H, (k + 1) * H)
        user["W_x" + gate] = p["weight_ih"][rows].T.copy()
        user["W_h" + gate] = p["weight_hh"][rows].T.copy()
        user["b_" + gate] = b[rows].copy()
    return {name: user[name] for name in
            [f"{w}{gate}" for gate in GATES for w in ("W_x", "W_h", "b_")]}


def to_canonical(cell, g, p):
    out = {}
    if all("dW_x" + k in g for k in GATES):
        out["dweight_ih"] = np.concatenate([g["dW_x" + k].T for k in GATES])
    if all("dW_h" + k in g for k in GATES):
        out["dweight_hh"] = np.concatenate([g["dW_h" + k].T for k in GATES])
    if all("db_" + k in g for k in GATES):
        out["dbias_ih"] = np.concatenate([g["db_" + k] for k in GATES])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="graves8_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}


TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dprev_h_W_hf_for_i": "",
    "dW_hg_transposed": "g",
    "dx_without_o_term": "",
    "f_recomputed_without_bias": "f",
    "dprev_c_times_i": "",
    "dc_replaced_by_carry": "",
    "time_loop_forward": "",
    "da_o_sig_at_f": "o",
    "grads_divided_by_T": "",
    "weight_grads_clipped": "",
    "forward_g_sigmoid": "",
    "h_aliases_tanh_c": "",
    "dc_carry_damped": "",
    "sig_grad_typo": "o",
}

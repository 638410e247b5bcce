"""A time-major LSTM with TF's forget_bias = 1.0, written by a signal-processing engineer:
x (T, N, D), h0 and c0 (N, H), the weights passed as one flat list of (W, U, b) triples
per gate in the order f, i, c, o (W (H, D), U (H, H), b (H,)), explicit dtype casts, and
in-place operators wherever a buffer can be reused:

    f = s(x W_f^T + h U_f^T + b_f + 1)   i = s(... _i)   c~ = tanh(... _c)   o = s(... _o)
    c_t = f c_(t-1) + i c~              h_t = o tanh(c_t)

The backward keeps the two carries dh_carry and dc_carry and accumulates the twelve
gradients in a dict keyed by the weights' names. Thirty-first held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0
NAMES = ("Wf", "Uf", "bf", "Wi", "Ui", "bi", "Wc", "Uc", "bc", "Wo", "Uo", "bo")

BUGS = {
    "forget_bias_missing": "forget_bias",                # f = s(x W_f^T + h U_f^T + b_f): the + 1.0 left out
    "Uf_transposed_in_carry": "weight_transposed",       # dh_carry gets daf @ Uf.T (one gate's block)
    "Ui_for_o_in_carry": "wrong_weight",                 # dh_carry gets dao @ Ui for dao @ Uo
    "dx_misses_c_gate": "term_dropped",                  # dx[t] = daf @ Wf + dai @ Wi + dao @ Wo
    "df_with_c_t": "wrong_time",                         # df = dc * c[t] for c[t-1]
    "dc_carry_with_i": "wrong_value",                    # dc_carry = dc * i (i_t read for f_t)
    "do_with_c": "wrong_value",                          # do = dh_t * c[t] for dh_t * tanh(c[t])
    "dc_aliases_dh": "inplace_corruption",               # dc = dh_t; dc *= o ...: do is then computed from the
                                                         # corrupted dh_t
    "dc_carry_not_added": "carry_dropped",               # dc += dc_carry left out
    "loop_forward": "loop_direction",                    # for t in range(T)
    "dUi_assigned": "carry_overwrites",                  # grads["Ui"] = dai.T @ h_prev (= for +=)
    "biases_over_T": "reduction_scaled",                 # every bias gradient divided by T at the end
    "dac_at_preactivation": "derivative_wrong_point",    # dac = dcc * (1 - ac**2) with ac the cached pre-activation
    "dc_clipped": "gradient_clipped",                    # invention: np.clip(dc, -0.5, 0.5, out=dc) each step
    "df_c_t_and_dx_misses_c": "unknown",                 # two mistakes: df_with_c_t and dx_misses_c_gate
}

TOUCHES = {                 # computed: blind_index.touched_gates(module, bug)
    "forget_bias_missing": "",
    "Uf_transposed_in_carry": "",
    "Ui_for_o_in_carry": "",
    "dx_misses_c_gate": "",
    "df_with_c_t": "f",
    "dc_carry_with_i": "",
    "do_with_c": "o",
    "dc_aliases_dh": "o",
    "dc_carry_not_added": "",
    "loop_forward": "",
    "dUi_assigned": "",
    "biases_over_T": "",
    "dac_at_preactivation": "g",
    "dc_clipped": "ifg",
    "df_c_t_and_dx_misses_c": "f",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, params, bug=None):
    P = dict(zip(NAMES, params))
    T, N, _ = x.shape
    H = h0.shape[1]
    dtype = x.dtype
    rec = {k: np.zeros((T, N, H), dtype=dtype) for k in ("f", "i", "cc", "ac", "o", "c", "tc", "h")}
    h, c = np.asarray(h0, dtype=dtype), np.asarray(c0, dtype=dtype)
    fb = 0.0 if bug == "forget_bias_missing" else FORGET_BIAS
    for t in range(T):
        xt = x[t]
        f = sigmoid(xt @ P["Wf"].T + h @ P["Uf"].T + P["bf"] + dtype.type(fb))
        i = sigmoid(xt @ P["Wi"].T + h @ P["Ui"].T + P["bi"])
        ac = xt @ P["Wc"].T + h @ P["Uc"].T + P["bc"]
        cc = np.tanh(ac)
        o = sigmoid(xt @ P["Wo"].T + h @ P["Uo"].T + P["bo"])
        c = f * c
        c += i * cc
        tc = np.tanh(c)
        h = o * tc
        for k, v in (("f", f), ("i", i), ("cc", cc), ("ac", ac), ("o", o), ("c", c), ("tc", tc), ("h", h)):
            rec[k][t] = v
    return rec["h"].copy(), (x, h0, c0, P, rec)


def lstm_backward(dh, cache, bug=None):
    x, h0, c0, P, rec = cache
    T, N, _ = x.shape
    grads = {k: np.zeros_like(P[k]) for k in NAMES}
    dx = np.zeros_like(x)
    dh_carry = np.zeros_like(h0)
    dc_carry = np.zeros_like(c0)
    steps = range(T) if bug == "loop_forward" else range(T - 1, -1, -1)
    for t in steps:
        f, i, cc, o, tc = rec["f"][t], rec["i"][t], rec["cc"][t], rec["o"][t], rec["tc"][t]
        c_prev = rec["c"][t - 1] if t > 0 else c0
        h_prev = rec["h"][t - 1] if t > 0 else h0
        dh_t = dh[t] + dh_carry
        if bug == "dc_aliases_dh":
            dc = dh_t
        else:
            dc = dh_t.copy()
        dc *= o
        dc *= 1 - tc * tc
        if bug != "dc_carry_not_added":
            dc += dc_carry
        if bug == "dc_clipped":
            np.clip(dc, -0.5, 0.5, out=dc)
        do = dh_t * (rec["c"][t] if bug == "do_with_c" else tc)
        df = dc * (rec["c"][t] if bug in ("df_with_c_t", "df_c_t_and_dx_misses_c") else c_prev)
        di = dc * cc
        dcc = dc * i
        dc_carry = dc * (i if bug == "dc_carry_with_i" else f)
        daf = df * f * (1 - f)
        dai = di * i * (1 - i)
        if bug == "dac_at_preactivation":
            dac = dcc * (1 - rec["ac"][t] ** 2)
        else:
            dac = dcc * (1 - cc ** 2)
        dao = do * o * (1 - o)
        for g, da in (("f", daf), ("i", dai), ("c", dac), ("o", dao)):
            grads["W" + g] += da.T @ x[t]
            if bug == "dUi_assigned" and g == "i":
                grads["Ui"] = da.T @ h_prev
            else:
                grads["U" + g] += da.T @ h_prev
            grads["b" + g] += da.sum(axis=0)
        terms = [("f", daf), ("i", dai), ("o", dao)]
        if bug not in ("dx_misses_c_gate", "df_c_t_and_dx_misses_c"):
            terms.append(("c", dac))
        dx[t] = sum(da @ P["W" + g] for g, da in terms)
        Uf = P["Uf"].T if bug == "Uf_transposed_in_carry" else P["Uf"]
        Uo = P["Ui"] if bug == "Ui_for_o_in_carry" else P["Uo"]
        dh_carry = daf @ Uf + dai @ P["Ui"] + dac @ P["Uc"] + dao @ Uo
    if bug == "biases_over_T":
        for g in "fico":
            grads["b" + g] /= T
    return (dx, dh_carry, dc_carry) + tuple(grads[k] for k in NAMES)


def to_user(cell, p):
    W, U = np.split(p["weight_ih"], 4), np.split(p["weight_hh"], 4)
    b = np.split(p["bias_ih"] + p["bias_hh"], 4)
    user = {}
    for g, k in zip("fico", (1, 0, 2, 3)):                     # canonical blocks i, f, g, o
        user.update({"W" + g: W[k], "U" + g: U[k], "b" + g: b[k]})
    return user


def to_canonical(cell, grads, p):
    out = {}
    canon = ("i", "f", "c", "o")                                 # canonical order i, f, g, o in my letters
    for user, q in (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db", "dbias_ih")):
        if all(user + g in grads for g in "fico"):
            out[q] = np.concatenate([grads[user + g] for g in canon])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="triples_lstm", cells=("lstm",), axes="TND",
                               weights_as="list", gate_order="fico", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

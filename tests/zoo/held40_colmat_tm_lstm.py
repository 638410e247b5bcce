"""colah's LSTM in column-vector np.matrix code, time-major: x (T, D, N), states (H, N),
four matrices Wf, Wi, Wc, Wo (H, H + D) applied to ``concat = np.vstack([h, x])`` and column
biases (H, 1) in a ``parameters`` dict, no forget bias, c0 an argument; ``range(len(...))``
loops, float() casts and ``.A`` at the boundary, as in a 2015 blog post.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

mat = np.asmatrix
GATES = ("f", "i", "c", "o")

BUGS = {
    "Wf_for_Wi_in_dconcat": "wrong_weight",          # dconcat gets Wf.T * dai for the input gate
    "dconcat_from_dWo": "gradient_for_weight",       # dWo.T * dao in dconcat
    "dc_prev_with_next_f": "wrong_time",             # dc_prev = dc * f of step t + 1
    "do_reads_c": "wrong_value",                     # do = dh * c_t for dh * tanh(c_t)
    "f_view_inplace": "inplace_corruption",          # fa = f.A; fa *= 1 - fa: the cached f changed before the carry
    "dcbar_no_tanh_grad": "derivative_missing",      # dac = dcbar
    "di_tanh_grad": "derivative_wrong_function",     # 1 - i^2 for the sigmoid input gate
    "dtanh_c_one_minus": "derivative_miswritten",    # 1 - tanh(c) for 1 - tanh(c)^2
    "dbo_subtracted": "wrong_sign",                  # dbo -= dao
    "biases_over_N": "reduction_scaled",             # every db / float(N)
    "returns_dWi_for_dWf": "gate_order",             # the gradients dict has dWf and dWi swapped
    "h_sigmoid_c": "forward_mistake",                # h = o * sigmoid(c), backward consistent
    "dh_carry_assigned": "carry_overwrites",         # dh = dh_next for t < T - 1
    "loop_stops_at_1": "loop_skips_step",            # range(len(xs) - 1, 0, -1)
}
TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "Wf_for_Wi_in_dconcat": "",
    "dconcat_from_dWo": "",
    "dc_prev_with_next_f": "",
    "do_reads_c": "o",
    "f_view_inplace": "",
    "dcbar_no_tanh_grad": "g",
    "di_tanh_grad": "i",
    "dtanh_c_one_minus": "ifg",
    "dbo_subtracted": "o",
    "biases_over_N": "",
    "returns_dWi_for_dWf": "if",
    "h_sigmoid_c": "",
    "dh_carry_assigned": "",
    "loop_stops_at_1": "",
}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_forward(x, h0, c0, parameters, bug=None):
    """x (T, D, N), h0, c0 (H, N) -> h (T, H, N) ndarray, cache."""
    W = {k: mat(parameters["W" + k]) for k in GATES}
    b = {k: mat(parameters["b" + k]) for k in GATES}
    h, c = mat(h0), mat(c0)
    hs = np.zeros((x.shape[0], h.shape[0], h.shape[1]), dtype=x.dtype)
    steps = []
    for t in range(len(x)):
        concat = np.vstack([h, mat(x[t])])
        f = sigmoid(W["f"] * concat + b["f"])
        i = sigmoid(W["i"] * concat + b["i"])
        cbar = np.tanh(W["c"] * concat + b["c"])
        o = sigmoid(W["o"] * concat + b["o"])
        c_new = np.multiply(f, c) + np.multiply(i, cbar)
        sc = sigmoid(c_new) if bug == "h_sigmoid_c" else np.tanh(c_new)
        h = np.multiply(o, sc)
        steps.append({"concat": concat, "c_prev": c, "f": f, "i": i, "cbar": cbar, "o": o, "c": c_new, "sc": sc})
        c = c_new
        hs[t] = h.A
    return hs, (steps, W, b)


def lstm_backward(dh, cache, bug=None):
    """dh (T, H, N) -> {dx, dh0, dc0, dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo} (ndarrays)."""
    steps, W, b = cache
    T, H, N = dh.shape
    dW = {k: np.zeros_like(W[k]) for k in GATES}
    db = {k: np.zeros_like(b[k]) for k in GATES}
    dx = np.zeros((T, W["f"].shape[1] - H, N), dtype=dh.dtype)
    dh_next = mat(np.zeros((H, N), dtype=dh.dtype))
    dc_next = mat(np.zeros((H, N), dtype=dh.dtype))
    last = 0 if bug == "loop_stops_at_1" else -1
    for t in range(len(steps) - 1, last, -1):
        s = steps[t]
        f, i, cbar, o, sc = s["f"], s["i"], s["cbar"], s["o"], s["sc"]
        if bug == "dh_carry_assigned" and t < T - 1:
            dht = dh_next
        else:
            dht = mat(dh[t]) + dh_next
        do = np.multiply(dht, s["c"] if bug == "do_reads_c" else sc)
        if bug == "h_sigmoid_c":
            dsc = np.multiply(sc, 1 - sc)
        elif bug == "dtanh_c_one_minus":
            dsc = 1 - sc
        else:
            dsc = 1 - np.multiply(sc, sc)
        dc = dc_next + np.multiply(np.multiply(dht, o), dsc)
        dcbar = np.multiply(dc, i)
        di = np.multiply(dc, cbar)
        df = np.multiply(dc, s["c_prev"])
        if bug == "f_view_inplace":
            fa = f.A
            fa *= 1 - fa
            daf = np.multiply(df, f)
        else:
            daf = np.multiply(df, np.multiply(f, 1 - f))
        da = {"f": daf,
              "i": np.multiply(di, 1 - np.multiply(i, i)) if bug == "di_tanh_grad"
              else np.multiply(di, np.multiply(i, 1 - i)),
              "c": dcbar if bug == "dcbar_no_tanh_grad" else np.multiply(dcbar, 1 - np.multiply(cbar, cbar)),
              "o": np.multiply(do, np.multiply(o, 1 - o))}
        dconcat = mat(np.zeros(s["concat"].shape, dtype=dh.dtype))
        for k in GATES:
            dW[k] += da[k] * s["concat"].T
            if bug == "dbo_subtracted" and k == "o":
                db[k] -= da[k].sum(axis=1)
            else:
                db[k] += da[k].sum(axis=1)
            if bug == "Wf_for_Wi_in_dconcat" and k == "i":
                dconcat += W["f"].T * da[k]
            elif bug == "dconcat_from_dWo" and k == "o":
                dconcat += dW["o"].T * da[k]
            else:
                dconcat += W[k].T * da[k]
        dh_next = dconcat[:H, :]
        dx[t] = dconcat[H:, :].A
        if bug == "dc_prev_with_next_f" and t + 1 < len(steps):
            dc_next = np.multiply(dc, steps[t + 1]["f"])
        else:
            dc_next = np.multiply(dc, f)
    if bug == "biases_over_N":
        db = {k: v / float(N) for k, v in db.items()}
    grads = {"dx": dx, "dh0": dh_next.A, "dc0": dc_next.A}
    for k in GATES:
        grads["dW" + k], grads["db" + k] = dW[k].A, db[k].A
    if bug == "returns_dWi_for_dWf":
        grads["dWf"], grads["dWi"] = grads["dWi"], grads["dWf"]
    return grads


def _blocks(a, H):
    return {"i": a[:H], "f": a[H:2 * H], "c": a[2 * H:3 * H], "o": a[3 * H:]}     # torch i, f, g, o


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    wh, wx, bb = _blocks(p["weight_hh"], H), _blocks(p["weight_ih"], H), _blocks(p["bias_ih"] + p["bias_hh"], H)
    user = {}
    for k in GATES:
        user["W" + k] = np.hstack([wh[k], wx[k]])
        user["b" + k] = bb[k][:, None]
    return user


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all("dW" + k in g for k in GATES):
        out["dweight_hh"] = np.concatenate([g["dW" + k][:, :H] for k in "ifco"])
        out["dweight_ih"] = np.concatenate([g["dW" + k][:, H:] for k in "ifco"])
    if all("db" + k in g for k in GATES):
        out["dbias_ih"] = np.concatenate([np.asarray(g["db" + k])[:, 0] for k in "ifco"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="colah_tm_lstm", cells=("lstm",), axes="TDN",
                               weights_as="dict", gate_order="fico", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug),
            {"cell": "lstm", "layout": LAYOUT, "forget_bias": 0.0})

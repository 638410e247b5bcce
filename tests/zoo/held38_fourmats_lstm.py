"""A beginner's column-major LSTM with TensorFlow's forget bias of 1.0: x (n_x, m, T_x), states
(n_a, m), one matrix per gate on the stacked [h; x] (Wf, Wi, Wc, Wo (n_a, n_a + n_x)) and a
column bias each; the four gate blocks are pasted copies of each other, the weight gradients
are summed over the examples in an explicit loop over the columns (np.outer), parameters are
deep-copied into the cache, and the backward recomputes every gate from the stored
pre-activations. Print-debugging behind DEBUG.

    ft = sigmoid(Wf [h; x] + bf + 1)    it = sigmoid(Wi [h; x] + bi)    cct = tanh(Wc [h; x] + bc)
    ot = sigmoid(Wo [h; x] + bo)        c = ft c_prev + it cct          h = ot tanh(c)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import copy

import numpy as np

import harness

DEBUG = False
FORGET_BIAS = 1.0

BUGS = {
    "recompute_f_without_bias": "forget_bias",       # the backward's recomputed ft = sigmoid(zf)
    "forget_bias_pasted_twice": "forget_bias",       # zf_b += FORGET_BIAS pasted twice in the forward
    "dconcat_o_block_uses_Wf": "wrong_weight",       # Wf.T @ dzo (the f line pasted, not edited)
    "dc_prev_next_f": "wrong_time",                  # dc_prev = dc * f of step t + 1
    "do_reads_c": "wrong_value",                     # dot = da * c instead of da * tanh(c)
    "dcct_miswritten": "derivative_miswritten",      # (1 - cct)**2 for (1 - cct**2)
    "dzf_at_preact": "derivative_wrong_point",       # zf * (1 - zf)
    "dc_next_not_updated": "carry_dropped",          # dc_next stays zero
    "dWo_inside_column_loop": "reduction_scaled",    # dWo += dzo @ concat.T indented into the column loop
    "clip_dc_norm": "gradient_clipped",              # dc_next rescaled to norm 1 each step
    "dWi_outer_swapped": "gradient_transposed",      # np.outer(concat, dzi)[:n_a]... on the h columns
    "dbi_from_dit": "derivative_missing",            # dbi += dit (before the sigmoid's derivative)
    "dh_prev_rows_off_by_one": "wrong_value",        # dconcat[1:n_a + 1]: a slice off by one; relabelled from
                                                     # "unknown": d[h; x] sliced one row off, as other zoos label it
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "recompute_f_without_bias": "f",
    "forget_bias_pasted_twice": "",
    "dconcat_o_block_uses_Wf": "",
    "dc_prev_next_f": "",
    "do_reads_c": "o",
    "dcct_miswritten": "g",
    "dzf_at_preact": "f",
    "dc_next_not_updated": "",
    "dWo_inside_column_loop": "o",
    "clip_dc_norm": "",
    "dWi_outer_swapped": "i",
    "dbi_from_dit": "i",
    "dh_prev_rows_off_by_one": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, Wf, bf, Wi, bi, Wc, bc, Wo, bo, bug=None):
    _, m, T_x = x.shape
    n_a = h0.shape[0]
    params = copy.deepcopy({"Wf": Wf, "bf": bf, "Wi": Wi, "bi": bi, "Wc": Wc, "bc": bc, "Wo": Wo, "bo": bo})
    a = np.zeros((n_a, m, T_x), dtype=x.dtype)
    h, c = h0.copy(), c0.copy()
    steps = []
    for t in range(T_x):
        concat = np.concatenate([h, x[:, :, t]], axis=0)
        # forget gate
        zf = np.dot(Wf, concat) + bf
        zf_b = zf + FORGET_BIAS
        if bug == "forget_bias_pasted_twice":
            zf_b = zf_b + FORGET_BIAS
        ft = sigmoid(zf_b)
        # update gate
        zi = np.dot(Wi, concat) + bi
        it = sigmoid(zi)
        # candidate
        zc = np.dot(Wc, concat) + bc
        cct = np.tanh(zc)
        # output gate
        zo = np.dot(Wo, concat) + bo
        ot = sigmoid(zo)
        c_next = ft * c + it * cct
        h_next = ot * np.tanh(c_next)
        steps.append({"concat": concat.copy(), "zf": zf.copy(), "zi": zi.copy(), "zc": zc.copy(),
                      "zo": zo.copy(), "ft": ft.copy(), "c_prev": c.copy(), "c": c_next.copy()})
        if DEBUG:
            print("t", t, "ft mean", ft.mean(), "c", c_next.mean())
        h, c = h_next, c_next
        a[:, :, t] = h
    return a, (steps, params)


def lstm_backward(da, cache, bug=None):
    steps, params = cache
    n_a, m, T_x = da.shape
    n_x = params["Wf"].shape[1] - n_a
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    dx = np.zeros((n_x, m, T_x), dtype=da.dtype)
    da_next = np.zeros((n_a, m), dtype=da.dtype)
    dc_next = np.zeros((n_a, m), dtype=da.dtype)
    for t in reversed(range(T_x)):
        s = steps[t]
        concat, c_prev, c = s["concat"], s["c_prev"], s["c"]
        # recompute the gates (safer than caching them)
        if bug == "recompute_f_without_bias":
            ft = sigmoid(s["zf"])
        else:
            ft = sigmoid(s["zf"] + FORGET_BIAS)
        it = sigmoid(s["zi"])
        cct = np.tanh(s["zc"])
        ot = sigmoid(s["zo"])
        if DEBUG:
            print("t", t, "recomputed ft ok", np.allclose(ft, s["ft"]))
        da_t = da[:, :, t] + da_next
        tanh_c = np.tanh(c)
        dot = da_t * c if bug == "do_reads_c" else da_t * tanh_c
        dc = da_t * ot * (1 - tanh_c ** 2) + dc_next
        dft = dc * c_prev
        dit = dc * cct
        dcct = dc * it
        # pre-activations
        if bug == "dzf_at_preact":
            dzf = dft * (s["zf"] + FORGET_BIAS) * (1 - (s["zf"] + FORGET_BIAS))
        else:
            dzf = dft * ft * (1 - ft)
        dzi = dit * it * (1 - it)
        if bug == "dcct_miswritten":
            dzc = dcct * (1 - cct) ** 2
        else:
            dzc = dcct * (1 - cct ** 2)
        dzo = dot * ot * (1 - ot)
        # weight gradients, one example (column) at a time
        for j in range(m):
            grads["Wf"] += np.outer(dzf[:, j], concat[:, j])
            if bug == "dWi_outer_swapped":
                grads["Wi"][:, :n_a] += np.outer(concat[:n_a, j], dzi[:, j])
                grads["Wi"][:, n_a:] += np.outer(dzi[:, j], concat[n_a:, j])
            else:
                grads["Wi"] += np.outer(dzi[:, j], concat[:, j])
            grads["Wc"] += np.outer(dzc[:, j], concat[:, j])
            if bug == "dWo_inside_column_loop":
                grads["Wo"] += np.dot(dzo, concat.T)
            else:
                grads["Wo"] += np.outer(dzo[:, j], concat[:, j])
        grads["bf"] += np.sum(dzf, axis=1, keepdims=True)
        grads["bi"] += np.sum(dit if bug == "dbi_from_dit" else dzi, axis=1, keepdims=True)
        grads["bc"] += np.sum(dzc, axis=1, keepdims=True)
        grads["bo"] += np.sum(dzo, axis=1, keepdims=True)
        dconcat = (np.dot(params["Wf"].T, dzf) + np.dot(params["Wi"].T, dzi) + np.dot(params["Wc"].T, dzc)
                   + np.dot((params["Wf"] if bug == "dconcat_o_block_uses_Wf" else params["Wo"]).T, dzo))
        if bug == "dh_prev_rows_off_by_one":
            da_next = dconcat[1:n_a + 1]
        else:
            da_next = dconcat[:n_a]
        dx[:, :, t] = dconcat[n_a:]
        if bug == "dc_prev_next_f":
            f_next = steps[(t + 1) % T_x]["ft"]
            dc_next = dc * f_next
        elif bug != "dc_next_not_updated":
            dc_next = dc * ft
        if bug == "clip_dc_norm":
            norm = np.linalg.norm(dc_next)
            if norm > 1.0:
                dc_next = dc_next / norm
    g = grads
    return (dx, da_next, dc_next, g["Wf"], g["bf"], g["Wi"], g["bi"], g["Wc"], g["bc"], g["Wo"], g["bo"])


_ROWS = {"i": 0, "f": 1, "c": 2, "o": 3}        # torch's blocks i, f, g(c), o


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for name in "fico":
        r = slice(_ROWS[name] * H, (_ROWS[name] + 1) * H)
        user["W" + name] = np.concatenate([p["weight_hh"][r], p["weight_ih"][r]], axis=1)
        user["b" + name] = np.array(b[r])[:, None]
    return user


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if all("dW" + q in g for q in "ifco"):
        out["dweight_hh"] = np.concatenate([g["dW" + q][:, :H] for q in "ifco"])
        out["dweight_ih"] = np.concatenate([g["dW" + q][:, H:] for q in "ifco"])
    if all("db" + q in g for q in "ifco"):
        out["dbias_ih"] = np.concatenate([g["db" + q][:, 0] for q in "ifco"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="fourmats_lstm", cells=("lstm",), axes="DNT",
                               gate_order="fico", gate_letters={"c": "g"}, names={"h": "a"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, a0, c0, Wf, bf, Wi, bi, Wc, bc, Wo, bo):
        return lstm_forward(x, a0, c0, Wf, bf, Wi, bi, Wc, bc, Wo, bo, bug)

    def backward(da, cache):
        return lstm_backward(da, cache, bug)
    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

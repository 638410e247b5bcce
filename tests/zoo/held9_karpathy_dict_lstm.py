"""An LSTM in min-char-rnn's style: one example at a time, column vectors, and per-step
dicts keyed by t with ``hs[-1] = h0`` and ``cs[-1] = 0`` (the cell state starts at zero,
not an argument). Four weight matrices on the stacked column z = [h_(t-1); x_t]:

    z = vstack(hs[t-1], xs[t])                   (H+D, 1)
    fs[t] = sigmoid(Wf z + bf)    is_[t] = sigmoid(Wi z + bi)
    cbar[t] = tanh(Wc z + bc)     os[t] = sigmoid(Wo z + bo)
    cs[t] = fs[t] * cs[t-1] + is_[t] * cbar[t];   hs[t] = os[t] * tanh(cs[t])

x (T, D, 1), h0 (H, 1); Wf, Wi, Wc, Wo (H, H+D); bf, bi, bc, bo (H, 1). Ninth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dhnext_misses_Wc_term": "term_dropped",            # dhnext sums the f, i, o paths only (the Wc term left out)
    "dcnext_with_next_f": "wrong_time",                 # dcnext = dc * fs[t + 1] (the next step's f; fs[T] -> fs[T-1])
    "dcbar_reads_f": "wrong_value",                     # dcbar = dc * fs[t] (for dc * is_[t])
    "dhnext_through_dWo": "gradient_for_weight",        # dhnext += dWo[:, :H].T @ dzo
    "dhnext_Wo_untransposed": "weight_transposed",      # dhnext += Wo[:, :H] @ dzo
    "dhnext_Wi_for_Wf": "wrong_weight",                 # the f path through Wi[:, :H].T (for Wf[:, :H].T)
    "dzc_sigmoid_grad": "derivative_wrong_function",    # dzc = dcbar * cbar * (1 - cbar)
    "do_sigmoid_grad_twice": "derivative_twice",        # do = dh * tanh(c) * o(1-o), then dzo = do * o(1-o)
    "backward_loop_forward": "loop_direction",          # for t in range(T) in the backward
    "bptt_truncate_2": "truncated_bptt",                # both carries cut after 2 backward steps
    "np_clip_grads": "gradient_clipped",                # for dparam in grads: np.clip(dparam, -0.05, 0.05, out=dparam)
    "dh_takes_carry_only": "carry_overwrites",          # dh = dhnext (for dh = dy[t] + dhnext) after the last step
    "cs_aliased_in_forward": "inplace_corruption",      # cs[t] = cs[t-1]; cs[t] *= f; cs[t] += i * cbar: every cs[t] the same array
    "no_input_gate_forward": "forward_mistake",         # cs[t] = f * cs[t-1] + cbar (i unused); backward consistent
    "dzf_at_cbar_no_cnext": "unknown",                  # f's sigmoid' taken at cbar AND the c carry never added
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dhnext_misses_Wc_term":   "",
    "dcnext_with_next_f":      "",
    "dcbar_reads_f":           "g",
    "dhnext_through_dWo":      "",
    "dhnext_Wo_untransposed":  "",
    "dhnext_Wi_for_Wf":        "",
    "dzc_sigmoid_grad":        "g",
    "do_sigmoid_grad_twice":   "o",
    "backward_loop_forward":   "",
    "bptt_truncate_2":         "",
    "np_clip_grads":           "",
    "dh_takes_carry_only":     "",
    "cs_aliased_in_forward":   "f",
    "no_input_gate_forward":   "",
    "dzf_at_cbar_no_cnext":    "",
}

GATES = ("f", "i", "c", "o")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(inputs, h0, Wf, bf, Wi, bi, Wc, bc, Wo, bo, bug=None):
    xs, zs, fs, is_, cbar, os_, hs, cs = {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1] = np.copy(h0)
    cs[-1] = np.zeros_like(h0)
    for t in range(len(inputs)):
        xs[t] = inputs[t]
        zs[t] = np.vstack((hs[t - 1], xs[t]))
        fs[t] = sigmoid(Wf @ zs[t] + bf)
        is_[t] = sigmoid(Wi @ zs[t] + bi)
        cbar[t] = np.tanh(Wc @ zs[t] + bc)
        os_[t] = sigmoid(Wo @ zs[t] + bo)
        if bug == "cs_aliased_in_forward":
            cs[t] = cs[t - 1]
            cs[t] *= fs[t]
            cs[t] += is_[t] * cbar[t]
        elif bug == "no_input_gate_forward":
            cs[t] = fs[t] * cs[t - 1] + cbar[t]
        else:
            cs[t] = fs[t] * cs[t - 1] + is_[t] * cbar[t]
        hs[t] = os_[t] * np.tanh(cs[t])
    h = np.array([hs[t] for t in range(len(inputs))])
    return h, (xs, zs, fs, is_, cbar, os_, hs, cs, (Wf, Wi, Wc, Wo))


def lstm_backward(dy, cache, bug=None):
    xs, zs, fs, is_, cbar, os_, hs, cs, (Wf, Wi, Wc, Wo) = cache
    T, H = len(xs), hs[-1].shape[0]
    dWf, dWi, dWc, dWo = (np.zeros_like(w) for w in (Wf, Wi, Wc, Wo))
    dbf, dbi, dbc, dbo = (np.zeros_like(hs[-1]) for _ in range(4))
    dx = np.zeros((T,) + xs[0].shape, dtype=dy.dtype)
    dhnext, dcnext = np.zeros_like(hs[-1]), np.zeros_like(hs[-1])
    steps = range(T) if bug == "backward_loop_forward" else reversed(range(T))
    for k, t in enumerate(steps):
        if bug == "bptt_truncate_2" and k >= 2:
            dhnext, dcnext = np.zeros_like(dhnext), np.zeros_like(dcnext)
        dh = dhnext if bug == "dh_takes_carry_only" and t < T - 1 else dy[t] + dhnext
        tc = np.tanh(cs[t])
        do = dh * tc
        if bug == "do_sigmoid_grad_twice":
            do = do * os_[t] * (1 - os_[t])
        dc = dh * os_[t] * (1 - tc ** 2)
        if bug != "dzf_at_cbar_no_cnext":
            dc = dc + dcnext
        df = dc * cs[t - 1]
        di = dc * cbar[t]
        dcbar = dc * (fs[t] if bug == "dcbar_reads_f" else is_[t])
        if bug == "no_input_gate_forward":
            di, dcbar = np.zeros_like(dc), dc
        sf = cbar[t] if bug == "dzf_at_cbar_no_cnext" else fs[t]
        dzf = df * sf * (1 - sf)
        dzi = di * is_[t] * (1 - is_[t])
        dzc = dcbar * cbar[t] * (1 - cbar[t]) if bug == "dzc_sigmoid_grad" else dcbar * (1 - cbar[t] ** 2)
        dzo = do * os_[t] * (1 - os_[t])
        for dW, db, dzg in ((dWf, dbf, dzf), (dWi, dbi, dzi), (dWc, dbc, dzc), (dWo, dbo, dzo)):
            dW += dzg @ zs[t].T
            db += dzg
        dz = Wf.T @ dzf + Wi.T @ dzi + Wc.T @ dzc + Wo.T @ dzo
        dx[t] = dz[H:]
        if bug == "dhnext_misses_Wc_term":
            dhnext = (Wf.T @ dzf + Wi.T @ dzi + Wo.T @ dzo)[:H]
        elif bug == "dhnext_through_dWo":
            dhnext = (Wf.T @ dzf + Wi.T @ dzi + Wc.T @ dzc)[:H] + dWo[:, :H].T @ dzo
        elif bug == "dhnext_Wo_untransposed":
            dhnext = (Wf.T @ dzf + Wi.T @ dzi + Wc.T @ dzc)[:H] + Wo[:, :H] @ dzo
        elif bug == "dhnext_Wi_for_Wf":
            dhnext = (Wi.T @ dzf + Wi.T @ dzi + Wc.T @ dzc + Wo.T @ dzo)[:H]
        else:
            dhnext = dz[:H]
        dcnext = dc * (fs[min(t + 1, T - 1)] if bug == "dcnext_with_next_f" else fs[t])
    grads = [dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo]
    if bug == "np_clip_grads":
        for dparam in grads:
            np.clip(dparam, -0.05, 0.05, out=dparam)
    return (dx, dhnext, *grads)


def to_user(cell, p):
    out = {}
    for letter, k in zip(GATES, (1, 0, 2, 3)):                # canonical rows i, f, g, o
        H = p["weight_hh"].shape[1]
        rows = slice(k * H, (k + 1) * H)
        out["W" + letter] = np.concatenate([p["weight_hh"][rows], p["weight_ih"][rows]], axis=1)
        out["b" + letter] = (p["bias_ih"] + p["bias_hh"])[rows][:, None]
    return out


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    order = ("i", "f", "c", "o")
    if all("dW" + g in grads for g in GATES):
        out["dweight_hh"] = np.concatenate([grads["dW" + g][:, :H] for g in order])
        out["dweight_ih"] = np.concatenate([grads["dW" + g][:, H:] for g in order])
    if all("db" + g in grads for g in GATES):
        out["dbias_ih"] = np.concatenate([grads["db" + g][:, 0] for g in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="karpathy_dict_lstm", cells=("lstm",), per_example=True,
                               takes_c0=False, gate_order="fico", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, h0, Wf, bf, Wi, bi, Wc, bc, Wo, bo):
        return lstm_forward(inputs, h0, Wf, bf, Wi, bi, Wc, bc, Wo, bo, bug)

    def backward(dy, cache):
        return lstm_backward(dy, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

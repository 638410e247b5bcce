"""An LSTM written from the "Understanding LSTM Networks" blog post: the concatenation
[h_(t-1), x_t] and four separate (H, H+D) matrices W_f, W_i, W_C, W_o (colah's C~ for the
candidate), with batch-major rows (N, H+D) and biases (1, H) (a custom layout):

    z = [h_(t-1), x_t]                                (N, H+D)
    f = s(z @ W_f.T + b_f)    i = s(z @ W_i.T + b_i)   C~ = tanh(z @ W_C.T + b_C)   o = s(z @ W_o.T + b_o)
    C_t = f * C_(t-1) + i * C~        h_t = o * tanh(C_t)

x (N, T, D), h0 and C0 (N, H), forward(x, h0, C0, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o).
Sixteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_uses_C_not_tanhC": "wrong_value",                # do = dh_t * C for dh_t * tanh(C)
    "dC_without_dC_next": "carry_dropped",               # dC = dh_t * o * (1 - tanh(C) ** 2): the C carry left out
    "df_with_C_t": "wrong_time",                         # df = dC * C: C_t for C_(t-1)
    "dCt_sigmoid_grad": "derivative_wrong_function",     # dCt_raw = dCt * Ct * (1 - Ct)
    "tanhC_grad_no_square": "derivative_miswritten",     # (1 - tanh(C)) for (1 - tanh(C) ** 2)
    "dx_sliced_from_front": "wrong_value",               # dx = dz[:, :D]: columns of h_(t-1) read as x's (z = [h, x])
    "dz_o_from_dW_o": "gradient_for_weight",             # dz += do_raw @ dW_o (the running gradient for W_o)
    "dz_candidate_through_W_i": "wrong_weight",          # dCt_raw @ W_i for dCt_raw @ W_C
    "df_raw_sign": "wrong_sign",                         # df * f * (f - 1)
    "dC_scaled_in_place": "inplace_corruption",          # dC *= f for the carry before di, dCt are formed from dC
    "backward_runs_forward": "loop_direction",           # for t in range(T)
    "grads_clipped_0_1": "gradient_clipped",             # np.clip(d, -0.1, 0.1, out=d) for every weight gradient
    "forward_b_f_twice": "forward_mistake",              # f = s(z @ W_f.T + b_f + b_f); backward db_f += 2 sum
    "do_raw_no_sigmoid_grad": "derivative_missing",      # do_raw = do
    "i_o_derivatives_swapped": "unknown",                # di_raw with o(1-o) and do_raw with i(1-i): two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "do_uses_C_not_tanhC": "o",
    "dC_without_dC_next": "",
    "df_with_C_t": "f",
    "dCt_sigmoid_grad": "g",
    "tanhC_grad_no_square": "ifg",
    "dx_sliced_from_front": "",
    "dz_o_from_dW_o": "",
    "dz_candidate_through_W_i": "",
    "df_raw_sign": "f",
    "dC_scaled_in_place": "ig",
    "backward_runs_forward": "",
    "grads_clipped_0_1": "",
    "forward_b_f_twice": "",
    "do_raw_no_sigmoid_grad": "o",
    "i_o_derivatives_swapped": "io",
}

GATES = ("f", "i", "C", "o")
CANON = {"i": 0, "f": 1, "C": 2, "o": 3}        # canonical blocks i, f, g, o


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    out = {}
    for g in GATES:
        rows = slice(CANON[g] * H, (CANON[g] + 1) * H)
        out["W_" + g] = np.concatenate([p["weight_hh"][rows], p["weight_ih"][rows]], axis=1)
        out["b_" + g] = b[rows][None, :]
    return out


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    order = sorted(GATES, key=CANON.get)
    out = {}
    if all("dW_" + g in grads for g in GATES):
        out["dweight_hh"] = np.concatenate([grads["dW_" + g][:, :H] for g in order])
        out["dweight_ih"] = np.concatenate([grads["dW_" + g][:, H:] for g in order])
    if all("db_" + g in grads for g in GATES):
        out["dbias_ih"] = np.concatenate([grads["db_" + g][0] for g in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="colah_lstm", cells=("lstm",), gate_order="fiCo",
                               gate_letters={"C": "g"}, names={"c": "C"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, C0, W_f, b_f, W_i, b_i, W_C, b_C, W_o, b_o):
        N, T, D = x.shape
        h, C = h0, C0
        hs, cache = np.zeros((N, T, h0.shape[1]), dtype=x.dtype), []
        for t in range(T):
            z = np.hstack([h, x[:, t]])
            f = sigmoid(z @ W_f.T + b_f + (b_f if bug == "forward_b_f_twice" else 0))
            i = sigmoid(z @ W_i.T + b_i)
            Ct = np.tanh(z @ W_C.T + b_C)
            o = sigmoid(z @ W_o.T + b_o)
            C_prev, C = C, f * C + i * Ct
            h = o * np.tanh(C)
            cache.append((z, f, i, Ct, o, C_prev, C))
            hs[:, t] = h
        return hs, (cache, (W_f, W_i, W_C, W_o), (b_f, b_i, b_C, b_o), D)

    def backward(dh, cache):
        steps, (W_f, W_i, W_C, W_o), biases, D = cache
        N, T, H = dh.shape
        dW = {g: np.zeros_like(W) for g, W in zip(GATES, (W_f, W_i, W_C, W_o))}
        db = {g: np.zeros_like(b) for g, b in zip(GATES, biases)}
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        dC_next = np.zeros((N, H), dtype=dh.dtype)
        order = range(T) if bug == "backward_runs_forward" else reversed(range(T))
        for t in order:
            z, f, i, Ct, o, C_prev, C = steps[t]
            dh_t = dh[:, t] + dh_next
            tC = np.tanh(C)
            do = dh_t * (C if bug == "do_uses_C_not_tanhC" else tC)
            dtanh = (1 - tC) if bug == "tanhC_grad_no_square" else (1 - tC ** 2)
            if bug == "dC_without_dC_next":
                dC = dh_t * o * dtanh
            else:
                dC = dC_next + dh_t * o * dtanh
            df = dC * (C if bug == "df_with_C_t" else C_prev)
            if bug == "dC_scaled_in_place":
                dC *= f
                dC_next = dC
            di = dC * Ct
            dCt = dC * i
            if bug != "dC_scaled_in_place":
                dC_next = dC * f
            df_raw = df * f * (f - 1) if bug == "df_raw_sign" else df * f * (1 - f)
            if bug == "i_o_derivatives_swapped":
                di_raw, do_raw = di * o * (1 - o), do * i * (1 - i)
            else:
                di_raw = di * i * (1 - i)
                do_raw = do if bug == "do_raw_no_sigmoid_grad" else do * o * (1 - o)
            dCt_raw = dCt * Ct * (1 - Ct) if bug == "dCt_sigmoid_grad" else dCt * (1 - Ct ** 2)
            raws = {"f": df_raw, "i": di_raw, "C": dCt_raw, "o": do_raw}
            for g in GATES:
                dW[g] += raws[g].T @ z
                db[g] += raws[g].sum(axis=0, keepdims=True) * (2 if g == "f" and bug == "forward_b_f_twice" else 1)
            dz = df_raw @ W_f + di_raw @ W_i + dCt_raw @ (W_i if bug == "dz_candidate_through_W_i" else W_C)
            dz = dz + do_raw @ (dW["o"] if bug == "dz_o_from_dW_o" else W_o)
            dh_next = dz[:, :H]
            dx[:, t] = dz[:, :D] if bug == "dx_sliced_from_front" else dz[:, H:]
        if bug == "grads_clipped_0_1":
            for d in list(dW.values()) + list(db.values()):
                np.clip(d, -0.1, 0.1, out=d)
        return (dx, dh_next, dC_next, dW["f"], db["f"], dW["i"], db["i"], dW["C"], db["C"], dW["o"], db["o"])

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

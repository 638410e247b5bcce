"""An LSTM whose gate weights are one 3-D array W (4, H, D+H) (gate, unit, [x | h]) and
biases b (4, H), the gates in the order f, i, g, o, everything done with einsum. Its
backward works in two passes: the first runs backward in time and only collects every
step's pre-activation gradients dA[t] (4, N, H) (carrying dh and dc); the second computes
dW, db and dx for all steps at once:

    v_t = [x_t, h_(t-1)]                         (N, D+H)
    A = einsum("gkj,nj->gnk", W, v_t) + b        (4, N, H);  A[0] += 1.0 (forget bias)
    f, i, o = sigmoid(A[0, 1, 3]);  g = tanh(A[2])
    c_t = f c_(t-1) + i g;   h_t = o tanh(c_t)

x (N, T, D), h0 and c0 arguments. Options forget_bias=1.0. Ninth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "dW_h_part_einsum_flipped": "gradient_transposed",  # dW[..., D:] = einsum("tgnk,tnj->gjk", ...): each gate's h block transposed
    "dh_prev_einsum_gjk": "weight_transposed",          # dh_next = einsum("gnk,gjk->nj", dA[t], W[:, :, D:])
    "dA_stacked_i_first": "gate_order",                 # dA[t] = [di, df, dg, do] (the forward's order is f, i, g, o)
    "do_without_sigmoid_grad": "derivative_missing",    # dA o = do
    "df_sigmoid_grad_at_i": "derivative_wrong_point",   # df * i * (1 - i) (also i read for f: wrong_value)
    "di_reads_c_for_g": "wrong_value",                  # di = dc * c_t (for dc * g)
    "dc_next_misspelt": "carry_dropped",                # dc_nxt = dc * f; dc_next is never updated
    "dc_plus_equals_typo": "carry_overwrites",          # dc =+ dc_next (for dc += dc_next)
    "db_mean_over_time": "reduction_scaled",            # db = dA.mean(axis=0).sum(axis=1)
    "first_pass_stops_at_1": "loop_skips_step",         # for t in reversed(range(1, T)) in the first pass
    "second_pass_pairs_reversed": "wrong_time",         # dA appended in the backward loop, zipped with v in forward order
    "all_gates_sigmoid_forward": "forward_mistake",     # G = sigmoid(A) for all four (g too); backward consistent
    "forget_bias_on_i": "forget_bias",                  # A[1] += 1.0 (i's block for f's); backward unchanged (consistent)
    "do_from_c_no_sigmoid_grad": "unknown",             # do = dh * c AND dA o = do
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dW_h_part_einsum_flipped":    "",
    "dh_prev_einsum_gjk":          "",
    "dA_stacked_i_first":          "if",
    "do_without_sigmoid_grad":     "o",
    "df_sigmoid_grad_at_i":        "f",
    "di_reads_c_for_g":            "i",
    "dc_next_misspelt":            "",
    "dc_plus_equals_typo":         "ifg",
    "db_mean_over_time":           "",
    "first_pass_stops_at_1":       "",
    "second_pass_pairs_reversed":  "",
    "all_gates_sigmoid_forward":   "",
    "forget_bias_on_i":            "",
    "do_from_c_no_sigmoid_grad":   "o",
}

ORDER = "figo"          # the user's gate index in W, b (canonical blocks are i, f, g, o)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, W, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    cs = np.zeros_like(hs)
    hs[0], cs[0] = h0, c0
    V = np.zeros((T, N, D + H), dtype=x.dtype)
    G = np.zeros((T, 4, N, H), dtype=x.dtype)
    for t in range(T):
        V[t] = np.concatenate([x[:, t], hs[t]], axis=1)
        A = np.einsum("gkj,nj->gnk", W, V[t]) + b[:, None, :]
        A[1 if bug == "forget_bias_on_i" else 0] += FORGET_BIAS
        if bug == "all_gates_sigmoid_forward":
            G[t] = sigmoid(A)
        else:
            G[t, :2], G[t, 2], G[t, 3] = sigmoid(A[:2]), np.tanh(A[2]), sigmoid(A[3])
        f, i, g, o = G[t]
        cs[t + 1] = f * cs[t] + i * g
        hs[t + 1] = o * np.tanh(cs[t + 1])
    return hs[1:].transpose(1, 0, 2), (V, G, hs, cs, W)


def lstm_backward(dh, cache, bug=None):
    V, G, hs, cs, W = cache
    N, T, H = dh.shape
    D = V.shape[2] - H
    dA = np.zeros_like(G)
    collected = []
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(1 if bug == "first_pass_stops_at_1" else 0, T)):       # pass 1: dA only
        f, i, g, o = G[t]
        dh_t = dh[:, t] + dh_next
        tc = np.tanh(cs[t + 1])
        do = dh_t * (cs[t + 1] if bug == "do_from_c_no_sigmoid_grad" else tc)
        dc = dh_t * o * (1 - tc ** 2)
        if bug == "dc_plus_equals_typo":
            dc =+ dc_next                                                          # noqa: E225 (the typo itself)
        else:
            dc += dc_next
        df = dc * cs[t]
        di = dc * (cs[t + 1] if bug == "di_reads_c_for_g" else g)
        dg = dc * i
        dAf = df * i * (1 - i) if bug == "df_sigmoid_grad_at_i" else df * f * (1 - f)
        dAi = di * i * (1 - i)
        dAg = dg * g * (1 - g) if bug == "all_gates_sigmoid_forward" else dg * (1 - g ** 2)
        dAo = do if bug in ("do_without_sigmoid_grad", "do_from_c_no_sigmoid_grad") else do * o * (1 - o)
        dA[t] = [dAi, dAf, dAg, dAo] if bug == "dA_stacked_i_first" else [dAf, dAi, dAg, dAo]
        collected.append(dA[t].copy())
        spec = "gnk,gjk->nj" if bug == "dh_prev_einsum_gjk" else "gnk,gkj->nj"
        dh_next = np.einsum(spec, dA[t], W[:, :, D:])
        if bug == "dc_next_misspelt":
            dc_nxt = dc * f                                                        # noqa: F841 (the typo itself)
        else:
            dc_next = dc * f
    if bug == "second_pass_pairs_reversed":
        dA = np.stack(collected)                                                   # in the order appended: T-1 .. 0
    dW = np.zeros_like(W)                                                          # pass 2: all steps at once
    dW[:, :, :D] = np.einsum("tgnk,tnd->gkd", dA, V[:, :, :D])
    if bug == "dW_h_part_einsum_flipped":
        dW[:, :, D:] = np.einsum("tgnk,tnj->gjk", dA, V[:, :, D:])
    else:
        dW[:, :, D:] = np.einsum("tgnk,tnj->gkj", dA, V[:, :, D:])
    db = dA.mean(axis=0).sum(axis=1) if bug == "db_mean_over_time" else dA.sum(axis=(0, 2))
    dx = np.einsum("tgnk,gkd->ntd", dA, W[:, :, :D])
    return dx, dh_next, dc_next, dW, db


def _blocks(a):
    """Canonical (4H, ...) rows i, f, g, o -> the user's (4, H, ...) in the order f, i, g, o."""
    parts = np.split(a, 4, axis=0)
    return np.stack([parts["ifgo".index(k)] for k in ORDER])


def to_user(cell, p):
    W = np.concatenate([_blocks(p["weight_ih"]), _blocks(p["weight_hh"])], axis=2)       # (4, H, D+H)
    return {"W": W, "b": _blocks(p["bias_ih"] + p["bias_hh"])}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}

    def canon(a):                                                                    # (4, H, ...) -> (4H, ...)
        return np.concatenate([a[ORDER.index(k)] for k in "ifgo"], axis=0)
    if "dW" in grads:
        out["dweight_ih"], out["dweight_hh"] = canon(grads["dW"][:, :, :D]), canon(grads["dW"][:, :, D:])
    if "db" in grads:
        out["dbias_ih"] = canon(grads["db"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tensor3_lstm", cells=("lstm",), gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W, b):
        return lstm_forward(x, h0, c0, W, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

"""An LSTM from an autograder skeleton (the grader calls ``forward(x, h0, c0, params)`` and
``backward(dh, cache)`` and reads the ``grads`` dict): time-major x (T, N, D), ``params``
{"W" (D, 4H), "U" (H, 4H), "b" (4H,)} with the column blocks in the handout's order
f, i, o, c (c the candidate), states in (T+1) arrays ``Hs``, ``Cs`` with index 0 the
initial state:

    z = x_t @ W + Hs[t] @ U + b;  f, i, o = sigmoid(...), cc = tanh(...)
    Cs[t+1] = f * Cs[t] + i * cc;   Hs[t+1] = o * tanh(Cs[t+1])

Thirtieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "df_with_Cs_t1": "wrong_time",                # df = dc * Cs[t + 1] (c_t for c_(t-1))
    "dcc_grad_parenthesised": "derivative_miswritten",  # dcc * (1 - cc)**2 for dcc * (1 - cc**2)
    "dai_sign": "wrong_sign",                     # dai = di * i * (i - 1)
    "dh_prev_from_dU": "gradient_for_weight",     # dh_next = dz @ grads["dU"].T
    "dc_no_tanh_grad": "derivative_missing",      # dc = dc_next + dh_t * o
    "c_carry_dropped": "carry_dropped",           # dc_next never updated (dc = dh_t * o * (1 - tc**2) each step)
    "loop_stops_at_1": "loop_skips_step",         # for t in range(T - 1, 0, -1)
    "db_over_T": "reduction_scaled",              # db = dz_all.sum(axis=(0, 1)) / T
    "dz_blocks_i_f": "gate_order",                # dz = [dai, daf, dao, dacc] (f and i swapped)
    "clip_dz_norm": "gradient_clipped",           # dz rescaled to norm 1 when larger, each step
    "carry_cut_every_3": "truncated_bptt",        # the carries zeroed every 3 steps walked back
    "forward_no_forget": "forward_mistake",       # Cs[t+1] = Cs[t] + i * cc (f computed, never used); consistent
    "tanhC_out_into_Cs": "inplace_corruption",    # np.tanh(Cs, out=Cs) after the loop: the cached c is tanh(c)
    "dai_sign_and_c_carry_dropped": "unknown",    # two at once
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "df_with_Cs_t1": "f",
    "dcc_grad_parenthesised": "g",
    "dai_sign": "i",
    "dh_prev_from_dU": "",
    "dc_no_tanh_grad": "ifg",
    "c_carry_dropped": "",
    "loop_stops_at_1": "",
    "db_over_T": "",
    "dz_blocks_i_f": "if",
    "clip_dz_norm": "",
    "carry_cut_every_3": "",
    "forward_no_forget": "",
    "tanhC_out_into_Cs": "f",
    "dai_sign_and_c_carry_dropped": "i",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def forward(x, h0, c0, params, bug=None):
    W, U, b = params["W"], params["U"], params["b"]
    T, N, _ = x.shape
    H = h0.shape[1]
    Hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    Cs = np.zeros((T + 1, N, H), dtype=x.dtype)
    gates = np.zeros((T, N, 4 * H), dtype=x.dtype)
    Hs[0], Cs[0] = h0, c0
    for t in range(T):
        z = x[t] @ W + Hs[t] @ U + b
        gates[t, :, :3 * H] = sigmoid(z[:, :3 * H])
        gates[t, :, 3 * H:] = np.tanh(z[:, 3 * H:])
        f, i, o, cc = np.split(gates[t], 4, axis=1)
        Cs[t + 1] = (Cs[t] if bug == "forward_no_forget" else f * Cs[t]) + i * cc
        Hs[t + 1] = o * np.tanh(Cs[t + 1])
    if bug == "tanhC_out_into_Cs":
        tanhC = np.tanh(Cs, out=Cs)
    else:
        tanhC = np.tanh(Cs)
    return Hs[1:].copy(), Cs[1:].copy(), {"x": x, "Hs": Hs, "Cs": Cs, "tanhC": tanhC, "gates": gates,
                                          "params": params}


def backward(dh, cache, bug=None):
    x, Hs, Cs, tanhC, gates, params = (cache[k] for k in ("x", "Hs", "Cs", "tanhC", "gates", "params"))
    W, U = params["W"], params["U"]
    T, N, H = dh.shape
    grads = {"dW": np.zeros_like(W), "dU": np.zeros_like(U), "db": np.zeros_like(params["b"]),
             "dx": np.zeros_like(x)}
    dz_all = np.zeros_like(gates)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, 0 if bug == "loop_stops_at_1" else -1, -1):
        f, i, o, cc = np.split(gates[t], 4, axis=1)
        tc = tanhC[t + 1]
        dh_t = dh[t] + dh_next
        do = dh_t * tc
        if bug == "dc_no_tanh_grad":
            dc = dc_next + dh_t * o
        elif bug in ("c_carry_dropped", "dai_sign_and_c_carry_dropped"):
            dc = dh_t * o * (1 - tc ** 2)
        else:
            dc = dc_next + dh_t * o * (1 - tc ** 2)
        df = dc * (Cs[t + 1] if bug == "df_with_Cs_t1" else Cs[t])
        if bug == "forward_no_forget":
            df = np.zeros_like(df)
        di, dcc = dc * cc, dc * i
        daf = df * f * (1 - f)
        dai = di * i * (i - 1) if bug in ("dai_sign", "dai_sign_and_c_carry_dropped") else di * i * (1 - i)
        dao = do * o * (1 - o)
        dacc = dcc * (1 - cc) ** 2 if bug == "dcc_grad_parenthesised" else dcc * (1 - cc ** 2)
        dz = np.concatenate([dai, daf, dao, dacc] if bug == "dz_blocks_i_f" else [daf, dai, dao, dacc], axis=1)
        if bug == "clip_dz_norm":
            norm = np.linalg.norm(dz)
            if norm > 1:
                dz = dz / norm
        dz_all[t] = dz
        grads["dW"] += x[t].T @ dz
        grads["dU"] += Hs[t].T @ dz
        grads["dx"][t] = dz @ W.T
        dh_next = dz @ (grads["dU"] if bug == "dh_prev_from_dU" else U).T
        dc_next = dc if bug == "forward_no_forget" else dc * f
        if bug == "carry_cut_every_3" and (T - t) % 3 == 0:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
    grads["db"] = dz_all.sum(axis=(0, 1)) / T if bug == "db_over_T" else dz_all.sum(axis=(0, 1))
    grads["dh0"], grads["dc0"] = dh_next, dc_next
    return grads


ORDER = "fiog"                      # the handout's f, i, o, c in canonical letters


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "ifgo", ORDER, 0).T, "U": reorder(p["weight_hh"], "ifgo", ORDER, 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", ORDER, 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"].T, ORDER, "ifgo", 0)
    if "dU" in grads:
        out["dweight_hh"] = reorder(grads["dU"].T, ORDER, "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], ORDER, "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="autograder_fioc_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", forward_returns=("h", "c", "cache"), gate_order="fioc",
                               gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, c0, params: forward(x, h0, c0, params, bug), lambda dh, cache: backward(dh, cache, bug),
            {"cell": "lstm", "layout": LAYOUT})

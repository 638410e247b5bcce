"""A torch ``nn.LSTM`` (one layer, batch_first=False) ported to NumPy by hand, BPTT included,
by someone reading torch's documentation: the weights in a dict under torch's own names and
shapes, the state a tuple (h, c), time-major x (T, N, D):

    weight_ih_l0 (4H, D), weight_hh_l0 (4H, H), bias_ih_l0, bias_hh_l0 (4H,), rows i, f, g, o
    gates = x_t @ weight_ih_l0.T + bias_ih_l0 + h @ weight_hh_l0.T + bias_hh_l0
    i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the four row blocks
    c' = f * c + i * g          h' = o * tanh(c')

The backward splits the weights into the documentation's per-gate names (W_ii, W_hi, ...)
and works gate by gate. forward(x, h0, c0, weights) -> (output, (h_n, c_n), cache);
backward(doutput, cache) -> a dict of gradients (dx, dh0, dc0, dweight_ih_l0, ...).
Third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_sigmoid_grad_sign": "wrong_sign",                 # do * o * (o - 1)
    "di_no_sigmoid_grad": "derivative_missing",           # di_pre = di
    "dtanh_c_as_sigmoid_grad": "derivative_wrong_function",  # dc += dh * o * tanh_c * (1 - tanh_c)
    "di_grad_at_f": "derivative_wrong_point",             # di * f * (1 - f): copy-pasted from the f line
    "do_sigmoid_grad_twice": "derivative_twice",          # o * (1 - o) in do and again in do_pre
    "dg_paren_misplaced": "derivative_miswritten",        # (1 - g) ** 2 for 1 - g ** 2
    "dh_prev_misses_g": "term_dropped",                   # dh_prev sums the i, f, o paths only
    "W_hi_for_W_hf": "wrong_weight",                      # df_pre @ W_hi in dh_prev (copy-paste)
    "W_hf_transposed": "weight_transposed",               # df_pre @ W_hf.T in dh_prev
    "dx_from_dW_ii": "gradient_for_weight",               # di_pre @ dW_ii in dx (the accumulated gradient)
    "dc_next_reset_in_loop": "carry_dropped",             # dc_next = zeros(...) at the top of every step
    "dW_io_assigned": "carry_overwrites",                 # dW_io = do_pre.T @ x_t (= for +=)
    "last_step_skipped": "loop_skips_step",               # for t in range(T - 2, -1, -1)
    "doutput_mean_over_T": "reduction_scaled",            # doutput / T, as if the loss were a mean over time
    "f_cache_in_place": "inplace_corruption",             # sigmoid' of f built in the cached f; dc_prev reads it
    "dweights_stacked_ifog": "gate_order",                # torch.cat-like stacking in cs231n's i, f, o, g
    "forward_without_bias_hh": "forward_mistake",         # bias_hh_l0 never added; backward consistent (db_hh = 0)
    "forward_chunks_f_i": "forward_mistake",              # i, f taken from blocks 1, 0; backward consistent
    "bias_grads_halved": "unknown",                       # db_ih = db_hh = half of the sum: a wrong constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "do_sigmoid_grad_sign": "o",
    "di_no_sigmoid_grad": "i",
    "dtanh_c_as_sigmoid_grad": "ifg",
    "di_grad_at_f": "i",
    "do_sigmoid_grad_twice": "o",
    "dg_paren_misplaced": "g",
    "dh_prev_misses_g": "",
    "W_hi_for_W_hf": "",
    "W_hf_transposed": "",
    "dx_from_dW_ii": "",
    "dc_next_reset_in_loop": "",
    "dW_io_assigned": "",
    "last_step_skipped": "",
    "doutput_mean_over_T": "",
    "f_cache_in_place": "",
    "dweights_stacked_ifog": "go",
    "forward_without_bias_hh": "",
    "forward_chunks_f_i": "",
    "bias_grads_halved": "",
}

GATES = "ifgo"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, state, weights, bug=None):
    """x (T, N, D), state (h0, c0) each (N, H) -> output (T, N, H), (h_n, c_n), cache."""
    w_ih, w_hh = weights["weight_ih_l0"], weights["weight_hh_l0"]
    b_ih, b_hh = weights["bias_ih_l0"], weights["bias_hh_l0"]
    h, c = state
    output, steps = [], []
    for t in range(x.shape[0]):
        gates = x[t] @ w_ih.T + b_ih + h @ w_hh.T
        if bug != "forward_without_bias_hh":
            gates = gates + b_hh
        i, f, g, o = np.split(gates, 4, axis=1)
        if bug == "forward_chunks_f_i":
            i, f = f, i
        i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
        c_prev, h_prev = c, h
        c = f * c + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        steps.append(dict(x=x[t], h_prev=h_prev, c_prev=c_prev, i=i, f=f, g=g, o=o, tanh_c=tanh_c))
        output.append(h)
    return np.stack(output), (h, c), {"steps": steps, "weights": weights}


def _per_gate(weights):
    """The documentation's names: W_ii, W_if, W_ig, W_io (H, D) and W_hi, ... (H, H)."""
    W = {f"W_i{k}": blk for k, blk in zip(GATES, np.split(weights["weight_ih_l0"], 4))}
    W.update({f"W_h{k}": blk for k, blk in zip(GATES, np.split(weights["weight_hh_l0"], 4))})
    return W


def _gate_grads(dh, dc, s, bug):
    """(di_pre, df_pre, dg_pre, do_pre, dc_prev) from dh and the carried dc of one step."""
    i, f, g, o, tanh_c = s["i"], s["f"], s["g"], s["o"], s["tanh_c"]
    if bug == "dtanh_c_as_sigmoid_grad":
        dc = dc + dh * o * tanh_c * (1 - tanh_c)
    else:
        dc = dc + dh * o * (1 - tanh_c ** 2)
    do = dh * tanh_c * o * (1 - o) if bug == "do_sigmoid_grad_twice" else dh * tanh_c
    if bug == "do_sigmoid_grad_sign":
        do_pre = do * o * (o - 1)
    else:
        do_pre = do * o * (1 - o)
    if bug == "f_cache_in_place":
        df_pre = f
        df_pre *= 1 - f
        df_pre *= dc * s["c_prev"]
    else:
        df_pre = dc * s["c_prev"] * f * (1 - f)
    di = dc * g
    if bug == "di_no_sigmoid_grad":
        di_pre = di
    elif bug == "di_grad_at_f":
        di_pre = di * f * (1 - f)
    else:
        di_pre = di * i * (1 - i)
    dg_pre = dc * i * ((1 - g) ** 2 if bug == "dg_paren_misplaced" else 1 - g ** 2)
    return di_pre, df_pre, dg_pre, do_pre, dc * f


def _step_backward(dh, dc, s, W, dW, bug):
    """One step: accumulates into dW; returns (dx_t, dh_prev, dc_prev)."""
    di, df, dg, do, dc_prev = _gate_grads(dh, dc, s, bug)
    pre = {"i": di, "f": df, "g": dg, "o": do}
    if bug == "forward_chunks_f_i":                      # block 0 feeds f, block 1 feeds i
        pre["i"], pre["f"] = df, di
    x_t, h_prev = s["x"], s["h_prev"]
    for k in GATES:
        if bug == "dW_io_assigned" and k == "o":
            dW["W_io"] = pre[k].T @ x_t
        else:
            dW[f"W_i{k}"] += pre[k].T @ x_t
        dW[f"W_h{k}"] += pre[k].T @ h_prev
        dW[f"b_{k}"] += pre[k].sum(axis=0)
    ih = {k: W[f"W_i{k}"] for k in GATES}
    if bug == "dx_from_dW_ii":
        ih["i"] = dW["W_ii"]
    dx = sum(pre[k] @ ih[k] for k in GATES)
    hh = {k: W[f"W_h{k}"] for k in GATES}
    if bug == "W_hi_for_W_hf":
        hh["f"] = W["W_hi"]
    if bug == "W_hf_transposed":
        hh["f"] = W["W_hf"].T
    paths = "ifo" if bug == "dh_prev_misses_g" else GATES
    dh_prev = sum(pre[k] @ hh[k] for k in paths)
    return dx, dh_prev, dc_prev


def lstm_backward(doutput, cache, bug=None):
    """doutput (T, N, H) -> {dx, dh0, dc0, dweight_ih_l0, dweight_hh_l0, dbias_ih_l0, dbias_hh_l0}."""
    steps, weights = cache["steps"], cache["weights"]
    T = doutput.shape[0]
    if bug == "doutput_mean_over_T":
        doutput = doutput / T
    W = _per_gate(weights)
    dW = {k: np.zeros_like(v) for k, v in W.items()}
    dW.update({f"b_{k}": np.zeros(W["W_hi"].shape[0], dtype=doutput.dtype) for k in GATES})
    dx = np.zeros((T,) + steps[0]["x"].shape, dtype=doutput.dtype)
    dh_next = np.zeros_like(doutput[0])
    dc_next = np.zeros_like(doutput[0])
    last = T - 2 if bug == "last_step_skipped" else T - 1
    for t in range(last, -1, -1):
        if bug == "dc_next_reset_in_loop":
            dc_next = np.zeros_like(doutput[0])
        dx[t], dh_next, dc_next = _step_backward(doutput[t] + dh_next, dc_next, steps[t], W, dW, bug)
    order = "ifog" if bug == "dweights_stacked_ifog" else GATES
    db = np.concatenate([dW[f"b_{k}"] for k in order])
    db_ih, db_hh = (db / 2, db / 2) if bug == "bias_grads_halved" else (db, db.copy())
    if bug == "forward_without_bias_hh":
        db_hh = np.zeros_like(db)
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next,
            "dweight_ih_l0": np.concatenate([dW[f"W_i{k}"] for k in order]),
            "dweight_hh_l0": np.concatenate([dW[f"W_h{k}"] for k in order]),
            "dbias_ih_l0": db_ih, "dbias_hh_l0": db_hh}


def to_user(cell, p):
    """Canonical is torch's own layout: only the names change."""
    return {"weight_ih_l0": p["weight_ih"], "weight_hh_l0": p["weight_hh"],
            "bias_ih_l0": p["bias_ih"], "bias_hh_l0": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dweight_ih_l0": "dweight_ih", "dweight_hh_l0": "dweight_hh", "dbias_ih_l0": "dbias_ih",
             "dbias_hh_l0": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_port", cells=("lstm",), axes="TND",
                               weights_as="dict", forward_returns=("h", "state", "cache"), gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, weights):
        return lstm_forward(x, (h0, c0), weights, bug)

    def backward(doutput, cache):
        return lstm_backward(doutput, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

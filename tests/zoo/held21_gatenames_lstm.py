"""An LSTM written with the gates named in words ("forget", "input", "output", "cell"):
the ``params`` dict holds W_<gate> (D, H), U_<gate> (H, H), b_<gate> (H,); both passes loop
over the gate names with an activation table and a derivative table, and the weight
gradients are collected in a ``collections.defaultdict(float)``. Time-major: x (T, N, D),
h0, c0 (N, H); the forward returns (h, c_T, cache):

    pre[g] = x_t @ W_g + h @ U_g + b_g       forget, input, output: sigmoid; cell: tanh
    c = forget * c + input * cell            h = output * tanh(c)

Twenty-first held-out zoo: written without reading the diagnosis.
"""

import collections

import numpy as np

import harness

GATES = ("forget", "input", "output", "cell")

BUGS = {
    "U_untransposed": "weight_transposed",          # dh_prev += dpre @ params["U_" + gate] (no .T)
    "forget_carry_uses_U_input": "wrong_weight",    # the forget gate's share of dh_prev taken through U_input (a key typo)
    "dU_transposed": "gradient_transposed",         # grads["U_" + gate] += dpre.T @ h_prev
    "dcell_reads_forget": "wrong_value",            # d["cell"] = dc * val["forget"] (f read for i)
    "dact_cell_sigmoid": "derivative_wrong_function",  # the derivative table gives the cell gate sigmoid's y * (1 - y)
    "dforget_with_c_t": "wrong_time",               # d["forget"] = dc * c (c_t for c_(t-1))
    "dh_prev_assigned_per_gate": "carry_overwrites",  # dh_prev = dpre @ U.T inside the gate loop (= for +=)
    "tanh_c_grad_missing": "derivative_missing",    # dc = dc_next + dh * output
    "output_sigmoid_twice": "derivative_twice",     # d["output"] = dh * tanh(c) * o * (1 - o), and the table's o * (1 - o) again
    "carries_cut_after_3": "truncated_bptt",        # dh_next and dc_next zeroed once they have gone back 3 steps
    "time_loop_forward": "loop_direction",          # for t in range(T) in the backward
    "c_updated_in_place": "inplace_corruption",     # c *= forget; c += input * cell: the cached c of the step before changes
    "forward_cell_ignores_x": "forward_mistake",    # pre["cell"] = h @ U_cell + b_cell (x_t left out); consistent
    "dcell_reads_forget_and_dU_transposed": "unknown",  # two mistakes: dcell_reads_forget and dU_transposed
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "U_untransposed": "",
    "forget_carry_uses_U_input": "",
    "dU_transposed": "",
    "dcell_reads_forget": "g",
    "dact_cell_sigmoid": "g",
    "dforget_with_c_t": "f",
    "dh_prev_assigned_per_gate": "",
    "tanh_c_grad_missing": "ifg",
    "output_sigmoid_twice": "o",
    "carries_cut_after_3": "",
    "time_loop_forward": "",
    "c_updated_in_place": "f",
    "forward_cell_ignores_x": "",
    "dcell_reads_forget_and_dU_transposed": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


ACT = {"forget": sigmoid, "input": sigmoid, "output": sigmoid, "cell": np.tanh}


def deriv_table(bug):
    d_sig = lambda y: y * (1 - y)                   # noqa: E731
    d_tanh = lambda y: 1 - y ** 2                   # noqa: E731
    return {"forget": d_sig, "input": d_sig, "output": d_sig,
            "cell": d_sig if bug == "dact_cell_sigmoid" else d_tanh}


def lstm_forward(x, h0, c0, params, bug=None):
    T = x.shape[0]
    h, c = h0, c0.copy()
    hs, steps = [], []
    for t in range(T):
        pre = {}
        for gate in GATES:
            pre[gate] = x[t] @ params["W_" + gate] + h @ params["U_" + gate] + params["b_" + gate]
        if bug == "forward_cell_ignores_x":
            pre["cell"] = h @ params["U_cell"] + params["b_cell"]
        val = {gate: ACT[gate](pre[gate]) for gate in GATES}
        c_prev, h_prev = c, h
        if bug == "c_updated_in_place":
            c *= val["forget"]
            c += val["input"] * val["cell"]
        else:
            c = val["forget"] * c + val["input"] * val["cell"]
        h = val["output"] * np.tanh(c)
        hs.append(h)
        steps.append({"x": x[t], "h_prev": h_prev, "c_prev": c_prev, "c": c, "val": val})
    return np.stack(hs), c, (steps, params)


def lstm_backward(dhs, cache, bug=None):
    steps, params = cache
    T = len(steps)
    dact = deriv_table(bug)
    grads = collections.defaultdict(float)
    dxs = [None] * T
    dh_next = np.zeros_like(dhs[0])
    dc_next = np.zeros_like(dhs[0])
    two = bug == "dcell_reads_forget_and_dU_transposed"
    for t in (range(T) if bug == "time_loop_forward" else reversed(range(T))):
        if bug == "carries_cut_after_3" and T - 1 - t >= 3:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        s = steps[t]
        val, c, c_prev, h_prev = s["val"], s["c"], s["c_prev"], s["h_prev"]
        dh = dhs[t] + dh_next
        tc = np.tanh(c)
        d = {"output": dh * tc}
        if bug == "output_sigmoid_twice":
            d["output"] = d["output"] * val["output"] * (1 - val["output"])
        if bug == "tanh_c_grad_missing":
            dc = dc_next + dh * val["output"]
        else:
            dc = dc_next + dh * val["output"] * (1 - tc ** 2)
        d["forget"] = dc * (c if bug == "dforget_with_c_t" else c_prev)
        d["input"] = dc * val["cell"]
        d["cell"] = dc * (val["forget"] if bug == "dcell_reads_forget" or two else val["input"])
        dx, dh_prev = 0.0, 0.0
        for gate in GATES:
            dpre = d[gate] * dact[gate](val[gate])
            x_used = bug != "forward_cell_ignores_x" or gate != "cell"
            grads["W_" + gate] += s["x"].T @ dpre if x_used else np.zeros_like(params["W_cell"])
            if bug == "dU_transposed" or two:
                grads["U_" + gate] += dpre.T @ h_prev
            else:
                grads["U_" + gate] += h_prev.T @ dpre
            grads["b_" + gate] += dpre.sum(axis=0)
            if x_used:
                dx = dx + dpre @ params["W_" + gate].T
            U = params["U_input" if bug == "forget_carry_uses_U_input" and gate == "forget" else "U_" + gate]
            share = dpre @ (U if bug == "U_untransposed" else U.T)
            dh_prev = share if bug == "dh_prev_assigned_per_gate" else dh_prev + share
        dxs[t] = dx
        dh_next, dc_next = dh_prev, dc * val["forget"]
    out = {"d" + k: v for k, v in grads.items()}
    out.update(dx=np.stack(dxs), dh0=dh_next, dc0=dc_next)
    return out


def to_user(cell, p):
    blocks = {"input": 0, "forget": 1, "cell": 2, "output": 3}        # canonical i, f, g, o
    W_ih, W_hh = np.split(p["weight_ih"], 4), np.split(p["weight_hh"], 4)
    b = np.split(p["bias_ih"] + p["bias_hh"], 4)
    user = {}
    for gate in GATES:
        k = blocks[gate]
        user["W_" + gate], user["U_" + gate], user["b_" + gate] = W_ih[k].T, W_hh[k].T, b[k]
    return user


def to_canonical(cell, grads, p):
    order = ("input", "forget", "cell", "output")
    out = {}
    if all("dW_" + g in grads for g in order):
        out["dweight_ih"] = np.concatenate([grads["dW_" + g].T for g in order])
    if all("dU_" + g in grads for g in order):
        out["dweight_hh"] = np.concatenate([grads["dU_" + g].T for g in order])
    if all("db_" + g in grads for g in order):
        out["dbias_ih"] = np.concatenate([grads["db_" + g] for g in order])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gate_names_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", forward_returns=("h", "c_T", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

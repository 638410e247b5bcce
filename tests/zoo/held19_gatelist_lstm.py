"""An LSTM built from one gate_forward/gate_backward pair composed over a list of gates in
the user's order o, f, i, g. Each gate owns a (H + D, H) matrix applied to [h, x] (h first)
and a bias; the parameters come as a list [Wo, bo, Wf, bf, Wi, bi, Wg, bg]:

    hx = [h_(t-1), x_t]        a_q = hx @ W_q + b_q         o, f, i = sigmoid(a)   g = tanh(a)
    c_t = f * c_(t-1) + i * g      h_t = o * tanh(c_t)          x (N, T, D), h0, c0 (N, H)

Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_reads_c": "wrong_value",                        # do = dh * c instead of dh * tanh(c)
    "dc_without_tanh_grad": "derivative_missing",       # dc = dc_next + dh * o
    "dc_prev_drops_f": "term_dropped",                  # dc_prev = dc (the factor f left out)
    "dc_next_not_added": "carry_dropped",               # dc = dh * o * (1 - tc**2): the cell carry never added
    "df_uses_new_c": "wrong_time",                      # df = dc * c (this step's c for c_prev)
    "backward_list_i_before_o": "gate_order",           # the gradient list built i, f, o, g against the forward's o, f, i, g
    "g_grad_as_sigmoid": "derivative_wrong_function",   # g's local derivative g * (1 - g)
    "bf_grad_averaged": "reduction_scaled",             # dbf = da_f.mean(axis=0)
    "o_sigmoid_grad_at_tanh_c": "derivative_wrong_point",  # da_o = do * tc * (1 - tc): s' taken at tanh(c), not at o
    "forward_no_forget": "forward_mistake",             # c = c_prev + i * g (f computed, never used); consistent
    "tanh_c_grad_paren_typo": "derivative_miswritten",  # (1 - tc) ** 2 for 1 - tc ** 2
    "backward_walks_forward": "loop_direction",         # for t in range(T) in the backward
    "hx_buffer_reused": "inplace_corruption",           # one hx buffer filled in place each step and cached by reference
    "do_reads_c_and_no_carry": "unknown",               # two at once: dh * c and the cell carry dropped
    "i_backward_with_Wf": "wrong_weight",               # gate_backward(da_i, hx, W["f"]): f's matrix for i's dhx
}

TOUCHES = {
    "do_reads_c": "o",
    "dc_without_tanh_grad": "ifg",
    "dc_prev_drops_f": "",
    "dc_next_not_added": "",
    "df_uses_new_c": "f",
    "backward_list_i_before_o": "io",
    "g_grad_as_sigmoid": "g",
    "bf_grad_averaged": "f",
    "o_sigmoid_grad_at_tanh_c": "o",
    "forward_no_forget": "",
    "tanh_c_grad_paren_typo": "ifg",
    "backward_walks_forward": "",
    "hx_buffer_reused": "",
    "do_reads_c_and_no_carry": "o",
    "i_backward_with_Wf": "",
}

ORDER = "ofig"


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


ACT = {"o": sigmoid, "f": sigmoid, "i": sigmoid, "g": np.tanh}


def dact(q, y, bug=None):
    if q == "g":
        return y * (1 - y) if bug == "g_grad_as_sigmoid" else 1 - y ** 2
    return y * (1 - y)


def gate_forward(hx, W, b, q):
    return ACT[q](hx @ W + b)


def gate_backward(dy_pre, hx, W):
    """dy_pre (N, H): gradient of the gate's pre-activation -> dhx, dW, db."""
    return dy_pre @ W.T, hx.T @ dy_pre, dy_pre.sum(axis=0)


def lstm_forward(x, h0, c0, params, bug=None):
    W = dict(zip(ORDER, params[0::2]))
    b = dict(zip(ORDER, params[1::2]))
    N, T, D = x.shape
    H = h0.shape[1]
    h, c = h0, c0
    hs = np.zeros((N, T, H), dtype=x.dtype)
    steps = []
    buf = np.empty((N, H + D), dtype=x.dtype)
    for t in range(T):
        if bug == "hx_buffer_reused":
            buf[:, :H], buf[:, H:] = h, x[:, t]
            hx = buf
        else:
            hx = np.concatenate([h, x[:, t]], axis=1)
        gates = {q: gate_forward(hx, W[q], b[q], q) for q in ORDER}
        c_prev = c
        c = c_prev + gates["i"] * gates["g"] if bug == "forward_no_forget" else \
            gates["f"] * c_prev + gates["i"] * gates["g"]
        h = gates["o"] * np.tanh(c)
        hs[:, t] = h
        steps.append({"hx": hx, "gates": gates, "c_prev": c_prev, "c": c})
    return hs, (steps, W, H)


def lstm_backward(dhs, cache, bug=None):
    steps, W, H = cache
    N, T, _ = dhs.shape
    dW = {q: np.zeros_like(W[q]) for q in ORDER}
    db = {q: np.zeros(H, dtype=dhs.dtype) for q in ORDER}
    dx = np.zeros((N, T, steps[0]["hx"].shape[1] - H), dtype=dhs.dtype)
    dh_next, dc_next = np.zeros((N, H), dtype=dhs.dtype), np.zeros((N, H), dtype=dhs.dtype)
    for t in (range(T) if bug == "backward_walks_forward" else reversed(range(T))):
        s = steps[t]
        o, f, i, g = (s["gates"][q] for q in ORDER)
        dh = dhs[:, t] + dh_next
        tc = np.tanh(s["c"])
        do = dh * (s["c"] if bug in ("do_reads_c", "do_reads_c_and_no_carry") else tc)
        tgrad = (1 - tc) ** 2 if bug == "tanh_c_grad_paren_typo" else 1 - tc ** 2
        dc = dh * o if bug == "dc_without_tanh_grad" else dh * o * tgrad
        if bug not in ("dc_next_not_added", "do_reads_c_and_no_carry"):
            dc = dc + dc_next
        d = {"o": do, "f": dc * (s["c"] if bug == "df_uses_new_c" else s["c_prev"]), "i": dc * g, "g": dc * i}
        if bug == "forward_no_forget":
            d["f"] = np.zeros_like(dc)
        dc_next = dc if bug in ("dc_prev_drops_f", "forward_no_forget") else dc * f
        dhx = 0
        for q in ORDER:
            if q == "o" and bug == "o_sigmoid_grad_at_tanh_c":
                da = d[q] * tc * (1 - tc)
            else:
                da = d[q] * dact(q, s["gates"][q], bug)
            Wq = W["f"] if (q == "i" and bug == "i_backward_with_Wf") else W[q]
            dhx_q, dW_q, db_q = gate_backward(da, s["hx"], Wq)
            dhx = dhx + dhx_q
            dW[q] += dW_q
            db[q] += da.mean(axis=0) if (q == "f" and bug == "bf_grad_averaged") else db_q
        dh_next, dx[:, t] = dhx[:, :H], dhx[:, H:]
    order = "ifog" if bug == "backward_list_i_before_o" else ORDER
    grads = []
    for q in order:
        grads += [dW[q], db[q]]
    return (dx, dh_next, dc_next, *grads)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blocks = dict(zip("ifgo", range(4)))
    out = {}
    for q in ORDER:
        k = slice(blocks[q] * H, (blocks[q] + 1) * H)
        out["W" + q] = np.concatenate([p["weight_hh"][k].T, p["weight_ih"][k].T], axis=0)
        out["b" + q] = p["bias_ih"][k] + p["bias_hh"][k]
    return out


def to_canonical(cell, g, p):
    H = p["weight_hh"].shape[1]
    if not all("dW" + q in g for q in "ifgo"):
        return {}
    out = {"dweight_hh": np.concatenate([g["dW" + q][:H].T for q in "ifgo"]),
           "dweight_ih": np.concatenate([g["dW" + q][H:].T for q in "ifgo"])}
    if all("db" + q in g for q in "ifgo"):
        out["dbias_ih"] = np.concatenate([g["db" + q] for q in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gatelist_lstm", cells=("lstm",), weights_as="list",
                               gate_order="ofig", forward_returns=("h", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dhs, cache):
        return lstm_backward(dhs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

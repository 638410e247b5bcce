"""An LSTM from a lab handout written for one example at a time: column vectors, one
matrix ``W`` (4H, H+D) applied to ``np.vstack([h, x])`` (h on top, as the handout draws
it), one bias ``b`` (4H, 1), the gate rows in the handout's order i, o, g, f, step
functions returning a cache tuple and a driver over a list of caches:

    z = W @ [h; x] + b;  i, o = sigmoid;  g = tanh;  f = sigmoid
    c = f * c_prev + i * g;  h = o * tanh(c)

x (T, D, 1), h0 (H, 1), c starting at zero (not an argument). Thirtieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "dag_one_minus_g": "derivative_miswritten",     # dag = dg * (1 - g)
    "dc_tanh_grad_at_c": "derivative_wrong_point",  # dc = dh * o * (1 - c**2) + dc_next (c for tanh(c))
    "dW_with_h_new": "wrong_time",                  # dW += dz @ vstack([h_new, x]).T (h_t for h_(t-1))
    "daf_no_sigmoid_grad": "derivative_missing",    # daf = df
    "dao_dsigmoid_twice": "derivative_twice",       # do already times dsigmoid(o), then dao = do * dsigmoid(o)
    "h_carry_dropped": "carry_dropped",             # dh_next never updated (the c carry still flows)
    "upstream_only_at_end": "carry_overwrites",     # dh_tot = dh_next if t < T - 1 else dh[t]
    "loop_skips_first": "loop_skips_step",          # for t in reversed(range(1, T))
    "forward_reads_ifgo": "gate_order",             # forward and backward split z as i, f, g, o (the weights hold i, o, g, f)
    "forward_unit_forget_bias": "forget_bias",      # f = sigmoid(z_f + 1.0) (Keras's unit_forget_bias folded in); backward consistent
    "loop_forward": "loop_direction",               # for t in range(T)
    "c_buffer_in_place": "inplace_corruption",      # c = c_prev; c *= f; c += i * g: every cached c is one array
    "daf_no_grad_and_loop_skips_first": "unknown",  # two at once
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "dag_one_minus_g": "g",
    "dc_tanh_grad_at_c": "ig",
    "dW_with_h_new": "",
    "daf_no_sigmoid_grad": "",
    "dao_dsigmoid_twice": "o",
    "h_carry_dropped": "",
    "upstream_only_at_end": "",
    "loop_skips_first": "",
    "forward_reads_ifgo": "",
    "forward_unit_forget_bias": "",
    "loop_forward": "",
    "c_buffer_in_place": "f",
    "daf_no_grad_and_loop_skips_first": "",
}

ORDER = "iogf"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_step(x, h_prev, c_prev, W, b, bug=None):
    H = h_prev.shape[0]
    hx = np.vstack([h_prev, x])
    z = W @ hx + b
    if bug == "forward_reads_ifgo":
        i, f, g, o = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
    else:
        i, o, g, f = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
    i, o, g = sigmoid(i), sigmoid(o), np.tanh(g)
    f = sigmoid(f + 1.0) if bug == "forward_unit_forget_bias" else sigmoid(f)
    if bug == "c_buffer_in_place":
        c = c_prev
        c *= f
        c += i * g
    else:
        c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (hx, c_prev, c, i, o, g, f, h)


def lstm_step_backward(dh, dc_next, cache, W, bug=None):
    hx, c_prev, c, i, o, g, f, h_new = cache
    H = dh.shape[0]
    tc = np.tanh(c)
    do = dh * tc
    if bug == "dao_dsigmoid_twice":
        do = do * o * (1 - o)
    if bug == "dc_tanh_grad_at_c":
        dc = dh * o * (1 - c ** 2) + dc_next
    else:
        dc = dh * o * (1 - tc ** 2) + dc_next
    di, dg, df = dc * g, dc * i, dc * c_prev
    dai = di * i * (1 - i)
    dao = do * o * (1 - o)
    dag = dg * (1 - g) if bug == "dag_one_minus_g" else dg * (1 - g ** 2)
    daf = df if bug in ("daf_no_sigmoid_grad", "daf_no_grad_and_loop_skips_first") else df * f * (1 - f)
    if bug == "forward_reads_ifgo":
        dz = np.vstack([dai, daf, dag, dao])
    else:
        dz = np.vstack([dai, dao, dag, daf])
    if bug == "dW_with_h_new":
        dW = dz @ np.vstack([h_new, hx[H:]]).T
    else:
        dW = dz @ hx.T
    dhx = W.T @ dz
    return dhx[H:], dhx[:H], dc * f, dW, dz


def lstm_forward(x, h0, W, b, bug=None):
    T = x.shape[0]
    hs = np.zeros((T,) + h0.shape, dtype=x.dtype)
    h, c, caches = h0, np.zeros_like(h0), []
    for t in range(T):
        h, c, cache = lstm_step(x[t], h, c, W, b, bug)
        hs[t] = h
        caches.append(cache)
    return hs, (caches, W)


def lstm_backward(dh, cache, bug=None):
    caches, W = cache
    T, H = dh.shape[0], dh.shape[1]
    dx = np.zeros((T, W.shape[1] - H, 1), dtype=dh.dtype)
    dW, db = np.zeros_like(W), np.zeros((W.shape[0], 1), dtype=dh.dtype)
    dh_next = np.zeros((H, 1), dtype=dh.dtype)
    dc_next = np.zeros((H, 1), dtype=dh.dtype)
    if bug == "loop_forward":
        steps = range(T)
    elif bug in ("loop_skips_first", "daf_no_grad_and_loop_skips_first"):
        steps = reversed(range(1, T))
    else:
        steps = reversed(range(T))
    for t in steps:
        if bug == "upstream_only_at_end":
            dh_tot = dh_next if t < T - 1 else dh[t]
        else:
            dh_tot = dh[t] + dh_next
        dx[t], dh_prev, dc_next, dW_t, dz = lstm_step_backward(dh_tot, dc_next, caches[t], W, bug)
        if bug != "h_carry_dropped" or t == 0:
            dh_next = dh_prev
        dW += dW_t
        db += dz
    return dx, dh_next, dW, db


def to_user(cell, p):
    Wh = reorder(p["weight_hh"], "ifgo", ORDER, 0)
    Wx = reorder(p["weight_ih"], "ifgo", ORDER, 0)
    return {"W": np.concatenate([Wh, Wx], axis=1), "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", ORDER, 0)[:, None]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW" in grads:
        out["dweight_hh"] = reorder(grads["dW"][:, :H], ORDER, "ifgo", 0)
        out["dweight_ih"] = reorder(grads["dW"][:, H:], ORDER, "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"][:, 0], ORDER, "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="lab_colvec_lstm", cells=("lstm",), per_example=True,
                               takes_c0=False, gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, W, b: lstm_forward(x, h0, W, b, bug), lambda dh, cache: lstm_backward(dh, cache, bug),
            {"cell": "lstm", "layout": LAYOUT})

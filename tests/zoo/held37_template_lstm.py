"""An LSTM in cs231n's layout (gate blocks i, f, o, g; c0 = 0) whose step functions are
generated: one line per gate filled from a string template and a gate table, the
source assembled and exec'd into a namespace of NumPy names. The driver loops are
ordinary code. The check says forget_bias = 0.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "dg_sigmoid_template": "derivative_wrong_function",  # g's row filled with {g}*(1 - {g})
    "o_g_blocks_swapped_bwd": "gate_order",              # backward table: o -> block 3, g -> block 2
    "df_next_c": "wrong_time",                           # df = dnext_c*next_c
    "di_reads_i": "wrong_value",                         # di = dnext_c*i: template filled with the gate itself
    "di_dact_twice": "derivative_twice",                 # i's row: {g}*(1 - {g})*{g}*(1 - {g})
    "dtanh_c_on_c": "derivative_wrong_point",            # (1 - next_c**2)
    "dnext_c_carry_dropped": "carry_dropped",            # dnext_c = dnext_h*o*(1 - tc**2)
    "dprev_c_no_f": "derivative_missing",                # dprev_c = dnext_c
    "dx_from_dWx": "gradient_for_weight",                # dx = da @ dWx.T
    "cache_next_h": "wrong_time",                        # cache filled with next_h for prev_h (dWh)
    "db_mean": "reduction_scaled",                       # db = da.mean(0)
    "loop_forward": "loop_direction",                    # driver: for t in range(T)
    "dWx_assigned": "carry_overwrites",                  # driver: dWx = dWx_t
    "clip_da": "gradient_clipped",                       # clip(da, -0.01, 0.01, out=da) in the template
    "forward_o_tanh": "forward_mistake",                 # o's row: tanh, (1 - {g}**2)
}
TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dg_sigmoid_template": "g",
    "o_g_blocks_swapped_bwd": "go",
    "df_next_c": "f",
    "di_reads_i": "i",
    "di_dact_twice": "i",
    "dtanh_c_on_c": "ig",
    "dnext_c_carry_dropped": "",
    "dprev_c_no_f": "",
    "dx_from_dWx": "",
    "cache_next_h": "",
    "db_mean": "",
    "loop_forward": "",
    "dWx_assigned": "",
    "clip_da": "",
    "forward_o_tanh": "",
}

SIG, DSIG, TANH, DTANH = "sigmoid", "{g}*(1 - {g})", "tanh", "(1 - {g}**2)"
GATES = [["i", 0, SIG, DSIG], ["f", 1, SIG, DSIG], ["o", 2, SIG, DSIG], ["g", 3, TANH, DTANH]]

FWD_HEAD = ("def step_forward(x, prev_h, prev_c, Wx, Wh, b):\n"
            "    H = prev_h.shape[1]\n"
            "    a = x @ Wx + prev_h @ Wh + b\n")
FWD_GATE = "    {g} = {act}(a[:, {k}*H:{k1}*H])\n"
FWD_TAIL = ("    next_c = f*prev_c + i*g\n"
            "    next_h = o*tanh(next_c)\n"
            "    return next_h, next_c, (x, {hp}, prev_c, i, f, o, g, next_c)\n")
BWD_HEAD = ("def step_backward(dnext_h, dnext_c, cache, Wx, Wh):\n"
            "    x, prev_h, prev_c, i, f, o, g, next_c = cache\n"
            "    H = prev_h.shape[1]\n"
            "    tc = tanh(next_c)\n"
            "    dnext_c = {dc}\n"
            "    do = dnext_h*tc\n"
            "    di = dnext_c*{di}\n"
            "    df = dnext_c*{df}\n"
            "    dg = dnext_c*i\n"
            "    da = empty((x.shape[0], 4*H), dtype=x.dtype)\n")
BWD_GATE = "    da[:, {k}*H:{k1}*H] = d{g}*{dact}\n"
BWD_TAIL = ("{clip}"
            "    dWx = x.T @ da\n"
            "    dWh = prev_h.T @ da\n"
            "    db = da.{red}(0)\n"
            "    dx = da @ {wx}.T\n"
            "    dprev_h = da @ Wh.T\n"
            "    dprev_c = dnext_c{f}\n"
            "    return dx, dprev_h, dprev_c, dWx, dWh, db\n")


def generate(bug=None):
    """The step functions' source for ``bug``, exec'd; returns (step_forward, step_backward)."""
    fwd_gates = [list(row) for row in GATES]
    bwd_gates = [list(row) for row in GATES]
    if bug == "dg_sigmoid_template":
        bwd_gates[3][3] = DSIG
    elif bug == "o_g_blocks_swapped_bwd":
        bwd_gates[2][1], bwd_gates[3][1] = 3, 2
    elif bug == "di_dact_twice":
        bwd_gates[0][3] = DSIG + "*" + DSIG
    elif bug == "forward_o_tanh":
        fwd_gates[2][2], bwd_gates[2][3] = TANH, DTANH
    src = FWD_HEAD + "".join(FWD_GATE.format(g=g, k=k, k1=k + 1, act=act) for g, k, act, _ in fwd_gates)
    src += FWD_TAIL.format(hp="next_h" if bug == "cache_next_h" else "prev_h")
    dtc = "(1 - next_c**2)" if bug == "dtanh_c_on_c" else "(1 - tc**2)"
    src += BWD_HEAD.format(dc=("" if bug == "dnext_c_carry_dropped" else "dnext_c + ") + "dnext_h*o*" + dtc,
                           di="i" if bug == "di_reads_i" else "g",
                           df="next_c" if bug == "df_next_c" else "prev_c")
    src += "".join(BWD_GATE.format(g=g, k=k, k1=k + 1, dact=dact.format(g=g)) for g, k, _, dact in bwd_gates)
    src += BWD_TAIL.format(clip="    clip(da, -0.01, 0.01, out=da)\n" if bug == "clip_da" else "",
                           wx="dWx" if bug == "dx_from_dWx" else "Wx",
                           red="mean" if bug == "db_mean" else "sum",
                           f="" if bug == "dprev_c_no_f" else "*f")
    ns = {"sigmoid": lambda v: 1/(1 + np.exp(-v)), "tanh": np.tanh, "empty": np.empty, "clip": np.clip}
    exec(compile(src, f"<generated lstm step {bug}>", "exec"), ns)
    return ns["step_forward"], ns["step_backward"]


def lstm_forward(x, h0, Wx, Wh, b, steps=None):
    step_forward = steps[0]
    T = x.shape[1]
    h, c = h0, np.zeros_like(h0)
    hs, caches = [], []
    for t in range(T):
        h, c, cache = step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), (caches, Wx, Wh)


def lstm_backward(dh, cache, steps=None, bug=None):
    step_backward = steps[1]
    caches, Wx, Wh = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T) if bug == "loop_forward" else reversed(range(T))):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = step_backward(dh[:, t] + dprev_h, dprev_c, caches[t], Wx, Wh)
        if bug == "dWx_assigned":
            dWx = dWx_t
        else:
            dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    steps = generate(bug)
    return (partial(lstm_forward, steps=steps), partial(lstm_backward, steps=steps, bug=bug),
            {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0})

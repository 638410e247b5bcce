"""An LSTM built from a small ``Gate`` helper class, one object per gate holding its own
W (H, D), U (H, H), b (H,), its own per-step cache and its own forward/backward, the way
an object-oriented tutorial builds it up. Batch-major x (N, T, D), c0 an argument, the
forget bias added to f's pre-activation at call time (TF's forget_bias=1.0):

    i = s(W_i x + U_i h + b_i)      f = s(W_f x + U_f h + b_f + 1)
    c~ = tanh(W_c x + U_c h + b_c)  o = s(W_o x + U_o h + b_o)
    c_t = f c_(t-1) + i c~          h_t = o tanh(c_t)

Weights as one dict {"W_i", "U_i", "b_i", ...}; the backward returns a dict keyed
dx, dh0, dc0, dW_i, ... forward(x, h0, c0, params) -> (h, cache).
Twelfth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sigmoid_grad_precedence": "derivative_miswritten",   # Gate.dsigmoid: out * 1 - out (i, f, o)
    "candidate_gets_sigmoid_grad": "derivative_wrong_function",   # c~'s Gate built without dtanh: s'
    "forget_bias_left_out": "forget_bias",                # forward f = gate_f(x, h): no + 1 (backward consistent)
    "do_from_c": "wrong_value",                           # do = dh * c_t for dh * tanh(c_t)
    "dc_without_tanh_grad": "derivative_missing",         # dc = dc_next + dh * o
    "dc_prev_without_f": "term_dropped",                  # dc_next = dc (the factor f left out)
    "df_from_c_t": "wrong_time",                          # df = dc * c_t for dc * c_(t-1)
    "c_carry_forgotten": "carry_dropped",                 # dc = dh * o * tanh'(c): dc_next never added
    "gates_zipped_g_o_swapped": "gate_order",             # zip((gi, gf, gc, go), (di, df, do, dc~))
    "U_transposed_in_gate": "weight_transposed",          # Gate.backward returns da @ U.T for the h part (da @ U)
    "gate_dh_from_dU": "gradient_for_weight",             # Gate.backward returns da @ self.dU for the h part
    "gate_dW_assigned": "carry_overwrites",               # Gate.backward: self.dW = da.T @ x (= for +=)
    "time_loop_forward": "loop_direction",                # for t in range(T) in the backward
    "dc_next_aliases_dc": "inplace_corruption",           # dc_next = dc; dc_next *= f: di, df, dc~ read dc * f
    "do_from_c_and_no_tanh_grad": "unknown",              # two at once: do = dh * c_t and dc = dc_next + dh * o
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "sigmoid_grad_precedence": "ifo",
    "candidate_gets_sigmoid_grad": "g",
    "forget_bias_left_out": "",
    "do_from_c": "o",
    "dc_without_tanh_grad": "ifg",
    "dc_prev_without_f": "",
    "df_from_c_t": "f",
    "c_carry_forgotten": "",
    "gates_zipped_g_o_swapped": "go",
    "U_transposed_in_gate": "",
    "gate_dh_from_dU": "",
    "gate_dW_assigned": "",
    "time_loop_forward": "",
    "dc_next_aliases_dc": "ifg",
    "do_from_c_and_no_tanh_grad": "",
}

FORGET_BIAS = 1.0


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class Gate:
    """One gate: act(x W^T + h U^T + b + extra), with its cache and its gradients."""

    def __init__(self, W, U, b, act=sigmoid, dact=None, bug=None):
        self.W, self.U, self.b, self.act, self.bug = W, U, b, act, bug
        self.dact = dact if dact is not None else self.dsigmoid
        self.cache = []
        self.dW, self.dU, self.db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)

    def dsigmoid(self, out):
        if self.bug == "sigmoid_grad_precedence":
            return out * 1 - out
        return out * (1 - out)

    def __call__(self, x, h, extra=0.0):
        out = self.act(x @ self.W.T + h @ self.U.T + self.b + extra)
        self.cache.append((x, h, out))
        return out

    def backward(self, dout, t):
        x, h, out = self.cache[t]
        da = dout * self.dact(out)
        if self.bug == "gate_dW_assigned":
            self.dW = da.T @ x
        else:
            self.dW += da.T @ x
        self.dU += da.T @ h
        self.db += da.sum(axis=0)
        if self.bug == "gate_dh_from_dU":
            return da @ self.W, da @ self.dU
        dh = da @ (self.U.T if self.bug == "U_transposed_in_gate" else self.U)
        return da @ self.W, dh


def dtanh(out):
    return 1 - out ** 2


def lstm_forward(x, h0, c0, params, bug=None):
    p = params
    gi = Gate(p["W_i"], p["U_i"], p["b_i"], bug=bug)
    gf = Gate(p["W_f"], p["U_f"], p["b_f"], bug=bug)
    if bug == "candidate_gets_sigmoid_grad":
        gc = Gate(p["W_c"], p["U_c"], p["b_c"], act=np.tanh, bug=bug)
    else:
        gc = Gate(p["W_c"], p["U_c"], p["b_c"], act=np.tanh, dact=dtanh, bug=bug)
    go = Gate(p["W_o"], p["U_o"], p["b_o"], bug=bug)
    N, T, D = x.shape
    h, c = h0, c0.copy()
    hs, cs, c_prevs = [], [], []
    for t in range(T):
        x_t = x[:, t]
        i = gi(x_t, h)
        f = gf(x_t, h) if bug == "forget_bias_left_out" else gf(x_t, h, extra=FORGET_BIAS)
        c_tilde = gc(x_t, h)
        o = go(x_t, h)
        c_prevs.append(c)
        c = f * c + i * c_tilde
        h = o * np.tanh(c)
        cs.append(c)
        hs.append(h)
    return np.stack(hs, axis=1), {"gates": (gi, gf, gc, go), "c": cs, "c_prev": c_prevs, "D": D}


def lstm_backward(dh, cache, bug=None):
    gi, gf, gc, go = cache["gates"]
    N, T, H = dh.shape
    dx = np.zeros((N, T, cache["D"]), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T) if bug == "time_loop_forward" else reversed(range(T))):
        i, f, c_tilde, o = (g.cache[t][2] for g in (gi, gf, gc, go))
        c, c_prev = cache["c"][t], cache["c_prev"][t]
        tanh_c = np.tanh(c)
        dh_t = dh[:, t] + dh_next
        do = dh_t * c if bug in ("do_from_c", "do_from_c_and_no_tanh_grad") else dh_t * tanh_c
        if bug in ("dc_without_tanh_grad", "do_from_c_and_no_tanh_grad"):
            dc = dc_next + dh_t * o
        elif bug == "c_carry_forgotten":
            dc = dh_t * o * (1 - tanh_c ** 2)
        else:
            dc = dc_next + dh_t * o * (1 - tanh_c ** 2)
        if bug == "dc_next_aliases_dc":
            dc_next = dc
            dc_next *= f
        di = dc * c_tilde
        df = dc * (c if bug == "df_from_c_t" else c_prev)
        dc_tilde = dc * i
        if bug != "dc_next_aliases_dc":
            dc_next = dc if bug == "dc_prev_without_f" else dc * f
        grads = (di, df, do, dc_tilde) if bug == "gates_zipped_g_o_swapped" else (di, df, dc_tilde, do)
        dx_t, dh_next = 0, 0
        for gate, dout in zip((gi, gf, gc, go), grads):
            gx, gh = gate.backward(dout, t)
            dx_t, dh_next = dx_t + gx, dh_next + gh
        dx[:, t] = dx_t
    out = {"dx": dx, "dh0": dh_next, "dc0": dc_next}
    for letter, gate in zip("ifco", (gi, gf, gc, go)):
        out.update({f"dW_{letter}": gate.dW, f"dU_{letter}": gate.dU, f"db_{letter}": gate.db})
    return out


LETTERS = {"i": 0, "f": 1, "c": 2, "o": 3}               # the user's letter -> canonical block (i, f, g, o)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for letter, k in LETTERS.items():
        rows = slice(k * H, (k + 1) * H)
        user.update({f"W_{letter}": p["weight_ih"][rows], f"U_{letter}": p["weight_hh"][rows], f"b_{letter}": b[rows]})
    return user


def to_canonical(cell, g, p):
    out = {}
    for mine, theirs in (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db", "dbias_ih")):
        if all(f"{mine}_{letter}" in g for letter in LETTERS):
            out[theirs] = np.concatenate([g[f"{mine}_{letter}"] for letter in LETTERS])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gate_class_lstm", cells=("lstm",), weights_as="dict",
                               gate_order="ifco", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

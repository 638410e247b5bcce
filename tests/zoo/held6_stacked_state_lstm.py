"""An LSTM that keeps its two states stacked in one array, state (2, N, H) with state[0] = h
and state[1] = c, forward and backward (the backward carries dstate (2, N, H) the same way).
Weights come as a list [W (D, 4H), U (H, 4H), b (4H,)] with Keras's block order i, f, c, o,
and the forget gate gets a forget bias of 1.0 added in the forward (the check is told
forget_bias=1.0):

    a = x_t @ W + state[0] @ U + b         i, f, c~, o = the four column blocks
    c = sigmoid(a_f + 1.0) * state[1] + sigmoid(a_i) * tanh(a_c)      h = sigmoid(a_o) * tanh(c)

forward(x, h0, c0, [W, U, b]) -> (outputs (N, T, H), final state (2, N, H), cache).
Sixth held-out zoo: written without reading the diagnosis. "[own]" marks mistakes of the
writer's own invention (beyond issue 8's list).
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "dstate_h_row_not_updated": "carry_dropped",       # [own] only dstate[1] = dc_prev written back; dstate[0] stays zero
    "state_cached_without_copy": "inplace_corruption", # [own] the cache holds `state` itself, then state[0], state[1] = h, c in place
    "forget_bias_left_out": "forget_bias",             # sigmoid(a_f) in forward and backward (written for torch)
    "tanh_c_of_c_prev": "wrong_time",                  # tc = np.tanh(state_prev[1]) in the backward
    "di_tanh_grad": "derivative_wrong_function",       # da_i = di * (1 - i ** 2)
    "dc_gate_grad_missing": "derivative_missing",      # da_c = dcc (no 1 - cc ** 2)
    "do_sigmoid_grad_twice": "derivative_twice",       # da_o = do * o * (1 - o) * o * (1 - o)
    "df_grad_at_o": "derivative_wrong_point",          # da_f = df * o * (1 - o)
    "dU_over_T": "reduction_scaled",                   # dU / T after the loop
    "h_carry_misses_o_block": "term_dropped",          # dh_prev = da[:, :3H] @ U[:, :3H].T: the o block sliced off
    "da_blocks_fico": "gate_order",                    # [own] da = [da_f, da_i, da_c, da_o] (the course's order) for i, f, c, o
    "forward_carries_tanh_c": "forward_mistake",       # [own] state[1] = tanh(c) (the squashed cell state carried); consistent
    "dstate_rows_read_swapped": "wrong_value",  # (relabelled 2026-12-07 from unknown: one mistake) [own] dh = dout + dstate[1], dc from dstate[0]
    "dc_carry_halved": "unknown",                      # [own] dstate[1] = 0.5 * dc * f (an arbitrary constant)
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dstate_h_row_not_updated": "",
    "state_cached_without_copy": "",
    "forget_bias_left_out": "",
    "tanh_c_of_c_prev": "",
    "di_tanh_grad": "i",
    "dc_gate_grad_missing": "g",
    "do_sigmoid_grad_twice": "o",
    "df_grad_at_o": "f",
    "dU_over_T": "",
    "h_carry_misses_o_block": "",
    "da_blocks_fico": "if",
    "forward_carries_tanh_c": "",
    "dstate_rows_read_swapped": "",
    "dc_carry_halved": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, c0, params, bug=None):
    W, U, b = params
    N, T, _ = x.shape
    H = h0.shape[1]
    fb = 0.0 if bug == "forget_bias_left_out" else FORGET_BIAS
    state = np.stack([h0, c0])
    outputs = np.zeros((N, T, H), dtype=x.dtype)
    cache = []
    for t in range(T):
        a = x[:, t] @ W + state[0] @ U + b
        i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H] + fb)
        cc, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
        c = f * state[1] + i * cc
        if bug == "forward_carries_tanh_c":
            tc = np.tanh(c)
            new = np.stack([o * tc, tc])
        else:
            new = np.stack([o * np.tanh(c), c])
        if bug == "state_cached_without_copy":
            cache.append((x[:, t], state, i, f, cc, o, c))
            state[0], state[1] = new[0], new[1]
        else:
            cache.append((x[:, t], state, i, f, cc, o, c))
            state = new
        outputs[:, t] = state[0]
    return outputs, state.copy(), (cache, W, U)


def backward(doutputs, cache, bug=None):
    steps, W, U = cache
    N, T, H = doutputs.shape
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(4 * H, dtype=doutputs.dtype)
    dx = np.zeros((N, T, W.shape[0]), dtype=doutputs.dtype)
    dstate = np.zeros((2, N, H), dtype=doutputs.dtype)
    for t in reversed(range(T)):
        x_t, state_prev, i, f, cc, o, c = steps[t]
        if bug == "dstate_rows_read_swapped":
            dh, dc_in = doutputs[:, t] + dstate[1], dstate[0]
        else:
            dh, dc_in = doutputs[:, t] + dstate[0], dstate[1]
        if bug == "forward_carries_tanh_c":
            tc = np.tanh(c)
            dc = (dc_in + dh * o) * (1 - tc ** 2)
        else:
            tc = np.tanh(state_prev[1]) if bug == "tanh_c_of_c_prev" else np.tanh(c)
            dc = dc_in + dh * o * (1 - tc ** 2)
        di, df, dcc, do = dc * cc, dc * state_prev[1], dc * i, dh * tc
        da_i = di * (1 - i ** 2) if bug == "di_tanh_grad" else di * i * (1 - i)
        da_f = df * o * (1 - o) if bug == "df_grad_at_o" else df * f * (1 - f)
        da_c = dcc if bug == "dc_gate_grad_missing" else dcc * (1 - cc ** 2)
        da_o = do * o * (1 - o)
        if bug == "do_sigmoid_grad_twice":
            da_o = da_o * o * (1 - o)
        blocks = [da_f, da_i, da_c, da_o] if bug == "da_blocks_fico" else [da_i, da_f, da_c, da_o]
        da = np.concatenate(blocks, axis=1)
        dW += x_t.T @ da
        dU += state_prev[0].T @ da
        db += da.sum(axis=0)
        dx[:, t] = da @ W.T
        if bug == "h_carry_misses_o_block":
            dh_prev = da[:, :3 * H] @ U[:, :3 * H].T
        else:
            dh_prev = da @ U.T
        dc_prev = 0.5 * dc * f if bug == "dc_carry_halved" else dc * f
        if bug == "dstate_h_row_not_updated":
            dstate[1] = dc_prev
        else:
            dstate = np.stack([dh_prev, dc_prev])
    if bug == "dU_over_T":
        dU = dU / T
    return dx, dstate[0], dstate[1], [dW, dU, db]


def to_user(cell, p):
    """Keras's blocks i, f, c, o are torch's i, f, g, o: only the transposes differ."""
    return {"W": p["weight_ih"].T, "U": p["weight_hh"].T, "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    names = {"dW": "dweight_ih", "dU": "dweight_hh"}
    out = {names[k]: g[k].T for k in names if k in g}
    if "db" in g:
        out["dbias_ih"] = g["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="stacked_state_lstm", cells=("lstm",), weights_as="list",
                               forward_returns=("h", "state", "cache"), gate_order="ifco", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, params):
        return forward(x, h0, c0, params, bug)

    def bwd(doutputs, cache):
        dx, dh0, dc0, (dW, dU, db) = backward(doutputs, cache, bug)
        return dx, dh0, dc0, dW, dU, db

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

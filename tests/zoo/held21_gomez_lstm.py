"""An LSTM in the notation of the "backpropagating an LSTM: a numerical example" blog post
(a, i, f, o gates; state and out; delta names), time-major with column vectors over the
batch: x (T, D, N), out (T, H, N), out0 (H, N), state starting at zero (no c0 argument);
W (4H, D), U (4H, H), b (4H,) with the gate blocks stacked a, i, f, o (declared):

    a = tanh(W_a x_t + U_a out_(t-1) + b_a)      i, f, o = sigmoid(W_* x_t + U_* out_(t-1) + b_*)
    state_t = a * i + f * state_(t-1)             out_t = tanh(state_t) * o

The backward follows the post: the state carry is written as
``d_state_t = d_out_t * o_t * (1 - tanh(state_t)**2) + d_state_(t+1) * f_(t+1)`` (the next
step's forget gate kept in ``f_next``), and ``Delta_out_(t-1) = U^T d_gates_t``.
Twenty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "carry_uses_f_t": "wrong_time",                  # d_state_next * f[t] (f_t for f_(t+1))
    "h0_term_of_dU_dropped": "term_dropped",         # dU summed over t >= 1 only, as the post (whose out0 is 0) does
    "d_out_misses_recurrent": "carry_dropped",       # d_out = Delta[t]: U^T d_gates_(t+1) never added (the h carry)
    "state_carry_missing": "carry_dropped",          # d_state = d_out * o * tanh'(state): d_state_(t+1) * f_(t+1) left out (the c carry)
    "tanh_state_grad_missing": "derivative_missing",  # d_state = d_out * o + ...
    "tanh_written_over_state": "inplace_corruption",  # forward: np.tanh(state[t], out=state[t]) after copying the carry: the cached state holds tanh(state)
    "tanh_state_at_out": "derivative_wrong_point",   # (1 - out_t ** 2) for (1 - tanh(state_t) ** 2) (also wrong_value)
    "di_reads_i_for_a": "wrong_value",               # d_i = d_state * i * i * (1 - i): i_t read for a_t
    "da_sigmoid_form": "derivative_wrong_function",  # d_a = d_state * i * a * (1 - a)
    "do_sigmoid_twice": "derivative_twice",          # d_o = d_out * tanh(state) * [o * (1 - o)] ** 2
    "dout_from_dU": "gradient_for_weight",           # Delta_out = dU.T @ d_gates (dU, the running gradient, for U)
    "gates_stacked_i_a": "gate_order",               # d_gates = vstack([d_i, d_a, d_f, d_o])
    "grads_over_T": "reduction_scaled",              # dW, dU, db divided by T (a mean over the sequence)
    "forward_out_without_tanh": "forward_mistake",   # out_t = state_t * o; the backward consistent
    "no_state_carry_and_no_o_grad": "unknown",       # two mistakes: the state carry left out and d_o without o * (1 - o)
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "carry_uses_f_t": "",
    "h0_term_of_dU_dropped": "",
    "d_out_misses_recurrent": "",
    "state_carry_missing": "",
    "tanh_state_grad_missing": "ig",
    "tanh_written_over_state": "",
    "tanh_state_at_out": "ig",
    "di_reads_i_for_a": "i",
    "da_sigmoid_form": "g",
    "do_sigmoid_twice": "o",
    "dout_from_dU": "",
    "gates_stacked_i_a": "ig",
    "grads_over_T": "",
    "forward_out_without_tanh": "",
    "no_state_carry_and_no_o_grad": "o",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, out0, W, U, b, bug=None):
    T, D, N = x.shape
    H = out0.shape[0]
    out = np.zeros((T, H, N), dtype=x.dtype)
    state = np.zeros((T, H, N), dtype=x.dtype)
    a, i, f, o = (np.zeros((T, H, N), dtype=x.dtype) for _ in range(4))
    prev_out, prev_state = out0, np.zeros((H, N), dtype=x.dtype)
    for t in range(T):
        z = W @ x[t] + U @ prev_out + b[:, None]
        a[t] = np.tanh(z[:H])
        i[t], f[t], o[t] = sigmoid(z[H:2 * H]), sigmoid(z[2 * H:3 * H]), sigmoid(z[3 * H:])
        state[t] = a[t] * i[t] + f[t] * prev_state
        if bug == "tanh_written_over_state":
            prev_state = state[t].copy()
            out[t] = np.tanh(state[t], out=state[t]) * o[t]
            prev_out = out[t]
            continue
        out[t] = state[t] * o[t] if bug == "forward_out_without_tanh" else np.tanh(state[t]) * o[t]
        prev_out, prev_state = out[t], state[t]
    return out, {"x": x, "out0": out0, "W": W, "U": U, "a": a, "i": i, "f": f, "o": o, "state": state, "out": out}


def lstm_backward(Delta, cache, bug=None):
    x, out0, W, U = cache["x"], cache["out0"], cache["W"], cache["U"]
    a, i, f, o, state, out = (cache[k] for k in ("a", "i", "f", "o", "state", "out"))
    T, H, N = Delta.shape
    dx, dW, dU = np.zeros_like(x), np.zeros_like(W), np.zeros_like(U)
    db = np.zeros(4 * H, dtype=Delta.dtype)
    d_gates_next = np.zeros((4 * H, N), dtype=Delta.dtype)
    d_state_next = np.zeros((H, N), dtype=Delta.dtype)
    f_next = np.zeros((H, N), dtype=Delta.dtype)
    for t in reversed(range(T)):
        U_for_carry = dU if bug == "dout_from_dU" else U
        d_out = Delta[t] if bug == "d_out_misses_recurrent" else Delta[t] + U_for_carry.T @ d_gates_next
        tanh_s = state[t] if bug == "forward_out_without_tanh" else np.tanh(state[t])
        if bug == "forward_out_without_tanh":
            d_state = d_out * o[t]
        elif bug == "tanh_state_grad_missing":
            d_state = d_out * o[t]
        elif bug == "tanh_state_at_out":
            d_state = d_out * o[t] * (1 - out[t] ** 2)
        else:
            d_state = d_out * o[t] * (1 - tanh_s ** 2)
        if bug not in ("state_carry_missing", "no_state_carry_and_no_o_grad"):
            d_state = d_state + d_state_next * (f[t] if bug == "carry_uses_f_t" else f_next)
        prev_state = state[t - 1] if t > 0 else np.zeros_like(state[0])
        if bug == "da_sigmoid_form":
            d_a = d_state * i[t] * a[t] * (1 - a[t])
        else:
            d_a = d_state * i[t] * (1 - a[t] ** 2)
        d_i = d_state * (i[t] if bug == "di_reads_i_for_a" else a[t]) * i[t] * (1 - i[t])
        d_f = d_state * prev_state * f[t] * (1 - f[t])
        if bug == "do_sigmoid_twice":
            d_o = d_out * tanh_s * (o[t] * (1 - o[t])) ** 2
        elif bug == "no_state_carry_and_no_o_grad":
            d_o = d_out * tanh_s
        else:
            d_o = d_out * tanh_s * o[t] * (1 - o[t])
        blocks = [d_i, d_a, d_f, d_o] if bug == "gates_stacked_i_a" else [d_a, d_i, d_f, d_o]
        d_gates = np.vstack(blocks)
        dx[t] = W.T @ d_gates
        dW += d_gates @ x[t].T
        db += d_gates.sum(axis=1)
        if t > 0:
            dU += d_gates @ out[t - 1].T
        elif bug != "h0_term_of_dU_dropped":
            dU += d_gates @ out0.T
        d_gates_next, d_state_next, f_next = d_gates, d_state, f[t]
    dout0 = (dU if bug == "dout_from_dU" else U).T @ d_gates_next
    if bug == "grads_over_T":
        dW, dU, db = dW / T, dU / T, db / T
    return dx, dout0, dW, dU, db


def _aifo(a, src, dst):
    parts = dict(zip(src, np.split(a, 4, axis=0)))
    return np.concatenate([parts[g] for g in dst], axis=0)


def to_user(cell, p):
    return {"W": _aifo(p["weight_ih"], "ifao", "aifo"), "U": _aifo(p["weight_hh"], "ifao", "aifo"),
            "b": _aifo(p["bias_ih"] + p["bias_hh"], "ifao", "aifo")}


def to_canonical(cell, grads, p):
    names = {"dW": "dweight_ih", "dU": "dweight_hh", "db": "dbias_ih"}
    return {canonical: _aifo(grads[mine], "aifo", "ifao") for mine, canonical in names.items() if mine in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gomez_lstm", cells=("lstm",), takes_c0=False,
                               axes="TDN", gate_order="aifo", gate_letters={"a": "g"},
                               names={"h": "out", "c": "state"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, out0, W, U, b):
        return lstm_forward(x, out0, W, U, b, bug)

    def backward(Delta, cache):
        return lstm_backward(Delta, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

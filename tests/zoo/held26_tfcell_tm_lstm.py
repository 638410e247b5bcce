"""An LSTM ported by hand from TensorFlow's ``LSTMCell`` (state_is_tuple, no peepholes): one
kernel (D+H, 4H) on concat([inputs, h]) with the columns i, j, f, o kept as one array, a
bias (4H,), ``forget_bias = 1.0`` added to f at call time, the state an ``LSTMStateTuple(c,
h)`` and the inputs time-major (T, N, D) as ``tf.nn.static_rnn`` feeds them. The step keeps
the raw ``gate_inputs`` (as TF's fused kernel does) and the backward recomputes the gate
activations from them:

    gate_inputs = _linear([inputs, h], kernel, bias);  i, j, f, o = split(gate_inputs, 4)
    new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)
    new_h = tanh(new_c) * sigmoid(o)

The forward returns (outputs, final state, cache). Twenty-sixth held-out zoo: written without
reading the diagnosis.
"""

from typing import NamedTuple

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "backward_sf_without_forget_bias": "forget_bias",     # sf = sigmoid(f) recomputed in the backward, no + forget_bias
    "dc_without_carry": "carry_dropped",                  # dc = dh * so * (1 - tc ** 2) (dc_next left out)
    "grad_buffer_assigned": "carry_overwrites",           # grad[t - 1] = dh_prev (the upstream at t - 1 overwritten)
    "dj_tanh_grad_on_raw_j": "derivative_wrong_point",    # (1 - j ** 2) with j the raw gate input
    "do_times_c": "wrong_value",                          # d_o = dh * new_c * so * (1 - so) (c for tanh(c))
    "dc_only_carry": "term_dropped",                      # dc = dc_next (the path through new_h left out)
    "dgates_ifjo": "gate_order",                          # dgates = concat([d_i, d_f, d_j, d_o])
    "df_with_new_c": "wrong_time",                        # d_f = dc * new_c * sf * (1 - sf)
    "dkernel_over_T": "reduction_scaled",                 # dkernel / T after the loop
    "truncated_two_steps": "truncated_bptt",              # both carries zeroed after two steps walked back
    "dc_prev_times_si": "wrong_value",                    # dc_prev = dc * si (i read for f)
    "new_c_in_place": "inplace_corruption",               # new_c = c; new_c *= sf; new_c += ...: cached c changed
    "di_no_sigmoid_grad": "derivative_missing",           # d_i = dc * sj
    "no_forget_bias_and_raw_do": "unknown",               # backward sf = sigmoid(f) and d_o = dh * tc: two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "backward_sf_without_forget_bias": "f",
    "dc_without_carry": "",
    "grad_buffer_assigned": "",
    "dj_tanh_grad_on_raw_j": "g",
    "do_times_c": "o",
    "dc_only_carry": "ifg",
    "dgates_ifjo": "fg",
    "df_with_new_c": "f",
    "dkernel_over_T": "",
    "truncated_two_steps": "",
    "dc_prev_times_si": "",
    "new_c_in_place": "f",
    "di_no_sigmoid_grad": "i",
    "no_forget_bias_and_raw_do": "fo",
}


class LSTMStateTuple(NamedTuple):
    c: np.ndarray
    h: np.ndarray


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _linear(args, kernel, bias):
    return np.concatenate(args, axis=1) @ kernel + bias


def lstm_cell_call(inputs, state, kernel, bias, bug=None):
    c, h = state
    gate_inputs = _linear([inputs, h], kernel, bias)
    i, j, f, o = np.split(gate_inputs, 4, axis=1)
    sf = sigmoid(f + FORGET_BIAS)
    if bug == "new_c_in_place":
        new_c = c
        new_c *= sf
        new_c += sigmoid(i) * np.tanh(j)
    else:
        new_c = c * sf + sigmoid(i) * np.tanh(j)
    new_h = np.tanh(new_c) * sigmoid(o)
    return new_h, LSTMStateTuple(new_c, new_h), (inputs, state, gate_inputs, new_c)


def lstm_cell_grad(dh, dc_next, ctx, kernel, bug=None):
    inputs, (c, h), gate_inputs, new_c = ctx
    i, j, f, o = np.split(gate_inputs, 4, axis=1)
    no_fb = bug in ("backward_sf_without_forget_bias", "no_forget_bias_and_raw_do")
    si, sj, so = sigmoid(i), np.tanh(j), sigmoid(o)
    sf = sigmoid(f) if no_fb else sigmoid(f + FORGET_BIAS)
    tc = np.tanh(new_c)
    if bug == "do_times_c":
        d_o = dh * new_c * so * (1 - so)
    elif bug == "no_forget_bias_and_raw_do":
        d_o = dh * tc
    else:
        d_o = dh * tc * so * (1 - so)
    if bug == "dc_without_carry":
        dc = dh * so * (1 - tc ** 2)
    elif bug == "dc_only_carry":
        dc = dc_next
    else:
        dc = dc_next + dh * so * (1 - tc ** 2)
    d_i = dc * sj if bug == "di_no_sigmoid_grad" else dc * sj * si * (1 - si)
    d_j = dc * si * (1 - (j if bug == "dj_tanh_grad_on_raw_j" else sj) ** 2)
    d_f = dc * (new_c if bug == "df_with_new_c" else c) * sf * (1 - sf)
    dc_prev = dc * (si if bug == "dc_prev_times_si" else sf)
    parts = [d_i, d_f, d_j, d_o] if bug == "dgates_ifjo" else [d_i, d_j, d_f, d_o]
    dgates = np.concatenate(parts, axis=1)
    dkernel = np.concatenate([inputs, h], axis=1).T @ dgates
    dxh = dgates @ kernel.T
    return dxh, dc_prev, dkernel, dgates.sum(axis=0)


def static_rnn(inputs, h0, c0, kernel, bias, bug=None):
    state = LSTMStateTuple(c0.copy(), h0)
    outputs, ctxs = [], []
    for x_t in inputs:
        out, state, ctx = lstm_cell_call(x_t, state, kernel, bias, bug)
        outputs.append(out)
        ctxs.append(ctx)
    return np.stack(outputs), state, (ctxs, kernel)


def static_rnn_grad(grad_outputs, cache, bug=None):
    ctxs, kernel = cache
    T, N, H = grad_outputs.shape
    D = kernel.shape[0] - H
    grad = grad_outputs.copy()
    dx = np.zeros((T, N, D), dtype=grad.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=grad.dtype)
    dh_prev, dc_prev = np.zeros((N, H), dtype=grad.dtype), np.zeros((N, H), dtype=grad.dtype)
    for t in reversed(range(T)):
        if bug == "grad_buffer_assigned":
            dh = grad[t]
        else:
            dh = grad[t] + dh_prev
        dxh, dc_prev, dk, db = lstm_cell_grad(dh, dc_prev, ctxs[t], kernel, bug)
        dkernel += dk
        dbias += db
        dx[t], dh_prev = dxh[:, :D], dxh[:, D:]
        if bug == "grad_buffer_assigned" and t > 0:
            grad[t - 1] = dh_prev
        if bug == "truncated_two_steps" and T - t >= 2:
            dh_prev, dc_prev = np.zeros_like(dh_prev), np.zeros_like(dc_prev)
    if bug == "dkernel_over_T":
        dkernel = dkernel / T
    return dx, dh_prev, dc_prev, dkernel, dbias


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    order = [0, 2, 1, 3]                                  # torch i, f, g, o -> TF i, j(=g), f, o

    def ijfo(a):
        return np.concatenate([a[k * H:(k + 1) * H] for k in order], axis=0)
    return {"kernel": np.concatenate([ijfo(p["weight_ih"]).T, ijfo(p["weight_hh"]).T], axis=0),
            "bias": ijfo(p["bias_ih"] + p["bias_hh"])}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    H = p["weight_hh"].shape[1]
    order = [0, 2, 1, 3]                                  # the same swap of the 2nd and 3rd blocks undoes itself

    def ifgo(a):
        return np.concatenate([a[k * H:(k + 1) * H] for k in order], axis=0)
    out = {}
    if "dkernel" in grads:
        out["dweight_ih"] = ifgo(grads["dkernel"][:D].T)
        out["dweight_hh"] = ifgo(grads["dkernel"][D:].T)
    if "dbias" in grads:
        out["dbias_ih"] = ifgo(grads["dbias"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="tf_lstmcell_port", cells=("lstm",), axes="TND",
                               forward_returns=("h", "state", "cache"), gate_order="ijfo", gate_letters={"j": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, h0, c0, kernel, bias):
        return static_rnn(inputs, h0, c0, kernel, bias, bug)

    def backward(grad_outputs, cache):
        return static_rnn_grad(grad_outputs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

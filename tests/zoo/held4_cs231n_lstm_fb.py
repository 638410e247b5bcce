"""An LSTM on the built-in ``cs231n`` layout with a forget bias of 1.0 the student added (declared
to the check with forget_bias=1.0): x (N, T, D), h0 (N, H), the cell state starting at zero,
Wx (D, 4H), Wh (H, 4H), b (4H,), the assignment's blocks i, f, o, g. Written around one ``gates``
array whose blocks are activated in place, and a backward that fills a ``dgates`` array block
by block:

    gates = x_t @ Wx + prev_h @ Wh + b;  gates[:, H:2H] += forget_bias
    gates[:, :3H] = sigmoid(gates[:, :3H]);  gates[:, 3H:] = tanh(gates[:, 3H:])
    next_c = f * prev_c + i * g;  next_h = o * tanh(next_c)

Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_subtracted": "forget_bias",              # gates[:, H:2H] -= forget_bias
    "forget_bias_added_twice": "forget_bias",             # the driver adds it to b's f block, the step again
    "tanh_c_of_prev_c": "wrong_time",                     # the backward recomputes tanh(prev_c) for tanh(next_c)
    "dWh_with_next_h": "wrong_time",                      # dWh = next_h.T @ dgates
    "dprev_h_through_dWh": "gradient_for_weight",         # dprev_h = dgates @ dWh.T (the step's dWh, just computed)
    "dg_sigmoid_grad": "derivative_wrong_function",       # dgates[:, 3H:] = dc * i * g * (1 - g)
    "do_without_sigmoid_grad": "derivative_missing",      # dgates[:, 2H:3H] = do
    "tanh_c_squared_in_place": "inplace_corruption",      # t = tanh_c; t **= 2 (for tanh'): do then reads tanh_c ** 2
    "dprev_c_zeroed_each_step": "carry_dropped",          # the driver resets dprev_c to zeros inside the loop
    "db_batch_mean": "reduction_scaled",                  # db = dgates.mean(axis=0)
    "backward_loop_forward_in_time": "loop_direction",    # for t in range(T)
    "grad_norm_clipped_to_1": "gradient_clipped",         # dWx, dWh, db each rescaled to norm 1 if larger
    "forward_h_without_tanh": "forward_mistake",          # next_h = o * next_c; backward consistent
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_subtracted": "",
    "forget_bias_added_twice": "",
    "tanh_c_of_prev_c": "",
    "dWh_with_next_h": "",
    "dprev_h_through_dWh": "",
    "dg_sigmoid_grad": "g",
    "do_without_sigmoid_grad": "o",
    "tanh_c_squared_in_place": "o",
    "dprev_c_zeroed_each_step": "",
    "db_batch_mean": "",
    "backward_loop_forward_in_time": "",
    "grad_norm_clipped_to_1": "",
    "forward_h_without_tanh": "",
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    H = prev_h.shape[1]
    gates = x @ Wx + prev_h @ Wh + b
    if bug == "forget_bias_subtracted":
        gates[:, H:2 * H] -= FORGET_BIAS
    else:
        gates[:, H:2 * H] += FORGET_BIAS
    gates[:, :3 * H] = sigmoid(gates[:, :3 * H])
    gates[:, 3 * H:] = np.tanh(gates[:, 3 * H:])
    i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * (next_c if bug == "forward_h_without_tanh" else tanh_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "gates": gates,
             "next_c": next_c, "tanh_c": tanh_c, "next_h": next_h}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    gates, prev_c, tanh_c = cache["gates"], cache["prev_c"], cache["tanh_c"]
    H = dnext_h.shape[1]
    i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    if bug == "tanh_c_of_prev_c":
        tanh_c = np.tanh(prev_c)
    if bug == "forward_h_without_tanh":
        dc = dnext_c + dnext_h * o
        do = dnext_h * cache["next_c"]
    elif bug == "tanh_c_squared_in_place":
        t2 = tanh_c
        t2 **= 2
        dc = dnext_c + dnext_h * o * (1 - t2)
        do = dnext_h * tanh_c
    else:
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        do = dnext_h * tanh_c
    dgates = np.empty_like(gates)
    dgates[:, :H] = dc * g * i * (1 - i)
    dgates[:, H:2 * H] = dc * prev_c * f * (1 - f)
    dgates[:, 2 * H:3 * H] = do if bug == "do_without_sigmoid_grad" else do * o * (1 - o)
    dgates[:, 3 * H:] = dc * i * (g * (1 - g) if bug == "dg_sigmoid_grad" else 1 - g ** 2)
    dx = dgates @ cache["Wx"].T
    dWx = cache["x"].T @ dgates
    dWh = (cache["next_h"] if bug == "dWh_with_next_h" else cache["prev_h"]).T @ dgates
    dprev_h = dgates @ (dWh if bug == "dprev_h_through_dWh" else cache["Wh"]).T
    db = dgates.mean(axis=0) if bug == "db_batch_mean" else dgates.sum(axis=0)
    dprev_c = dc * f
    return dx, dprev_h, dprev_c, dWx, dWh, db


def _clip_norm(g, max_norm=1.0):
    norm = np.sqrt((g ** 2).sum())
    return g * (max_norm / norm) if norm > max_norm else g


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def lstm_forward(x, h0, Wx, Wh, b):
        N, T, D = x.shape
        H = h0.shape[1]
        if bug == "forget_bias_added_twice":
            b = b.copy()
            b[H:2 * H] += FORGET_BIAS
        h = np.zeros((N, T, H), dtype=x.dtype)
        prev_h, prev_c, cache = h0, np.zeros_like(h0), []
        for t in range(T):
            prev_h, prev_c, step = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b, bug)
            h[:, t] = prev_h
            cache.append(step)
        return h, cache

    def lstm_backward(dh, cache):
        N, T, H = dh.shape
        dx = np.zeros((N, T, cache[0]["x"].shape[1]), dtype=dh.dtype)
        dWx, dWh = np.zeros_like(cache[0]["Wx"]), np.zeros_like(cache[0]["Wh"])
        db = np.zeros(4 * H, dtype=dh.dtype)
        dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        for t in (range(T) if bug == "backward_loop_forward_in_time" else reversed(range(T))):
            if bug == "dprev_c_zeroed_each_step":
                dprev_c = np.zeros((N, H), dtype=dh.dtype)
            dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t] + dprev_h, dprev_c,
                                                                               cache[t], bug)
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        if bug == "grad_norm_clipped_to_1":
            dWx, dWh, db = _clip_norm(dWx), _clip_norm(dWh), _clip_norm(db)
        return dx, dprev_h, dWx, dWh, db

    return lstm_forward, lstm_backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": FORGET_BIAS}

"""A ReLU RNN in the karpathy layout (one example at a time, x (T, D, 1), h0 (H, 1),
Wxh (H, D), Whh (H, H), bh (H, 1)) written in echo-state-network notation: the inputs
collected as columns U (D, T), the states as columns of a matrix X (H, T+1) whose first
column is the initial state, and the weight gradients taken once after the loop from a
delta matrix (H, T), as reservoir papers write the readout:

    X[:, t+1] = relu(W_in U[:, t] + W_res X[:, t] + b)
    Delta[:, t] = e_t * [X[:, t+1] > 0]      e_t = dh_t + W_res^T Delta[:, t+1]
    dW_in = Delta U^T, dW_res = Delta X[:, :-1]^T, db = row sums of Delta

Thirty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "relu_mask_missing": "derivative_missing",           # Delta[:, t] = e
    "relu_mask_as_tanh_prime": "derivative_wrong_function",  # Delta[:, t] = e * (1 - X[:, t+1]**2)
    "W_res_not_transposed": "weight_transposed",         # e = W_res @ Delta[:, t]
    "dW_res_transposed": "gradient_transposed",          # dW_res = X[:, :-1] @ Delta.T
    "dW_res_states_one_late": "wrong_time",              # dW_res = Delta @ X[:, 1:].T: the slice off by one
    "error_reset_each_step": "carry_dropped",            # e = dhs[t] (the propagated error forgotten)
    "error_injected_last_only": "carry_overwrites",      # e = dhs[t] only at t = T-1, after that e = the carry alone
    "loop_stops_before_zero": "loop_skips_step",         # for t in range(T - 1, 0, -1)
    "db_mean_over_time": "reduction_scaled",             # db = Delta.mean(axis=1)
    "descent_direction_for_dW_in": "wrong_sign",         # invention: dW_in = -Delta U^T (the update direction returned)
    "error_cut_every_two": "truncated_bptt",             # invention: e zeroed every second step back
    "forward_fed_h0": "forward_mistake",                 # every step driven by X[:, 0]; backward consistent
    "leaky_esn_factor": "unknown",                       # e = 0.9 * W_res^T Delta[:, t]: a leak rate copied from a
                                                         # leaky ESN
    "mask_from_input_drive": "derivative_wrong_point",   # invention: relu' read at W_in u_t + b (the input part of the
                                                         # drive) instead of the whole drive (also wrong_value)
}

TOUCHES = {                      # computed: blind_index.touched_gates(module, bug)
    "relu_mask_missing": "",
    "relu_mask_as_tanh_prime": "",
    "W_res_not_transposed": "",
    "dW_res_transposed": "",
    "dW_res_states_one_late": "",
    "error_reset_each_step": "",
    "error_injected_last_only": "",
    "loop_stops_before_zero": "",
    "db_mean_over_time": "",
    "descent_direction_for_dW_in": "",
    "error_cut_every_two": "",
    "forward_fed_h0": "",
    "leaky_esn_factor": "",
    "mask_from_input_drive": "",
}


def run_reservoir(inputs, h0, W_in, W_res, b, bug=None):
    T = inputs.shape[0]
    U = np.hstack([inputs[t] for t in range(T)])                 # (D, T)
    X = np.zeros((h0.shape[0], T + 1), dtype=inputs.dtype)
    X[:, :1] = h0
    for t in range(T):
        prev = X[:, 0] if bug == "forward_fed_h0" else X[:, t]
        drive = W_in @ U[:, t] + W_res @ prev + b[:, 0]
        X[:, t + 1] = np.maximum(drive, 0)
    return X[:, 1:].T[:, :, None].copy(), (U, X, W_in, W_res, b)


def backprop_reservoir(dhs, cache, bug=None):
    U, X, W_in, W_res, b = cache
    H, T = X.shape[0], U.shape[1]
    Delta = np.zeros((H, T), dtype=dhs.dtype)
    e = np.zeros(H, dtype=dhs.dtype)
    e0 = np.zeros(H, dtype=dhs.dtype)
    last = 0 if bug == "loop_stops_before_zero" else -1
    for t in range(T - 1, last, -1):
        if bug == "error_reset_each_step":
            e = dhs[t, :, 0].copy()
        elif bug == "error_injected_last_only" and t < T - 1:
            pass
        else:
            e = e + dhs[t, :, 0]
        if bug == "relu_mask_missing":
            Delta[:, t] = e
        elif bug == "relu_mask_as_tanh_prime":
            Delta[:, t] = e * (1 - X[:, t + 1] ** 2)
        elif bug == "mask_from_input_drive":
            Delta[:, t] = e * (W_in @ U[:, t] + b[:, 0] > 0)
        else:
            Delta[:, t] = e * (X[:, t + 1] > 0)
        if bug == "W_res_not_transposed":
            e = W_res @ Delta[:, t]
        elif bug == "leaky_esn_factor":
            e = 0.9 * (W_res.T @ Delta[:, t])
        else:
            e = W_res.T @ Delta[:, t]
        if bug == "forward_fed_h0":
            e0 += e
            e = np.zeros_like(e)
        if bug == "error_cut_every_two" and (T - t) % 2 == 0:
            e = np.zeros_like(e)
    if bug == "forward_fed_h0":
        e = e0
    dW_in = Delta @ U.T
    if bug == "descent_direction_for_dW_in":
        dW_in = -dW_in
    if bug == "dW_res_transposed":
        dW_res = X[:, :-1] @ Delta.T
    elif bug == "dW_res_states_one_late":
        dW_res = Delta @ X[:, 1:].T
    elif bug == "forward_fed_h0":
        dW_res = Delta @ np.repeat(X[:, :1], T, axis=1).T
    else:
        dW_res = Delta @ X[:, :-1].T
    if bug == "db_mean_over_time":
        db = Delta.mean(axis=1, keepdims=True)
    else:
        db = Delta.sum(axis=1, keepdims=True)
    dinputs = (W_in.T @ Delta).T[:, :, None].copy()
    return dinputs, e[:, None], dW_in, dW_res, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, h0, Wxh, Whh, bh):
        return run_reservoir(inputs, h0, Wxh, Whh, bh, bug)

    def backward(dhs, cache):
        return backprop_reservoir(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}

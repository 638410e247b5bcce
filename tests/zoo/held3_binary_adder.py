"""The sigmoid RNN of the binary-adder tutorial (seed 004), batched and turned into a layer:
no biases, row vectors, time-major ("position" first), the tutorial's own names:

    layer_1 = sigmoid(X @ synapse_0 + layer_1_values[-1] @ synapse_h)      X = x[position] (N, 2)
    layer_2 = sigmoid(layer_1 @ synapse_1)                                  (the output layer)

synapse_0 (D, H), synapse_h (H, H), synapse_1 (H, 1). The backward walks the positions from
the last as the tutorial does (layer_1_values[-position - 1], future_layer_1_delta) with the
gradient of each layer_1 given (layer_1_errors (T, N, H)) in place of the output layer's
deltas; synapse_1's update needs the output loss, which the layer does not have, so it is not
returned (declared with skip). Third held-out zoo: written without reading the diagnosis.
"""

import copy

import numpy as np

import harness

BUGS = {
    "prev_layer_1_same_index": "wrong_time",              # prev_layer_1 = layer_1_values[-position - 1]
    "derivative_of_prev_layer_1": "derivative_wrong_point",  # sigmoid_output_to_derivative(prev_layer_1)
    "tanh_derivative_kept": "derivative_wrong_function",  # 1 - layer_1 ** 2, left from the tanh version
    "carry_outside_derivative": "derivative_missing",     # future.dot(synapse_h.T) + errors * deriv: no sigmoid' on the carry
    "synapse_h_not_transposed": "weight_transposed",      # future_layer_1_delta.dot(synapse_h)
    "synapse_h_update_in_carry": "gradient_for_weight",   # future_layer_1_delta.dot(synapse_h_update.T)
    "future_delta_never_set": "carry_dropped",            # future_layer_1_delta = layer_1_delta left out
    "positions_minus_one": "loop_skips_step",             # for position in range(binary_dim - 1)
    "updates_over_binary_dim": "reduction_scaled",        # both updates / binary_dim
    "synapse_h_update_assigned": "carry_overwrites",      # synapse_h_update = ... (= for +=)
    "error_sign_of_tutorial": "wrong_sign",               # y - layer_2 convention kept: every delta negated
    "derivative_again_in_carry": "derivative_twice",      # future_layer_1_delta = layer_1_delta * deriv(layer_1)
    "forward_always_first_layer_1": "forward_mistake",    # layer_1_values[0] for [-1]; backward consistent
    "x_read_in_forward_order": "wrong_time",              # X = x[position] in the backward (bits reversed);
                                                          # relabelled from "unknown": x in reverse time order, as
                                                          # held34's writer labels it
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "prev_layer_1_same_index": "",
    "derivative_of_prev_layer_1": "",
    "tanh_derivative_kept": "",
    "carry_outside_derivative": "",
    "synapse_h_not_transposed": "",
    "synapse_h_update_in_carry": "",
    "future_delta_never_set": "",
    "positions_minus_one": "",
    "updates_over_binary_dim": "",
    "synapse_h_update_assigned": "",
    "error_sign_of_tutorial": "",
    "derivative_again_in_carry": "",
    "forward_always_first_layer_1": "",
    "x_read_in_forward_order": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_output_to_derivative(output):
    return output * (1 - output)


def adder_forward(x, h0, synapse_0, synapse_h, synapse_1, bug=None):
    """x (binary_dim, N, D), h0 (N, H) -> layer_1 of every position (binary_dim, N, H), cache."""
    binary_dim = x.shape[0]
    layer_1_values = [copy.deepcopy(h0)]
    layer_2_values = []
    for position in range(binary_dim):
        X = x[position]
        prev = layer_1_values[0] if bug == "forward_always_first_layer_1" else layer_1_values[-1]
        layer_1 = sigmoid(np.dot(X, synapse_0) + np.dot(prev, synapse_h))
        layer_2 = sigmoid(np.dot(layer_1, synapse_1))
        layer_2_values.append(layer_2)
        layer_1_values.append(copy.deepcopy(layer_1))
    return np.array(layer_1_values[1:]), (x, layer_1_values, layer_2_values, synapse_0, synapse_h)


def adder_backward(layer_1_errors, cache, bug=None):
    """layer_1_errors (binary_dim, N, H) -> {dx, dh0, dsynapse_0, dsynapse_h}."""
    x, layer_1_values, _, synapse_0, synapse_h = cache
    binary_dim = x.shape[0]
    if bug == "error_sign_of_tutorial":
        layer_1_errors = -layer_1_errors
    synapse_0_update, synapse_h_update = np.zeros_like(synapse_0), np.zeros_like(synapse_h)
    x_grad = np.zeros_like(x)
    h0_grad = np.zeros_like(layer_1_values[0])
    future_layer_1_delta = np.zeros_like(layer_1_values[0])
    positions = binary_dim - 1 if bug == "positions_minus_one" else binary_dim
    for position in range(positions):
        t = binary_dim - position - 1
        X = x[position] if bug == "x_read_in_forward_order" else x[t]
        layer_1 = layer_1_values[-position - 1]
        prev_layer_1 = layer_1_values[-position - 1 if bug == "prev_layer_1_same_index" else -position - 2]
        if bug == "forward_always_first_layer_1":
            prev_layer_1 = layer_1_values[0]
        if bug == "derivative_of_prev_layer_1":
            deriv = sigmoid_output_to_derivative(prev_layer_1)
        elif bug == "tanh_derivative_kept":
            deriv = 1 - layer_1 ** 2
        else:
            deriv = sigmoid_output_to_derivative(layer_1)
        synapse = synapse_h_update if bug == "synapse_h_update_in_carry" else synapse_h
        carry = future_layer_1_delta.dot(synapse if bug == "synapse_h_not_transposed" else synapse.T)
        if bug == "forward_always_first_layer_1":          # nothing flows from one position to the next
            carry = 0
        if bug == "carry_outside_derivative":
            layer_1_delta = carry + layer_1_errors[t] * deriv
        else:
            layer_1_delta = (carry + layer_1_errors[t]) * deriv
        if bug == "synapse_h_update_assigned":
            synapse_h_update = np.atleast_2d(prev_layer_1).T.dot(layer_1_delta)
        else:
            synapse_h_update += np.atleast_2d(prev_layer_1).T.dot(layer_1_delta)
        synapse_0_update += X.T.dot(layer_1_delta)
        x_grad[t] = layer_1_delta.dot(synapse_0.T)
        if bug == "forward_always_first_layer_1":
            h0_grad += layer_1_delta.dot(synapse_h.T)
        if bug == "derivative_again_in_carry":
            future_layer_1_delta = layer_1_delta * sigmoid_output_to_derivative(layer_1)
        elif bug != "future_delta_never_set":
            future_layer_1_delta = layer_1_delta
    if bug != "forward_always_first_layer_1":
        h0_grad = future_layer_1_delta.dot(synapse_h.T)
    if bug == "updates_over_binary_dim":
        synapse_0_update /= binary_dim
        synapse_h_update /= binary_dim
    return {"dx": x_grad, "dh0": h0_grad, "dsynapse_0": synapse_0_update, "dsynapse_h": synapse_h_update}


def to_user(cell, p):
    """Canonical (no biases) -> the tutorial's synapses; synapse_1 is the output layer (zeros)."""
    H = p["weight_hh"].shape[0]
    return {"synapse_0": p["weight_ih"].T.copy(), "synapse_h": p["weight_hh"].T.copy(),
            "synapse_1": np.zeros((H, 1), dtype=p["weight_hh"].dtype)}


def to_canonical(cell, grads, p):
    out = {}
    if "dsynapse_0" in grads:
        out["dweight_ih"] = grads["dsynapse_0"].T
    if "dsynapse_h" in grads:
        out["dweight_hh"] = grads["dsynapse_h"].T
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="binary_adder", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, synapse_0, synapse_h, synapse_1):
        return adder_forward(x, h0, synapse_0, synapse_h, synapse_1, bug)

    def backward(layer_1_errors, cache):
        return adder_backward(layer_1_errors, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid", "bias": False,
                               "skip": ("dsynapse_1",)}

"""A sigmoid RNN ported from TF1's ``static_rnn(BasicRNNCell(activation=tf.sigmoid), inputs)``:
the input is unstacked into a Python list of T (N, D) tensors, a cell object is called once
per element, ``outputs`` is a list, and the hand-written backward walks
``zip(reversed(inputs), reversed(outputs))`` with the names TF uses (``gate_inputs``,
``state``). The tf_kernel layout:

    gate_inputs = concat([x_t, state]) @ kernel + bias       state = sigmoid(gate_inputs)

x (N, T, D), h0 (N, H), kernel (D+H, H), bias (H,) -> h (N, T, H).
Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dsigmoid_as_dtanh": "derivative_wrong_function",   # 1 - output ** 2 for output * (1 - output)
    "dsigmoid_of_gate_inputs": "derivative_wrong_point",  # gate_inputs * (1 - gate_inputs): s' at the pre-activation (also a wrong_value)
    "dsigmoid_parens": "derivative_miswritten",         # output * 1 - output (the parentheses lost)
    "dsigmoid_in_cell_and_loop": "derivative_twice",    # the loop multiplies by s' and so does cell.backward
    "dkernel_with_new_state": "wrong_time",             # concat([x_t, state_t]) for concat([x_t, state_(t-1)]) in dkernel
    "state_grad_not_added": "carry_dropped",            # doutput = doutputs[t]: the gradient from step t+1 never added
    "dbias_assigned": "carry_overwrites",               # dbias = dgate.sum(0) inside the loop (= for +=)
    "dkernel_over_batch": "reduction_scaled",           # dkernel /= batch_size ("the loss is a batch mean")
    "prev_state_from_outputs_minus_1": "wrong_value",   # prev = outputs[t - 1] also at t = 0: h_(T-1) read for h0
    "state_rows_not_transposed": "weight_transposed",   # dstate = dgate @ kernel[D:] (no .T)
    "clip_by_global_norm_1": "gradient_clipped",        # tf.clip_by_global_norm([dkernel, dbias], 1.0) by hand, inside the backward
    "forward_concat_state_first": "forward_mistake",    # concat([state, x_t]) @ kernel in the forward; backward consistent
    "concat_buffer_reused": "inplace_corruption",       # one concat buffer filled every step and cached: every cached input is the last step's
    "carry_decayed_0_9": "unknown",                     # the carried gradient multiplied by 0.9 ("gradient decay", an arbitrary constant)
}

TOUCHES = {b: "" for b in BUGS}                         # an RNN: no gates


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class BasicRNNCell:
    def __init__(self, kernel, bias, bug=None):
        self.kernel, self.bias, self.bug = kernel, bias, bug
        self.buffer = None

    def __call__(self, inputs, state):
        if self.bug == "forward_concat_state_first":
            concat = np.concatenate([state, inputs], axis=1)
        elif self.bug == "concat_buffer_reused":
            if self.buffer is None:
                self.buffer = np.empty((inputs.shape[0], inputs.shape[1] + state.shape[1]), dtype=inputs.dtype)
            self.buffer[:, :inputs.shape[1]] = inputs
            self.buffer[:, inputs.shape[1]:] = state
            concat = self.buffer
        else:
            concat = np.concatenate([inputs, state], axis=1)
        gate_inputs = concat @ self.kernel + self.bias
        output = sigmoid(gate_inputs)
        return output, (concat, gate_inputs, output)

    def backward(self, doutput, saved):
        concat, gate_inputs, output = saved
        bug = self.bug
        if bug == "dsigmoid_as_dtanh":
            dgate = doutput * (1 - output ** 2)
        elif bug == "dsigmoid_of_gate_inputs":
            dgate = doutput * gate_inputs * (1 - gate_inputs)
        elif bug == "dsigmoid_parens":
            dgate = doutput * (output * 1 - output)
        else:
            dgate = doutput * output * (1 - output)
        return dgate


def static_rnn(cell, inputs, initial_state):
    outputs, saved, state = [], [], initial_state
    for inp in inputs:
        state, s = cell(inp, state)
        outputs.append(state)
        saved.append(s)
    return outputs, state, saved


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, bias):
        inputs = [x[:, t] for t in range(x.shape[1])]            # tf.unstack(x, axis=1)
        cell = BasicRNNCell(kernel, bias, bug)
        outputs, _, saved = static_rnn(cell, inputs, h0)
        return np.stack(outputs, axis=1), (cell, inputs, outputs, saved, h0)

    def backward(doutputs, cache):
        cell, inputs, outputs, saved, h0 = cache
        kernel = cell.kernel
        D = inputs[0].shape[1]
        T = len(inputs)
        dkernel, dbias = np.zeros_like(kernel), np.zeros_like(cell.bias)
        dinputs = [None] * T
        dstate = np.zeros_like(h0)
        for t, (inp, output) in zip(reversed(range(T)), zip(reversed(inputs), reversed(outputs))):
            if bug == "state_grad_not_added":
                doutput = doutputs[:, t]
            elif bug == "carry_decayed_0_9":
                doutput = doutputs[:, t] + 0.9 * dstate
            else:
                doutput = doutputs[:, t] + dstate
            dgate = cell.backward(doutput, saved[t])
            if bug == "dsigmoid_in_cell_and_loop":
                dgate = dgate * output * (1 - output)
            if bug == "dkernel_with_new_state":
                concat = np.concatenate([inp, output], axis=1)
            elif bug == "prev_state_from_outputs_minus_1":
                concat = np.concatenate([inp, outputs[t - 1]], axis=1)
            else:
                concat = saved[t][0]
            dkernel += concat.T @ dgate
            if bug == "dbias_assigned":
                dbias = dgate.sum(axis=0)
            else:
                dbias += dgate.sum(axis=0)
            if bug == "forward_concat_state_first":
                dinputs[t] = dgate @ kernel[-D:].T
                dstate = dgate @ kernel[:-D].T
            else:
                dinputs[t] = dgate @ kernel[:D].T
                dstate = dgate @ (kernel[D:] if bug == "state_rows_not_transposed" else kernel[D:].T)
        if bug == "dkernel_over_batch":
            dkernel /= doutputs.shape[0]
        if bug == "clip_by_global_norm_1":
            global_norm = np.sqrt(np.sum(dkernel ** 2) + np.sum(dbias ** 2))
            scale = 1.0 / max(global_norm, 1.0)
            dkernel, dbias = dkernel * scale, dbias * scale
        return np.stack(dinputs, axis=1), dstate, dkernel, dbias

    return forward, backward, {"cell": "rnn", "layout": "tf_kernel", "activation": "sigmoid"}

"""A hand port of torch's ``nn.RNN`` (tanh, batch_first=False) as a small NumPy class, with
torch's own parameter names and both biases, by someone checking their BPTT before writing a
custom autograd Function:

    h_t = tanh(x_t @ weight_ih.T + bias_ih + h_(t-1) @ weight_hh.T + bias_hh)
    x (T, N, D) time-major, h0 (N, H); weight_ih (H, D), weight_hh (H, H), bias_ih, bias_hh (H,)

The class keeps the pre-activations and the hidden states for its ``backward(grad_output)``,
which returns a dict keyed by torch's names (dx, dh0, dweight_ih, ...), computing tanh' from the
cached pre-activation. forward(x, h0, *weights) -> (output, h_n, cache). Fourth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "grad_weight_hh_with_h_t": "wrong_time",              # dweight_hh += grad_a.T @ h_t (h_t for h_t-1)
    "grad_bias_hh_assigned": "carry_overwrites",          # dbias_hh = grad_a.sum(0) (= for +=)
    "tanh_grad_of_preactivation": "derivative_wrong_point",  # 1 - a ** 2: the pre-activation for tanh(a)
    "tanh_grad_twice": "derivative_twice",                # the loop multiplies by 1 - h ** 2 and so does step_back
    "weight_hh_transposed_in_carry": "weight_transposed",  # grad_h_prev = grad_a @ weight_hh.T
    "grad_weight_ih_batch_mean": "reduction_scaled",      # dweight_ih += grad_a.T @ x_t / N
    "backward_walks_forward": "loop_direction",           # for t in range(T)
    "clip_grad_norm_1": "gradient_clipped",               # every gradient rescaled to a total norm of 1 (clip_grad_norm_)
    "preactivation_buffer_reused": "inplace_corruption",  # one buffer for a, written with out=: every cached a is the last
    "loop_skips_step_0": "loop_skips_step",               # for t in range(T - 1, 0, -1)
    "forward_h0_every_step": "forward_mistake",           # a = ... + h0 @ weight_hh.T at every t; backward consistent
    "bias_grads_halved": "unknown",                       # dbias_ih = dbias_hh = sum / 2 ("the two biases share it")
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "grad_weight_hh_with_h_t": "",
    "grad_bias_hh_assigned": "",
    "tanh_grad_of_preactivation": "",
    "tanh_grad_twice": "",
    "weight_hh_transposed_in_carry": "",
    "grad_weight_ih_batch_mean": "",
    "backward_walks_forward": "",
    "clip_grad_norm_1": "",
    "preactivation_buffer_reused": "",
    "loop_skips_step_0": "",
    "forward_h0_every_step": "",
    "bias_grads_halved": "",
}


class NumpyRNN:
    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, bug=None):
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = weight_ih, weight_hh, bias_ih, bias_hh
        self.bug = bug

    def forward(self, x, h0):
        seq_len, batch, _ = x.shape
        hidden_size = self.weight_hh.shape[0]
        self.x, self.h0 = x, h0
        self.a, self.h = [], []
        buffer = np.empty((batch, hidden_size), dtype=x.dtype)
        h = h0
        for t in range(seq_len):
            h_in = self.h0 if self.bug == "forward_h0_every_step" else h
            if self.bug == "preactivation_buffer_reused":
                np.add(x[t] @ self.weight_ih.T + self.bias_ih, h_in @ self.weight_hh.T + self.bias_hh, out=buffer)
                a = buffer
            else:
                a = x[t] @ self.weight_ih.T + self.bias_ih + h_in @ self.weight_hh.T + self.bias_hh
            h = np.tanh(a)
            self.a.append(a)
            self.h.append(h)
        return np.stack(self.h), h

    def step_back(self, grad_h, t):
        """grad_h: dL/dh_t (output and carry). Returns dL/da_t."""
        if self.bug == "tanh_grad_of_preactivation":
            return grad_h * (1 - self.a[t] ** 2)
        return grad_h * (1 - np.tanh(self.a[t]) ** 2)

    def backward(self, grad_output):
        seq_len, batch, hidden_size = grad_output.shape
        bug = self.bug
        grads = {"dx": np.zeros_like(self.x), "dweight_ih": np.zeros_like(self.weight_ih),
                 "dweight_hh": np.zeros_like(self.weight_hh), "dbias_ih": np.zeros_like(self.bias_ih),
                 "dbias_hh": np.zeros_like(self.bias_hh)}
        grad_h_next = np.zeros((batch, hidden_size), dtype=grad_output.dtype)
        dh0 = np.zeros_like(grad_h_next)
        if bug == "backward_walks_forward":
            steps = range(seq_len)
        else:
            steps = range(seq_len - 1, 0 if bug == "loop_skips_step_0" else -1, -1)
        for t in steps:
            grad_h = grad_output[t] + grad_h_next
            if bug == "tanh_grad_twice":
                grad_h = grad_h * (1 - self.h[t] ** 2)
            grad_a = self.step_back(grad_h, t)
            h_prev = self.h0 if (t == 0 or bug == "forward_h0_every_step") else self.h[t - 1]
            grads["dx"][t] = grad_a @ self.weight_ih
            if bug == "grad_weight_ih_batch_mean":
                grads["dweight_ih"] += grad_a.T @ self.x[t] / batch
            else:
                grads["dweight_ih"] += grad_a.T @ self.x[t]
            grads["dweight_hh"] += grad_a.T @ (self.h[t] if bug == "grad_weight_hh_with_h_t" else h_prev)
            grads["dbias_ih"] += grad_a.sum(axis=0)
            if bug == "grad_bias_hh_assigned":
                grads["dbias_hh"] = grad_a.sum(axis=0)
            else:
                grads["dbias_hh"] += grad_a.sum(axis=0)
            grad_h_prev = grad_a @ (self.weight_hh.T if bug == "weight_hh_transposed_in_carry" else self.weight_hh)
            if bug == "forward_h0_every_step":
                dh0 += grad_h_prev
                grad_h_prev = np.zeros_like(grad_h_prev)
            grad_h_next = grad_h_prev
        grads["dh0"] = dh0 if bug == "forward_h0_every_step" else grad_h_next
        if bug == "bias_grads_halved":
            grads["dbias_ih"] = grads["dbias_hh"] = grads["dbias_ih"] / 2
        if bug == "clip_grad_norm_1":
            total = np.sqrt(sum((g ** 2).sum() for k, g in grads.items() if k.startswith("dweight") or
                                k.startswith("dbias")))
            if total > 1:
                for k in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"):
                    grads[k] = grads[k] / total
        return grads


def to_user(cell, p):
    return {k: p[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def to_canonical(cell, grads, p):
    return {k: grads[k] for k in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh") if k in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torchcell_rnn", cells=("rnn",), axes="TND",
                               forward_returns=("h", "h_n", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
        rnn = NumpyRNN(weight_ih, weight_hh, bias_ih, bias_hh, bug)
        output, h_n = rnn.forward(x, h0)
        return output, h_n, rnn

    def backward(grad_output, rnn):
        return rnn.backward(grad_output)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

"""A bit-parity task's script (does the stream hold an odd number of ones so far?), with a
sigmoid RNN in the tf_kernel layout: one kernel on concat([x, h]), as the author learnt from
TensorFlow's BasicRNNCell, but written as a small class with ``__call__`` and ``grad``:

    xh_t = concat([x_t, h_(t-1)])       (N, D+H)
    h_t = sigmoid(xh_t @ kernel + bias)  kernel (D+H, H), bias (H,)

The class keeps the list of xh_t and the states; a per-step logistic read-out (not checked)
predicts the running parity. Twenty-ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "sigmoid_grad_of_preact": "derivative_wrong_point",   # da = dcur * a * (1 - a): sigmoid' at the pre-activation
    "sigmoid_grad_precedence": "derivative_miswritten",   # h * 1 - h (meant h * (1 - h))
    "carry_from_top_rows": "wrong_weight",                # dh_prev = da @ kernel[:H].T (meant kernel[D:])
    "dkernel_over_batch": "reduction_scaled",             # dkernel /= N
    "carry_never_read": "carry_dropped",                  # the step's dh_prev is stored in self.dcarry, the loop reads dnext
    "stops_before_first": "loop_skips_step",              # for t in range(T - 1, 0, -1)
    "xh_with_new_state": "wrong_time",                    # dkernel += concat([x_t, h_t]).T @ da
    "states_overwritten_by_grad": "inplace_corruption",   # dsig = self.hs; s *= 1 - s for each: the cached states
                                                          # become s', and xh is rebuilt from them for dkernel
    "backward_in_time_order": "loop_direction",           # for t in range(T)
    "carry_reset_every_two": "truncated_bptt",            # the carry is cut every two steps back
    "no_bias_in_forward": "forward_mistake",              # h = sigmoid(xh @ kernel); backward consistent (dbias = 0)
    "sigmoid_grad_quarter": "unknown",                    # da = dcur * 0.25: an arbitrary constant for sigmoid'
}

TOUCHES = {b: "" for b in BUGS}                           # an RNN has no gates (blind_index.touched_gates)


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


class ParityRNN:
    def __init__(self, kernel, bias, bug=None):
        self.kernel, self.bias, self.bug = kernel, bias, bug
        self.xh, self.pre, self.hs = [], [], []

    def __call__(self, x, h0):
        self.x, self.h0 = x, h0
        h = h0
        for t in range(x.shape[1]):
            xh = np.concatenate([x[:, t], h], axis=1)
            a = xh @ self.kernel
            if self.bug != "no_bias_in_forward":
                a = a + self.bias
            h = _sigmoid(a)
            self.xh.append(xh)
            self.pre.append(a)
            self.hs.append(h)
        return np.stack(self.hs, axis=1)

    def grad(self, dh):
        bug, kernel = self.bug, self.kernel
        N, T, H = dh.shape
        D = self.x.shape[2]
        dkernel, dbias = np.zeros_like(kernel), np.zeros_like(self.bias)
        dx = np.zeros_like(self.x)
        dnext = np.zeros((N, H), dtype=dh.dtype)
        self.dcarry = dnext
        if bug == "backward_in_time_order":
            steps = range(T)
        elif bug == "stops_before_first":
            steps = range(T - 1, 0, -1)
        else:
            steps = range(T - 1, -1, -1)
        if bug == "states_overwritten_by_grad":
            dsig = self.hs                                # meant a copy: every s *= 1 - s corrupts a cached state
            for s in dsig:
                s *= 1 - s
        for t in steps:
            dcur = dh[:, t] + dnext
            h = self.hs[t]
            if bug == "sigmoid_grad_of_preact":
                da = dcur * self.pre[t] * (1 - self.pre[t])
            elif bug == "sigmoid_grad_precedence":
                da = dcur * (h * 1 - h)
            elif bug == "states_overwritten_by_grad":
                da = dcur * dsig[t]
            elif bug == "sigmoid_grad_quarter":
                da = dcur * 0.25
            else:
                da = dcur * h * (1 - h)
            if bug == "xh_with_new_state":
                xh = np.concatenate([self.x[:, t], h], axis=1)
            elif bug == "states_overwritten_by_grad":
                xh = np.concatenate([self.x[:, t], self.hs[t - 1] if t > 0 else self.h0], axis=1)
            else:
                xh = self.xh[t]
            dkernel += xh.T @ da
            if bug != "no_bias_in_forward":
                dbias += da.sum(axis=0)
            dxh = da @ kernel.T
            dx[:, t] = dxh[:, :D]
            dh_prev = da @ kernel[:H].T if bug == "carry_from_top_rows" else dxh[:, D:]
            if bug == "carry_never_read":
                self.dcarry = dh_prev
            elif bug == "carry_reset_every_two" and (T - t) % 2 == 0:
                dnext = np.zeros_like(dh_prev)
            else:
                dnext = dh_prev
        if bug == "dkernel_over_batch":
            dkernel /= N
        dh0 = self.dcarry if bug == "carry_never_read" else dnext
        return dx, dh0, dkernel, dbias


def parity_targets(bits):
    return np.cumsum(bits, axis=1) % 2


def train(bits, H=8, lr=0.5, epochs=100, seed=0):
    rng = np.random.default_rng(seed)
    N, T = bits.shape
    x = bits[:, :, None].astype(float)
    kernel, bias = rng.normal(0, 0.5, (1 + H, H)), np.zeros(H)
    w_out, b_out = rng.normal(0, 0.5, H), 0.0
    y = parity_targets(bits)
    for _ in range(epochs):
        rnn = ParityRNN(kernel, bias)
        hs = rnn(x, np.zeros((N, H)))
        p = _sigmoid(hs @ w_out + b_out)
        dlogit = (p - y) / (N * T)
        _, _, dkernel, dbias = rnn.grad(dlogit[:, :, None] * w_out)
        kernel -= lr * dkernel
        bias -= lr * dbias
        w_out -= lr * np.einsum("nt,nth->h", dlogit, hs)
        b_out -= lr * dlogit.sum()
    return kernel, bias, w_out, b_out


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, bias):
        rnn = ParityRNN(kernel, bias, bug)
        return rnn(x, h0), rnn

    def backward(dh, rnn):
        return rnn.grad(dh)

    return forward, backward, {"cell": "rnn", "layout": "tf_kernel", "activation": "sigmoid"}

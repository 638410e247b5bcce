"""A sigmoid RNN on the built-in ``tf_kernel`` layout, written around one small ``Linear``
module object reused at every step (as in a framework-free course project): ``Linear``
holds the kernel (D+H, H) and bias (H,), its ``__call__`` applies them to concat([x, h]) and
its ``backward(dout, inp)`` accumulates ``dkernel``/``dbias`` on the object and returns the
gradient of its input. The forward keeps a tape of (inp, h) per step:

    inp_t = [x_t, h_(t-1)]      h_t = sigmoid(inp_t @ kernel + bias)

Option ``activation="sigmoid"``. Twenty-sixth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

BUGS = {
    "sigmoid_grad_parens": "derivative_miswritten",       # h * 1 - h (the parentheses of h * (1 - h) lost)
    "sigmoid_grad_as_tanh": "derivative_wrong_function",  # 1 - h ** 2
    "sigmoid_grad_twice": "derivative_twice",             # dpre = (dh + carry) * s'(h), then * s'(h) again
    "input_grad_from_dkernel": "gradient_for_weight",     # Linear.backward returns dout @ self.dkernel.T
    "shared_inp_buffer": "inplace_corruption",            # one inp buffer refilled each step, kept T times on the tape
    "carry_into_other_name": "carry_dropped",             # d_carry = dinp[:, D:] while the loop reads dcarry
    "skips_last_step": "loop_skips_step",                 # for t in reversed(range(T - 1))
    "dkernel_batch_mean": "reduction_scaled",             # lin.dkernel / N (and dbias / N) "average over the batch"
    "dx_written_one_back": "wrong_time",                  # dx[:, t - 1] = dinp[:, :D]
    "walks_forward": "loop_direction",                    # for t in range(T) in the backward
    "carry_norm_clipped": "gradient_clipped",             # dcarry rescaled to norm 0.1 when larger
    "forward_carries_preactivation": "forward_mistake",   # the next step reads the pre-activation; backward consistent
    "carry_sign_flipped": "wrong_sign",                   # dcarry = -dinp[:, D:]
    "dpre_times_4": "unknown",                            # dpre * 4 ("sigmoid' is at most 1/4, so rescale")
}

TOUCHES = {b: "" for b in BUGS}                           # computed: blind_index.touched_gates (an RNN: "")


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class Linear:
    def __init__(self, kernel, bias, bug=None):
        self.kernel, self.bias, self.bug = kernel, bias, bug
        self.dkernel, self.dbias = np.zeros_like(kernel), np.zeros_like(bias)

    def __call__(self, inp):
        return inp @ self.kernel + self.bias

    def backward(self, dout, inp):
        self.dkernel += inp.T @ dout
        self.dbias += dout.sum(axis=0)
        return dout @ (self.dkernel if self.bug == "input_grad_from_dkernel" else self.kernel).T


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, bias):
        N, T, D = x.shape
        lin = Linear(kernel, bias, bug)
        h, tape, outs = h0, [], []
        buf = np.empty((N, D + h0.shape[1]), dtype=x.dtype)
        for t in range(T):
            if bug == "shared_inp_buffer":
                buf[:, :D], buf[:, D:] = x[:, t], h
                inp = buf
            else:
                inp = np.concatenate([x[:, t], h], axis=1)
            pre = lin(inp)
            out = sigmoid(pre)
            h = pre if bug == "forward_carries_preactivation" else out
            tape.append((inp, out))
            outs.append(out)
        return np.stack(outs, axis=1), (lin, tape, D)

    def backward(dh, cache):
        lin, tape, D = cache
        N, T, H = dh.shape
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dcarry = np.zeros((N, H), dtype=dh.dtype)
        if bug == "skips_last_step":
            order = reversed(range(T - 1))
        elif bug == "walks_forward":
            order = range(T)
        else:
            order = reversed(range(T))
        for t in order:
            inp, h = tape[t]
            g = dh[:, t] + dcarry
            if bug == "sigmoid_grad_parens":
                dpre = g * (h * 1 - h)
            elif bug == "sigmoid_grad_as_tanh":
                dpre = g * (1 - h ** 2)
            elif bug == "sigmoid_grad_twice":
                dpre = g * h * (1 - h) * h * (1 - h)
            elif bug == "forward_carries_preactivation":
                dpre = dh[:, t] * h * (1 - h) + dcarry   # the carried pre reaches step t+1 directly
            else:
                dpre = g * h * (1 - h)
            if bug == "dpre_times_4":
                dpre = dpre * 4
            dinp = lin.backward(dpre, inp)
            dx[:, t - 1 if bug == "dx_written_one_back" else t] = dinp[:, :D]
            if bug == "carry_into_other_name":
                d_carry = dinp[:, D:]           # noqa: F841
            elif bug == "carry_sign_flipped":
                dcarry = -dinp[:, D:]
            else:
                dcarry = dinp[:, D:]
            if bug == "carry_norm_clipped":
                norm = np.linalg.norm(dcarry)
                if norm > 0.1:
                    dcarry = dcarry * (0.1 / norm)
        dkernel, dbias = lin.dkernel, lin.dbias
        if bug == "dkernel_batch_mean":
            dkernel, dbias = dkernel / N, dbias / N
        return dx, dcarry, dkernel, dbias

    return forward, backward, {"cell": "rnn", "layout": "tf_kernel", "activation": "sigmoid"}

"""A tf_kernel-layout LSTM (TF's BasicLSTMCell: one kernel (D+H, 4H) on concat([x, h]),
columns i, j, f, o, forget_bias added to f at call time) written by someone who keeps
everything in Python lists: every step's values appended as a tuple, the outputs
appended and stacked at the end, and the backward walking the list with
``enumerate(reversed(steps))``, the carry ``dh_next`` starting as None:

    xh = [x_t, h]      i, j, f, o = split(xh @ kernel + bias, 4)
    c = sigmoid(f + forget_bias) * c + sigmoid(i) * tanh(j)      h = sigmoid(o) * tanh(c)

x (N, T, D), h0, c0 (N, H); forward(x, h0, c0, kernel, bias) -> (h, cache); backward(dh,
cache) -> (dx, dh0, dc0, dkernel, dbias). Checked with forget_bias=1.0. Fourteenth held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "forget_bias_in_bias_and_call": "forget_bias",       # bias[f] += forget_bias and f + forget_bias again: added twice
                                                         # (the backward reads the cached f: consistent with it)
    "carry_replaces_dout": "carry_overwrites",           # dh = dh_next if dh_next is not None else dout[:, t]
    "do_sigmoid_grad_twice": "derivative_twice",         # do = dh * tanh_c * o * (1 - o), then * o * (1 - o) again
    "dc_paren_misplaced": "derivative_miswritten",       # dh * o * (1 - tanh_c) ** 2
    "dj_sign": "wrong_sign",                             # dj * (j ** 2 - 1)
    "dc_only_from_carry": "term_dropped",                # dc = dc_next: the h path dh * o * tanh'(c) left out
    "steps_from_1": "loop_skips_step",                   # enumerate(reversed(steps[1:])): step 0 never walked back
    "dbias_batch_mean": "reduction_scaled",              # dbias += dz.mean(axis=0)
    "dc_next_clipped": "gradient_clipped",               # dc_next = np.clip(dc * f, -0.2, 0.2)
    "forward_j_sigmoid": "forward_mistake",              # j = sigmoid(j) in the forward; dj * j * (1 - j): consistent
    "dj_reads_f": "wrong_value",                         # dj = dc * f (f read for i)
    "do_no_sigmoid_grad": "derivative_missing",          # the o column of dz is do
    "dj_paren_and_steps_from_1": "unknown",              # two mistakes: (1 - j) ** 2 for 1 - j ** 2, and steps_from_1
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_in_bias_and_call": "",
    "carry_replaces_dout": "",
    "do_sigmoid_grad_twice": "o",
    "dc_paren_misplaced": "ifg",
    "dj_sign": "g",
    "dc_only_from_carry": "ifg",
    "steps_from_1": "",
    "dbias_batch_mean": "",
    "dc_next_clipped": "",
    "forward_j_sigmoid": "",
    "dj_reads_f": "g",
    "do_no_sigmoid_grad": "o",
    "dj_paren_and_steps_from_1": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, kernel, bias, forget_bias=1.0, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    if bug == "forget_bias_in_bias_and_call":
        bias = bias.copy()
        bias[2 * H:3 * H] += forget_bias
    h, c = h0, c0
    outputs, steps = [], []
    for t in range(T):
        xh = np.concatenate([x[:, t], h], axis=1)
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
        i, f, o = sigmoid(i), sigmoid(f + forget_bias), sigmoid(o)
        j = sigmoid(j) if bug == "forward_j_sigmoid" else np.tanh(j)
        c_prev = c
        c = f * c + i * j
        tanh_c = np.tanh(c)
        h = o * tanh_c
        steps.append((xh, i, j, f, o, c_prev, tanh_c))
        outputs.append(h)
    return np.stack(outputs, axis=1), (steps, kernel, D)


def lstm_backward(dout, cache, bug=None):
    steps, kernel, D = cache
    N, T, H = dout.shape
    dkernel = np.zeros_like(kernel)
    dbias = np.zeros(4 * H, dtype=dout.dtype)
    dx = np.zeros((N, T, D), dtype=dout.dtype)
    dh_next, dc_next = None, np.zeros((N, H), dtype=dout.dtype)
    walk = steps[1:] if bug in ("steps_from_1", "dj_paren_and_steps_from_1") else steps
    for k, (xh, i, j, f, o, c_prev, tanh_c) in enumerate(reversed(walk)):
        t = T - 1 - k
        if dh_next is None:
            dh = dout[:, t]
        elif bug == "carry_replaces_dout":
            dh = dh_next
        else:
            dh = dout[:, t] + dh_next
        do = dh * tanh_c
        if bug == "do_sigmoid_grad_twice":
            do = do * o * (1 - o)
        if bug == "dc_paren_misplaced":
            dc = dc_next + dh * o * (1 - tanh_c) ** 2
        elif bug == "dc_only_from_carry":
            dc = dc_next
        else:
            dc = dc_next + dh * o * (1 - tanh_c ** 2)
        di = dc * j
        dj = dc * (f if bug == "dj_reads_f" else i)
        df = dc * c_prev
        dc_next = np.clip(dc * f, -0.2, 0.2) if bug == "dc_next_clipped" else dc * f
        if bug == "dj_sign":
            dj_pre = dj * (j ** 2 - 1)
        elif bug == "forward_j_sigmoid":
            dj_pre = dj * j * (1 - j)
        elif bug == "dj_paren_and_steps_from_1":
            dj_pre = dj * (1 - j) ** 2
        else:
            dj_pre = dj * (1 - j ** 2)
        do_pre = do if bug == "do_no_sigmoid_grad" else do * o * (1 - o)
        dz = np.concatenate([di * i * (1 - i), dj_pre, df * f * (1 - f), do_pre], axis=1)
        dkernel += xh.T @ dz
        dbias += dz.mean(axis=0) if bug == "dbias_batch_mean" else dz.sum(axis=0)
        dxh = dz @ kernel.T
        dx[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
    if dh_next is None:                                  # an empty walk
        dh_next = np.zeros((N, H), dtype=dout.dtype)
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, 1.0, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": 1.0}

"""Fresh mistakes in an LSTM on TF's BasicLSTMCell layout (built-in layout ``tf_kernel``):
x (N, T, D), h0, c0 (N, H), kernel (D+H, 4H) on concat([x, h]) with columns i, j, f, o,
bias (4H,), and BasicLSTMCell's forget_bias = 1.0 (declared to the check):

    i, j, f, o = split(concat([x, h]) @ kernel + bias, 4)
    c' = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j)       h' = tanh(c') * sigmoid(o)

Written as a small class per sequence with tf.split-like column blocks. Second held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "dj_sigmoid_grad": "derivative_wrong_function",      # dj * sj * (1 - sj) for the tanh input j
    "dj_tanh_grad_twice": "derivative_twice",            # (1 - tj**2) applied twice
    "tanh_c_squared_in_place": "inplace_corruption",     # t2 = tanh_c; t2 **= 2 on the cached tanh(c), do reads it after
    "dgates_ifjo": "gate_order",                         # d = [di, df, dj, do] for columns i, j, f, o
    "forward_c_without_i": "forward_mistake",            # c' = c * sf + tanh(j), backward consistent
    "dkernel_assigned_each_step": "carry_overwrites",    # dkernel = xh.T @ d (= for +=)
    "loop_stops_at_1": "loop_skips_step",                # range(T - 1, 0, -1): step 0 never back-propagated
    "dj_sigmoid_and_ifjo": "unknown",                    # two mistakes at once
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "dj_sigmoid_grad": "g",
    "dj_tanh_grad_twice": "g",
    "tanh_c_squared_in_place": "o",
    "dgates_ifjo": "fg",
    "forward_c_without_i": "",
    "dkernel_assigned_each_step": "",
    "loop_stops_at_1": "",
    "dj_sigmoid_and_ifjo": "fg",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class Sequence:
    def __init__(self, kernel, bias, bug=None):
        self.kernel, self.bias, self.bug = kernel, bias, bug
        self.steps = []

    def run(self, x, h0, c0):
        N, T, D = x.shape
        h, c, out = h0, c0, []
        for t in range(T):
            xh = np.concatenate([x[:, t], h], axis=1)
            i, j, f, o = np.split(xh @ self.kernel + self.bias, 4, axis=1)
            si, tj, sf, so = sigmoid(i), np.tanh(j), sigmoid(f + FORGET_BIAS), sigmoid(o)
            c_prev = c
            c = c * sf + (tj if self.bug == "forward_c_without_i" else si * tj)
            tanh_c = np.tanh(c)
            h = tanh_c * so
            self.steps.append({"xh": xh, "si": si, "tj": tj, "sf": sf, "so": so, "c_prev": c_prev,
                               "tanh_c": tanh_c})
            out.append(h)
        return np.stack(out, axis=1)

    def _step(self, dh, dc_next, s):
        bug = self.bug
        if bug == "tanh_c_squared_in_place":
            t2 = s["tanh_c"]
            t2 **= 2
            dc_local = dh * s["so"] * (1 - t2)
        else:
            dc_local = dh * s["so"] * (1 - s["tanh_c"] ** 2)
        dc = dc_next + dc_local
        do = dh * s["tanh_c"] * s["so"] * (1 - s["so"])
        si, tj, sf = s["si"], s["tj"], s["sf"]
        di = np.zeros_like(dc) if bug == "forward_c_without_i" else dc * tj * si * (1 - si)
        dtj = dc if bug == "forward_c_without_i" else dc * si
        if bug in ("dj_sigmoid_grad", "dj_sigmoid_and_ifjo"):
            dj = dtj * tj * (1 - tj)
        elif bug == "dj_tanh_grad_twice":
            dj = dtj * (1 - tj ** 2) * (1 - tj ** 2)
        else:
            dj = dtj * (1 - tj ** 2)
        df = dc * s["c_prev"] * sf * (1 - sf)
        order = (di, df, dj, do) if bug in ("dgates_ifjo", "dj_sigmoid_and_ifjo") else (di, dj, df, do)
        return np.concatenate(order, axis=1), dc * sf

    def backprop(self, dhs):
        N, T, H = dhs.shape
        D = self.kernel.shape[0] - H
        dkernel, dbias = np.zeros_like(self.kernel), np.zeros_like(self.bias)
        dx = np.zeros((N, T, D), dtype=dhs.dtype)
        dh_next, dc_next = np.zeros((N, H), dtype=dhs.dtype), np.zeros((N, H), dtype=dhs.dtype)
        for t in range(T - 1, 0 if self.bug == "loop_stops_at_1" else -1, -1):
            s = self.steps[t]
            d, dc_next = self._step(dhs[:, t] + dh_next, dc_next, s)
            if self.bug == "dkernel_assigned_each_step":
                dkernel = s["xh"].T @ d
            else:
                dkernel += s["xh"].T @ d
            dbias += d.sum(axis=0)
            dxh = d @ self.kernel.T
            dx[:, t], dh_next = dxh[:, :D], dxh[:, D:]
        return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        seq = Sequence(kernel, bias, bug)
        return seq.run(x, h0, c0), seq

    def backward(dh, seq):
        return seq.backprop(dh)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

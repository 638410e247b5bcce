"""An LSTM written as a small numpy "Module" class, the way people imitate torch without
autograd: ``self.params`` and ``self.grads`` dicts, ``zero_grad()``, ``forward`` keeping
its own ``self.cache`` and ``backward`` filling ``self.grads``. The weights are TF's
(tf_kernel layout): one ``kernel`` (D+H, 4H) on concat([x, h]), ``bias`` (4H,), columns
i, j, f, o, and TF's BasicLSTMCell forget bias 1.0 added at call time:

    i, j, f, o = split(concat([x_t, h]) @ kernel + bias, 4)
    c_t = sigmoid(f + 1.0) * c + sigmoid(i) * tanh(j)
    h_t = sigmoid(o) * tanh(c_t)

x (N, T, D), h0 and c0 (N, H) arguments. The user's forward builds a layer, runs it and
returns it as the cache. Ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_forgotten": "forget_bias",             # f = sigmoid(a_f) in the forward (no + 1.0); backward consistent
    "dgates_in_torch_order": "gate_order",              # dgates = concat([di, df, dj, do]) (for i, j, f, o)
    "do_from_c_not_tanh": "wrong_value",                # do = dh * c (for dh * tanh(c))
    "tanh_grad_square_missing": "derivative_miswritten", # dc += dh * o * (1 - tanh(c))
    "dc_prev_without_f": "term_dropped",                # dc_prev = dc (the factor f left out)
    "cell_carry_not_added": "carry_dropped",            # dc = dh * o * tanh'(c): dc_next never added
    "df_with_c_t": "wrong_time",                        # df = dc * c_t (for c_(t-1))
    "dj_sigmoid_grad": "derivative_wrong_function",     # dj_raw = dj * j * (1 - j)
    "dh_prev_via_dkernel": "gradient_for_weight",       # dh_prev = dgates @ grads["kernel"][D:].T
    "dbias_batch_mean": "reduction_scaled",             # grads["bias"] += dgates.mean(axis=0)
    "c_updated_in_place": "inplace_corruption",         # c = c_prev; c *= f; c += i * j: the cached c_prev becomes c_t
    "di_sigmoid_grad_twice": "derivative_twice",        # di = dc * j * i(1-i), then di * i(1-i) again
    "h_without_tanh_forward": "forward_mistake",        # h = o * c in the forward; backward consistent
    "do_from_c_and_no_f": "unknown",                    # do = dh * c AND dc_prev = dc
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_forgotten":     "",
    "dgates_in_torch_order":     "fg",
    "do_from_c_not_tanh":        "o",
    "tanh_grad_square_missing":  "ifg",
    "dc_prev_without_f":         "",
    "cell_carry_not_added":      "",
    "df_with_c_t":               "f",
    "dj_sigmoid_grad":           "g",
    "dh_prev_via_dkernel":       "",
    "dbias_batch_mean":          "",
    "c_updated_in_place":        "f",
    "di_sigmoid_grad_twice":     "i",
    "h_without_tanh_forward":    "",
    "do_from_c_and_no_f":        "o",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class LSTMLayer:
    def __init__(self, kernel, bias, bug=None):
        self.params = {"kernel": kernel, "bias": bias}
        self.grads = {}
        self.bug = bug
        self.zero_grad()

    def zero_grad(self):
        for name, p in self.params.items():
            self.grads[name] = np.zeros_like(p)

    def forward(self, x, h0, c0):
        kernel, bias, bug = self.params["kernel"], self.params["bias"], self.bug
        N, T, D = x.shape
        H = h0.shape[1]
        h, c = h0, c0
        self.cache = []
        out = np.empty((N, T, H), dtype=x.dtype)
        for t in range(T):
            xh = np.concatenate([x[:, t], h], axis=1)
            i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
            i, j, o = sigmoid(i), np.tanh(j), sigmoid(o)
            f = sigmoid(f) if bug == "forget_bias_forgotten" else sigmoid(f + FORGET_BIAS)
            c_prev = c
            if bug == "c_updated_in_place":
                c = c_prev
                c *= f
                c += i * j
            else:
                c = f * c_prev + i * j
            h = o * c if bug == "h_without_tanh_forward" else o * np.tanh(c)
            out[:, t] = h
            self.cache.append((xh, c_prev, c, i, j, f, o))
        return out

    def backward(self, dh):
        kernel, bug = self.params["kernel"], self.bug
        N, T, H = dh.shape
        D = kernel.shape[0] - H
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        dc_next = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            xh, c_prev, c, i, j, f, o = self.cache[t]
            dh_t = dh[:, t] + dh_next
            tc = c if bug == "h_without_tanh_forward" else np.tanh(c)
            do = dh_t * (c if bug in ("do_from_c_not_tanh", "do_from_c_and_no_f") else tc)
            if bug == "h_without_tanh_forward":
                dc = dh_t * o
            elif bug == "tanh_grad_square_missing":
                dc = dh_t * o * (1 - tc)
            else:
                dc = dh_t * o * (1 - tc ** 2)
            if bug != "cell_carry_not_added":
                dc = dc + dc_next
            df = dc * (c if bug == "df_with_c_t" else c_prev)
            di = dc * j
            dj = dc * i
            if bug == "di_sigmoid_grad_twice":
                di = di * i * (1 - i)
            di_raw = di * i * (1 - i)
            dj_raw = dj * j * (1 - j) if bug == "dj_sigmoid_grad" else dj * (1 - j ** 2)
            df_raw = df * f * (1 - f)
            do_raw = do * o * (1 - o)
            parts = [di_raw, df_raw, dj_raw, do_raw] if bug == "dgates_in_torch_order" else \
                [di_raw, dj_raw, df_raw, do_raw]
            dgates = np.concatenate(parts, axis=1)
            self.grads["kernel"] += xh.T @ dgates
            self.grads["bias"] += dgates.mean(axis=0) if bug == "dbias_batch_mean" else dgates.sum(axis=0)
            W = self.grads["kernel"] if bug == "dh_prev_via_dkernel" else kernel
            dxh = dgates @ W.T
            dx[:, t] = dxh[:, :D]
            if bug == "dh_prev_via_dkernel":
                dx[:, t] = (dgates @ kernel.T)[:, :D]
            dh_next = dxh[:, D:]
            dc_next = dc if bug in ("dc_prev_without_f", "do_from_c_and_no_f") else dc * f
        return dx, dh_next, dc_next


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        layer = LSTMLayer(kernel, bias, bug)
        return layer.forward(x, h0, c0), layer

    def backward(dh, layer):
        layer.zero_grad()
        dx, dh0, dc0 = layer.backward(dh)
        return dx, dh0, dc0, layer.grads["kernel"], layer.grads["bias"]

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

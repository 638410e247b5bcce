"""An LSTM from a research prototype: a frozen ``LSTMConfig`` dataclass (hidden, forget_bias)
whose properties give the column slice of each gate block, the blocks in the order f, i, o,
g, weights W_x (D, 4H), W_h (H, 4H), b (4H,), and a padding mask (N, T, 1) that is all ones
for now but that the forward and backward already honour (a padded step keeps the old
state and passes its gradient straight through):

    a = x_t @ W_x + h @ W_h + b
    f = sigmoid(a[:, cfg.f] + cfg.forget_bias)  i = sigmoid(a[:, cfg.i])  o = sigmoid(a[:, cfg.o])
    g = tanh(a[:, cfg.g])      c' = f c + i g      h' = o tanh(c')
    c = m c' + (1 - m) c       h = m h' + (1 - m) h

x (N, T, D), c0 an argument, ``forget_bias = 1.0``. Twenty-sixth held-out zoo: written without
reading the diagnosis.
"""

from dataclasses import dataclass

import numpy as np

import harness

BUGS = {
    "backward_i_g_slices_swapped": "gate_order",          # da[:, cfg.i] gets the g gradient and da[:, cfg.g] the i one
    "forward_forgets_forget_bias": "forget_bias",         # f = sigmoid(a[:, cfg.f]) (backward consistent with it)
    "c_updated_in_place": "inplace_corruption",           # c *= f; c += i * g: the c cached as c_prev is changed
    "mask_inverted_in_backward": "wrong_value",           # dh_new = (1 - m) * dh (1 - m read for m)
    "carry_without_g_block": "term_dropped",              # dh_next = da[:, :3H] @ W_h[:, :3H].T (the g block left out)
    "da_g_tanh_of_g": "derivative_wrong_point",           # 1 - np.tanh(g) ** 2 (tanh' at g, which is already a tanh)
    "da_f_sign": "wrong_sign",                            # df * (f ** 2 - f)
    "dW_h_assigned": "carry_overwrites",                  # dW_h = h_prev.T @ da (= for +=)
    "grads_over_NT": "reduction_scaled",                  # dW_x, dW_h, db / (N * T) ("the loss is a mean")
    "da_f_no_sigmoid_grad": "derivative_missing",         # da[:, cfg.f] = df
    "dg_times_f": "wrong_value",                          # dg = dc * f (f read for i)
    "carry_f_one_step_early": "wrong_time",               # dc_next = dc; then dc = dc_next * f_t + ...: f_t for f_(t+1)
    "raw_c_in_do_and_no_sigmoid_grad": "unknown",         # do = dh * c_new and da_o = do: two mistakes
    "global_norm_clip": "gradient_clipped",               # the weight gradients scaled to a global norm of 1
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "backward_i_g_slices_swapped": "ig",
    "forward_forgets_forget_bias": "",
    "c_updated_in_place": "f",
    "mask_inverted_in_backward": "",
    "carry_without_g_block": "",
    "da_g_tanh_of_g": "g",
    "da_f_sign": "f",
    "dW_h_assigned": "",
    "grads_over_NT": "",
    "da_f_no_sigmoid_grad": "f",
    "dg_times_f": "g",
    "carry_f_one_step_early": "",
    "raw_c_in_do_and_no_sigmoid_grad": "o",
    "global_norm_clip": "",
}


@dataclass(frozen=True)
class LSTMConfig:
    hidden: int
    forget_bias: float = 1.0

    def _block(self, k):
        return slice(k * self.hidden, (k + 1) * self.hidden)

    @property
    def f(self):
        return self._block(0)

    @property
    def i(self):
        return self._block(1)

    @property
    def o(self):
        return self._block(2)

    @property
    def g(self):
        return self._block(3)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, W_x, W_h, b, bug=None):
    N, T, D = x.shape
    cfg = LSTMConfig(hidden=h0.shape[1])
    mask = np.ones((N, T, 1), dtype=x.dtype)
    h, c = h0, c0.copy()
    hs, caches = [], []
    for t in range(T):
        a = x[:, t] @ W_x + h @ W_h + b
        fb = 0.0 if bug == "forward_forgets_forget_bias" else cfg.forget_bias
        f = sigmoid(a[:, cfg.f] + fb)
        i, o, g = sigmoid(a[:, cfg.i]), sigmoid(a[:, cfg.o]), np.tanh(a[:, cfg.g])
        h_prev, c_prev = h, c
        if bug == "c_updated_in_place":
            c *= f
            c += i * g
            c_new = c
        else:
            c_new = f * c + i * g
        tc = np.tanh(c_new)
        h_new = o * tc
        m = mask[:, t]
        c = m * c_new + (1 - m) * c_prev
        h = m * h_new + (1 - m) * h_prev
        hs.append(h)
        caches.append((x[:, t], h_prev, c_prev, f, i, o, g, c_new, tc, m))
    return np.stack(hs, axis=1), (cfg, W_x, W_h, caches)


def lstm_backward(dh_seq, cache, bug=None):
    cfg, W_x, W_h, caches = cache
    N, T, H = dh_seq.shape
    dW_x, dW_h = np.zeros_like(W_x), np.zeros_like(W_h)
    db = np.zeros(4 * H, dtype=dh_seq.dtype)
    dx = np.zeros((N, T, W_x.shape[0]), dtype=dh_seq.dtype)
    dh_next = np.zeros((N, H), dtype=dh_seq.dtype)
    dc_next = np.zeros((N, H), dtype=dh_seq.dtype)
    for t in reversed(range(T)):
        x_t, h_prev, c_prev, f, i, o, g, c_new, tc, m = caches[t]
        dh = dh_seq[:, t] + dh_next
        keep = 1 - m
        dh_new = (1 - m) * dh if bug == "mask_inverted_in_backward" else m * dh
        if bug == "carry_f_one_step_early":
            dc_carry = dc_next * f
        else:
            dc_carry = dc_next
        dc_new, dc_keep, dh_keep = m * dc_carry, keep * dc_carry, keep * dh
        odd = bug == "raw_c_in_do_and_no_sigmoid_grad"
        do = dh_new * (c_new if odd else tc)
        dc = dc_new + dh_new * o * (1 - tc ** 2)
        df, di = dc * c_prev, dc * g
        dg = dc * (f if bug == "dg_times_f" else i)
        da = np.empty((N, 4 * H), dtype=dh_seq.dtype)
        if bug == "da_f_sign":
            da[:, cfg.f] = df * (f ** 2 - f)
        elif bug == "da_f_no_sigmoid_grad":
            da[:, cfg.f] = df
        else:
            da[:, cfg.f] = df * (f - f ** 2)
        da_i = di * i * (1 - i)
        da_g = dg * (1 - (np.tanh(g) if bug == "da_g_tanh_of_g" else g) ** 2)
        if bug == "backward_i_g_slices_swapped":
            da[:, cfg.i], da[:, cfg.g] = da_g, da_i
        else:
            da[:, cfg.i], da[:, cfg.g] = da_i, da_g
        da[:, cfg.o] = do if odd else do * o * (1 - o)
        dW_x += x_t.T @ da
        if bug == "dW_h_assigned":
            dW_h = h_prev.T @ da
        else:
            dW_h += h_prev.T @ da
        db += da.sum(axis=0)
        dx[:, t] = da @ W_x.T
        if bug == "carry_without_g_block":
            dh_next = da[:, :3 * H] @ W_h[:, :3 * H].T + dh_keep
        else:
            dh_next = da @ W_h.T + dh_keep
        dc_next = (dc if bug == "carry_f_one_step_early" else dc * f) + dc_keep
    if bug == "grads_over_NT":
        dW_x, dW_h, db = dW_x / (N * T), dW_h / (N * T), db / (N * T)
    if bug == "global_norm_clip":
        norm = np.sqrt(sum(np.sum(gr ** 2) for gr in (dW_x, dW_h, db)))
        if norm > 1.0:
            dW_x, dW_h, db = dW_x / norm, dW_h / norm, db / norm
    return dx, dh_next, dc_next, dW_x, dW_h, db


FIOG = [1, 0, 3, 2]                                       # user block k holds canonical (i, f, g, o) block FIOG[k]


def _to_fiog(a, H):
    return np.concatenate([a[k * H:(k + 1) * H] for k in FIOG], axis=0)


def _to_ifgo(a, H):
    back = [FIOG.index(k) for k in range(4)]
    return np.concatenate([a[k * H:(k + 1) * H] for k in back], axis=0)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W_x": _to_fiog(p["weight_ih"], H).T, "W_h": _to_fiog(p["weight_hh"], H).T,
            "b": _to_fiog(p["bias_ih"] + p["bias_hh"], H)}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW_x" in grads:
        out["dweight_ih"] = _to_ifgo(grads["dW_x"].T, H)
    if "dW_h" in grads:
        out["dweight_hh"] = _to_ifgo(grads["dW_h"].T, H)
    if "db" in grads:
        out["dbias_ih"] = _to_ifgo(grads["db"], H)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="config_lstm", cells=("lstm",), gate_order="fiog")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W_x, W_h, b):
        return lstm_forward(x, h0, c0, W_x, W_h, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": 1.0}

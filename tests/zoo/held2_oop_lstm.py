"""An object-oriented NumPy LSTM layer, the way a "deep learning from scratch" reader builds
one: a class holding ``self.params``, ``self.grads`` and ``self.cache``, with
``forward(x, h0, c0)`` and ``backward(dh)``. Batch-major x (N, T, D); one stacked weight
W (H + D, 4H) applied to concat([h, x]) (h first), column blocks f, i, o, g; one bias
b (4H,); a forget bias of 1.0 added to the f pre-activation (declared with forget_bias=1.0):

    a = [h, x] @ W + b              f, i, o = sigmoid(a_f + 1), sigmoid(a_i), sigmoid(a_o)
    g = tanh(a_g)                   c' = f c + i g          h' = o tanh(c')

``forward``/``backward`` wrap the class for the harness (the layer object is the cache).
Second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

USER_ORDER = "fiog"              # column blocks of W and b (torch: i, f, g, o)
FORGET_BIAS = 1.0

BUGS = {
    "df_with_c_new": "wrong_time",                       # df = dc * c_t for c_{t-1}
    "do_without_tanh_c": "term_dropped",                 # do = dh: tanh(c) left out
    "dc_without_dh_path": "term_dropped",                # dc = dc_next: dh * o * (1 - tanh(c)**2) left out
    "dc_next_ignored": "carry_dropped",                  # dc = dh * o * (1 - tanh(c)**2)
    "dh_next_ignored": "carry_dropped",                  # dh = dhs[:, t]
    "dW_assigned": "carry_overwrites",                   # self.grads["W"] = z.T @ da (= for +=)
    "dc_tanh_grad_from_h": "derivative_wrong_point",     # 1 - h**2 for 1 - tanh(c)**2 (h taken for tanh(c))
    "dg_sigmoid_grad": "derivative_wrong_function",      # g * (1 - g) for the tanh candidate
    "do_no_sigmoid_grad": "derivative_missing",          # da_o = do
    "di_sigmoid_grad_twice": "derivative_twice",         # i(1 - i) applied twice
    "dg_typo": "derivative_miswritten",                  # 1 - g * 2 for 1 - g ** 2
    "df_sign": "wrong_sign",                             # f * (f - 1)
    "dz_from_grads_W": "gradient_for_weight",            # dz = da @ self.grads["W"].T
    "skips_last_step": "loop_skips_step",                # reversed(range(T - 1))
    "db_mean": "reduction_scaled",                       # da.mean(axis=0) for the bias
    "c_updated_in_place": "inplace_corruption",          # c *= f; c += i * g: the cached c_prev overwritten
    "da_stacked_ifog": "gate_order",                     # da = [di, df, do, dg] while W's blocks are f, i, o, g
    "forget_bias_left_out": "forget_bias",               # sigmoid(a_f): the 1.0 not added
    "forget_bias_not_declared": "forget_bias",           # the code adds 1.0, the check is told 0.0
    "forward_h_tanh_of_oc": "forward_mistake",           # h = tanh(o * c), backward consistent
    "dc0_before_forget": "wrong_value",                  # returns dc (not dc * f) as dc0: the last step only;
                                                         # relabelled from "unknown": c_0's gradient read for c_(-1)'s
    "dz_split_as_x_first": "wrong_value",                # dh_prev = dz[:, D:], dx = dz[:, :D]; relabelled from
                                                         # "unknown": one split order, as held40 labels it
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "df_with_c_new": "f",
    "do_without_tanh_c": "o",
    "dc_without_dh_path": "ifg",
    "dc_next_ignored": "",
    "dh_next_ignored": "",
    "dW_assigned": "",
    "dc_tanh_grad_from_h": "ifg",
    "dg_sigmoid_grad": "g",
    "do_no_sigmoid_grad": "o",
    "di_sigmoid_grad_twice": "i",
    "dg_typo": "g",
    "df_sign": "f",
    "dz_from_grads_W": "",
    "skips_last_step": "",
    "db_mean": "",
    "c_updated_in_place": "f",
    "da_stacked_ifog": "if",
    "forget_bias_left_out": "",
    "forget_bias_not_declared": "",
    "forward_h_tanh_of_oc": "",
    "dc0_before_forget": "",
    "dz_split_as_x_first": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class LSTMLayer:
    def __init__(self, W, b, forget_bias=FORGET_BIAS, bug=None):
        self.params = {"W": W, "b": b}
        self.grads = {"W": np.zeros_like(W), "b": np.zeros_like(b)}
        self.forget_bias, self.bug = forget_bias, bug
        self.cache = []

    def _step(self, x, h, c):
        H, bug = h.shape[1], self.bug
        z = np.concatenate([h, x], axis=1)
        a = z @ self.params["W"] + self.params["b"]
        f = sigmoid(a[:, :H] + (0.0 if bug == "forget_bias_left_out" else self.forget_bias))
        i = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c_prev = c
        if bug == "c_updated_in_place":
            c *= f
            c += i * g
        else:
            c = f * c + i * g
        tc = np.tanh(c)
        h_new = np.tanh(o * c) if bug == "forward_h_tanh_of_oc" else o * tc
        self.cache.append((z, c_prev, f, i, o, g, c, tc, h_new))
        return h_new, c

    def forward(self, x, h0, c0):
        N, T, _ = x.shape
        h, c = h0, c0.copy()
        hs = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
        self.cache = []
        for t in range(T):
            h, c = self._step(x[:, t], h, c)
            hs[:, t] = h
        return hs

    def _gates_backward(self, dh, dc_next, cache):
        """(df, di, do, dg, dc_prev) of one step."""
        z, c_prev, f, i, o, g, c, tc, h = cache
        bug = self.bug
        do = dh if bug == "do_without_tanh_c" else dh * tc
        if bug == "forward_h_tanh_of_oc":
            d_oc = dh * (1 - h ** 2)
            do, dc_local = d_oc * c, d_oc * o
        elif bug == "dc_tanh_grad_from_h":
            dc_local = dh * o * (1 - h ** 2)
        else:
            dc_local = dh * o * (1 - tc ** 2)
        if bug == "dc_without_dh_path":
            dc = dc_next
        elif bug == "dc_next_ignored":
            dc = dc_local
        else:
            dc = dc_next + dc_local
        df = dc * (c if bug == "df_with_c_new" else c_prev)
        return df, dc * g, do, dc * i, dc * f, dc

    def _preact_grads(self, df, di, do, dg, f, i, o, g):
        bug = self.bug
        da_f = df * f * (f - 1) if bug == "df_sign" else df * f * (1 - f)
        da_i = di * i * (1 - i)
        if bug == "di_sigmoid_grad_twice":
            da_i = da_i * i * (1 - i)
        da_o = do if bug == "do_no_sigmoid_grad" else do * o * (1 - o)
        if bug == "dg_sigmoid_grad":
            da_g = dg * g * (1 - g)
        elif bug == "dg_typo":
            da_g = dg * (1 - g * 2)
        else:
            da_g = dg * (1 - g ** 2)
        blocks = [da_i, da_f, da_o, da_g] if bug == "da_stacked_ifog" else [da_f, da_i, da_o, da_g]
        return np.concatenate(blocks, axis=1)

    def _step_backward(self, dh, dc_next, cache):
        z, c_prev, f, i, o, g, c, tc, h = cache
        H, bug = dh.shape[1], self.bug
        df, di, do, dg, dc_prev, dc = self._gates_backward(dh, dc_next, cache)
        da = self._preact_grads(df, di, do, dg, f, i, o, g)
        if bug == "dW_assigned":
            self.grads["W"] = z.T @ da
        else:
            self.grads["W"] += z.T @ da
        self.grads["b"] += da.mean(axis=0) if bug == "db_mean" else da.sum(axis=0)
        dz = da @ (self.grads["W"] if bug == "dz_from_grads_W" else self.params["W"]).T
        if bug == "dz_split_as_x_first":
            D = dz.shape[1] - H
            return dz[:, D:], dz[:, :D], dc_prev, dc
        return dz[:, :H], dz[:, H:], dc_prev, dc

    def backward(self, dhs):
        """dhs (N, T, H) -> dx (N, T, D), dh0, dc0; self.grads filled."""
        N, T, H = dhs.shape
        D = self.params["W"].shape[0] - H
        dx = np.zeros((N, T, D), dtype=dhs.dtype)
        dh_next, dc_next = np.zeros((N, H), dhs.dtype), np.zeros((N, H), dhs.dtype)
        dc = dc_next
        last = T - 1 if self.bug == "skips_last_step" else T
        for t in reversed(range(last)):
            dh = dhs[:, t] if self.bug == "dh_next_ignored" else dhs[:, t] + dh_next
            dh_next, dx[:, t], dc_next, dc = self._step_backward(dh, dc_next, self.cache[t])
        if self.bug == "dc0_before_forget":
            return dx, dh_next, dc
        return dx, dh_next, dc_next


def regate(arr, src, dst, axis):
    """Gate blocks of ``arr`` along ``axis`` from order ``src`` to order ``dst``."""
    blocks = dict(zip(src, np.split(arr, len(src), axis=axis)))
    return np.concatenate([blocks[k] for k in dst], axis=axis)


def to_user(cell, p):
    """Canonical (torch rows i, f, g, o) -> W (H + D, 4H) on [h, x], b (4H,), blocks f, i, o, g."""
    src = "ifgo"
    W = np.concatenate([regate(p["weight_hh"], src, USER_ORDER, 0).T,
                        regate(p["weight_ih"], src, USER_ORDER, 0).T], axis=0)
    return {"W": W, "b": regate(p["bias_ih"] + p["bias_hh"], src, USER_ORDER, 0)}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW" in grads:
        dW = grads["dW"]
        out["dweight_hh"] = regate(dW[:H].T, USER_ORDER, "ifgo", 0)
        out["dweight_ih"] = regate(dW[H:].T, USER_ORDER, "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = regate(grads["db"], USER_ORDER, "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="oop_lstm", cells=("lstm",), gate_order=USER_ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W, b):
        layer = LSTMLayer(W, b, bug=bug)
        return layer.forward(x, h0, c0), layer

    def backward(dh, layer):
        dx, dh0, dc0 = layer.backward(dh)
        return dx, dh0, dc0, layer.grads["W"], layer.grads["b"]

    declared = 0.0 if bug == "forget_bias_not_declared" else FORGET_BIAS
    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": declared}

"""An LSTM in the style of the Japanese "ゼロから作る Deep Learning ❷" (zero kara): an
``LSTM`` cell class and a ``TimeLSTM`` layer with ``params``/``grads`` lists, the grads
written with ``[...] =``, a ``stateful`` flag with ``h`` and ``c`` kept on the layer, one
cell object per step in ``self.layers``, and the gate blocks of A = x Wx + h Wh + b in the
book's order f, g, i, o:

    f = s(A[:, :H])  g = tanh(A[:, H:2H])  i = s(A[:, 2H:3H])  o = s(A[:, 3H:])
    c_next = f * c_prev + g * i        h_next = o * tanh(c_next)

x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,); h0 set as the stateful layer's h, c starts at
zero (the book's TimeLSTM; takes_c0=False). The backward returns dxs and the layer's dh.
Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "tanh_c_of_c_prev": "wrong_time",                 # tanh_c_next = np.tanh(c_prev) in the cell backward
    "dA_hstack_ifgo": "gate_order",                   # dA = np.hstack((di, df, dg, do)): the textbook's order, not the book's
    "ds_without_o": "term_dropped",                   # ds = dc_next + dh_next * (1 - tanh_c_next ** 2): the factor o left out
    "dg_sigmoid_grad": "derivative_wrong_function",   # dg *= g * (1 - g)
    "di_no_sigmoid_grad": "derivative_missing",       # the line di *= i * (1 - i) left out
    "do_grad_line_twice": "derivative_twice",         # do *= o * (1 - o) pasted twice
    "dc_never_carried": "carry_dropped",              # dx, dh, _ = layer.backward(...): dc stays 0
    "dWh_batch_mean": "reduction_scaled",             # dWh = np.dot(h_prev.T, dA) / N
    "c_next_in_place": "inplace_corruption",          # c_next = c_prev; c_next *= f; c_next += g * i: the cached c_prev becomes c_next
    "forward_i_from_g_block": "forward_mistake",      # i = sigmoid(A[:, H:2H]) (the g block's slice); backward consistent
    "truncate_bptt_3": "truncated_bptt",              # dh = dc = 0 once three steps have been walked back
    "dc_prev_times_i": "wrong_value",                 # dc_prev = ds * i (i read for f)
    "order_ifgo_and_ds_without_o": "unknown",         # two mistakes: the ifgo hstack and the o factor left out of ds
}

TOUCHES = {
    "tanh_c_of_c_prev": "",
    "dA_hstack_ifgo": "ifg",
    "ds_without_o": "ig",
    "dg_sigmoid_grad": "g",
    "di_no_sigmoid_grad": "i",
    "do_grad_line_twice": "o",
    "dc_never_carried": "",
    "dWh_batch_mean": "",
    "c_next_in_place": "f",
    "forward_i_from_g_block": "",
    "truncate_bptt_3": "",
    "dc_prev_times_i": "",
    "order_ifgo_and_ds_without_o": "ifg",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class LSTM:
    def __init__(self, Wx, Wh, b, bug=None):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None
        self.bug = bug

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        N, H = h_prev.shape
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
        f = A[:, :H]
        g = A[:, H:2 * H]
        i = A[:, H:2 * H] if self.bug == "forward_i_from_g_block" else A[:, 2 * H:3 * H]
        o = A[:, 3 * H:]
        f = sigmoid(f)
        g = np.tanh(g)
        i = sigmoid(i)
        o = sigmoid(o)
        if self.bug == "c_next_in_place":
            c_next = c_prev
            c_next *= f
            c_next += g * i
        else:
            c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        bug = self.bug
        tanh_c_next = np.tanh(c_prev if bug == "tanh_c_of_c_prev" else c_next)
        if bug in ("ds_without_o", "order_ifgo_and_ds_without_o"):
            ds = dc_next + dh_next * (1 - tanh_c_next ** 2)
        else:
            ds = dc_next + (dh_next * o) * (1 - tanh_c_next ** 2)
        dc_prev = ds * (i if bug == "dc_prev_times_i" else f)
        di = ds * g
        df = ds * c_prev
        do = dh_next * tanh_c_next
        dg = ds * i
        if bug != "di_no_sigmoid_grad":
            di *= i * (1 - i)
        df *= f * (1 - f)
        do *= o * (1 - o)
        if bug == "do_grad_line_twice":
            do *= o * (1 - o)
        if bug == "dg_sigmoid_grad":
            dg *= g * (1 - g)
        else:
            dg *= (1 - g ** 2)
        if bug == "forward_i_from_g_block":
            dA = np.hstack((df, dg + di, np.zeros_like(di), do))
        elif bug in ("dA_hstack_ifgo", "order_ifgo_and_ds_without_o"):
            dA = np.hstack((di, df, dg, do))
        else:
            dA = np.hstack((df, dg, di, do))
        N = x.shape[0]
        dWh = np.dot(h_prev.T, dA) / N if bug == "dWh_batch_mean" else np.dot(h_prev.T, dA)
        dWx = np.dot(x.T, dA)
        db = dA.sum(axis=0)
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        dx = np.dot(dA, Wx.T)
        dh_prev = np.dot(dA, Wh.T)
        return dx, dh_prev, dc_prev


class TimeLSTM:
    def __init__(self, Wx, Wh, b, stateful=False, bug=None):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.c = None, None
        self.dh = None
        self.stateful = stateful
        self.bug = bug

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype=xs.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype=xs.dtype)
        for t in range(T):
            layer = LSTM(*self.params, bug=self.bug)
            self.h, self.c = layer.forward(xs[:, t, :], self.h, self.c)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        dh, dc = 0, 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            if self.bug == "dc_never_carried":
                dx, dh, _ = layer.backward(dhs[:, t, :] + dh, dc)
            else:
                dx, dh, dc = layer.backward(dhs[:, t, :] + dh, dc)
            if self.bug == "truncate_bptt_3" and t == T - 3:
                dh, dc = 0 * dh, 0 * dc
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs


def to_user(cell, p):
    return {"Wx": reorder(p["weight_ih"], "ifgo", "fgio", 0).T, "Wh": reorder(p["weight_hh"], "ifgo", "fgio", 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "ifgo", "fgio", 0)}


def to_canonical(cell, grads, p):
    out = {}
    for user, canonical in (("dWx", "dweight_ih"), ("dWh", "dweight_hh")):
        if user in grads:
            out[canonical] = reorder(grads[user].T, "fgio", "ifgo", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "fgio", "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="zerokara_lstm", cells=("lstm",), takes_c0=False,
                               gate_order="fgio")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(xs, h0, Wx, Wh, b):
        layer = TimeLSTM(Wx, Wh, b, stateful=True, bug=bug)
        layer.set_state(h0)
        return layer.forward(xs), layer

    def backward(dhs, layer):
        dxs = layer.backward(dhs)
        return (dxs, layer.dh, *layer.grads)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

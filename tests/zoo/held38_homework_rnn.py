"""A beginner's homework tanh RNN in the cs231n layout: explicit Python loops over the batch
and over time, a list of states with h0 at index 0 read through a hand-kept counter,
``.copy()`` everywhere, print-debugging behind a DEBUG flag, and a backward that recomputes
the pre-activations "to be safe".

    h_t = tanh(x_t Wx + h_(t-1) Wh + b)      x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import copy

import numpy as np

DEBUG = False

BUGS = {
    "counter_starts_at_T": "wrong_time",             # k = T: hs[k] is h_t, read as h_(t-1)
    "dtanh_of_preact": "derivative_wrong_point",     # 1 - a**2 on the recomputed pre-activation
    "dtanh_one_minus_h": "derivative_miswritten",    # 1 - h
    "dtanh_pasted_twice": "derivative_twice",        # the per-example line pasted again below
    "Wh_not_transposed": "weight_transposed",        # dh_prev = da @ Wh
    "dWh_transposed": "gradient_transposed",         # dWh += da.T @ h_prev
    "dx_from_dWx": "gradient_for_weight",            # dx_t = da @ dWx.T
    "dh_next_forgotten": "carry_dropped",            # dh_total = dh[:, t, :]
    "upstream_forgotten": "term_dropped",            # dh_total = dh_next
    "db_assigned": "carry_overwrites",               # db = da.sum(axis=0)
    "db_divided_by_N": "reduction_scaled",           # db += da[n] / N in the batch loop
    "range_T_minus_1": "loop_skips_step",            # steps = list(range(T - 1)), reversed
    "clip_left_in": "gradient_clipped",              # np.clip(..., -1, 1) on the weight gradients
    "h_prev_never_updated": "forward_mistake",       # every step reads h0; backward consistent
}

TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    hs = []
    hs.append(h0.copy())            # hs[0] = h0, hs[t + 1] = h_t
    xs = []
    h_out = np.zeros((N, T, H), dtype=x.dtype)
    counter = 0
    for t in range(T):
        x_t = x[:, t, :].copy()
        if bug == "h_prev_never_updated":
            h_prev = hs[0].copy()
        else:
            h_prev = hs[counter].copy()
        h_next = np.zeros((N, H), dtype=x.dtype)
        for n in range(N):
            a = np.dot(x_t[n], Wx) + np.dot(h_prev[n], Wh) + b
            h_next[n] = np.tanh(a)
        if DEBUG:
            print("step", t, "counter", counter, "h_next", h_next.shape, h_next.mean())
        hs.append(h_next.copy())
        xs.append(x_t)
        h_out[:, t, :] = h_next
        counter = counter + 1
    cache = {"hs": hs, "xs": xs, "Wx": Wx.copy(), "Wh": Wh.copy(), "b": b.copy(), "T": T}
    return h_out, cache


def rnn_backward(dh, cache, bug=None):
    hs = copy.deepcopy(cache["hs"])
    xs = copy.deepcopy(cache["xs"])
    Wx, Wh, b = cache["Wx"], cache["Wh"], cache["b"]
    N, T, H = dh.shape
    D = Wx.shape[0]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros_like(b)
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    steps = list(range(T - 1)) if bug == "range_T_minus_1" else list(range(T))
    steps.reverse()
    k = T if bug == "counter_starts_at_T" else T - 1     # hs[k] = h_(t-1) when t = T - 1
    for t in steps:
        x_t = xs[t].copy()
        h_t = hs[t + 1].copy()
        if bug == "h_prev_never_updated":
            h_prev = hs[0].copy()
        else:
            h_prev = hs[k].copy()
        # recompute the pre-activation (to check the cache)
        a = np.dot(x_t, Wx) + np.dot(h_prev, Wh) + b
        if DEBUG:
            print("back step", t, "k", k, "max |tanh(a) - h|", np.abs(np.tanh(a) - h_t).max())
        if bug == "dh_next_forgotten":
            dh_total = dh[:, t, :].copy()
        elif bug == "upstream_forgotten":
            dh_total = dh_next.copy()
        elif bug == "h_prev_never_updated":
            dh_total = dh[:, t, :].copy()
        else:
            dh_total = dh[:, t, :] + dh_next
        da = np.zeros((N, H), dtype=dh.dtype)
        for n in range(N):
            if bug == "dtanh_of_preact":
                da[n] = dh_total[n] * (1 - a[n] ** 2)
            elif bug == "dtanh_one_minus_h":
                da[n] = dh_total[n] * (1 - h_t[n])
            else:
                da[n] = dh_total[n] * (1 - h_t[n] ** 2)
            if bug == "dtanh_pasted_twice":
                da[n] = da[n] * (1 - h_t[n] ** 2)
            if bug == "db_divided_by_N":
                db += da[n] / N
            elif bug != "db_assigned":
                db += da[n]
        if bug == "db_assigned":
            db = da.sum(axis=0)
        if bug == "dWh_transposed":
            dWh += np.dot(da.T, h_prev)
        else:
            dWh += np.dot(h_prev.T, da)
        dWx += np.dot(x_t.T, da)
        if bug == "dx_from_dWx":
            dx[:, t, :] = np.dot(da, dWx.T)
        else:
            dx[:, t, :] = np.dot(da, Wx.T)
        if bug == "Wh_not_transposed":
            dh_prev = np.dot(da, Wh)
        else:
            dh_prev = np.dot(da, Wh.T)
        if bug == "h_prev_never_updated":
            dh0 += dh_prev
        else:
            dh_next = dh_prev.copy()
        k = k - 1
    if bug != "h_prev_never_updated":
        dh0 = dh_next.copy()
    if bug == "clip_left_in":
        for g in [dWx, dWh, db]:
            np.clip(g, -1, 1, out=g)
    if DEBUG:
        print("norms", np.linalg.norm(dWx), np.linalg.norm(dWh), np.linalg.norm(db))
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)
    return forward, backward, {"cell": "rnn", "layout": "cs231n", "activation": "tanh"}

"""An LSTM on the built-in ``cs231n`` layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,),
blocks i, f, o, g, c0 = 0) that runs the sequence in windows of K = 3 steps with (h, c)
carried from window to window; each window's cache is a dict of arrays stacked over its
steps (L, N, H), with the state it came in with:

    windows = [(s, min(s + K, T)) for s in range(0, T, K)]      T = 5: (0, 3), (3, 5)
    for s, e in windows: ... w["i"][k], w["c"][k], w["h_in"], w["c_in"] ...

The backward walks the windows back and, inside each, the steps back, carrying dh and dc
across window borders. Thirty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

K = 3

BUGS = {
    "dc_reset_per_window": "carry_dropped",               # dc_carry = 0 at each window's start (dh carried): c's carry lost at the border
    "h_prev_same_step": "wrong_time",                     # h_prev = w["h"][k] (h_t) for w["h"][k - 1] / h_in
    "da_i_f_g_o": "gate_order",                           # da stacked i, f, g, o for the forward's i, f, o, g
    "dg_no_tanh_grad": "derivative_missing",              # da_g = dg
    "dc_sigmoid_grad_of_tc": "derivative_wrong_function",  # dh * o * tc * (1 - tc): sigmoid' where tanh' belongs
    "da_o_sign": "wrong_sign",                            # do * o * (o - 1)
    "dprev_h_without_g_block": "term_dropped",            # dprev_h = da[:, :3H] @ Wh[:, :3H].T: g's path left out
    "dWh_over_T": "reduction_scaled",                     # dWh /= T
    "do_aliases_dht": "inplace_corruption",               # do = dht; do *= tc: dht, read again for dc, becomes dht * tc
    "dprev_h_from_dWh": "gradient_for_weight",            # dprev_h = da @ dWh.T (the running gradient)
    "window_steps_forward": "loop_direction",             # for k in range(L): the steps inside a window walked forward
    "dWh_norm_clipped": "gradient_clipped",               # dWh rescaled to norm 1 when larger, at the end
    "h_without_tanh": "forward_mistake",                  # next_h = o * c (no tanh); backward consistent
    "dc_reads_i_for_o": "wrong_value",                    # dc = dc_carry + dht * i * (1 - tc**2): i read for o
    "grads_averaged_over_windows": "reduction_scaled",    # dWx, dWh, db / len(windows): an arbitrary 1/2; relabelled
                                                          # from "unknown" (held21 labels this average reduction_scaled)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dc_reset_per_window": "",
    "h_prev_same_step": "",
    "da_i_f_g_o": "go",
    "dg_no_tanh_grad": "g",
    "dc_sigmoid_grad_of_tc": "ig",
    "da_o_sign": "o",
    "dprev_h_without_g_block": "",
    "dWh_over_T": "",
    "do_aliases_dht": "ig",
    "dprev_h_from_dWh": "",
    "window_steps_forward": "",
    "dWh_norm_clipped": "",
    "h_without_tanh": "",
    "dc_reads_i_for_o": "ig",
    "grads_averaged_over_windows": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h_out = np.zeros((N, T, H), dtype=x.dtype)
    windows = [(s, min(s + K, T)) for s in range(0, T, K)]
    prev_h, prev_c = h0, np.zeros_like(h0)
    caches = []
    for s, e in windows:
        w = {"h_in": prev_h, "c_in": prev_c, "x": [], "i": [], "f": [], "o": [], "g": [], "c": [], "tc": [], "h": []}
        for t in range(s, e):
            a = x[:, t] @ Wx + prev_h @ Wh + b
            i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
            g = np.tanh(a[:, 3 * H:])
            prev_c = f * prev_c + i * g
            tc = prev_c if bug == "h_without_tanh" else np.tanh(prev_c)
            prev_h = o * tc
            for key, val in (("x", x[:, t]), ("i", i), ("f", f), ("o", o), ("g", g), ("c", prev_c), ("tc", tc),
                             ("h", prev_h)):
                w[key].append(val)
            h_out[:, t] = prev_h
        caches.append((s, e, {k: (np.stack(v) if isinstance(v, list) else v) for k, v in w.items()}))
    return h_out, (caches, Wx, Wh)


def _step_back(dht, dc_carry, w, k, bug):
    i, f, o, g, tc = w["i"][k], w["f"][k], w["o"][k], w["g"][k], w["tc"][k]
    c_prev = w["c"][k - 1] if k > 0 else w["c_in"]
    if bug == "do_aliases_dht":
        do = dht
        do *= tc
    else:
        do = dht * tc
    if bug == "h_without_tanh":
        dtc = 1
    elif bug == "dc_sigmoid_grad_of_tc":
        dtc = tc * (1 - tc)
    else:
        dtc = 1 - tc ** 2
    dc = dc_carry + dht * (i if bug == "dc_reads_i_for_o" else o) * dtc
    di, df, dg = dc * g, dc * c_prev, dc * i
    da_o = do * o * (o - 1) if bug == "da_o_sign" else do * o * (1 - o)
    da_g = dg if bug == "dg_no_tanh_grad" else dg * (1 - g ** 2)
    blocks = [di * i * (1 - i), df * f * (1 - f), da_o, da_g]
    if bug == "da_i_f_g_o":
        blocks = [blocks[0], blocks[1], blocks[3], blocks[2]]
    return np.concatenate(blocks, axis=1), dc * f


def lstm_backward(dh, cache, bug=None):
    caches, Wx, Wh = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dh_carry, dc_carry = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    for s, e, w in reversed(caches):
        if bug == "dc_reset_per_window":
            dc_carry = np.zeros_like(dc_carry)
        steps = range(e - s) if bug == "window_steps_forward" else reversed(range(e - s))
        for k in steps:
            dht = dh[:, s + k] + dh_carry
            da, dc_carry = _step_back(dht, dc_carry, w, k, bug)
            h_prev = w["h"][k - 1] if k > 0 else w["h_in"]
            if bug == "h_prev_same_step":
                h_prev = w["h"][k]
            dWx += w["x"][k].T @ da
            dWh += h_prev.T @ da
            db += da.sum(axis=0)
            dx[:, s + k] = da @ Wx.T
            if bug == "dprev_h_without_g_block":
                dh_carry = da[:, :3 * H] @ Wh[:, :3 * H].T
            else:
                dh_carry = da @ (dWh if bug == "dprev_h_from_dWh" else Wh).T
    if bug == "dWh_over_T":
        dWh /= T
    if bug == "dWh_norm_clipped":
        norm = np.linalg.norm(dWh)
        if norm > 1.0:
            dWh *= 1.0 / norm
    if bug == "grads_averaged_over_windows":
        for grad in (dWx, dWh, db):
            grad /= len(caches)
    return dx, dh_carry, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

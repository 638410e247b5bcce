"""A beginner's LSTM in the cs231n layout (Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f, o, g,
c0 = 0), every gate written as its own block copied from the one above it and edited: four
slices of the weights, four pre-activations, four gradient blocks pasted into dWx, dWh, db
one after another. Lists of per-step values with a hand-kept counter, ``.copy()`` sprinkled,
the backward recomputing c_t from the cache to check it, and DEBUG prints.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

DEBUG = False

BUGS = {
    "dh_prev_f_block_of_i": "wrong_weight",          # da_f @ Wh[:, 0:H].T: the i slice, pasted unedited
    "dWx_o_block_gets_da_f": "wrong_value",          # dWx[:, 2H:3H] += x.T @ da_f (pasted unedited)
    "do_tanh_c_prev": "wrong_time",                  # do = dh * tanh(c_prev)
    "dc_next_not_carried": "carry_dropped",          # dc = dh * o * (1 - tanh(c)**2) only
    "dtanh_c_miswritten": "derivative_miswritten",   # (1 - tanh(c)) for (1 - tanh(c)**2)
    "dg_sigmoid_grad": "derivative_wrong_function",  # g * (1 - g) for the tanh candidate
    "da_i_pasted_twice": "derivative_twice",         # i * (1 - i) applied twice
    "recompute_c_inplace": "inplace_corruption",     # c_prev *= f; c_prev += i * g on the cached array
    "hstack_ifgo": "gate_order",                     # the gradient blocks stacked i, f, g, o
    "dh_prev_from_dWh": "gradient_for_weight",       # da @ dWh.T
    "while_k_gt_1": "loop_skips_step",               # while k > 1: step 0 never visited
    "upstream_dh_forgotten": "term_dropped",         # dh_t = dh_next only
    "no_tanh_on_c": "forward_mistake",               # h = o * c; backward consistent
    "df_sign": "wrong_sign",                         # df * f * (f - 1)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dh_prev_f_block_of_i": "",
    "dWx_o_block_gets_da_f": "o",
    "do_tanh_c_prev": "o",
    "dc_next_not_carried": "",
    "dtanh_c_miswritten": "ig",
    "dg_sigmoid_grad": "g",
    "da_i_pasted_twice": "i",
    "recompute_c_inplace": "f",
    "hstack_ifgo": "",
    "dh_prev_from_dWh": "",
    "while_k_gt_1": "",
    "upstream_dh_forgotten": "",
    "no_tanh_on_c": "",
    "df_sign": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = h0.copy()
    c = np.zeros((N, H), dtype=x.dtype)
    h_out = np.zeros((N, T, H), dtype=x.dtype)
    hs, cs, xs = [h.copy()], [c.copy()], []
    gates_i, gates_f, gates_o, gates_g = [], [], [], []
    counter = 0
    for t in range(T):
        x_t = x[:, t, :].copy()
        # input gate
        a_i = np.dot(x_t, Wx[:, 0:H]) + np.dot(h, Wh[:, 0:H]) + b[0:H]
        i = sigmoid(a_i)
        # forget gate
        a_f = np.dot(x_t, Wx[:, H:2 * H]) + np.dot(h, Wh[:, H:2 * H]) + b[H:2 * H]
        f = sigmoid(a_f)
        # output gate
        a_o = np.dot(x_t, Wx[:, 2 * H:3 * H]) + np.dot(h, Wh[:, 2 * H:3 * H]) + b[2 * H:3 * H]
        o = sigmoid(a_o)
        # candidate
        a_g = np.dot(x_t, Wx[:, 3 * H:4 * H]) + np.dot(h, Wh[:, 3 * H:4 * H]) + b[3 * H:4 * H]
        g = np.tanh(a_g)
        c = f * c + i * g
        h = o * c if bug == "no_tanh_on_c" else o * np.tanh(c)
        if DEBUG:
            print("t", t, "counter", counter, "c", c.mean(), "h", h.mean())
        gates_i.append(i.copy())
        gates_f.append(f.copy())
        gates_o.append(o.copy())
        gates_g.append(g.copy())
        hs.append(h.copy())
        cs.append(c.copy())
        xs.append(x_t)
        h_out[:, t, :] = h
        counter += 1
    cache = {"i": gates_i, "f": gates_f, "o": gates_o, "g": gates_g, "hs": hs, "cs": cs, "xs": xs,
             "Wx": Wx.copy(), "Wh": Wh.copy(), "counter": counter}
    return h_out, cache


def lstm_backward(dh, cache, bug=None):
    Wx, Wh = cache["Wx"], cache["Wh"]
    N, T, H = dh.shape
    D = Wx.shape[0]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(Wx)
    dWh = np.zeros_like(Wh)
    db = np.zeros(4 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    k = cache["counter"]                                  # cs[k] = c_t, cs[k - 1] = c_(t-1)
    stop = 1 if bug == "while_k_gt_1" else 0
    while k > stop:
        t = k - 1
        i, f, o, g = cache["i"][t], cache["f"][t], cache["o"][t], cache["g"][t]
        c = cache["cs"][k].copy()
        h_prev = cache["hs"][k - 1].copy()
        x_t = cache["xs"][t].copy()
        if bug == "recompute_c_inplace":
            c_prev = cache["cs"][k - 1]
            c_prev *= f
            c_prev += i * g                                   # recompute c_t to compare
            if DEBUG:
                print("check c", np.abs(c_prev - c).max())
        else:
            c_prev = cache["cs"][k - 1].copy()
            if DEBUG:
                print("check c", np.abs(f * c_prev + i * g - c).max())
        dh_t = dh_next.copy() if bug == "upstream_dh_forgotten" else dh[:, t, :] + dh_next
        tanh_c = c if bug == "no_tanh_on_c" else np.tanh(c)
        # output gate
        if bug == "do_tanh_c_prev":
            do = dh_t * np.tanh(c_prev)
        else:
            do = dh_t * tanh_c
        da_o = do * o * (1 - o)
        # cell
        if bug == "no_tanh_on_c":
            dc = dh_t * o
        elif bug == "dtanh_c_miswritten":
            dc = dh_t * o * (1 - tanh_c)
        else:
            dc = dh_t * o * (1 - tanh_c ** 2)
        if bug != "dc_next_not_carried":
            dc = dc + dc_next
        # forget gate
        df = dc * c_prev
        da_f = df * f * (f - 1) if bug == "df_sign" else df * f * (1 - f)
        # input gate
        di = dc * g
        da_i = di * i * (1 - i)
        if bug == "da_i_pasted_twice":
            da_i = da_i * i * (1 - i)
        # candidate
        dg = dc * i
        da_g = dg * g * (1 - g) if bug == "dg_sigmoid_grad" else dg * (1 - g ** 2)
        # input gate block
        dWx[:, 0:H] += np.dot(x_t.T, da_i)
        dWh[:, 0:H] += np.dot(h_prev.T, da_i)
        db[0:H] += np.sum(da_i, axis=0)
        # forget gate block
        dWx[:, H:2 * H] += np.dot(x_t.T, da_f)
        dWh[:, H:2 * H] += np.dot(h_prev.T, da_f)
        db[H:2 * H] += np.sum(da_f, axis=0)
        # output gate block
        if bug == "dWx_o_block_gets_da_f":
            dWx[:, 2 * H:3 * H] += np.dot(x_t.T, da_f)
        else:
            dWx[:, 2 * H:3 * H] += np.dot(x_t.T, da_o)
        dWh[:, 2 * H:3 * H] += np.dot(h_prev.T, da_o)
        db[2 * H:3 * H] += np.sum(da_o, axis=0)
        # candidate block
        dWx[:, 3 * H:4 * H] += np.dot(x_t.T, da_g)
        dWh[:, 3 * H:4 * H] += np.dot(h_prev.T, da_g)
        db[3 * H:4 * H] += np.sum(da_g, axis=0)
        # to x and h_prev
        if bug == "hstack_ifgo":
            da = np.hstack([da_i, da_f, da_g, da_o])
        else:
            da = np.hstack([da_i, da_f, da_o, da_g])
        dx[:, t, :] = np.dot(da, Wx.T)
        if bug == "dh_prev_f_block_of_i":
            dh_next = (np.dot(da_i, Wh[:, 0:H].T) + np.dot(da_f, Wh[:, 0:H].T)
                       + np.dot(da_o, Wh[:, 2 * H:3 * H].T) + np.dot(da_g, Wh[:, 3 * H:4 * H].T))
        elif bug == "dh_prev_from_dWh":
            dh_next = np.dot(da, dWh.T)
        else:
            dh_next = np.dot(da, Wh.T)
        dc_next = dc * f
        k = k - 1
    dh0 = dh_next.copy()
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)
    return forward, backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0}

"""An LSTM on the built-in ``cs231n`` layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,),
blocks i, f, o, g, c0 = 0), vectorized over the batch but written with an explicit Python
loop over the gates, both ways:

    a = x_t @ Wx + prev_h @ Wh + b
    for k, name in enumerate("ifog"): gate[name] = act(a[:, k*H:(k+1)*H])    (tanh for g)
    next_c = f * prev_c + i * g          next_h = o * tanh(next_c)

and in the backward: for each gate name, its upstream gradient times its local derivative,
written into its block of da. Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

ORDER = "ifog"

BUGS = {
    "tanh_test_in_go": "derivative_wrong_function",       # `if name in "go"`: tanh' for o as well as g
    "backward_loop_ifgo": "gate_order",                   # the backward loops over "ifgo" (torch's order) into blocks i, f, o, g
    "gate_loop_range_3": "term_dropped",                  # for k in range(3): g's block of da stays zero
    "local_grad_from_preactivation": "derivative_wrong_point",  # y = a block (pre-activation) in y * (1 - y), 1 - y ** 2
    "dWh_with_next_h": "wrong_time",                      # dWh += next_h.T @ da
    "dc_carry_not_added": "carry_dropped",                # dc = dnext_h * o * (1 - tanh_c ** 2); dnext_c unused
    "carry_from_dWh": "gradient_for_weight",              # dprev_h = da @ dWh.T
    "tanh_grad_1_minus_y": "derivative_miswritten",       # 1 - y for 1 - y ** 2 in the g block
    "di_already_has_sigmoid_grad": "derivative_twice",    # dgate["i"] = dc * g * i * (1 - i), then the loop applies it again
    "db_mean": "reduction_scaled",                        # db += da.mean(axis=0): np.mean for np.sum
    "forward_g_test_typo": "forward_mistake",             # `np.tanh if name == "c"`: sigmoid for g too; backward consistent
    "df_aliases_dc": "inplace_corruption",                # df = dc; df *= prev_c: dc is changed for i, g and the carry
    "do_no_local_and_dWh_assigned": "unknown",            # two mistakes: o's local derivative left out; dWh = (= for +=)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "tanh_test_in_go": "o",
    "backward_loop_ifgo": "go",
    "gate_loop_range_3": "g",
    "local_grad_from_preactivation": "",
    "dWh_with_next_h": "",
    "dc_carry_not_added": "",
    "carry_from_dWh": "",
    "tanh_grad_1_minus_y": "g",
    "di_already_has_sigmoid_grad": "i",
    "db_mean": "",
    "forward_g_test_typo": "",
    "df_aliases_dc": "ig",
    "do_no_local_and_dWh_assigned": "o",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    tanh_name = "c" if bug == "forward_g_test_typo" else "g"
    h = np.zeros((N, T, H), dtype=x.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    caches = []
    for t in range(T):
        a = x[:, t] @ Wx + prev_h @ Wh + b
        gate = {}
        for k, name in enumerate(ORDER):
            act = np.tanh if name == tanh_name else sigmoid
            gate[name] = act(a[:, k * H:(k + 1) * H])
        next_c = gate["f"] * prev_c + gate["i"] * gate["g"]
        next_h = gate["o"] * np.tanh(next_c)
        caches.append((x[:, t], prev_h, prev_c, a, gate, next_c, next_h))
        h[:, t] = next_h
        prev_h, prev_c = next_h, next_c
    return h, (caches, Wx, Wh)


def lstm_backward(dh, cache, bug=None):
    caches, Wx, Wh = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
    dnext_h, dnext_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    tanh_names = "go" if bug == "tanh_test_in_go" else ("c" if bug == "forward_g_test_typo" else "g")
    for t in reversed(range(T)):
        x_t, prev_h, prev_c, a, gate, next_c, next_h = caches[t]
        i, f, o, g = (gate[k] for k in ORDER)
        tanh_c = np.tanh(next_c)
        dh_t = dh[:, t] + dnext_h
        dc = dh_t * o * (1 - tanh_c ** 2)
        if bug != "dc_carry_not_added":
            dc = dc + dnext_c
        if bug == "df_aliases_dc":
            df = dc
            df *= prev_c
        else:
            df = dc * prev_c
        dgate = {"i": dc * g, "f": df, "o": dh_t * tanh_c, "g": dc * i}
        if bug == "di_already_has_sigmoid_grad":
            dgate["i"] = dc * g * i * (1 - i)
        da = np.zeros((N, 4 * H), dtype=dh.dtype)
        names = "ifgo" if bug == "backward_loop_ifgo" else ORDER
        for k, name in enumerate(names):
            if bug == "gate_loop_range_3" and k == 3:
                break
            y = a[:, ORDER.index(name) * H:(ORDER.index(name) + 1) * H] if bug == "local_grad_from_preactivation" \
                else gate[name]
            if name in tanh_names:
                local = 1 - y if bug == "tanh_grad_1_minus_y" else 1 - y ** 2
            else:
                local = y * (1 - y)
            if bug == "do_no_local_and_dWh_assigned" and name == "o":
                local = 1
            da[:, k * H:(k + 1) * H] = dgate[name] * local
        dWx += x_t.T @ da
        if bug == "do_no_local_and_dWh_assigned":
            dWh = prev_h.T @ da
        else:
            dWh += (next_h if bug == "dWh_with_next_h" else prev_h).T @ da
        db += da.mean(axis=0) if bug == "db_mean" else da.sum(axis=0)
        dx[:, t] = da @ Wx.T
        dnext_h = da @ (dWh if bug == "carry_from_dWh" else Wh).T
        dnext_c = dc * f
    return dx, dnext_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

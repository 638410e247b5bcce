"""An LSTM on the built-in ``tf_kernel`` layout (TF's BasicLSTMCell with forget_bias = 1.0,
declared to the check) whose backward builds all four gate gradients into one (N, 4H)
array with np.concatenate and does ONE matmul per step for [dx, dh_prev]:
x (N, T, D), h0, c0 (N, H), kernel (D + H, 4H) on concat([x_t, h]), column blocks i, j, f, o,
bias (4H,):

    i, j, f, o = split(concat([x_t, h]) @ kernel + bias, 4)
    c' = sigmoid(f + forget_bias) * c + sigmoid(i) * tanh(j)      h' = sigmoid(o) * tanh(c')

Each step's values are kept on a tape of tuples. Eleventh held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "dgates_order_ifjo": "gate_order",                    # np.concatenate([da_i, da_f, da_j, da_o]) for columns i, j, f, o
    "forward_forgets_forget_bias": "forget_bias",         # sf = sigmoid(f) in the forward; backward consistent
    "forward_forget_bias_twice": "forget_bias",           # sigmoid(f + 2 * forget_bias) (bias added in two places); consistent
    "do_with_c_not_tanh_c": "wrong_value",                # do = g * c for g * tanh(c)
    "dc_without_o": "term_dropped",                       # dc = g * (1 - tc ** 2): the factor so left out
    "dc_carry_not_added": "carry_dropped",                # dc = g * so * (1 - tc ** 2) (dc_next never added)
    "dc_carry_replaces_local": "carry_overwrites",        # dc = dc_next for t < T - 1 (the local term only at the last step)
    "tanh_grad_at_c": "derivative_wrong_point",           # 1 - c ** 2 for 1 - tanh(c) ** 2
    "dj_with_sigmoid_grad": "derivative_wrong_function",  # da_j = dj * tj * (1 - tj)
    "da_f_sigmoid_grad_twice": "derivative_twice",        # da_f = df * sf (1 - sf) * sf (1 - sf)
    "df_with_c_t": "wrong_time",                          # df = dc * c (this step's c, not c_prev)
    "dxh_through_dkernel": "gradient_for_weight",         # dxh = dgates @ dkernel.T
    "forward_c_updated_in_place": "inplace_corruption",   # new_c = c; new_c *= sf; new_c += si * tj: the taped c_prev is c'
    "tbptt_every_3_steps": "truncated_bptt",              # dh_next, dc_next zeroed after every 3 steps walked back
    "forward_h_without_tanh": "forward_mistake",          # h' = so * c'; backward consistent
    "do_with_c_and_c_carry_dropped": "unknown",           # do = g * c AND dc_next never added
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dgates_order_ifjo": "fg",
    "forward_forgets_forget_bias": "",
    "forward_forget_bias_twice": "",
    "do_with_c_not_tanh_c": "o",
    "dc_without_o": "ifg",
    "dc_carry_not_added": "",
    "dc_carry_replaces_local": "",
    "tanh_grad_at_c": "ifg",
    "dj_with_sigmoid_grad": "g",
    "da_f_sigmoid_grad_twice": "f",
    "df_with_c_t": "f",
    "dxh_through_dkernel": "",
    "forward_c_updated_in_place": "f",
    "tbptt_every_3_steps": "",
    "forward_h_without_tanh": "",
    "do_with_c_and_c_carry_dropped": "o",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    h, c = h0, np.array(c0, copy=True)
    hs, tape = [], []
    fb = {"forward_forgets_forget_bias": 0.0, "forward_forget_bias_twice": 2 * FORGET_BIAS}.get(bug, FORGET_BIAS)
    for t in range(T):
        xh = np.concatenate([x[:, t], h], axis=1)
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
        si, tj, sf, so = sigmoid(i), np.tanh(j), sigmoid(f + fb), sigmoid(o)
        if bug == "forward_c_updated_in_place":
            new_c = c
            new_c *= sf
            new_c += si * tj
        else:
            new_c = sf * c + si * tj
        tc = np.tanh(new_c)
        h = so * (new_c if bug == "forward_h_without_tanh" else tc)
        tape.append((xh, c, si, tj, sf, so, tc, new_c))
        hs.append(h)
        c = new_c
    return np.stack(hs, axis=1), (tape, kernel)


def backward(dh, cache, bug=None):
    tape, kernel = cache
    N, T, H = dh.shape
    D = kernel.shape[0] - H
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    walked = 0
    for t in reversed(range(T)):
        xh, c_prev, si, tj, sf, so, tc, c = tape[t]
        g = dh[:, t] + dh_next
        if bug in ("do_with_c_not_tanh_c", "do_with_c_and_c_carry_dropped", "forward_h_without_tanh"):
            do = g * c
        else:
            do = g * tc
        if bug == "forward_h_without_tanh":
            dc = g * so
        elif bug == "dc_without_o":
            dc = g * (1 - tc ** 2)
        elif bug == "tanh_grad_at_c":
            dc = g * so * (1 - c ** 2)
        else:
            dc = g * so * (1 - tc ** 2)
        if bug == "dc_carry_replaces_local" and t < T - 1:
            dc = dc_next
        elif bug not in ("dc_carry_not_added", "do_with_c_and_c_carry_dropped"):
            dc = dc + dc_next
        di, dj = dc * tj, dc * si
        df = dc * (c if bug == "df_with_c_t" else c_prev)
        da_i = di * si * (1 - si)
        da_j = dj * tj * (1 - tj) if bug == "dj_with_sigmoid_grad" else dj * (1 - tj ** 2)
        da_f = df * sf * (1 - sf)
        if bug == "da_f_sigmoid_grad_twice":
            da_f = da_f * sf * (1 - sf)
        da_o = do * so * (1 - so)
        if bug == "dgates_order_ifjo":
            dgates = np.concatenate([da_i, da_f, da_j, da_o], axis=1)
        else:
            dgates = np.concatenate([da_i, da_j, da_f, da_o], axis=1)
        dkernel += xh.T @ dgates
        dbias += dgates.sum(axis=0)
        dxh = dgates @ (dkernel if bug == "dxh_through_dkernel" else kernel).T
        dx[:, t], dh_next = dxh[:, :D], dxh[:, D:]
        dc_next = dc * sf
        walked += 1
        if bug == "tbptt_every_3_steps" and walked % 3 == 0:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

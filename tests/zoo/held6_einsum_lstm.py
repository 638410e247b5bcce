"""An LSTM in the cs231n layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f,
o, g, c0 = 0) whose backward loops over time only for what must be carried (dh and dc) and
stores every step's pre-activation gradient in one array dA (N, T, 4H); the weight
gradients and dx come AFTER the loop, from the stacked arrays, with np.einsum:

    dWx = einsum('ntd,ntg->dg', x, dA)     dWh = einsum('nth,ntg->hg', H_prev, dA)
    db = dA.sum((0, 1))                    dx = einsum('ntg,dg->ntd', dA, Wx)

The forward keeps the gates stacked over time (I, F, O, G, C, each (N, T, H)) and H_prev,
the hidden states shifted by one step with h0 in front. Sixth held-out zoo: written without
reading the diagnosis. "[own]" marks mistakes of the writer's own invention (beyond issue
8's list).
"""

import numpy as np

BUGS = {
    "dWh_einsum_on_H": "wrong_time",                   # einsum('nth,ntg->hg', H, dA): h_t for h_(t-1)
    "dc_carry_f_one_step_early": "wrong_time",         # [own] dc_next = dc * F[:, t - 1] (cache read one index early)
    "do_sigmoid_grad_left_out": "derivative_missing",  # dA_o = do
    "do_sigmoid_grad_parens": "derivative_miswritten", # do * O * 1 - O (parentheses left out)
    "di_grad_at_f": "derivative_wrong_point",          # di * F * (1 - F)
    "dh_carry_not_added": "carry_dropped",             # dh = dhout[:, t] (dh_next never added)
    "dc_misses_h_path": "term_dropped",                # dc = dc_next (the path through h_t = o tanh(c_t) left out)
    "db_mean_over_N_T": "reduction_scaled",            # [own] db = dA.mean((0, 1))
    "dA_blocks_ifgo": "gate_order",                    # dA[:, t] = [di, df, dg, do] (torch's order) for blocks i, f, o, g
    "loop_from_T_minus_2": "loop_skips_step",          # for t in range(T - 2, -1, -1)
    "tanh_c_in_place": "inplace_corruption",           # np.tanh(C[:, t], out=C[:, t]) in the forward: the stacked C holds tanh(c)
    "forward_g_sigmoid": "forward_mistake",            # [own] g = sigmoid(a_g); the backward uses g (1 - g)
    "einsum_sums_before_product": "unknown",           # [own] dWx = x.sum(1).T @ dA.sum(1): sums over t before the outer product
    "dc_carry_gradient_doubled": "unknown",            # [own] dc_next = 2 * dc * F[:, t] (an arbitrary constant)
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dWh_einsum_on_H": "",
    "dc_carry_f_one_step_early": "",
    "do_sigmoid_grad_left_out": "o",
    "do_sigmoid_grad_parens": "o",
    "di_grad_at_f": "i",
    "dh_carry_not_added": "",
    "dc_misses_h_path": "ig",
    "db_mean_over_N_T": "",
    "dA_blocks_ifgo": "go",
    "loop_from_T_minus_2": "",
    "tanh_c_in_place": "",
    "forward_g_sigmoid": "",
    "einsum_sums_before_product": "",
    "dc_carry_gradient_doubled": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    I, F, O, G, C, Hs = (np.zeros((N, T, H), dtype=x.dtype) for _ in range(6))
    h, c = h0, np.zeros_like(h0)
    for t in range(T):
        a = x[:, t] @ Wx + h @ Wh + b
        I[:, t], F[:, t], O[:, t] = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        G[:, t] = sigmoid(a[:, 3 * H:]) if bug == "forward_g_sigmoid" else np.tanh(a[:, 3 * H:])
        c = F[:, t] * c + I[:, t] * G[:, t]
        C[:, t] = c
        if bug == "tanh_c_in_place":
            h = O[:, t] * np.tanh(C[:, t], out=C[:, t])
        else:
            h = O[:, t] * np.tanh(c)
        Hs[:, t] = h
    H_prev = np.concatenate([h0[:, None], Hs[:, :-1]], axis=1)
    return Hs, (x, H_prev, Hs, I, F, O, G, C, Wx, Wh)


def lstm_backward(dhout, cache, bug=None):
    x, H_prev, Hs, I, F, O, G, C, Wx, Wh = cache
    N, T, H = dhout.shape
    C_prev = np.concatenate([np.zeros_like(C[:, :1]), C[:, :-1]], axis=1)
    dA = np.zeros((N, T, 4 * H), dtype=dhout.dtype)
    dh_next = np.zeros((N, H), dtype=dhout.dtype)
    dc_next = np.zeros((N, H), dtype=dhout.dtype)
    start = T - 2 if bug == "loop_from_T_minus_2" else T - 1
    for t in range(start, -1, -1):
        dh = dhout[:, t] if bug == "dh_carry_not_added" else dhout[:, t] + dh_next
        tc = np.tanh(C[:, t])
        dc = dc_next if bug == "dc_misses_h_path" else dc_next + dh * O[:, t] * (1 - tc ** 2)
        do, di, dg, df = dh * tc, dc * G[:, t], dc * I[:, t], dc * C_prev[:, t]
        if bug == "do_sigmoid_grad_left_out":
            dA_o = do
        elif bug == "do_sigmoid_grad_parens":
            dA_o = do * O[:, t] * 1 - O[:, t]
        else:
            dA_o = do * O[:, t] * (1 - O[:, t])
        gate_i = F[:, t] if bug == "di_grad_at_f" else I[:, t]
        dA_i = di * gate_i * (1 - gate_i)
        dA_f = df * F[:, t] * (1 - F[:, t])
        dA_g = dg * G[:, t] * (1 - G[:, t]) if bug == "forward_g_sigmoid" else dg * (1 - G[:, t] ** 2)
        blocks = [dA_i, dA_f, dA_g, dA_o] if bug == "dA_blocks_ifgo" else [dA_i, dA_f, dA_o, dA_g]
        dA[:, t] = np.concatenate(blocks, axis=1)
        dh_next = dA[:, t] @ Wh.T
        if bug == "dc_carry_f_one_step_early":
            dc_next = dc * F[:, t - 1]
        elif bug == "dc_carry_gradient_doubled":
            dc_next = 2 * dc * F[:, t]
        else:
            dc_next = dc * F[:, t]
    if bug == "einsum_sums_before_product":
        dWx = x.sum(1).T @ dA.sum(1)
    else:
        dWx = np.einsum('ntd,ntg->dg', x, dA)
    dWh = np.einsum('nth,ntg->hg', Hs if bug == "dWh_einsum_on_H" else H_prev, dA)
    db = dA.mean((0, 1)) if bug == "db_mean_over_N_T" else dA.sum((0, 1))
    dx = np.einsum('ntg,dg->ntd', dA, Wx)
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dhout, cache):
        return lstm_backward(dhout, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

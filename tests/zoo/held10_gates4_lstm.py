"""An LSTM in TF's kernel layout (built-in ``tf_kernel``: x (N, T, D), h0, c0 (N, H),
kernel (D+H, 4H) on concat([x, h]), bias (4H,), columns i, j, f, o) by someone who preallocates
every activation in one array ``G`` of shape (T, 4, N, H) in the forward (G[t, 0] = i,
G[t, 1] = j, G[t, 2] = f, G[t, 3] = o) and the states in (T+1, N, H) arrays hs and cs:

    z = concat([x_t, h]) @ kernel + bias;   i, j, f, o = split(z, 4)
    G[t] = sigmoid(i), tanh(j), sigmoid(f), sigmoid(o)
    cs[t+1] = G[t, 2] * cs[t] + G[t, 0] * G[t, 1];   hs[t+1] = G[t, 3] * tanh(cs[t+1])

Tenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "do_with_c": "wrong_value",                          # do = dh_t * cs[t+1] (c read for tanh(c))
    "df_with_c_t": "wrong_time",                         # df = dc * cs[t+1] (c_t for c_{t-1})
    "dc_without_carry": "carry_dropped",                 # dc = dh_t * o * (1 - tc ** 2): dc_next never added
    "dc_next_without_f": "term_dropped",                 # dc_next = dc (the factor f left out)
    "dz_blocks_ifjo": "gate_order",                      # dz = concat([di, df, dj, do]): blocks i, f, j, o
    "j_sigmoid_grad": "derivative_wrong_function",       # dj * j * (1 - j) for the tanh block
    "o_grad_missing": "derivative_missing",              # dz_o = do
    "tanh_c_grad_twice": "derivative_twice",             # dh_t * o * (1 - tc**2) * (1 - tc**2)
    "tanh_c_grad_at_c": "derivative_wrong_point",        # 1 - cs[t+1] ** 2 (tanh' at c, not at tanh(c); also wrong_value)
    "fc_in_place": "inplace_corruption",                 # fc = G[t, 2]; fc *= cs[t]; cs[t+1] = fc + i * j: the cached f is f * c_{t-1}
    "carry_three_steps": "truncated_bptt",               # dh_next and dc_next zeroed once 3 steps are done
    "forward_forget_bias_one": "forget_bias",            # f = sigmoid(z_f + 1.0) in the forward (no forget_bias asked)
    "forward_h_without_tanh": "forward_mistake",         # h = o * c; backward consistent
    "dkernel_over_N": "reduction_scaled",                # dkernel /= N
    "dc_half_and_no_o_grad": "unknown",                  # dc scaled by 0.5 and dz_o = do
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "do_with_c": "o",
    "df_with_c_t": "f",
    "dc_without_carry": "",
    "dc_next_without_f": "",
    "dz_blocks_ifjo": "fg",
    "j_sigmoid_grad": "g",
    "o_grad_missing": "o",
    "tanh_c_grad_twice": "ifg",
    "tanh_c_grad_at_c": "ifg",
    "fc_in_place": "f",
    "carry_three_steps": "",
    "forward_forget_bias_one": "",
    "forward_h_without_tanh": "",
    "dkernel_over_N": "",
    "dc_half_and_no_o_grad": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    G = np.zeros((T, 4, N, H), dtype=x.dtype)
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    cs = np.zeros((T + 1, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        z = np.concatenate([x[:, t], hs[t]], axis=1) @ kernel + bias
        i, j, f, o = np.split(z, 4, axis=1)
        G[t, 0] = sigmoid(i)
        G[t, 1] = np.tanh(j)
        G[t, 2] = sigmoid(f + 1.0) if bug == "forward_forget_bias_one" else sigmoid(f)
        G[t, 3] = sigmoid(o)
        if bug == "fc_in_place":
            fc = G[t, 2]
            fc *= cs[t]
            cs[t + 1] = fc + G[t, 0] * G[t, 1]
        else:
            cs[t + 1] = G[t, 2] * cs[t] + G[t, 0] * G[t, 1]
        hs[t + 1] = G[t, 3] * (cs[t + 1] if bug == "forward_h_without_tanh" else np.tanh(cs[t + 1]))
    return hs[1:].transpose(1, 0, 2), (x, G, hs, cs, kernel)


def lstm_backward(dh, cache, bug=None):
    x, G, hs, cs, kernel = cache
    N, T, D = x.shape
    dx = np.zeros_like(x)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(kernel.shape[1], dtype=x.dtype)
    dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    for t in reversed(range(T)):
        i, j, f, o = G[t]
        dh_t = dh[:, t] + dh_next
        if bug == "forward_h_without_tanh":
            tc, dtc = cs[t + 1], 1.0
        else:
            tc = np.tanh(cs[t + 1])
            dtc = 1 - cs[t + 1] ** 2 if bug == "tanh_c_grad_at_c" else 1 - tc ** 2
        if bug == "tanh_c_grad_twice":
            dtc = dtc * (1 - tc ** 2)
        do = dh_t * (cs[t + 1] if bug == "do_with_c" else tc)
        dc = dh_t * o * dtc if bug == "dc_without_carry" else dc_next + dh_t * o * dtc
        if bug == "dc_half_and_no_o_grad":
            dc = 0.5 * dc
        di = dc * j
        dj = dc * i
        df = dc * (cs[t + 1] if bug == "df_with_c_t" else cs[t])
        dc_next = dc if bug == "dc_next_without_f" else dc * f
        dzi = di * i * (1 - i)
        dzj = dj * j * (1 - j) if bug == "j_sigmoid_grad" else dj * (1 - j ** 2)
        dzf = df * f * (1 - f)
        dzo = do if bug in ("o_grad_missing", "dc_half_and_no_o_grad") else do * o * (1 - o)
        blocks = [dzi, dzf, dzj, dzo] if bug == "dz_blocks_ifjo" else [dzi, dzj, dzf, dzo]
        dz = np.concatenate(blocks, axis=1)
        xh = np.concatenate([x[:, t], hs[t]], axis=1)
        dkernel += xh.T @ dz
        dbias += dz.sum(axis=0)
        dxh = dz @ kernel.T
        dx[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
        if bug == "carry_three_steps" and T - t >= 3:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
    if bug == "dkernel_over_N":
        dkernel /= N
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel"}

"""An LSTM on the built-in ``tf_kernel`` layout (kernel (D+H, 4H) on concat([x, h]), columns
i, j, f, o, TF's forget_bias = 1.0 as in BasicLSTMCell), whose backward does not count down:
it flips the upstream gradient and the tape, walks the flipped copies forward with
enumerate, and flips dx back at the end:

    rev_dh, rev_tape = dh[:, ::-1], tape[::-1]
    for s, step in enumerate(rev_tape): ... dx_rev.append(dxh[:, :D])
    dx = np.stack(dx_rev, 1)[:, ::-1]

Each step's tape entry is a dict (xh, c_prev, i, j, f, o, c, tc). Thirty-third held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "nothing_flipped": "loop_direction",                  # rev_dh, rev_tape = dh, tape (and dx not flipped): forward in time
    "forget_bias_left_out": "forget_bias",                # forward f = sigmoid(f): no + 1.0; backward consistent
    "dgates_i_f_j_o": "gate_order",                       # dgates stacked i, f, j, o (torch's order) for i, j, f, o
    "do_times_c": "wrong_value",                          # do = dht * c for dht * tanh(c)
    "dc_without_carry": "carry_dropped",                  # dc = dht * o * (1 - tc**2): dc_carry never added
    "dj_tanh_grad_twice": "derivative_twice",             # dj = dc * i * (1 - j**2), and (1 - j**2) again in dgates
    "df_with_new_c": "wrong_time",                        # df = dc * c (c_t) for c_prev
    "dh_carry_without_o_block": "term_dropped",           # dh_carry = dgates[:, :3H] @ kernel[D:, :3H].T: o's path left out
    "dkernel_over_N": "reduction_scaled",                 # dkernel /= N
    "carry_cut_after_three": "truncated_bptt",            # dh_carry, dc_carry zeroed once 3 steps are walked back
    "c_updated_in_place": "inplace_corruption",           # c_new = c; c_new *= f; ... the cached c_prev becomes c_t
    "dh_carry_from_top_rows": "wrong_weight",             # dgates @ kernel[:H].T: rows of the x part for kernel[D:]
    "dxh_from_dkernel": "gradient_for_weight",            # dxh = dgates @ dkernel.T (the running gradient)
    "do_sign_and_dbias_over_T": "unknown",                # two at once: do's sigmoid' negated and dbias /= T
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "nothing_flipped": "",
    "forget_bias_left_out": "",
    "dgates_i_f_j_o": "fg",
    "do_times_c": "o",
    "dc_without_carry": "",
    "dj_tanh_grad_twice": "g",
    "df_with_new_c": "f",
    "dh_carry_without_o_block": "",
    "dkernel_over_N": "",
    "carry_cut_after_three": "",
    "c_updated_in_place": "f",
    "dh_carry_from_top_rows": "",
    "dxh_from_dkernel": "",
    "do_sign_and_dbias_over_T": "o",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    h, c = h0, c0.copy()
    fb = 0.0 if bug == "forget_bias_left_out" else FORGET_BIAS
    tape, hs = [], []
    for t in range(T):
        xh = np.concatenate([x[:, t], h], axis=1)
        i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
        i, j, f, o = sigmoid(i), np.tanh(j), sigmoid(f + fb), sigmoid(o)
        if bug == "c_updated_in_place":
            c_new = c
            c_new *= f
            c_new += i * j
        else:
            c_new = c * f + i * j
        tc = np.tanh(c_new)
        h = tc * o
        tape.append({"xh": xh, "c_prev": c, "i": i, "j": j, "f": f, "o": o, "c": c_new, "tc": tc})
        c = c_new
        hs.append(h)
    return np.stack(hs, axis=1), {"tape": tape, "kernel": kernel, "D": D}


def backward(dh, cache, bug=None):
    tape, kernel, D = cache["tape"], cache["kernel"], cache["D"]
    H = dh.shape[2]
    if bug == "nothing_flipped":
        rev_dh, rev_tape = dh, tape
    else:
        rev_dh, rev_tape = dh[:, ::-1], tape[::-1]
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    dh_carry, dc_carry = np.zeros_like(dh[:, 0]), np.zeros_like(dh[:, 0])
    dx_rev = []
    for s, step in enumerate(rev_tape):
        i, j, f, o, tc = step["i"], step["j"], step["f"], step["o"], step["tc"]
        if bug == "carry_cut_after_three" and s == 3:
            dh_carry, dc_carry = np.zeros_like(dh_carry), np.zeros_like(dc_carry)
        dht = rev_dh[:, s] + dh_carry
        dc = dht * o * (1 - tc ** 2)
        if bug != "dc_without_carry":
            dc = dc + dc_carry
        do = dht * (step["c"] if bug == "do_times_c" else tc)
        di = dc * j
        dj = dc * i * (1 - j ** 2) if bug == "dj_tanh_grad_twice" else dc * i
        df = dc * (step["c"] if bug == "df_with_new_c" else step["c_prev"])
        do_pre = do * o * (o - 1) if bug == "do_sign_and_dbias_over_T" else do * o * (1 - o)
        blocks = [di * i * (1 - i), dj * (1 - j ** 2), df * f * (1 - f), do_pre]
        if bug == "dgates_i_f_j_o":
            blocks = [blocks[0], blocks[2], blocks[1], blocks[3]]
        dgates = np.concatenate(blocks, axis=1)
        dkernel += step["xh"].T @ dgates
        dbias += dgates.sum(axis=0)
        dxh = dgates @ (dkernel if bug == "dxh_from_dkernel" else kernel).T
        dx_rev.append(dxh[:, :D])
        if bug == "dh_carry_without_o_block":
            dh_carry = dgates[:, :3 * H] @ kernel[D:, :3 * H].T
        elif bug == "dh_carry_from_top_rows":
            dh_carry = dgates @ kernel[:H].T
        else:
            dh_carry = dxh[:, D:]
        dc_carry = dc * f
    dx = np.stack(dx_rev, axis=1)
    if bug != "nothing_flipped":
        dx = dx[:, ::-1]
    if bug == "dkernel_over_N":
        dkernel /= dh.shape[0]
    if bug == "do_sign_and_dbias_over_T":
        dbias /= dh.shape[1]
    return dx, dh_carry, dc_carry, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

"""A beginner's port of TF's BasicLSTMCell (kernel (D+H, 4H) on concat([x, h]), bias (4H,),
columns i, j, f, o, forget_bias=1.0), where every step loops over the examples of the batch
by hand: one 1-D row at a time through the kernel, np.split into four gates, results copied
into preallocated arrays. Caches are lists with a hand-kept step counter; the backward
re-runs the gate nonlinearities on the cached pre-activations and loops over the batch again
for the kernel gradient. Print-debugging behind DEBUG.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import numpy as np

DEBUG = False
FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_again_in_backward": "forget_bias",  # sigmoid(pre_f + FORGET_BIAS) on a pre that has it
    "dj_sigmoid_grad": "derivative_wrong_function",  # j * (1 - j) for the tanh input
    "dj_one_minus_j": "derivative_miswritten",       # (1 - j)
    "dkernel_h_rows_h_t": "wrong_time",              # concat([x_t, h_t]) for the kernel gradient
    "dgates_order_ifjo": "gate_order",               # np.concatenate([di, df, dj, do])
    "di_reads_i": "wrong_value",                     # di = dc * i instead of dc * j
    "dbias_sum_in_batch_loop": "reduction_scaled",   # dbias += dgates.sum(0) inside the loop over b
    "range_from_one": "loop_skips_step",             # range(len(steps) - 1, 0, -1)
    "dc_carry_assigned": "carry_overwrites",         # dc = dh_t * o * (1 - tanh(c)**2): = for +=
    "dh_next_not_added": "carry_dropped",            # dh_t = dh[:, t]
    "do_without_sigmoid_grad": "derivative_missing", # dpre_o = do
    "c_prev_counter_minus_2": "wrong_time",          # c_list[k - 2]: c_(t-2) for c_(t-1)
    "all_gates_sigmoid": "forward_mistake",          # sigmoid on the whole 4H row; backward consistent
    "dc_prev_times_o": "wrong_value",                # dc_next = dc * o instead of dc * f
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "forget_bias_again_in_backward": "f",
    "dj_sigmoid_grad": "g",
    "dj_one_minus_j": "g",
    "dkernel_h_rows_h_t": "",
    "dgates_order_ifjo": "fg",
    "di_reads_i": "i",
    "dbias_sum_in_batch_loop": "",
    "range_from_one": "",
    "dc_carry_assigned": "",
    "dh_next_not_added": "",
    "do_without_sigmoid_grad": "o",
    "c_prev_counter_minus_2": "f",
    "all_gates_sigmoid": "",
    "dc_prev_times_o": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    h_list, c_list, pre_list, gate_list, x_list = [h0.copy()], [c0.copy()], [], [], []
    h_seq = np.zeros((N, T, H), dtype=x.dtype)
    k = 0
    for t in range(T):
        h_prev, c_prev = h_list[k], c_list[k]
        pre = np.zeros((N, 4 * H), dtype=x.dtype)
        for b in range(N):
            row = np.concatenate([x[b, t], h_prev[b]])
            pre[b] = np.dot(row, kernel) + bias
        i_pre, j_pre, f_pre, o_pre = np.split(pre.copy(), 4, axis=1)
        f_pre = f_pre + FORGET_BIAS
        i = sigmoid(i_pre)
        j = sigmoid(j_pre) if bug == "all_gates_sigmoid" else np.tanh(j_pre)
        f = sigmoid(f_pre)
        o = sigmoid(o_pre)
        c = f * c_prev + i * j
        h = o * np.tanh(c)
        if DEBUG:
            print("step", t, "k", k, "c", c.mean(), "h", h.mean())
        pre_list.append(np.concatenate([i_pre, j_pre, f_pre, o_pre], axis=1))
        gate_list.append((i.copy(), j.copy(), f.copy(), o.copy()))
        x_list.append(x[:, t].copy())
        h_list.append(h.copy())
        c_list.append(c.copy())
        h_seq[:, t] = h
        k += 1
    cache = {"h": h_list, "c": c_list, "pre": pre_list, "gates": gate_list, "x": x_list,
             "kernel": kernel.copy(), "D": D}
    return h_seq, cache


def lstm_backward(dh, cache, bug=None):
    kernel, D = cache["kernel"], cache["D"]
    N, T, H = dh.shape
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dkernel = np.zeros_like(kernel)
    dbias = np.zeros(4 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    steps = cache["pre"]
    loop = range(len(steps) - 1, 0, -1) if bug == "range_from_one" else range(len(steps) - 1, -1, -1)
    for t in loop:
        k = t + 1                                      # h_list[k] = h_t, h_list[k - 1] = h_(t-1)
        i_pre, j_pre, f_pre, o_pre = np.split(steps[t], 4, axis=1)
        # redo the nonlinearities
        i = sigmoid(i_pre)
        j = sigmoid(j_pre) if bug == "all_gates_sigmoid" else np.tanh(j_pre)
        f = sigmoid(f_pre + FORGET_BIAS) if bug == "forget_bias_again_in_backward" else sigmoid(f_pre)
        o = sigmoid(o_pre)
        if DEBUG:
            print("t", t, "gates match cache", np.allclose(f, cache["gates"][t][2]))
        c = cache["c"][k]
        c_prev = cache["c"][k - 2] if bug == "c_prev_counter_minus_2" else cache["c"][k - 1]
        h_prev = cache["h"][k - 1]
        x_t = cache["x"][t]
        dh_t = dh[:, t].copy() if bug == "dh_next_not_added" else dh[:, t] + dh_next
        tanh_c = np.tanh(c)
        dc = dc_next.copy()
        if bug == "dc_carry_assigned":
            dc = dh_t * o * (1 - tanh_c ** 2)
        else:
            dc += dh_t * o * (1 - tanh_c ** 2)
        do = dh_t * tanh_c
        df = dc * c_prev
        di = dc * i if bug == "di_reads_i" else dc * j
        dj = dc * i
        dpre_i = di * i * (1 - i)
        if bug == "dj_sigmoid_grad" or bug == "all_gates_sigmoid":
            dpre_j = dj * j * (1 - j)
        elif bug == "dj_one_minus_j":
            dpre_j = dj * (1 - j)
        else:
            dpre_j = dj * (1 - j ** 2)
        dpre_f = df * f * (1 - f)
        dpre_o = do if bug == "do_without_sigmoid_grad" else do * o * (1 - o)
        if bug == "dgates_order_ifjo":
            dgates = np.concatenate([dpre_i, dpre_f, dpre_j, dpre_o], axis=1)
        else:
            dgates = np.concatenate([dpre_i, dpre_j, dpre_f, dpre_o], axis=1)
        for b in range(N):
            h_row = cache["h"][k][b] if bug == "dkernel_h_rows_h_t" else h_prev[b]
            row = np.concatenate([x_t[b], h_row])
            dkernel += np.outer(row, dgates[b])
            if bug == "dbias_sum_in_batch_loop":
                dbias += dgates.sum(axis=0)
            else:
                dbias += dgates[b]
        drow = np.dot(dgates, kernel.T)
        dx[:, t] = drow[:, :D]
        dh_next = drow[:, D:].copy()
        dc_next = dc * o if bug == "dc_prev_times_o" else dc * f
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)
    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

"""An LSTM on TF's kernel layout (the built-in tf_kernel: kernel (D+H, 4H) on
concat([x_t, h_(t-1)]), bias (4H,), columns i, j, f, o, c0 an argument) with
forget_bias=1.0 added to the f pre-activation at call time (TF's BasicLSTMCell), by a
student who writes the sigmoid as 0.5 * (1 + tanh(x / 2)) (numerically safe, they read) and
its derivative from that form: 0.25 * (1 - tanh(x / 2) ** 2). The forward keeps lists of
pre-activations per step (time-major internally, x.swapaxes(0, 1)); the backward
recomputes the gates from them. Twenty-fourth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "sig_prime_half_not_quarter": "derivative_miswritten",  # dsig = 0.5 * (1 - th ** 2): the inner 1/2 forgotten
    "backward_f_without_forget_bias": "forget_bias",   # f recomputed as sig(a_f) in the backward
    "forward_ignores_forget_bias": "forget_bias",      # the forward's f = sig(a_f): forget_bias never added
    "dj_with_sigmoid_prime": "derivative_wrong_function",  # da_j = dj * dsig(a_j) (j is a tanh)
    "dc_carry_not_added": "carry_dropped",             # dc = dh_t * o * (1 - tc**2): dc_next never added
    "dh_carry_overwrites": "carry_overwrites",         # dh_t = dh_next when t < T - 1 (dh[:, t] dropped)
    "dkernel_concat_h_t": "wrong_time",                # dkernel += concat([x_t, h_t]).T @ da
    "dgates_concat_i_j_o_f": "gate_order",             # da = concat([da_i, da_j, da_o, da_f])
    "dj_reads_f": "wrong_value",                       # dj = dc * f (f read for i)
    "dc_tanh_prime_of_c": "derivative_wrong_point",    # dc += dh_t * o * (1 - c ** 2): tanh' at c not tanh(c)
    "backward_loop_forward": "loop_direction",         # for t in range(T)
    "truncated_every_2": "truncated_bptt",             # dh_next, dc_next reset every 2 steps back
    "clip_global_norm": "gradient_clipped",            # dkernel, dbias scaled to global norm 1 at the end
    "dbias_over_N": "reduction_scaled",                # dbias / N
    "dc_next_doubled": "unknown",                      # dc_next = 2 * dc * f: an arbitrary constant
    "forward_no_forget_gate": "forward_mistake",       # c = c_prev + i * j; backward consistent (no df)
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "sig_prime_half_not_quarter": "ifo",
    "backward_f_without_forget_bias": "f",
    "forward_ignores_forget_bias": "",
    "dj_with_sigmoid_prime": "g",
    "dc_carry_not_added": "",
    "dh_carry_overwrites": "",
    "dkernel_concat_h_t": "",
    "dgates_concat_i_j_o_f": "fo",
    "dj_reads_f": "g",
    "dc_tanh_prime_of_c": "ifg",
    "backward_loop_forward": "",
    "truncated_every_2": "",
    "clip_global_norm": "",
    "dbias_over_N": "",
    "dc_next_doubled": "",
    "forward_no_forget_gate": "",
}


def sig(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))


def dsig(v, bug=None):
    th = np.tanh(0.5 * v)
    return (0.5 if bug == "sig_prime_half_not_quarter" else 0.25) * (1.0 - th * th)


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    xs = x.swapaxes(0, 1)                               # (T, N, D)
    H = h0.shape[1]
    pre, hs, cs = [], [h0], [c0]
    fb = 0.0 if bug == "forward_ignores_forget_bias" else FORGET_BIAS
    for x_t in xs:
        a = np.concatenate([x_t, hs[-1]], axis=1) @ kernel + bias
        a_i, a_j, a_f, a_o = (a[:, k * H:(k + 1) * H] for k in range(4))
        if bug == "forward_no_forget_gate":
            c = cs[-1] + sig(a_i) * np.tanh(a_j)
        else:
            c = sig(a_f + fb) * cs[-1] + sig(a_i) * np.tanh(a_j)
        hs.append(sig(a_o) * np.tanh(c))
        cs.append(c)
        pre.append(a)
    h = np.stack(hs[1:], axis=1)
    return h, {"x": xs, "pre": pre, "hs": hs, "cs": cs, "kernel": kernel}


def lstm_backward(dh, cache, bug=None):
    xs, pre, hs, cs, kernel = cache["x"], cache["pre"], cache["hs"], cache["cs"], cache["kernel"]
    T, N, D = xs.shape
    H = hs[0].shape[1]
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    fb = 0.0 if bug in ("backward_f_without_forget_bias", "forward_ignores_forget_bias") else FORGET_BIAS
    steps = list(range(T)) if bug == "backward_loop_forward" else list(reversed(range(T)))
    for k, t in enumerate(steps):
        if bug == "truncated_every_2" and k % 2 == 0:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        a = pre[t]
        a_i, a_j, a_f, a_o = (a[:, m * H:(m + 1) * H] for m in range(4))
        i, j, f, o = sig(a_i), np.tanh(a_j), sig(a_f + fb), sig(a_o)
        c, c_prev = cs[t + 1], cs[t]
        tc = np.tanh(c)
        dh_t = dh_next if (bug == "dh_carry_overwrites" and t < T - 1) else dh[:, t] + dh_next
        if bug == "dc_tanh_prime_of_c":
            dc = dh_t * o * (1 - c ** 2) + dc_next
        elif bug == "dc_carry_not_added":
            dc = dh_t * o * (1 - tc ** 2)
        else:
            dc = dh_t * o * (1 - tc ** 2) + dc_next
        do = dh_t * tc
        di = dc * j
        dj = dc * (f if bug == "dj_reads_f" else i)
        df = np.zeros_like(dc) if bug == "forward_no_forget_gate" else dc * c_prev
        da_i, da_f, da_o = di * dsig(a_i, bug), df * dsig(a_f + fb, bug), do * dsig(a_o, bug)
        da_j = dj * dsig(a_j, bug) if bug == "dj_with_sigmoid_prime" else dj * (1 - j ** 2)
        if bug == "dgates_concat_i_j_o_f":
            da = np.concatenate([da_i, da_j, da_o, da_f], axis=1)
        else:
            da = np.concatenate([da_i, da_j, da_f, da_o], axis=1)
        h_used = hs[t + 1] if bug == "dkernel_concat_h_t" else hs[t]
        dkernel += np.concatenate([xs[t], h_used], axis=1).T @ da
        dbias += da.sum(axis=0)
        dxh = da @ kernel.T
        dx[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
        if bug == "forward_no_forget_gate":
            dc_next = dc
        elif bug == "dc_next_doubled":
            dc_next = 2 * dc * f
        else:
            dc_next = dc * f
    if bug == "clip_global_norm":
        norm = np.sqrt(np.sum(dkernel ** 2) + np.sum(dbias ** 2))
        if norm > 1.0:
            dkernel, dbias = dkernel / norm, dbias / norm
    if bug == "dbias_over_N":
        dbias = dbias / N
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_forward(x, h0, c0, kernel, bias, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

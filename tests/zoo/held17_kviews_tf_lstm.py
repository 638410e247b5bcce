"""An LSTM on the built-in ``tf_kernel`` layout (TF's BasicLSTMCell, forget_bias 1.0
declared to the check), written with views of the kernel (Wx = kernel[:D], Wh = kernel[D:])
instead of a concatenation, states in preallocated (N, T + 1, H) arrays whose index 0 holds
h0 / c0, and the gate pre-activations kept per gate in a dict of (N, T, H) arrays; the
backward accumulates into views of dkernel:

    P = x_t @ Wx + h @ Wh + bias         i, j, f, o = split(P, 4)      (N, H) each
    c' = c * s(f + 1.0) + s(i) * tanh(j)        h' = tanh(c') * s(o)

Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "c_prev_read_at_t_plus_1": "wrong_time",              # df uses cs[:, t + 1] (this step's c) for cs[:, t]
    "forget_bias_added_twice": "forget_bias",             # s(f + FORGET_BIAS + FORGET_BIAS) in the forward; backward consistent
    "dP_blocks_i_f_j_o": "gate_order",                    # dP = [di, df, dj, do] for columns i, j, f, o
    "do_tanh_grad": "derivative_wrong_function",          # dpo = do * (1 - so ** 2)
    "dc_tanh_grad_at_c": "derivative_wrong_point",        # dc += dh * so * (1 - c ** 2): tanh' at c, not at tanh(c)
    "dc_carry_without_f": "term_dropped",                 # dc_next = dc (the factor s(f + 1.0) left out)
    "dc_is_the_carry": "carry_overwrites",                # dc = dc_next (the step's own dh * so * tanh' term lost)
    "dxh_from_dkernel": "gradient_for_weight",            # dx_t, dh_prev from dP @ dkernel.T
    "dbias_batch_mean": "reduction_scaled",               # dbias += dP.mean(axis=0)
    "dpf_sigmoid_grad_twice": "derivative_twice",         # dpf = df * sf * (1 - sf) * sf * (1 - sf)
    "di_times_sf": "wrong_value",                         # di = dc * sf (f read for tanh(j))
    "forward_h_from_c_prev": "forward_mistake",           # h' = tanh(c) * s(o) with the old c; backward consistent
    "do_tanh_grad_and_dbias_mean": "unknown",             # do_tanh_grad and dbias_batch_mean together
    "c_prev_t_plus_1_and_carry_without_f": "unknown",     # c_prev_read_at_t_plus_1 and dc_carry_without_f together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "c_prev_read_at_t_plus_1": "f",
    "forget_bias_added_twice": "",
    "dP_blocks_i_f_j_o": "fg",
    "do_tanh_grad": "o",
    "dc_tanh_grad_at_c": "ifg",
    "dc_carry_without_f": "",
    "dc_is_the_carry": "ifg",
    "dxh_from_dkernel": "",
    "dbias_batch_mean": "",
    "dpf_sigmoid_grad_twice": "f",
    "di_times_sf": "i",
    "forward_h_from_c_prev": "",
    "do_tanh_grad_and_dbias_mean": "",
    "c_prev_t_plus_1_and_carry_without_f": "f",
}


def s(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    fb = 2 * FORGET_BIAS if bug == "forget_bias_added_twice" else FORGET_BIAS

    def forward(x, h0, c0, kernel, bias):
        N, T, D = x.shape
        H = h0.shape[1]
        Wx, Wh = kernel[:D], kernel[D:]
        hs = np.zeros((N, T + 1, H), dtype=x.dtype)
        cs = np.zeros((N, T + 1, H), dtype=x.dtype)
        hs[:, 0], cs[:, 0] = h0, c0
        pre = {q: np.zeros((N, T, H), dtype=x.dtype) for q in "ijfo"}
        for t in range(T):
            P = x[:, t] @ Wx + hs[:, t] @ Wh + bias
            for q, block in zip("ijfo", np.split(P, 4, axis=1)):
                pre[q][:, t] = block
            si, tj, sf, so = s(pre["i"][:, t]), np.tanh(pre["j"][:, t]), s(pre["f"][:, t] + fb), s(pre["o"][:, t])
            cs[:, t + 1] = cs[:, t] * sf + si * tj
            c_for_h = cs[:, t] if bug == "forward_h_from_c_prev" else cs[:, t + 1]
            hs[:, t + 1] = np.tanh(c_for_h) * so
        return hs[:, 1:].copy(), (x, hs, cs, pre, kernel)

    def backward(dh, cache):
        x, hs, cs, pre, kernel = cache
        N, T, H = dh.shape
        D = x.shape[2]
        dkernel = np.zeros_like(kernel)
        dWx, dWh = dkernel[:D], dkernel[D:]                 # views: += writes into dkernel
        dbias = np.zeros(4 * H, dtype=dh.dtype)
        dx = np.zeros_like(x)
        dh_next, dc_next = np.zeros((N, H), dh.dtype), np.zeros((N, H), dh.dtype)
        for t in reversed(range(T)):
            si, tj = s(pre["i"][:, t]), np.tanh(pre["j"][:, t])
            sf, so = s(pre["f"][:, t] + fb), s(pre["o"][:, t])
            c_new = cs[:, t + 1]
            c_h = cs[:, t] if bug == "forward_h_from_c_prev" else c_new
            tc = np.tanh(c_h)
            dht = dh[:, t] + dh_next
            do = dht * tc
            if bug == "dc_is_the_carry":
                dc = dc_next
            elif bug == "dc_tanh_grad_at_c":
                dc = dc_next + dht * so * (1 - c_new ** 2)
            elif bug == "forward_h_from_c_prev":
                dc = dc_next
            else:
                dc = dc_next + dht * so * (1 - tc ** 2)
            late = bug in ("c_prev_read_at_t_plus_1", "c_prev_t_plus_1_and_carry_without_f")
            c_prev = cs[:, t + 1] if late else cs[:, t]
            di = dc * (sf if bug == "di_times_sf" else tj)
            dj, df = dc * si, dc * c_prev
            dpi, dpj = di * si * (1 - si), dj * (1 - tj ** 2)
            dpf = df * sf * (1 - sf)
            if bug == "dpf_sigmoid_grad_twice":
                dpf = dpf * sf * (1 - sf)
            if bug in ("do_tanh_grad", "do_tanh_grad_and_dbias_mean"):
                dpo = do * (1 - so ** 2)
            else:
                dpo = do * so * (1 - so)
            dP = np.concatenate([dpi, dpf, dpj, dpo] if bug == "dP_blocks_i_f_j_o" else [dpi, dpj, dpf, dpo], axis=1)
            dWx += x[:, t].T @ dP
            dWh += hs[:, t].T @ dP
            dbias += dP.mean(axis=0) if bug in ("dbias_batch_mean", "do_tanh_grad_and_dbias_mean") else dP.sum(axis=0)
            dxh = dP @ (dkernel if bug == "dxh_from_dkernel" else kernel).T
            dx[:, t] = dxh[:, :D]
            dh_next = dxh[:, D:]
            dc_next = dc if bug in ("dc_carry_without_f", "c_prev_t_plus_1_and_carry_without_f") else dc * sf
            if bug == "forward_h_from_c_prev":
                dc_next = dc_next + dht * so * (1 - tc ** 2)
        return dx, dh_next, dc_next, dkernel, dbias

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

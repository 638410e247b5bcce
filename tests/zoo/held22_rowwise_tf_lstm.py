"""An LSTM on the built-in ``tf_kernel`` layout (TF's BasicLSTMCell, forget_bias = 1.0
declared) written one sequence at a time: an outer loop over the examples of the batch and,
inside, 1-D vectors (H,) for h and c, np.outer for the kernel gradient. The backward keeps
the pre-activations of every (example, step) and recomputes the gates from them:

    z = concat([x_t, h]) @ kernel + bias      kernel (D+H, 4H), columns i, j, f, o
    c' = c * s(f + 1) + s(i) * tanh(j)         h' = tanh(c') * s(o)

Twenty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "backward_recomputes_f_without_bias": "forget_bias",  # the backward's sf = s(zf) (forward has s(zf + 1))
    "forget_bias_on_every_gate": "forget_bias",           # z = xh @ kernel + bias + 1.0 in the forward; consistent
    "dxh_from_dkernel": "gradient_for_weight",            # dxh = dkernel @ dz (the running gradient for the kernel)
    "dj_without_si": "term_dropped",                      # dj = dc * (1 - tj ** 2): the factor s(i) left out
    "dc_tanh_prime_at_h": "derivative_wrong_point",       # dc += dh * so * (1 - h ** 2): tanh' at h (a wrong value too)
    "kernel_grad_averaged_over_batch": "reduction_scaled",  # dkernel /= N after the example loop
    "dh_carry_reset_each_step": "carry_dropped",          # dh_next = zeros at the top of every step (h carry only)
    "dc_carry_never_passed": "carry_dropped",             # dc_next stays zero (c carry only)
    "do_sigmoid_prime_sign": "wrong_sign",                # do = dh * tc * so * (so - 1)
    "steps_stop_before_0": "loop_skips_step",             # for t in range(T - 1, 0, -1)
    "kernel_norm_clipped": "gradient_clipped",            # dkernel rescaled to norm 1 when larger
    "forward_h_without_tanh": "forward_mistake",          # h' = c' * s(o); backward consistent
    "dc_times_0p9": "unknown",                            # dc = 0.9 * (...): an arbitrary constant
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "backward_recomputes_f_without_bias": "f",
    "forget_bias_on_every_gate": "",
    "dxh_from_dkernel": "",
    "dj_without_si": "g",
    "dc_tanh_prime_at_h": "ifg",
    "kernel_grad_averaged_over_batch": "",
    "dh_carry_reset_each_step": "",
    "dc_carry_never_passed": "",
    "do_sigmoid_prime_sign": "o",
    "steps_stop_before_0": "",
    "kernel_norm_clipped": "",
    "forward_h_without_tanh": "",
    "dc_times_0p9": "ifg",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, c0, kernel, bias, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    out = np.zeros((N, T, H), dtype=x.dtype)
    fb = FORGET_BIAS
    records = []                                         # per example: [(xh, z, c_prev, c, h)] * T
    for n in range(N):
        h, c, rec = h0[n], c0[n], []
        for t in range(T):
            xh = np.concatenate([x[n, t], h])
            z = xh @ kernel + bias
            if bug == "forget_bias_on_every_gate":
                z = z + FORGET_BIAS
                fb = 0.0
            zi, zj, zf, zo = np.split(z, 4)
            c_new = c * sigmoid(zf + fb) + sigmoid(zi) * np.tanh(zj)
            h = (c_new if bug == "forward_h_without_tanh" else np.tanh(c_new)) * sigmoid(zo)
            rec.append((xh, z, c, c_new, h))
            c = c_new
            out[n, t] = h
        records.append(rec)
    return out, (records, kernel)


def backward(dh, cache, bug=None):
    records, kernel = cache
    N, T, H = dh.shape
    D = kernel.shape[0] - H
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dh0, dc0 = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    fb = 0.0 if bug in ("backward_recomputes_f_without_bias", "forget_bias_on_every_gate") else FORGET_BIAS
    stop = 0 if bug == "steps_stop_before_0" else -1
    for n in range(N):
        dh_next, dc_next = np.zeros(H, dtype=dh.dtype), np.zeros(H, dtype=dh.dtype)
        for t in range(T - 1, stop, -1):
            if bug == "dh_carry_reset_each_step":
                dh_next = np.zeros(H, dtype=dh.dtype)
            xh, z, c_prev, c, h = records[n][t]
            zi, zj, zf, zo = np.split(z, 4)
            si, tj, sf, so = sigmoid(zi), np.tanh(zj), sigmoid(zf + fb), sigmoid(zo)
            d_h = dh[n, t] + dh_next
            if bug == "forward_h_without_tanh":
                tc, dc = c, dc_next + d_h * so
            else:
                tc = np.tanh(c)
                dc = dc_next + d_h * so * (1 - (h ** 2 if bug == "dc_tanh_prime_at_h" else tc ** 2))
            if bug == "dc_times_0p9":
                dc = 0.9 * dc
            do = d_h * tc * so * ((so - 1) if bug == "do_sigmoid_prime_sign" else (1 - so))
            di = dc * tj * si * (1 - si)
            dj = dc * (1 - tj ** 2) * (1 if bug == "dj_without_si" else si)
            df = dc * c_prev * sf * (1 - sf)
            dz = np.concatenate([di, dj, df, do])
            dkernel += np.outer(xh, dz)
            dbias += dz
            dxh = (dkernel if bug == "dxh_from_dkernel" else kernel) @ dz
            dx[n, t] = dxh[:D]
            dh_next = dxh[D:]
            if bug != "dc_carry_never_passed":
                dc_next = dc * sf
        dh0[n], dc0[n] = dh_next, dc_next
    if bug == "kernel_grad_averaged_over_batch":
        dkernel /= N
    if bug == "kernel_norm_clipped":
        norm = np.linalg.norm(dkernel)
        if norm > 1.0:
            dkernel *= 1.0 / norm
    return dx, dh0, dc0, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, kernel, bias):
        return forward(x, h0, c0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

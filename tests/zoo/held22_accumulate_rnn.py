"""A vanilla RNN on the built-in ``tf_kernel`` layout written functionally: the forward is
itertools.accumulate of one step function over the time-major inputs (initial=h0, so the
list of states is [h0, h1, ..., hT]) and the backward is functools.reduce of one backward
step over reversed(range(T)), threading (dh_next, dkernel, dbias) through the accumulator:

    h_t = tanh(concat([x_t, h_(t-1)]) @ kernel + bias)      kernel (D+H, H), bias (H,)

Twenty-second held-out zoo: written without reading the diagnosis.
"""

import functools
import itertools

import numpy as np

BUGS = {
    "carry_from_running_dkernel": "gradient_for_weight",  # dh_prev = da @ dkernel[D:].T (the accumulator's gradient)
    "carry_kernel_untransposed": "weight_transposed",     # dh_prev = da @ kernel[D:]
    "dkernel_h_rows_transposed": "gradient_transposed",   # the h rows of the update as da.T @ h_prev
    "tanh_prime_at_states_index_t": "wrong_time",         # 1 - states[t] ** 2 = h_(t-1); a wrong point too
    "reduce_over_range": "loop_direction",                # functools.reduce(step, range(T), ...)
    "tanh_prime_star_typo": "derivative_miswritten",      # 1 - h * 2 (one * for **)
    "tanh_prime_twice": "derivative_twice",               # g * (1 - h ** 2) * (1 - h ** 2)
    "upstream_without_carry": "carry_dropped",            # g = dh[:, t] (the accumulator's dh_next not added)
    "carry_norm_clipped": "gradient_clipped",             # dh_prev rescaled to norm <= 1 every step
    "forward_lecun_tanh": "forward_mistake",              # h = 1.7159 tanh(2/3 a); backward consistent
    "carry_slice_off_by_one": "wrong_value",              # dh_prev = dxh[:, D - 1:-1]: the window shifted by one column
    "tanh_prime_sign": "wrong_sign",                      # da = g * (h ** 2 - 1)
    "tanh_prime_at_h_prev_and_dbias_raw": "unknown",      # 1 - h_(t-1) ** 2 and dbias += g.sum(0) (two mistakes)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "carry_from_running_dkernel": "",
    "carry_kernel_untransposed": "",
    "dkernel_h_rows_transposed": "",
    "tanh_prime_at_states_index_t": "",
    "reduce_over_range": "",
    "tanh_prime_star_typo": "",
    "tanh_prime_twice": "",
    "upstream_without_carry": "",
    "carry_norm_clipped": "",
    "forward_lecun_tanh": "",
    "carry_slice_off_by_one": "",
    "tanh_prime_sign": "",
    "tanh_prime_at_h_prev_and_dbias_raw": "",
}

LECUN_A, LECUN_B = 1.7159, 2.0 / 3.0


def forward(x, h0, kernel, bias, bug=None):
    def step(h, x_t):
        a = np.concatenate([x_t, h], axis=1) @ kernel + bias
        return LECUN_A * np.tanh(LECUN_B * a) if bug == "forward_lecun_tanh" else np.tanh(a)

    states = list(itertools.accumulate(np.swapaxes(x, 0, 1), step, initial=h0))
    return np.stack(states[1:], axis=1), (x, states, kernel)


def backward(dh, cache, bug=None):
    x, states, kernel = cache
    N, T, H = dh.shape
    D = x.shape[2]
    dx = np.zeros_like(x)

    def step(acc, t):
        dh_next, dkernel, dbias = acc
        h, h_prev = states[t + 1], states[t]
        g = dh[:, t] if bug == "upstream_without_carry" else dh[:, t] + dh_next
        if bug == "forward_lecun_tanh":
            local = LECUN_A * LECUN_B * (1 - (h / LECUN_A) ** 2)
        elif bug in ("tanh_prime_at_states_index_t", "tanh_prime_at_h_prev_and_dbias_raw"):
            local = 1 - h_prev ** 2
        elif bug == "tanh_prime_star_typo":
            local = 1 - h * 2
        elif bug == "tanh_prime_twice":
            local = (1 - h ** 2) * (1 - h ** 2)
        elif bug == "tanh_prime_sign":
            local = h ** 2 - 1
        else:
            local = 1 - h ** 2
        da = g * local
        if bug == "dkernel_h_rows_transposed":
            update = np.concatenate([x[:, t].T @ da, da.T @ h_prev])
        else:
            update = np.concatenate([x[:, t], h_prev], axis=1).T @ da
        dxh = da @ kernel.T
        dx[:, t] = dxh[:, :D]
        dh_prev = dxh[:, D:]
        if bug == "carry_from_running_dkernel":
            dh_prev = da @ dkernel[D:].T
        elif bug == "carry_kernel_untransposed":
            dh_prev = da @ kernel[D:]
        elif bug == "carry_slice_off_by_one":
            dh_prev = dxh[:, D - 1:-1]
        elif bug == "carry_norm_clipped":
            dh_prev = dh_prev * min(1.0, 1.0 / np.linalg.norm(dh_prev))
        dbias_t = g.sum(axis=0) if bug == "tanh_prime_at_h_prev_and_dbias_raw" else da.sum(axis=0)
        return dh_prev, dkernel + update, dbias + dbias_t

    steps = range(T) if bug == "reduce_over_range" else reversed(range(T))
    start = (np.zeros((N, H), dtype=dh.dtype), np.zeros_like(kernel), np.zeros(H, dtype=dh.dtype))
    dh0, dkernel, dbias = functools.reduce(step, steps, start)
    return dx, dh0, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel"}

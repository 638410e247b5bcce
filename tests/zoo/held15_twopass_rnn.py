"""A cs231n-layout RNN whose backward runs in two passes: a first reverse loop that only
carries the gradient back through time and stores every step's pre-activation gradient
da (T, N, H), then every weight gradient at once, vectorised over time with einsum.
The forward keeps the states time-major in one array hs (T+1, T, H) with hs[0] = h0:

    hs[t+1] = tanh(x_t Wx + hs[t] Wh + b)

x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,) (the built-in cs231n layout).
Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "da_at_prev_state": "wrong_time",                 # da[t] = g * (1 - hs[t]**2): hs[t] is h_(t-1), not h_t (also derivative_wrong_point)
    "dWh_from_new_states": "wrong_time",              # einsum over hs[1:] for hs[:-1] in dWh
    "dWh_einsum_out_swapped": "gradient_transposed",  # einsum("tnh,tnk->kh", ...) (indices of the output swapped)
    "carry_with_Wh": "weight_transposed",             # carry = da[t] @ Wh for da[t] @ Wh.T
    "db_mean_over_batch_and_time": "reduction_scaled",  # db = da.mean(axis=(0, 1)) for sum
    "no_tanh_grad": "derivative_missing",             # da[t] = g
    "sigmoid_grad_for_tanh": "derivative_wrong_function",  # da[t] = g * h * (1 - h)
    "tanh_grad_paren": "derivative_miswritten",       # da[t] = g * (1 - h) ** 2
    "carry_cut_after_3": "truncated_bptt",            # the carry is zeroed once it has gone back 3 steps
    "clip_dWh": "gradient_clipped",                   # dWh = np.clip(dWh, -0.05, 0.05) before returning
    "first_pass_forward": "loop_direction",           # the first pass runs for t in range(T)
    "forward_reads_x_t_minus_1": "forward_mistake",   # the forward reads x[:, t - 1]; dWx, dx consistently shifted
    "first_pass_skips_last": "loop_skips_step",       # for t in reversed(range(T - 1)): da[T-1] stays 0
    "carry_damped": "unknown",                        # carry = 0.9 * da[t] @ Wh.T (an arbitrary constant)
}

TOUCHES = {b: "" for b in BUGS}                       # an RNN has no gates


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        N, T, D = x.shape
        xs = np.swapaxes(x, 0, 1)                         # (T, N, D)
        if bug == "forward_reads_x_t_minus_1":
            xs = np.roll(xs, 1, axis=0)                   # x[:, t - 1]: x[:, -1] at t = 0
        hs = np.zeros((T + 1, N, h0.shape[1]), dtype=x.dtype)
        hs[0] = h0
        for t in range(T):
            hs[t + 1] = np.tanh(xs[t] @ Wx + hs[t] @ Wh + b)
        return np.swapaxes(hs[1:], 0, 1).copy(), (xs, hs, Wx, Wh)

    def backward(dh, cache):
        xs, hs, Wx, Wh = cache
        T = xs.shape[0]
        dhs = np.swapaxes(dh, 0, 1)                       # (T, N, H)
        da = np.zeros_like(dhs)
        carry = np.zeros_like(dhs[0])
        if bug == "first_pass_forward":
            steps = range(T)
        elif bug == "first_pass_skips_last":
            steps = reversed(range(T - 1))
        else:
            steps = reversed(range(T))
        for t in steps:                                   # pass 1: the carries
            g = dhs[t] + carry
            h = hs[t + 1]
            if bug == "da_at_prev_state":
                da[t] = g * (1 - hs[t] ** 2)
            elif bug == "no_tanh_grad":
                da[t] = g
            elif bug == "sigmoid_grad_for_tanh":
                da[t] = g * h * (1 - h)
            elif bug == "tanh_grad_paren":
                da[t] = g * (1 - h) ** 2
            else:
                da[t] = g * (1 - h ** 2)
            carry = da[t] @ (Wh if bug == "carry_with_Wh" else Wh.T)
            if bug == "carry_damped":
                carry = 0.9 * carry
            if bug == "carry_cut_after_3" and T - t >= 3:
                carry = np.zeros_like(carry)
        h_prev = hs[1:] if bug == "dWh_from_new_states" else hs[:-1]
        dWx = np.einsum("tnd,tnh->dh", xs, da)            # pass 2: every weight gradient at once
        dWh = np.einsum("tnh,tnk->kh" if bug == "dWh_einsum_out_swapped" else "tnh,tnk->hk", h_prev, da)
        db = da.mean(axis=(0, 1)) if bug == "db_mean_over_batch_and_time" else da.sum(axis=(0, 1))
        dxs = np.einsum("tnh,dh->tnd", da, Wx)
        if bug == "forward_reads_x_t_minus_1":
            dxs = np.roll(dxs, -1, axis=0)                # the gradient of x[:, t - 1] goes back to t - 1
        if bug == "clip_dWh":
            dWh = np.clip(dWh, -0.05, 0.05)
        return np.swapaxes(dxs, 0, 1).copy(), carry, dWx, dWh, db

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

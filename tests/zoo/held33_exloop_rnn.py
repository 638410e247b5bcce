"""A vanilla RNN on the built-in ``cs231n`` layout, written one example at a time: the loop
over the examples is outside the loop over time, every example is a 1-D row,

    for n in range(N):
        h = h0[n]
        for t in range(T):
            h = tanh(x[n, t] @ Wx + h @ Wh + b)

and the backward walks each example back in time on its own, adding its weight gradients
with np.outer (x (N, T, D), Wx (D, H), Wh (H, H), b (H,)). Thirty-third held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "da_sign_flipped": "wrong_sign",                      # dnext * (h ** 2 - 1)
    "da_sigmoid_derivative": "derivative_wrong_function",  # dnext * h * (1 - h): sigmoid's, the net is tanh
    "da_tanh_of_output": "derivative_wrong_point",        # 1 - np.tanh(h) ** 2: h already is a tanh
    "carry_with_Wh_T": "weight_transposed",               # carry = Wh.T @ da (a = h @ Wh wants Wh @ da)
    "dWh_outer_swapped": "gradient_transposed",           # np.outer(da, prev): dWh written transposed
    "carry_reset_in_time_loop": "carry_dropped",          # carry = zeros(H) written inside the time loop
    "prev_is_current_h": "wrong_time",                    # prev = h[n, t] (h_t) for h[n, t - 1] in dWh
    "time_loop_stops_at_1": "loop_skips_step",            # reversed(range(1, T)): step 0 never walked back
    "dWx_mean_over_examples": "reduction_scaled",         # dWx /= N after the loops
    "carry_clipped": "gradient_clipped",                  # carry = np.clip(Wh @ da, -0.1, 0.1) each step
    "bptt_three_steps": "truncated_bptt",                 # the carry zeroed once 3 steps are walked back
    "h_of_previous_example": "wrong_value",               # tanh' read at h[n - 1, t]: another example's state
    "only_last_output_has_loss": "term_dropped",          # dnext = carry for t < T-1: dh[n, t] left out there
    "dWh_T_and_db_over_T": "unknown",                     # two at once: dWh transposed and db /= T
    "carry_halved": "unknown",                            # carry = 0.5 * (Wh @ da): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "da_sign_flipped": "",
    "da_sigmoid_derivative": "",
    "da_tanh_of_output": "",
    "carry_with_Wh_T": "",
    "dWh_outer_swapped": "",
    "carry_reset_in_time_loop": "",
    "prev_is_current_h": "",
    "time_loop_stops_at_1": "",
    "dWx_mean_over_examples": "",
    "carry_clipped": "",
    "bptt_three_steps": "",
    "h_of_previous_example": "",
    "only_last_output_has_loss": "",
    "dWh_T_and_db_over_T": "",
    "carry_halved": "",
}


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    for n in range(N):
        prev = h0[n]
        for t in range(T):
            prev = np.tanh(x[n, t] @ Wx + prev @ Wh + b)
            h[n, t] = prev
    return h, (x, h0, Wx, Wh, h)


def _local(dnext, h, n, t, bug):
    """dL/da of example n at step t from dL/dh."""
    hv = h[n - 1, t] if bug == "h_of_previous_example" else h[n, t]
    if bug == "da_sign_flipped":
        return dnext * (hv ** 2 - 1)
    if bug == "da_sigmoid_derivative":
        return dnext * hv * (1 - hv)
    if bug == "da_tanh_of_output":
        return dnext * (1 - np.tanh(hv) ** 2)
    return dnext * (1 - hv ** 2)


def rnn_backward(dh, cache, bug=None):
    x, h0, Wx, Wh, h = cache
    N, T, H = dh.shape
    dx, dh0 = np.zeros_like(x), np.zeros_like(h0)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dh.dtype)
    first = 1 if bug == "time_loop_stops_at_1" else 0
    for n in range(N):
        carry = np.zeros(H, dtype=dh.dtype)
        for t in reversed(range(first, T)):
            if bug == "carry_reset_in_time_loop":
                carry = np.zeros(H, dtype=dh.dtype)
            if bug == "bptt_three_steps" and T - t > 3:
                carry = np.zeros(H, dtype=dh.dtype)
            if bug == "only_last_output_has_loss" and t < T - 1:
                dnext = carry
            else:
                dnext = dh[n, t] + carry
            da = _local(dnext, h, n, t, bug)
            prev = h0[n] if t == 0 else h[n, t - 1]
            if bug == "prev_is_current_h":
                prev = h[n, t]
            dx[n, t] = Wx @ da
            dWx += np.outer(x[n, t], da)
            if bug in ("dWh_outer_swapped", "dWh_T_and_db_over_T"):
                dWh += np.outer(da, prev)
            else:
                dWh += np.outer(prev, da)
            db += da
            if bug == "carry_with_Wh_T":
                carry = Wh.T @ da
            elif bug == "carry_clipped":
                carry = np.clip(Wh @ da, -0.1, 0.1)
            elif bug == "carry_halved":
                carry = 0.5 * (Wh @ da)
            else:
                carry = Wh @ da
        dh0[n] = carry
    if bug == "dWx_mean_over_examples":
        dWx /= N
    if bug == "dWh_T_and_db_over_T":
        db /= T
    return dx, dh0, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

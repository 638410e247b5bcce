"""A sigmoid RNN in min-char-rnn's column-vector layout (karpathy: x (T, D, 1), h0 (H, 1),
Wxh (H, D), Whh (H, H), bh (H, 1), one example at a time) written with gradient
checkpointing: the forward keeps only the hidden states, the backward recomputes every
step's pre-activation from the stored h before differentiating it:

    h_t = sigmoid(Wxh x_t + Whh h_(t-1) + bh)
    backward, step t:  a = Wxh x_t + Whh h_(t-1) + bh  (recomputed)   s = sigmoid(a)
                       da = (dh_t + dhnext) * s * (1 - s)

Options activation="sigmoid". Ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "recompute_with_own_h": "wrong_time",                 # a recomputed with hs[t + 1] (h_t) for hs[t] (h_(t-1))
    "recompute_without_bias": "derivative_wrong_point",   # a = Wxh x + Whh h (bh left out): sigmoid' at the wrong a
    "sigmoid_grad_one_factor": "derivative_miswritten",   # da = delta * s (the (1 - s) left out)
    "tanh_grad_for_sigmoid": "derivative_wrong_function", # da = delta * (1 - s**2)
    "dhnext_Whh_untransposed": "weight_transposed",       # dhnext = Whh @ da
    "dWhh_outer_transposed": "gradient_transposed",       # dWhh += hs[t] @ da.T
    "dhnext_through_dWhh": "gradient_for_weight",         # dhnext = dWhh.T @ da
    "carry_written_into_dh": "carry_overwrites",          # dh[t - 1] = Whh.T @ da: the carry written over dh instead of added
    "range_stops_at_one": "loop_skips_step",              # for t in reversed(range(1, T)): step 0 never visited
    "grads_divided_by_T": "reduction_scaled",             # dWxh, dWhh, dbh /= T (a mean over time)
    "forward_reads_previous_x": "forward_mistake",        # a_t uses x[t - 1] (x[-1] at t = 0); backward consistent
    "bptt_truncate_3": "truncated_bptt",                  # the carry is cut after 3 backward steps
    "derivative_at_prev_h_and_mean": "unknown",           # recompute with h_t AND grads / T
}

TOUCHES = {bug: "" for bug in BUGS}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, Wxh, Whh, bh, bug=None):
    hs = [h0]
    for t in range(len(x)):
        xt = x[t - 1] if bug == "forward_reads_previous_x" else x[t]
        hs.append(sigmoid(Wxh @ xt + Whh @ hs[-1] + bh))
    return np.array(hs[1:]), {"x": x, "hs": hs, "params": (Wxh, Whh, bh)}


def backward(dh, cache, bug=None):
    x, hs = cache["x"], cache["hs"]
    Wxh, Whh, bh = cache["params"]
    T = len(x)
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dx = np.zeros_like(x)
    dhnext = np.zeros_like(hs[0])
    first = 1 if bug == "range_stops_at_one" else 0
    for k, t in enumerate(reversed(range(first, T))):
        if bug == "bptt_truncate_3" and k >= 3:
            dhnext = np.zeros_like(dhnext)
        xt = x[t - 1] if bug == "forward_reads_previous_x" else x[t]
        # checkpoint: recompute this step's pre-activation from the stored h
        hprev = hs[t + 1] if bug in ("recompute_with_own_h", "derivative_at_prev_h_and_mean") else hs[t]
        a = Wxh @ xt + Whh @ hprev
        if bug != "recompute_without_bias":
            a = a + bh
        s = sigmoid(a)
        delta = dh[t] if bug == "carry_written_into_dh" else dh[t] + dhnext
        if bug == "sigmoid_grad_one_factor":
            da = delta * s
        elif bug == "tanh_grad_for_sigmoid":
            da = delta * (1 - s ** 2)
        else:
            da = delta * s * (1 - s)
        dWxh += da @ xt.T
        dWhh += hs[t] @ da.T if bug == "dWhh_outer_transposed" else da @ hs[t].T
        dbh += da
        if bug == "forward_reads_previous_x":
            dx[t - 1] += Wxh.T @ da
        else:
            dx[t] = Wxh.T @ da
        if bug == "dhnext_Whh_untransposed":
            dhnext = Whh @ da
        elif bug == "dhnext_through_dWhh":
            dhnext = dWhh.T @ da
        else:
            dhnext = Whh.T @ da
        if bug == "carry_written_into_dh" and t > 0:
            dh[t - 1] = dhnext
    if bug in ("grads_divided_by_T", "derivative_at_prev_h_and_mean"):
        for g in (dWxh, dWhh, dbh):
            g /= T
    return dx, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

"""A sigmoid RNN in the karpathy layout from a lab handout ("Lab 5: fill in lossFun's
backward pass"): one example at a time, column vectors, the min-char-rnn dicts ``xs, hs``
keyed by t with ``hs[-1] = h0``, and the course's helper ``dsigmoid(y) = y * (1 - y)``:

    hs[t] = sigmoid(Wxh @ xs[t] + Whh @ hs[t-1] + bh)

x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1). Thirtieth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dsigmoid_of_preact": "derivative_wrong_point",       # dsigmoid(hraw[t]): the helper fed the pre-activation
    "tanh_grad_from_min_char_rnn": "derivative_wrong_function",  # (1 - hs[t] * hs[t]) * dh_ kept from min-char-rnn
    "dsigmoid_half_written": "derivative_miswritten",     # (1 - hs[t]) * dh_: the factor y of y(1 - y) left out
    "Whh_untransposed": "weight_transposed",              # dhnext = Whh @ dhraw
    "dWhh_with_hs_t": "wrong_time",                       # dWhh += dhraw @ hs[t].T
    "dWhh_outer_flipped": "gradient_transposed",          # dWhh += hs[t-1] @ dhraw.T
    "dhnext_typo": "carry_dropped",                       # dhnxt = Whh.T @ dhraw: dhnext stays zero
    "loop_misses_t0": "loop_skips_step",                  # for t in reversed(range(1, len(xs)))
    "average_over_time": "reduction_scaled",              # dWxh, dWhh, dbh /= T at the end
    "upstream_one_step_off": "wrong_time",                # dh_ = dh[t - 1] + dhnext (the loss gradient of step t-1)
    "h_buffer_aliased": "inplace_corruption",             # h[:] = sigmoid(...) in one buffer: every hs[t] is the same array
    "dhnext_decay_0_9": "unknown",                        # dhnext = 0.9 * Whh.T @ dhraw: an arbitrary constant
    "forward_every_step_from_h0": "forward_mistake",      # hs[t] from Whh @ hs[-1] (h0) every step; backward consistent
}

TOUCHES = {                                          # computed: blind_index.touched_gates(module, bug)
    "dsigmoid_of_preact": "",
    "tanh_grad_from_min_char_rnn": "",
    "dsigmoid_half_written": "",
    "Whh_untransposed": "",
    "dWhh_with_hs_t": "",
    "dWhh_outer_flipped": "",
    "dhnext_typo": "",
    "loop_misses_t0": "",
    "average_over_time": "",
    "upstream_one_step_off": "",
    "h_buffer_aliased": "",
    "dhnext_decay_0_9": "",
    "forward_every_step_from_h0": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def dsigmoid(y):                    # given by the lab
    return y * (1 - y)


def forward(x, h0, Wxh, Whh, bh, bug=None):
    xs, hs, hraw = {}, {}, {}
    T = x.shape[0]
    out = np.zeros((T, Whh.shape[0], 1), dtype=x.dtype)
    hs[-1] = np.copy(h0)
    h = h0 if bug == "h_buffer_aliased" else None
    for t in range(T):
        xs[t] = x[t]
        h_in = hs[-1] if bug == "forward_every_step_from_h0" else hs[t - 1]
        hraw[t] = Wxh @ xs[t] + Whh @ h_in + bh
        if bug == "h_buffer_aliased":
            h[:] = sigmoid(hraw[t])
            hs[t] = h
        else:
            hs[t] = sigmoid(hraw[t])
        out[t] = hs[t]
    return out, (xs, hs, hraw, Wxh, Whh)


def backward(dh, cache, bug=None):
    xs, hs, hraw, Wxh, Whh = cache
    T = len(xs)
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(hs[0])
    dx = np.zeros((T,) + xs[0].shape, dtype=dh.dtype)
    dhnext = np.zeros_like(hs[0])
    dh0 = np.zeros_like(hs[0])
    for t in reversed(range(1 if bug == "loop_misses_t0" else 0, T)):
        # ---- fill in ----
        dh_ = (dh[t - 1] if bug == "upstream_one_step_off" else dh[t]) + dhnext
        if bug == "dsigmoid_of_preact":
            dhraw = dsigmoid(hraw[t]) * dh_
        elif bug == "tanh_grad_from_min_char_rnn":
            dhraw = (1 - hs[t] * hs[t]) * dh_
        elif bug == "dsigmoid_half_written":
            dhraw = (1 - hs[t]) * dh_
        else:
            dhraw = dsigmoid(hs[t]) * dh_
        h_in = hs[-1] if bug == "forward_every_step_from_h0" else hs[t - 1]
        dbh += dhraw
        dWxh += dhraw @ xs[t].T
        if bug == "dWhh_with_hs_t":
            dWhh += dhraw @ hs[t].T
        elif bug == "dWhh_outer_flipped":
            dWhh += h_in @ dhraw.T
        else:
            dWhh += dhraw @ h_in.T
        dx[t] = Wxh.T @ dhraw
        back = Whh @ dhraw if bug == "Whh_untransposed" else Whh.T @ dhraw
        if bug == "dhnext_decay_0_9":
            back = 0.9 * back
        if bug == "forward_every_step_from_h0":
            dh0 += back
        elif bug == "dhnext_typo":
            dhnxt = back            # noqa: F841  (the typo: dhnext is never updated)
            if t == 0:
                dh0 = back
        else:
            dhnext = back
        # ---- end ----
    if bug == "average_over_time":
        dWxh, dWhh, dbh = dWxh / T, dWhh / T, dbh / T
    if bug not in ("forward_every_step_from_h0", "dhnext_typo"):
        dh0 = dhnext
    return dx, dh0, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda x, h0, Wxh, Whh, bh: forward(x, h0, Wxh, Whh, bh, bug),
            lambda dh, cache: backward(dh, cache, bug),
            {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"})

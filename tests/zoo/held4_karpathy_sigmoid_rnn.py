"""A min-char-rnn style RNN with a sigmoid hidden unit (the neural-networks-from-scratch habit of
using the logistic everywhere) on the built-in ``karpathy`` layout, declared with
activation="sigmoid": column vectors, one example at a time, x (T, D, 1), h0 (H, 1),
Wxh (H, D), Whh (H, H), bh (H, 1),

    hs[t] = sigmoid(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t-1]) + bh)

the dicts xs, hs with hs[-1] = hprev, and the backward's dhraw, dhnext as in the original.
Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dhraw_tanh_formula": "derivative_wrong_function",    # dhraw = (1 - hs[t] * hs[t]) * dh, kept from min-char-rnn
    "dhraw_one_step_early": "wrong_time",                 # dhraw = hs[t-1] * (1 - hs[t-1]) * dh
    "dhraw_sign_flipped": "wrong_sign",                   # dhraw = hs[t] * (hs[t] - 1) * dh
    "dhraw_parenthesis_misplaced": "derivative_miswritten",  # hs[t] * (1 - hs[t] * dh)
    "dWhh_with_hs_t": "wrong_time",                       # dWhh += np.dot(dhraw, hs[t].T)
    "dWhh_outer_reversed": "gradient_transposed",         # dWhh += np.dot(hs[t-1], dhraw.T)
    "dhnext_through_dWhh": "gradient_for_weight",         # dhnext = np.dot(dWhh.T, dhraw) (the running sum)
    "dhnext_forgotten": "carry_dropped",                  # dh = dhs[t]
    "loop_skips_last": "loop_skips_step",                 # for t in reversed(range(len(xs) - 1))
    "dh_averaged_over_time": "reduction_scaled",          # dh = dhs[t] / len(xs) + dhnext (a loss averaged over T)
    "forward_bias_outside_sigmoid": "forward_mistake",    # hs[t] = sigmoid(Wxh x + Whh h) + bh; backward consistent
    "dWhh_reversed_and_dbh_assigned": "unknown",          # two mistakes: dWhh transposed and dbh = dhraw (= for +=)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dhraw_tanh_formula": "",
    "dhraw_one_step_early": "",
    "dhraw_sign_flipped": "",
    "dhraw_parenthesis_misplaced": "",
    "dWhh_with_hs_t": "",
    "dWhh_outer_reversed": "",
    "dhnext_through_dWhh": "",
    "dhnext_forgotten": "",
    "loop_skips_last": "",
    "dh_averaged_over_time": "",
    "forward_bias_outside_sigmoid": "",
    "dWhh_reversed_and_dbh_assigned": "",
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(inputs, hprev, Wxh, Whh, bh):
        xs, hs = {}, {}
        hs[-1] = np.copy(hprev)
        for t in range(len(inputs)):
            xs[t] = inputs[t]
            if bug == "forward_bias_outside_sigmoid":
                hs[t] = sigmoid(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1])) + bh
            else:
                hs[t] = sigmoid(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        return np.array([hs[t] for t in range(len(inputs))]), (xs, hs, Wxh, Whh, bh)

    def backward(dhs, cache):
        xs, hs, Wxh, Whh, bh = cache
        dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
        dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dhs.dtype)
        dhnext = np.zeros_like(hs[0])
        last = len(xs) - 1 if bug == "loop_skips_last" else len(xs)
        for t in reversed(range(last)):
            if bug == "dhnext_forgotten":
                dh = dhs[t]
            elif bug == "dh_averaged_over_time":
                dh = dhs[t] / len(xs) + dhnext
            else:
                dh = dhs[t] + dhnext
            if bug == "dhraw_tanh_formula":
                dhraw = (1 - hs[t] * hs[t]) * dh
            elif bug == "dhraw_one_step_early":
                dhraw = hs[t - 1] * (1 - hs[t - 1]) * dh
            elif bug == "dhraw_sign_flipped":
                dhraw = hs[t] * (hs[t] - 1) * dh
            elif bug == "dhraw_parenthesis_misplaced":
                dhraw = hs[t] * (1 - hs[t] * dh)
            elif bug == "forward_bias_outside_sigmoid":
                s = hs[t] - bh
                dhraw = s * (1 - s) * dh
            else:
                dhraw = hs[t] * (1 - hs[t]) * dh
            if bug == "forward_bias_outside_sigmoid":
                dbh += dh
            elif bug == "dWhh_reversed_and_dbh_assigned":
                dbh = dhraw
            else:
                dbh += dhraw
            dWxh += np.dot(dhraw, xs[t].T)
            if bug in ("dWhh_outer_reversed", "dWhh_reversed_and_dbh_assigned"):
                dWhh += np.dot(hs[t - 1], dhraw.T)
            else:
                dWhh += np.dot(dhraw, (hs[t] if bug == "dWhh_with_hs_t" else hs[t - 1]).T)
            dxs[t] = np.dot(Wxh.T, dhraw)
            dhnext = np.dot((dWhh if bug == "dhnext_through_dWhh" else Whh).T, dhraw)
        return dxs, dhnext, dWxh, dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

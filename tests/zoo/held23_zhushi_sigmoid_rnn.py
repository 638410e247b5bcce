"""min-char-rnn as an annotated Chinese blog copy ("min-char-rnn 逐行注释") adapts it to a
sigmoid RNN: the built-in karpathy layout (column vectors, one example at a time: x (T, D, 1),
h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)), ``xs``/``hs`` dicts keyed by t with
hs[-1] = np.copy(hprev), ``dhnext`` carried back, ``dhraw`` for the gradient through the
nonlinearity, and the output layer left out:

    hs[t] = sigmoid(Wxh @ xs[t] + Whh @ hs[t-1] + bh)

Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dhraw_tanh_leftover": "derivative_wrong_function",  # dhraw = (1 - hs[t] * hs[t]) * dh: min-char-rnn's tanh line kept
    "dhraw_at_prev_state": "derivative_wrong_point",     # dhraw = hs[t-1] * (1 - hs[t-1]) * dh (also wrong_time)
    "dhraw_plus_typo": "derivative_miswritten",          # dhraw = hs[t] * (1 + hs[t]) * dh
    "dWhh_with_hs_t": "wrong_time",                      # dWhh += dhraw @ hs[t].T
    "dhnext_Whh_untransposed": "weight_transposed",      # dhnext = Whh @ dhraw
    "sigmoid_grad_twice": "derivative_twice",            # dh = (dy[t] + dhnext) * hs[t] * (1 - hs[t]), then dhraw again
    "dbh_over_T": "reduction_scaled",                    # dbh /= len(xs)
    "dhnext_not_added": "carry_dropped",                 # dh = dy[t] (the + dhnext left out)
    "h_buffer_aliased": "inplace_corruption",            # forward writes every step into one buffer h[:] = ...; hs[t] = h
    "dhnext_from_dWhh": "gradient_for_weight",           # dhnext = dWhh.T @ dhraw (dWhh updated the line before)
    "loop_skips_last": "loop_skips_step",                # for t in reversed(range(len(xs) - 1))
    "forward_sigmoid_minus_half": "forward_mistake",     # hs[t] = sigmoid(...) - 0.5 ("zero-centred"); backward consistent
    "dhnext_decay": "unknown",                           # dhnext = 0.9 * Whh.T @ dhraw (an arbitrary "decay")
}

TOUCHES = {b: "" for b in BUGS}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(inputs, hprev, Wxh, Whh, bh, bug=None):
    """inputs (T, D, 1), hprev (H, 1) -> hs (T, H, 1), cache."""
    xs, hs = {}, {}
    hs[-1] = np.copy(hprev)
    out = np.zeros((len(inputs), hprev.shape[0], 1), dtype=inputs.dtype)
    h = np.zeros_like(hprev)
    for t in range(len(inputs)):
        xs[t] = inputs[t]
        a = np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh
        if bug == "h_buffer_aliased":
            h[:] = sigmoid(a)                            # one buffer for every step
            hs[t] = h
        elif bug == "forward_sigmoid_minus_half":
            hs[t] = sigmoid(a) - 0.5
        else:
            hs[t] = sigmoid(a)
        out[t] = hs[t]
    return out, (xs, hs, Wxh, Whh, bh)


def backward(dy, cache, bug=None):
    """dy (T, H, 1) -> dxs, dhprev, dWxh, dWhh, dbh."""
    xs, hs, Wxh, Whh, bh = cache
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dy.dtype)
    dhnext = np.zeros_like(hs[0])
    last = len(xs) - 1 if bug == "loop_skips_last" else len(xs)
    for t in reversed(range(last)):
        dh = dy[t] if bug == "dhnext_not_added" else dy[t] + dhnext
        if bug == "sigmoid_grad_twice":
            dh = dh * hs[t] * (1 - hs[t])
        if bug == "dhraw_tanh_leftover":
            dhraw = (1 - hs[t] * hs[t]) * dh
        elif bug == "dhraw_at_prev_state":
            dhraw = hs[t - 1] * (1 - hs[t - 1]) * dh
        elif bug == "dhraw_plus_typo":
            dhraw = hs[t] * (1 + hs[t]) * dh
        elif bug == "forward_sigmoid_minus_half":
            s = hs[t] + 0.5
            dhraw = s * (1 - s) * dh
        else:
            dhraw = hs[t] * (1 - hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, (hs[t] if bug == "dWhh_with_hs_t" else hs[t - 1]).T)
        dxs[t] = np.dot(Wxh.T, dhraw)
        if bug == "dhnext_Whh_untransposed":
            dhnext = np.dot(Whh, dhraw)
        elif bug == "dhnext_from_dWhh":
            dhnext = np.dot(dWhh.T, dhraw)
        elif bug == "dhnext_decay":
            dhnext = 0.9 * np.dot(Whh.T, dhraw)
        else:
            dhnext = np.dot(Whh.T, dhraw)
    if bug == "dbh_over_T":
        dbh /= len(xs)
    return dxs, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

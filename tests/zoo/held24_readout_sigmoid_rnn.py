"""A min-char-rnn style sigmoid RNN with a softmax read-out, one example at a time (the
built-in karpathy layout: x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)), as a
student adapts Karpathy's lossFun: the forward fills the dicts xs, hs (hs[-1] = h0), ys, ps
with a read-out Why, by of its own; the full backward starts from dscores = ps - targets,
turns them into dh_above = Why.T @ dy and hands those to ``bptt``, the part checked here
(gradharness gives dh_above directly; the read-out is never compared). Activation
sigmoid (options activation="sigmoid"). Twenty-fourth held-out zoo: written without reading
the diagnosis.
"""

import numpy as np

BUGS = {
    "dhraw_no_sigmoid_prime": "derivative_missing",    # dhraw = dh
    "dhraw_prime_at_preact": "derivative_wrong_point",  # dhraw = s'(.) taken as hraw * (1 - hraw) on the pre-activation
    "dhraw_tanh_prime_left_over": "derivative_wrong_function",  # (1 - hs[t] ** 2) kept from min-char-rnn's tanh
    "dhraw_prime_twice": "derivative_twice",           # dhraw = dh * s' * s'
    "dWhh_with_hs_t": "wrong_time",                    # dWhh += dhraw @ hs[t].T
    "dhnext_Whh_untransposed": "weight_transposed",    # dhnext = Whh @ dhraw
    "dWhh_outer_flipped": "gradient_transposed",       # dWhh += hs[t - 1] @ dhraw.T
    "dh_minus_dhnext": "wrong_sign",                   # dh = dh_above[t] - dhnext
    "dbh_assigned": "carry_overwrites",                # dbh = dhraw (= for +=)
    "loop_runs_forward": "loop_direction",             # for t in range(len(xs))
    "clip_like_min_char_rnn": "gradient_clipped",      # np.clip(dparam, -0.2, 0.2, out=dparam) at the end, as lossFun does
    "dhnext_clip_and_skip_t0": "unknown",              # dhnext clipped to +-0.1 and the loop stops before t = 0: two mistakes
    "forward_tanh_left_over": "forward_mistake",       # forward h = tanh(...) (min-char-rnn's), backward tanh' (consistent)
}

TOUCHES = {b: "" for b in BUGS}

rng = np.random.default_rng(24)
V = 5                                                   # the read-out's vocabulary (not compared)
Why_init = rng.standard_normal((V, 6)) * 0.1


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def rnn_forward(inputs, hprev, Wxh, Whh, bh, bug=None):
    """inputs (T, D, 1), hprev (H, 1) -> h (T, H, 1), cache."""
    H = hprev.shape[0]
    Why = Why_init[:, :H].astype(inputs.dtype)
    by = np.zeros((V, 1), dtype=inputs.dtype)
    xs, hraws, hs, ys, ps = {}, {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    for t in range(len(inputs)):
        xs[t] = inputs[t]
        hraws[t] = np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh
        hs[t] = np.tanh(hraws[t]) if bug == "forward_tanh_left_over" else sigmoid(hraws[t])
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t] - ys[t].max()) / np.sum(np.exp(ys[t] - ys[t].max()))
    h = np.stack([hs[t] for t in range(len(inputs))])
    return h, {"xs": xs, "hraws": hraws, "hs": hs, "ps": ps, "Wxh": Wxh, "Whh": Whh, "bh": bh, "Why": Why}


def full_backward(targets, cache, bug=None):
    """What the student's lossFun does: from the softmax scores down to dh_above, then bptt."""
    dh_above = []
    for t in range(len(cache["xs"])):
        dy = np.copy(cache["ps"][t])
        dy[targets[t]] -= 1                              # dscores
        dh_above.append(np.dot(cache["Why"].T, dy))
    return bptt(np.stack(dh_above), cache, bug)


def bptt(dh_above, cache, bug=None):
    """dh_above (T, H, 1) -> dx (T, D, 1), dh0 (H, 1), dWxh, dWhh, dbh."""
    xs, hraws, hs = cache["xs"], cache["hraws"], cache["hs"]
    Wxh, Whh = cache["Wxh"], cache["Whh"]
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(cache["bh"])
    dxs = np.zeros((len(xs),) + xs[0].shape, dtype=dh_above.dtype)
    dhnext = np.zeros_like(hs[0])
    if bug == "loop_runs_forward":
        order = range(len(xs))
    elif bug == "dhnext_clip_and_skip_t0":
        order = reversed(range(1, len(xs)))
    else:
        order = reversed(range(len(xs)))
    for t in order:
        dh = dh_above[t] - dhnext if bug == "dh_minus_dhnext" else dh_above[t] + dhnext
        if bug == "dhraw_no_sigmoid_prime":
            dhraw = dh
        elif bug == "dhraw_prime_at_preact":
            dhraw = hraws[t] * (1 - hraws[t]) * dh
        elif bug in ("dhraw_tanh_prime_left_over", "forward_tanh_left_over"):
            dhraw = (1 - hs[t] * hs[t]) * dh
        elif bug == "dhraw_prime_twice":
            dhraw = hs[t] * (1 - hs[t]) * hs[t] * (1 - hs[t]) * dh
        else:
            dhraw = hs[t] * (1 - hs[t]) * dh
        if bug == "dbh_assigned":
            dbh = dhraw
        else:
            dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        if bug == "dWhh_with_hs_t":
            dWhh += np.dot(dhraw, hs[t].T)
        elif bug == "dWhh_outer_flipped":
            dWhh += np.dot(hs[t - 1], dhraw.T)
        else:
            dWhh += np.dot(dhraw, hs[t - 1].T)
        dxs[t] = np.dot(Wxh.T, dhraw)
        dhnext = np.dot(Whh, dhraw) if bug == "dhnext_Whh_untransposed" else np.dot(Whh.T, dhraw)
        if bug == "dhnext_clip_and_skip_t0":
            np.clip(dhnext, -0.1, 0.1, out=dhnext)
    if bug == "clip_like_min_char_rnn":
        for dparam in [dWxh, dWhh, dbh]:
            np.clip(dparam, -0.2, 0.2, out=dparam)
    return dxs, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        return rnn_forward(x, h0, Wxh, Whh, bh, bug)

    def backward(dh, cache):
        return bptt(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

"""A name generator's training script in min-char-rnn style (the karpathy layout): one name at
a time, column vectors, characters one-hot, a tanh RNN and a softmax over the next letter.
Only the recurrent layer is checked:

    xs (T, D, 1), hprev (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)
    hs[t] = tanh(Wxh @ xs[t] + Whh @ hs[t-1] + bh)

The author keeps ``hs`` as a Python list with hprev first (hs[t + 1] is step t), and clips
the parameter gradients in the training loop (not in the layer). Twenty-ninth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "Whh_not_transposed": "weight_transposed",            # dhnext = Whh @ dhraw
    "dxs_from_dWxh": "gradient_for_weight",               # dxs[t] = dWxh.T @ dhraw (the running gradient)
    "dbh_assigned": "carry_overwrites",                   # dbh = dhraw (= for +=)
    "dtanh_of_h_again": "derivative_wrong_point",         # 1 - tanh(hs[t + 1])**2: tanh' at h instead of at the input
    "last_letter_skipped": "loop_skips_step",             # for t in reversed(range(T - 1))
    "dhnext_zeroed_in_loop": "carry_dropped",             # dhnext = zeros at the top of every step
    "dWhh_per_letter": "reduction_scaled",                # dWhh /= T ("average over the letters")
    "sigmoid_grad_form": "derivative_wrong_function",     # dhraw = hs * (1 - hs) * dh
    "dtanh_twice": "derivative_twice",                    # dh *= 1 - hs**2, then dhraw = (1 - hs**2) * dh
    "clip_in_layer": "gradient_clipped",                  # np.clip(dparam, -1, 1, out=dparam) moved into the layer
    "dxs_one_slot_early": "wrong_time",                   # dxs[t - 1] = Wxh.T @ dhraw: the input gradient a step early
    "bias_outside_tanh": "forward_mistake",               # hs = tanh(Wxh x + Whh h) + bh; backward consistent
    "whh_untransposed_and_dbh_assigned": "unknown",       # two at once: Whh_not_transposed and dbh_assigned
}

TOUCHES = {b: "" for b in BUGS}                           # an RNN has no gates (blind_index.touched_gates)


def one_hot(ix, vocab_size):
    v = np.zeros((vocab_size, 1))
    v[ix] = 1
    return v


def rnn_forward(xs, hprev, Wxh, Whh, bh, bug=None):
    hs = [hprev]
    for x in xs:
        if bug == "bias_outside_tanh":
            hs.append(np.tanh(Wxh @ x + Whh @ hs[-1]) + bh)
        else:
            hs.append(np.tanh(Wxh @ x + Whh @ hs[-1] + bh))
    return np.array(hs[1:]), (xs, hs, Wxh, Whh, bh)


def rnn_backward(dhs, cache, bug=None):
    xs, hs, Wxh, Whh, bh = cache
    T = len(xs)
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dxs = np.zeros_like(xs)
    dhnext = np.zeros_like(hs[0])
    steps = reversed(range(T - 1)) if bug == "last_letter_skipped" else reversed(range(T))
    for t in steps:
        if bug == "dhnext_zeroed_in_loop":
            dhnext = np.zeros_like(dhnext)
        h = hs[t + 1]
        dh = dhs[t] + dhnext
        if bug == "bias_outside_tanh":
            dbh += dh
            h = h - bh
        if bug == "dtanh_of_h_again":
            dhraw = (1 - np.tanh(h) ** 2) * dh
        elif bug == "sigmoid_grad_form":
            dhraw = h * (1 - h) * dh
        elif bug == "dtanh_twice":
            dh = dh * (1 - h * h)
            dhraw = (1 - h * h) * dh
        else:
            dhraw = (1 - h * h) * dh
        if bug in ("dbh_assigned", "whh_untransposed_and_dbh_assigned"):
            dbh = dhraw
        elif bug != "bias_outside_tanh":
            dbh += dhraw
        dWxh += dhraw @ xs[t].T
        dWhh += dhraw @ hs[t].T
        dxs[t - 1 if bug == "dxs_one_slot_early" else t] = (dWxh if bug == "dxs_from_dWxh" else Wxh).T @ dhraw
        if bug in ("Whh_not_transposed", "whh_untransposed_and_dbh_assigned"):
            dhnext = Whh @ dhraw
        else:
            dhnext = Whh.T @ dhraw
    if bug == "dWhh_per_letter":
        dWhh /= T
    if bug == "clip_in_layer":
        for dparam in (dWxh, dWhh, dbh):
            np.clip(dparam, -1, 1, out=dparam)
    return dxs, dhnext, dWxh, dWhh, dbh


def name_loss(hs, targets, Why, by):
    loss, dhs, dWhy, dby = 0.0, [], np.zeros_like(Why), np.zeros_like(by)
    for h, target in zip(hs, targets):
        y = Why @ h + by
        p = np.exp(y - y.max())
        p /= p.sum()
        loss -= np.log(p[target, 0])
        dy = p.copy()
        dy[target] -= 1
        dWhy += dy @ h.T
        dby += dy
        dhs.append(Why.T @ dy)
    return loss, np.array(dhs), dWhy, dby


def train(names, chars, H=32, lr=0.1, epochs=1, seed=0):
    rng = np.random.default_rng(seed)
    ix = {c: i for i, c in enumerate(chars)}
    V = len(chars)
    Wxh, Whh, bh = rng.normal(0, 0.01, (H, V)), rng.normal(0, 0.01, (H, H)), np.zeros((H, 1))
    Why, by = rng.normal(0, 0.01, (V, H)), np.zeros((V, 1))
    for _ in range(epochs):
        for name in names:
            seq = [ix["."]] + [ix[c] for c in name]
            xs = np.array([one_hot(i, V) for i in seq])
            targets = seq[1:] + [ix["."]]
            hs, cache = rnn_forward(xs, np.zeros((H, 1)), Wxh, Whh, bh)
            loss, dhs, dWhy, dby = name_loss(hs, targets, Why, by)
            _, _, dWxh, dWhh, dbh = rnn_backward(dhs, cache)
            for param, dparam in ((Wxh, dWxh), (Whh, dWhh), (bh, dbh), (Why, dWhy), (by, dby)):
                np.clip(dparam, -5, 5, out=dparam)
                param -= lr * dparam
    return Wxh, Whh, bh, Why, by


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(xs, hprev, Wxh, Whh, bh):
        return rnn_forward(xs, hprev, Wxh, Whh, bh, bug)

    def backward(dhs, cache):
        return rnn_backward(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "karpathy"}

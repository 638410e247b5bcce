"""min-char-rnn's BPTT as a chatbot rewrites it, in the karpathy layout (column vectors, one
example at a time: x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1), tanh): the
forward keeps a list of ``(x, h_prev, h)`` tuples made with tuple unpacking
(``h_prev, h = h, np.tanh(...)``), the backward walks ``reversed(list(enumerate(steps)))``
with Karpathy's ``dhraw`` / ``dhnext`` names, reading each step's upstream gradient by its
index. Twenty-eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "clip_params_like_minchar": "gradient_clipped",      # for d in (dWxh, dWhh, dbh): np.clip(d, -0.05, 0.05, out=d)
    "dhnext_Whh_untransposed": "weight_transposed",      # dhnext = Whh @ dhraw
    "dWhh_outer_swapped": "gradient_transposed",         # dWhh += h_prev @ dhraw.T
    "dhraw_from_h_prev": "wrong_time",                   # (1 - h_prev * h_prev): tanh' of the step before
    "dhraw_tanh_of_h": "derivative_wrong_point",         # 1 - np.tanh(h) ** 2: tanh' at h, h taken as the input
    "dhraw_sigmoid_form": "derivative_wrong_function",   # h * (1 - h)
    "dhraw_minus_typo": "derivative_miswritten",         # (1 - h) * (1 - h) for (1 - h) * (1 + h)
    "dhraw_without_dy": "term_dropped",                  # dhraw = (1 - h * h) * dhnext: the step's own gradient left out
    "dhraw_without_dhnext": "carry_dropped",             # dhraw = (1 - h * h) * dy
    "enumerate_slice_skips_0": "loop_skips_step",        # reversed(list(enumerate(steps))[1:])
    "dWhh_averaged_over_T": "reduction_scaled",          # dWhh /= len(xs) ("average over the sequence")
    "steps_not_reversed": "loop_direction",              # for t, ... in enumerate(steps): no reversed
    "forward_bias_outside_tanh": "forward_mistake",      # h = np.tanh(Wxh x + Whh h) + bh; backward dbh += dy + dhnext
    "dhnext_decayed": "unknown",                         # dhnext = 0.9 * Whh.T @ dhraw: an arbitrary constant
}

TOUCHES = {b: "" for b in BUGS}                          # an RNN: computed as "" by blind_index.touched_gates


def forward(xs, hprev, Wxh, Whh, bh, bug=None):
    steps, h = [], hprev
    for x in xs:
        if bug == "forward_bias_outside_tanh":
            h_prev, h = h, np.tanh(Wxh @ x + Whh @ h) + bh
        else:
            h_prev, h = h, np.tanh(Wxh @ x + Whh @ h + bh)
        steps.append((x, h_prev, h))
    return np.array([s[2] for s in steps]), (steps, Wxh, Whh, bh)


def backward(dhs, cache, bug=None):
    steps, Wxh, Whh, bh = cache
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dxs = np.zeros((len(steps),) + steps[0][0].shape, dtype=dhs.dtype)
    dhnext = np.zeros_like(steps[0][1])
    walk = list(enumerate(steps))
    if bug == "enumerate_slice_skips_0":
        walk = walk[1:]
    if bug != "steps_not_reversed":
        walk = reversed(walk)
    for t, (x, h_prev, h) in walk:
        dy = dhs[t]
        if bug == "dhraw_from_h_prev":
            dhraw = (1 - h_prev * h_prev) * (dy + dhnext)
        elif bug == "dhraw_tanh_of_h":
            dhraw = (1 - np.tanh(h) ** 2) * (dy + dhnext)
        elif bug == "dhraw_sigmoid_form":
            dhraw = h * (1 - h) * (dy + dhnext)
        elif bug == "dhraw_minus_typo":
            dhraw = (1 - h) * (1 - h) * (dy + dhnext)
        elif bug == "dhraw_without_dy":
            dhraw = (1 - h * h) * dhnext
        elif bug == "dhraw_without_dhnext":
            dhraw = (1 - h * h) * dy
        elif bug == "forward_bias_outside_tanh":
            a = h - bh                                    # tanh(...) itself
            dbh += dy + dhnext
            dhraw = (1 - a * a) * (dy + dhnext)
        else:
            dhraw = (1 - h * h) * (dy + dhnext)
        dWxh += dhraw @ x.T
        dWhh += h_prev @ dhraw.T if bug == "dWhh_outer_swapped" else dhraw @ h_prev.T
        if bug != "forward_bias_outside_tanh":
            dbh += dhraw
        dxs[t] = Wxh.T @ dhraw
        dhnext = Whh @ dhraw if bug == "dhnext_Whh_untransposed" else Whh.T @ dhraw
        if bug == "dhnext_decayed":
            dhnext = 0.9 * dhnext
    if bug == "dWhh_averaged_over_T":
        dWhh /= len(steps)
    if bug == "clip_params_like_minchar":
        for d in (dWxh, dWhh, dbh):
            np.clip(d, -0.05, 0.05, out=d)
    return dxs, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(xs, hprev, Wxh, Whh, bh):
        return forward(xs, hprev, Wxh, Whh, bh, bug)

    def bwd(dhs, cache):
        return backward(dhs, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy"}

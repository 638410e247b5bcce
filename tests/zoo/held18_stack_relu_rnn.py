"""A ReLU RNN in Karpathy's layout (one example at a time, column vectors: x (T, D, 1),
h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)) written as a small class whose __call__ pushes
each step's record onto a stack; the backward pops the stack (last step first) until it is
empty, so the order of the walk is the stack's.

    h_t = relu(Wxh x_t + Whh h_(t-1) + bh)               (activation="relu")

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "no_relu_mask": "derivative_missing",               # draw = dz (the mask h > 0 never applied)
    "tanh_prime_for_relu": "derivative_wrong_function", # draw = dz * (1 - h * h)
    "mask_of_later_step": "wrong_time",                 # the mask kept from the record popped before (step t+1)
    "carry_Whh_no_T": "weight_transposed",              # dhnext = Whh @ draw
    "dWhh_outer_swapped": "gradient_transposed",        # dWhh += h_prev @ draw.T
    "dz_is_carry_only": "carry_overwrites",             # dz = dhnext once the carry is non-zero (dh[t] lost)
    "carry_never_added": "carry_dropped",               # dz = dh[t]
    "stack_stops_at_one": "loop_skips_step",            # while len(stack) > 1: the first step never popped
    "clip_dWhh_norm": "gradient_clipped",               # dWhh rescaled to norm 1 when larger, in the backward
    "dbh_minus": "wrong_sign",                          # dbh -= draw (the update's minus written into the gradient)
    "dx_before_mask": "derivative_missing",             # dx[t] = Wxh.T @ dz: the relu mask left out of the dx path
    "forward_bias_after_relu": "forward_mistake",       # h = relu(Wxh x + Whh h) + bh; backward consistent
    "minus_bias_and_skip": "unknown",                   # two at once: dbh -= draw and the first step never popped
}

TOUCHES = {bug: "" for bug in BUGS}                     # an RNN: blind_index.touched_gates gives ""


class ElmanReLU:
    def __init__(self, Wxh, Whh, bh, bug=None):
        self.Wxh, self.Whh, self.bh, self.bug = Wxh, Whh, bh, bug
        self.stack = []

    def __call__(self, x_t, h_prev):
        pre = self.Wxh @ x_t + self.Whh @ h_prev
        if self.bug == "forward_bias_after_relu":
            h = np.maximum(pre, 0) + self.bh
            mask = pre > 0
        else:
            h = np.maximum(pre + self.bh, 0)
            mask = h > 0
        self.stack.append((x_t, h_prev, h, mask))
        return h


def forward(x, h0, Wxh, Whh, bh, bug=None):
    net = ElmanReLU(Wxh, Whh, bh, bug)
    hs, h = [], h0
    for x_t in x:
        h = net(x_t, h)
        hs.append(h)
    return np.array(hs), net


def backward(dh, net, bug=None):
    dWxh, dWhh, dbh = np.zeros_like(net.Wxh), np.zeros_like(net.Whh), np.zeros_like(net.bh)
    T = dh.shape[0]
    dx = np.zeros((T,) + (net.Wxh.shape[1], 1), dtype=dh.dtype)
    dhnext = np.zeros_like(dh[0])
    stack = list(net.stack)
    t, last_mask = T, None
    floor = 1 if bug in ("stack_stops_at_one", "minus_bias_and_skip") else 0
    while len(stack) > floor:
        x_t, h_prev, h, mask = stack.pop()
        t -= 1
        if bug == "carry_never_added":
            dz = dh[t]
        elif bug == "dz_is_carry_only" and t < T - 1:
            dz = dhnext
        else:
            dz = dh[t] + dhnext
        if bug == "no_relu_mask":
            draw = dz
        elif bug == "tanh_prime_for_relu":
            draw = dz * (1 - h * h)
        elif bug == "mask_of_later_step" and last_mask is not None:
            draw = dz * last_mask
        else:
            draw = dz * mask
        last_mask = mask
        dWxh += draw @ x_t.T
        dWhh += (h_prev @ draw.T) if bug == "dWhh_outer_swapped" else (draw @ h_prev.T)
        if bug in ("dbh_minus", "minus_bias_and_skip"):
            dbh -= draw
        elif bug == "forward_bias_after_relu":
            dbh += dz
        else:
            dbh += draw
        dx[t] = net.Wxh.T @ (dz if bug == "dx_before_mask" else draw)
        dhnext = (net.Whh @ draw) if bug == "carry_Whh_no_T" else (net.Whh.T @ draw)
    if bug == "clip_dWhh_norm":
        norm = np.linalg.norm(dWhh)
        if norm > 1.0:
            dWhh *= 1.0 / norm
    return dx, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}

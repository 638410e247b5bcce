"""A cs231n-layout RNN written with np.einsum for everything, the carry included
('nh,hk->nk'): the input projection of every step is done at once before the loop, the
backward fills a (N, T, H) array of pre-activation gradients and the weight gradients are
three einsums over it after the loop. x (N, T, D), Wx (D, H), Wh (H, H), b (H,), tanh.
Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "carry_einsum_untransposed": "weight_transposed",   # carry = einsum('nk,kh->nh', dpre, Wh): Wh not transposed
    "dWh_einsum_out_swapped": "gradient_transposed",    # dWh = einsum('nth,ntk->kh', ...): output indices swapped
    "dWh_from_current_h": "wrong_time",                 # dWh built from hs[:, t] instead of the previous state
    "dpre_no_tanh_grad": "derivative_missing",          # dpre = g (the (1 - h**2) factor forgotten)
    "tanh_grad_sign_flip": "wrong_sign",                # dpre = g * (h**2 - 1)
    "carry_never_added": "carry_dropped",               # g = dh[:, t]: the carry computed but never added
    "db_einsum_mean": "reduction_scaled",               # db = dpre_all.mean(axis=(0, 1)) instead of the sum
    "range_stops_at_one": "loop_skips_step",            # for t in reversed(range(1, T)): step 0 never visited
    "bias_added_twice_forward": "forward_mistake",      # pre = xs[:, t] + h Wh + b with b already in xs; db = 2 sum
    "backward_loop_forward": "loop_direction",          # for t in range(T): the backward walks forward in time
    "dWh_clip_inside": "gradient_clipped",              # np.clip(dWh, -0.5, 0.5, out=dWh) before returning
    "carry_cut_after_three": "truncated_bptt",          # the carry is zeroed once three steps have been walked
    "tanh_grad_times_two": "derivative_miswritten",     # dpre = g * (1 - 2 * h): h**2 written as 2 * h
    "untransposed_and_mean": "unknown",                 # two at once: carry untransposed and db a mean
}

TOUCHES = {b: "" for b in BUGS}                          # an RNN has no gates


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    xs = np.einsum('ntd,dh->nth', x, Wx) + b
    hs = []
    h = h0
    for t in range(T):
        pre = xs[:, t] + np.einsum('nh,hk->nk', h, Wh)
        if bug == "bias_added_twice_forward":
            pre = pre + b
        h = np.tanh(pre)
        hs.append(h)
    hs = np.stack(hs, axis=1)
    return hs, (x, h0, Wx, Wh, hs)


def rnn_backward(dh, cache, bug=None):
    x, h0, Wx, Wh, hs = cache
    N, T, H = dh.shape
    prevs = np.concatenate([h0[:, None, :], hs[:, :-1]], axis=1)
    dpre_all = np.zeros_like(hs)
    carry = np.zeros((N, H), dtype=dh.dtype)
    if bug == "range_stops_at_one":
        steps = reversed(range(1, T))
    elif bug == "backward_loop_forward":
        steps = range(T)
    else:
        steps = reversed(range(T))
    walked = 0
    for t in steps:
        g = dh[:, t] if bug == "carry_never_added" else dh[:, t] + carry
        if bug == "dpre_no_tanh_grad":
            dpre = g
        elif bug == "tanh_grad_sign_flip":
            dpre = g * (hs[:, t] ** 2 - 1)
        elif bug == "tanh_grad_times_two":
            dpre = g * (1 - 2 * hs[:, t])
        else:
            dpre = g * (1 - hs[:, t] ** 2)
        dpre_all[:, t] = dpre
        if bug in ("carry_einsum_untransposed", "untransposed_and_mean"):
            carry = np.einsum('nk,kh->nh', dpre, Wh)
        else:
            carry = np.einsum('nk,hk->nh', dpre, Wh)
        walked += 1
        if bug == "carry_cut_after_three" and walked >= 3:
            carry = np.zeros_like(carry)
    dx = np.einsum('nth,dh->ntd', dpre_all, Wx)
    dWx = np.einsum('ntd,nth->dh', x, dpre_all)
    if bug == "dWh_einsum_out_swapped":
        dWh = np.einsum('nth,ntk->kh', prevs, dpre_all)
    elif bug == "dWh_from_current_h":
        dWh = np.einsum('nth,ntk->hk', hs, dpre_all)
    else:
        dWh = np.einsum('nth,ntk->hk', prevs, dpre_all)
    if bug in ("db_einsum_mean", "untransposed_and_mean"):
        db = dpre_all.mean(axis=(0, 1))
    else:
        db = np.einsum('nth->h', dpre_all)
    if bug == "bias_added_twice_forward":
        db = 2 * db
    if bug == "dWh_clip_inside":
        np.clip(dWh, -0.5, 0.5, out=dWh)
    return dx, carry, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

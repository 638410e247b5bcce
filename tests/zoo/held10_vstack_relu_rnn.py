"""A ReLU RNN in Karpathy's one-example-at-a-time column-vector layout (x (T, D, 1), h0 (H, 1),
Wxh (H, D), Whh (H, H), bh (H, 1); the built-in ``karpathy`` layout, activation="relu"), by someone
who keeps the hidden states as a Python list of per-step columns and builds the output with
np.vstack at the end:

    hs = [h0];  for t: h = np.maximum(0, Wxh @ x[t] + Whh @ hs[-1] + bh); hs.append(h)
    h_out = np.vstack([h.T for h in hs[1:]])[:, :, None]          (T, H, 1)

The backward walks the list from the end with a 0/1 mask (h > 0) for relu'. Tenth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "mask_from_prev_h": "wrong_time",                  # mask = hs[t] > 0: relu' one step early (h_{t-1})
    "tanh_grad_for_relu": "derivative_wrong_function",  # draw = dh_t * (1 - h * h)
    "no_mask": "derivative_missing",                   # draw = dh_t
    "mask_ge_zero": "derivative_miswritten",           # mask = h >= 0: dead units (h == 0) pass the gradient
    "carry_through_Whh": "weight_transposed",          # dhnext = Whh @ draw
    "dWhh_transposed": "gradient_transposed",          # dWhh += hs[t] @ draw.T
    "forgot_plus_dhnext": "carry_dropped",             # dh_t = dh[t]
    "db_over_T": "reduction_scaled",                   # dbh /= len(x) at the end
    "clip_like_min_char_rnn": "gradient_clipped",      # np.clip(dparam, -0.05, 0.05, out=dparam) for dWxh, dWhh, dbh
    "stops_at_one": "loop_skips_step",                 # reversed(range(1, T))
    "dWhh_with_h_t": "wrong_time",                     # dWhh += draw @ hs[t + 1].T
    "dx_from_unmasked": "wrong_value",                 # dx[t] = Wxh.T @ dh_t (dh_t read for draw)
    "forward_x_one_back": "forward_mistake",           # a uses x[t - 1] (x[-1] at t = 0); backward consistent
    "dWhh_late_and_db_lost": "unknown",                # dWhh with hs[t + 1] and dbh = draw (= for +=)
}

TOUCHES = {b: "" for b in BUGS}                         # an RNN: no gates


def forward(x, h0, Wxh, Whh, bh, bug=None):
    T = len(x)
    hs = [h0]
    for t in range(T):
        xt = x[t - 1] if bug == "forward_x_one_back" else x[t]
        a = np.dot(Wxh, xt) + np.dot(Whh, hs[-1]) + bh
        hs.append(np.maximum(0, a))
    h_out = np.vstack([h.T for h in hs[1:]])[:, :, None]
    return h_out, (x, hs, Wxh, Whh)


def backward(dh, cache, bug=None):
    x, hs, Wxh, Whh = cache
    T = len(x)
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(hs[0])
    dx = np.zeros_like(x)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(1 if bug == "stops_at_one" else 0, T)):
        dh_t = dh[t] if bug == "forgot_plus_dhnext" else dh[t] + dhnext
        h = hs[t + 1]
        if bug == "mask_from_prev_h":
            draw = dh_t * (hs[t] > 0)
        elif bug == "tanh_grad_for_relu":
            draw = dh_t * (1 - h * h)
        elif bug == "no_mask":
            draw = dh_t
        elif bug == "mask_ge_zero":
            draw = dh_t * (h >= 0)
        else:
            draw = dh_t * (h > 0)
        if bug == "dWhh_late_and_db_lost":
            dbh = draw
        else:
            dbh += draw
        xt_idx = t - 1 if bug == "forward_x_one_back" else t
        dWxh += np.dot(draw, x[xt_idx].T)
        if bug in ("dWhh_with_h_t", "dWhh_late_and_db_lost"):
            dWhh += np.dot(draw, hs[t + 1].T)
        elif bug == "dWhh_transposed":
            dWhh += np.dot(hs[t], draw.T)
        else:
            dWhh += np.dot(draw, hs[t].T)
        dxt = np.dot(Wxh.T, dh_t) if bug == "dx_from_unmasked" else np.dot(Wxh.T, draw)
        dx[xt_idx] += dxt
        dhnext = np.dot(Whh, draw) if bug == "carry_through_Whh" else np.dot(Whh.T, draw)
    if bug == "db_over_T":
        dbh /= len(x)
    if bug == "clip_like_min_char_rnn":
        for dparam in [dWxh, dWhh, dbh]:
            np.clip(dparam, -0.05, 0.05, out=dparam)
    return dx, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}

"""A homework RNN written as one ``rnn_train_step`` that runs the forward and, when it is
given the upstream gradient, BPTT right after it in the same function (forward and backward
interleaved, the way a notebook's training cell grows), in the cs231n layout: x (N, T, D),
Wx (D, H), Wh (H, H), b (H,), tanh. The hidden states live in one (N, T+1, H) array ``hs``
with h0 at index 0. ``forward`` runs the step without a gradient; ``backward`` runs it
again with one. Twenty-fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dz_tanh_prime_prev_state": "wrong_time",          # dz = dtot * (1 - hs[:, t] ** 2): tanh' at h_(t-1), one step early
    "dz_tanh_prime_no_square": "derivative_miswritten",  # dz = dtot * (1 - hs[:, t + 1])
    "dz_sigmoid_prime": "derivative_wrong_function",   # dz = dtot * h * (1 - h)
    "dnext_Wh_untransposed": "weight_transposed",      # dnext = dz @ Wh
    "dWh_with_h_t": "wrong_time",                      # dWh += hs[:, t + 1].T @ dz (h_t for h_(t-1))
    "dnext_typo_never_read": "carry_dropped",          # dh_next = dz @ Wh.T, but the loop adds dnext (always 0)
    "db_mean_over_batch": "reduction_scaled",          # db += dz.mean(axis=0)
    "loop_stops_before_t0": "loop_skips_step",         # for t in range(T - 1, 0, -1)
    "backward_loop_forward": "loop_direction",         # for t in range(T): the backward walks forward in time
    "clip_dWh_norm": "gradient_clipped",               # dWh rescaled to norm 0.5 when its norm is above 0.5
    "truncated_every_2": "truncated_bptt",             # dnext reset to 0 every 2 steps back
    "dz_times_half_const": "unknown",                  # dz = 0.5 * dtot * (1 - h ** 2): an arbitrary constant
    "dx_from_dtot_and_db_mean": "unknown",             # dx = dtot @ Wx.T (no tanh') and db.mean: two mistakes
    "forward_bias_twice": "forward_mistake",           # h = tanh(x Wx + b + h Wh + b); db += 2 * dz.sum (consistent)
}

TOUCHES = {b: "" for b in BUGS}                         # an RNN has no gates


def rnn_train_step(x, h0, Wx, Wh, b, dh=None, bug=None):
    """Forward; and if dh is given, backward too. Returns (h, grads or None)."""
    N, T, D = x.shape
    H = h0.shape[1]
    hs = np.zeros((N, T + 1, H), dtype=x.dtype)
    hs[:, 0] = h0
    for t in range(T):
        pre = x[:, t] @ Wx + hs[:, t] @ Wh + b
        if bug == "forward_bias_twice":
            pre = pre + b
        hs[:, t + 1] = np.tanh(pre)
    h = hs[:, 1:]
    if dh is None:
        return h, None

    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros((N, H), dtype=x.dtype)
    if bug == "loop_stops_before_t0":
        steps = range(T - 1, 0, -1)
    elif bug == "backward_loop_forward":
        steps = range(T)
    else:
        steps = range(T - 1, -1, -1)
    for k, t in enumerate(steps):
        if bug == "truncated_every_2" and k % 2 == 0:
            dnext = np.zeros_like(dnext)
        dtot = dh[:, t] + dnext
        ht = hs[:, t + 1]
        if bug == "dz_tanh_prime_prev_state":
            dz = dtot * (1 - hs[:, t] ** 2)
        elif bug == "dz_tanh_prime_no_square":
            dz = dtot * (1 - ht)
        elif bug == "dz_sigmoid_prime":
            dz = dtot * ht * (1 - ht)
        elif bug == "dz_times_half_const":
            dz = 0.5 * dtot * (1 - ht ** 2)
        else:
            dz = dtot * (1 - ht ** 2)
        dWx += x[:, t].T @ dz
        dWh += (hs[:, t + 1] if bug == "dWh_with_h_t" else hs[:, t]).T @ dz
        if bug in ("db_mean_over_batch", "dx_from_dtot_and_db_mean"):
            db += dz.mean(axis=0)
        elif bug == "forward_bias_twice":
            db += 2 * dz.sum(axis=0)
        else:
            db += dz.sum(axis=0)
        dx[:, t] = (dtot if bug == "dx_from_dtot_and_db_mean" else dz) @ Wx.T
        if bug == "dnext_typo_never_read":
            dh_next = dz @ Wh.T                            # noqa: F841 (the typo: dnext is what the loop reads)
        elif bug == "dnext_Wh_untransposed":
            dnext = dz @ Wh
        else:
            dnext = dz @ Wh.T
    if bug == "clip_dWh_norm":
        norm = np.linalg.norm(dWh)
        if norm > 0.5:
            dWh = dWh * (0.5 / norm)
    return h, (dx, dnext, dWx, dWh, db)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        h, _ = rnn_train_step(x, h0, Wx, Wh, b, bug=bug)
        return h, (x, h0, Wx, Wh, b)

    def backward(dh, cache):
        _, grads = rnn_train_step(*cache, dh=dh, bug=bug)
        return grads

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

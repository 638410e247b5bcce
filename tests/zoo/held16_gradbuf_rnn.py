"""A vanilla RNN on the built-in ``karpathy`` layout (column vectors, one example at a time:
x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)) whose states live in one
pre-allocated (T+1, H, 1) array hs with hs[0] = h0, and whose backward lets "dh_next" flow
through a pre-allocated (T+1, H, 1) gradient buffer dhs_buf: step t reads its total gradient
at dhs_buf[t + 1] and writes the carry into dhs_buf[t]; dh0 is dhs_buf[0].

    hs[t + 1] = tanh(Wxh @ x[t] + Whh @ hs[t] + bh)

Sixteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "upstream_assigned_into_buffer": "carry_overwrites",  # dhs_buf[t + 1] = dh[t]: the carry there overwritten
    "carry_kept_in_local": "carry_dropped",               # dhnext = Whh.T @ draw, never put in the buffer
    "tanh_grad_at_hs_t": "derivative_wrong_point",        # 1 - hs[t] ** 2: h_(t-1) for h_t (also a read one slot early)
    "dWhh_with_hs_t_plus_1": "wrong_time",                # draw @ hs[t + 1].T: h_t for h_(t-1)
    "Whh_not_transposed": "weight_transposed",            # dhs_buf[t] = Whh @ draw
    "dWhh_outer_flipped": "gradient_transposed",          # hs[t] @ draw.T: dWhh comes out transposed
    "tanh_grad_sign": "wrong_sign",                       # (hs[t + 1] ** 2 - 1)
    "dbh_from_raw_buffer": "derivative_missing",          # dbh += dhs_buf[t + 1]: the tanh' left out of dbh only
    "loop_stops_before_0": "loop_skips_step",             # for t in reversed(range(1, T))
    "upstream_added_one_slot_early": "wrong_time",        # dhs_buf[:T] += dh before the loop (for dhs_buf[1:])
    "carry_cut_every_3": "truncated_bptt",                # dhs_buf[t] zeroed when 3 steps have been walked back
    "dparams_clipped_0_5": "gradient_clipped",            # np.clip(d, -0.5, 0.5, out=d) for dWxh, dWhh, dbh
    "forward_bias_outside_tanh": "forward_mistake",       # hs[t + 1] = tanh(Wxh x + Whh h) + bh; backward consistent
    "dx_through_dWxh": "gradient_for_weight",             # dx[t] = dWxh.T @ draw (the running gradient for Wxh)
    "carry_halved": "unknown",                            # dhs_buf[t] = 0.5 * Whh.T @ draw (an arbitrary constant)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "upstream_assigned_into_buffer": "",
    "carry_kept_in_local": "",
    "tanh_grad_at_hs_t": "",
    "dWhh_with_hs_t_plus_1": "",
    "Whh_not_transposed": "",
    "dWhh_outer_flipped": "",
    "tanh_grad_sign": "",
    "dbh_from_raw_buffer": "",
    "loop_stops_before_0": "",
    "upstream_added_one_slot_early": "",
    "carry_cut_every_3": "",
    "dparams_clipped_0_5": "",
    "forward_bias_outside_tanh": "",
    "dx_through_dWxh": "",
    "carry_halved": "",
}


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    outside = bug == "forward_bias_outside_tanh"

    def forward(x, h0, Wxh, Whh, bh):
        T = x.shape[0]
        hs = np.zeros((T + 1,) + h0.shape, dtype=x.dtype)
        hs[0] = h0
        for t in range(T):
            if outside:
                hs[t + 1] = np.tanh(np.dot(Wxh, x[t]) + np.dot(Whh, hs[t])) + bh
            else:
                hs[t + 1] = np.tanh(np.dot(Wxh, x[t]) + np.dot(Whh, hs[t]) + bh)
        return hs[1:].copy(), (x, hs, Wxh, Whh, bh)

    def backward(dh, cache):
        x, hs, Wxh, Whh, bh = cache
        T = x.shape[0]
        dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
        dx = np.zeros_like(x)
        dhs_buf = np.zeros_like(hs)
        if bug == "upstream_added_one_slot_early":
            dhs_buf[:T] += dh
        dhnext = np.zeros_like(hs[0])
        first = 1 if bug == "loop_stops_before_0" else 0
        for t in reversed(range(first, T)):
            if bug == "upstream_assigned_into_buffer":
                dhs_buf[t + 1] = dh[t]
            elif bug != "upstream_added_one_slot_early":
                dhs_buf[t + 1] += dh[t]
            if outside:
                draw = (1 - (hs[t + 1] - bh) ** 2) * dhs_buf[t + 1]
            elif bug == "tanh_grad_at_hs_t":
                draw = (1 - hs[t] ** 2) * dhs_buf[t + 1]
            elif bug == "tanh_grad_sign":
                draw = (hs[t + 1] ** 2 - 1) * dhs_buf[t + 1]
            else:
                draw = (1 - hs[t + 1] ** 2) * dhs_buf[t + 1]
            dWxh += np.dot(draw, x[t].T)
            if bug == "dWhh_with_hs_t_plus_1":
                dWhh += np.dot(draw, hs[t + 1].T)
            elif bug == "dWhh_outer_flipped":
                dWhh += np.dot(hs[t], draw.T)
            else:
                dWhh += np.dot(draw, hs[t].T)
            if outside:
                dbh += dhs_buf[t + 1]
            elif bug == "dbh_from_raw_buffer":
                dbh += dhs_buf[t + 1]
            else:
                dbh += draw
            dx[t] = np.dot((dWxh if bug == "dx_through_dWxh" else Wxh).T, draw)
            if bug == "carry_kept_in_local":
                dhnext = np.dot(Whh.T, draw)
            elif bug == "Whh_not_transposed":
                dhs_buf[t] = np.dot(Whh, draw)
            elif bug == "carry_halved":
                dhs_buf[t] = 0.5 * np.dot(Whh.T, draw)
            else:
                dhs_buf[t] += np.dot(Whh.T, draw)
            if bug == "carry_cut_every_3" and (T - t) % 3 == 0:
                dhs_buf[t] = 0
        if bug == "dparams_clipped_0_5":
            for d in (dWxh, dWhh, dbh):
                np.clip(d, -0.5, 0.5, out=d)
        dh0 = dhnext if bug == "carry_kept_in_local" else dhs_buf[0]
        return dx, dh0, dWxh, dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy"}

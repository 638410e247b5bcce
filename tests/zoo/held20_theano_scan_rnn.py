"""A tanh RNN ported from a Theano tutorial: a small ``scan(fn, sequences, outputs_info,
non_sequences, go_backwards)`` helper runs a step function over the sequence, and the
backward is written as a second scan (going backwards) whose recurrent outputs are the
carry and the three gradient accumulators, as Theano's grad of scan would build it.
Karpathy's layout (one example at a time, column vectors):

    h_t = tanh(Wxh @ x_t + Whh @ h_(t-1) + bh)

x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1) -> h (T, H, 1).
Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "scan_back_forwards": "loop_direction",             # the backward scan with go_backwards=False
    "dtanh_of_h_again": "derivative_wrong_point",       # (1 - tanh(h_t) ** 2): tanh' taken at h_t, not at the pre-activation
    "dtanh_flipped": "wrong_sign",                      # (h_t ** 2 - 1) * dh
    "dWhh_with_h_t": "wrong_time",                      # dWhh += da @ h_t.T (h_t for h_(t-1))
    "Whh_not_transposed": "weight_transposed",          # dh_prev = Whh @ da
    "dh_prev_from_dWhh": "gradient_for_weight",         # dh_prev = dWhh.T @ da (the accumulator for the weight)
    "carry_not_fed_back": "carry_dropped",              # the step returns dh_prev but outputs_info keeps the zeros
    "dbh_over_T": "reduction_scaled",                   # bh's gradient divided by len(xs) at the end
    "truncate_gradient_2": "truncated_bptt",            # the carry out of every odd step reset to zero (k = 2 truncated BPTT)
    "clip_params_at_1": "gradient_clipped",             # np.clip(dparam, -1, 1, out=dparam) as in min-char-rnn, inside the backward
    "bias_after_tanh": "forward_mistake",               # h_t = tanh(Wxh x + Whh h) + bh; backward consistent
    "carry_added_after_dtanh": "derivative_missing",    # da = (1 - h^2) * dh_t + dh_next: tanh' left out of the carry's part
    "dWhh_transposed": "gradient_transposed",           # dWhh += h_(t-1) @ da.T
    "dWhh_with_h_t_and_dbh_over_T": "unknown",          # two mistakes at once: dWhh_with_h_t and dbh_over_T
}

TOUCHES = {b: "" for b in BUGS}                         # an RNN: no gates


def scan(fn, sequences, outputs_info, non_sequences=(), go_backwards=False):
    """Theano's scan, eagerly: fn(*seq_t, *carries, *non_sequences) returns the new carries
    (one per outputs_info entry) followed by per-step outputs. Returns (carries, outputs in time order)."""
    T = len(sequences[0])
    carries, outputs = list(outputs_info), [None] * T
    for t in (reversed(range(T)) if go_backwards else range(T)):
        res = fn(*[s[t] for s in sequences], *carries, *non_sequences)
        carries, outputs[t] = list(res[:len(carries)]), res[len(carries):]
    return carries, outputs


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def step(x_t, h_tm1, Wxh, Whh, bh):
        if bug == "bias_after_tanh":
            h_t = np.tanh(Wxh @ x_t + Whh @ h_tm1) + bh
        else:
            h_t = np.tanh(Wxh @ x_t + Whh @ h_tm1 + bh)
        return h_t, h_t

    def forward(xs, h0, Wxh, Whh, bh):
        _, outs = scan(step, [xs], [h0], [Wxh, Whh, bh])
        hs = np.stack([o[0] for o in outs])
        return hs, (xs, h0, hs, Wxh, Whh, bh)

    def back_step(x_t, h_t, h_tm1, dh_t, t, dh_next, dWxh, dWhh, dbh, Wxh, Whh, bh):
        if bug == "bias_after_tanh":
            tanh_part = h_t - bh
        else:
            tanh_part = h_t
        if bug == "dtanh_of_h_again":
            da = (dh_t + dh_next) * (1 - np.tanh(tanh_part) ** 2)
        elif bug == "dtanh_flipped":
            da = (dh_t + dh_next) * (tanh_part ** 2 - 1)
        elif bug == "carry_added_after_dtanh":
            da = (1 - tanh_part ** 2) * dh_t + dh_next
        else:
            da = (dh_t + dh_next) * (1 - tanh_part ** 2)
        dWxh = dWxh + da @ x_t.T
        if bug in ("dWhh_with_h_t", "dWhh_with_h_t_and_dbh_over_T"):
            dWhh = dWhh + da @ h_t.T
        elif bug == "dWhh_transposed":
            dWhh = dWhh + h_tm1 @ da.T
        else:
            dWhh = dWhh + da @ h_tm1.T
        dbh = dbh + (dh_t + dh_next if bug == "bias_after_tanh" else da)
        dx_t = Wxh.T @ da
        if bug == "Whh_not_transposed":
            dh_prev = Whh @ da
        elif bug == "dh_prev_from_dWhh":
            dh_prev = dWhh.T @ da
        else:
            dh_prev = Whh.T @ da
        if bug == "carry_not_fed_back":
            dh_prev_out = dh_next
        elif bug == "truncate_gradient_2" and t % 2 == 1:
            dh_prev_out = np.zeros_like(dh_prev)
        else:
            dh_prev_out = dh_prev
        return dh_prev_out, dWxh, dWhh, dbh, dx_t

    def backward(dhs, cache):
        xs, h0, hs, Wxh, Whh, bh = cache
        T = len(xs)
        h_prevs = np.concatenate([h0[None], hs[:-1]])
        (dh0, dWxh, dWhh, dbh), outs = scan(
            back_step, [xs, hs, h_prevs, dhs, np.arange(T)],
            [np.zeros_like(h0), np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)],
            [Wxh, Whh, bh], go_backwards=bug != "scan_back_forwards")
        if bug == "clip_params_at_1":
            for dparam in (dWxh, dWhh, dbh):
                np.clip(dparam, -1, 1, out=dparam)
        if bug in ("dbh_over_T", "dWhh_with_h_t_and_dbh_over_T"):
            dbh = dbh / T
        dxs = np.stack([o[0] for o in outs])
        return dxs, dh0, dWxh, dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy"}

"""A vanilla tanh RNN in the cs231n layout (x (N, T, D), Wx (D, H), Wh (H, H), b (H,)) written
by someone who keeps one dict per step in a plain list, the way a training-loop tutorial
keeps its per-step records, and walks it back with ``for t in reversed(range(len(steps)))``:

    steps[t] = {"x": x_t, "a": x_t @ Wx + h_(t-1) @ Wh + b, "h": tanh(a)}

The previous state is not stored: the backward reads it from the step before (h0 at t = 0).
forward(x, h0, Wx, Wh, b) -> (h, steps); backward(dh, steps) -> (dx, dh0, dWx, dWh, db).
Twelfth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "tanh_grad_from_a": "derivative_wrong_point",         # 1 - a ** 2 (the pre-activation) for 1 - h ** 2
    "tanh_grad_one_minus_h_squared_typo": "derivative_miswritten",   # (1 - h) * (1 - h) for (1 - h) * (1 + h)
    "dWh_from_this_h": "wrong_time",                      # dWh += h_t.T @ da (this step's h, not the one before)
    "h_prev_index_wraps": "wrong_time",                   # h_prev = steps[t - 1]["h"] for every t: h_(T-1) at t = 0
    "Wh_not_transposed": "weight_transposed",             # dh_next = da @ Wh (should be Wh.T)
    "dh_next_typo": "carry_dropped",                      # dh_prevstep = da @ Wh.T stored in a name never read
    "loop_runs_forward": "loop_direction",                # for t in range(len(steps))
    "db_batch_mean": "reduction_scaled",                  # db += da.mean(axis=0)
    "carry_cut_after_3": "truncated_bptt",                # a counter: after 3 steps back the carry is zeroed (once)
    "clip_dWh_at_end": "gradient_clipped",                # np.clip(dWh, -1, 1, out=dWh) before returning
    "dh_next_from_dWh": "gradient_for_weight",            # dh_next = da @ dWh.T (the running gradient for Wh)
    "h_buffer_reused": "inplace_corruption",              # h[:] = tanh(a) into one buffer: every cached h is the last
    "bias_added_twice": "forward_mistake",                # a = x @ Wx + b + h @ Wh + b; db = 2 * sum (consistent)
    "dWh_written_transposed": "gradient_transposed",      # dWh += da.T @ h_prev (square): dWh written transposed
    "skip_first_and_db_mean": "unknown",                  # two at once: loop stops before t = 0 and db is a batch mean
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "tanh_grad_from_a": "",
    "tanh_grad_one_minus_h_squared_typo": "",
    "dWh_from_this_h": "",
    "h_prev_index_wraps": "",
    "Wh_not_transposed": "",
    "dh_next_typo": "",
    "loop_runs_forward": "",
    "db_batch_mean": "",
    "carry_cut_after_3": "",
    "clip_dWh_at_end": "",
    "dh_next_from_dWh": "",
    "h_buffer_reused": "",
    "bias_added_twice": "",
    "dWh_written_transposed": "",
    "skip_first_and_db_mean": "",
}


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    steps = []
    h = h0.copy() if bug == "h_buffer_reused" else h0
    hs = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    for t in range(T):
        x_t = x[:, t, :]
        if bug == "bias_added_twice":
            a = x_t @ Wx + b + h @ Wh + b
        else:
            a = x_t @ Wx + h @ Wh + b
        if bug == "h_buffer_reused":
            h[:] = np.tanh(a)                             # "saves memory": the same array every step
        else:
            h = np.tanh(a)
        steps.append({"x": x_t, "a": a, "h": h})
        hs[:, t] = h
    return hs, {"steps": steps, "h0": h0, "Wx": Wx, "Wh": Wh}


def rnn_backward(dh, cache, bug=None):
    steps, h0, Wx, Wh = cache["steps"], cache["h0"], cache["Wx"], cache["Wh"]
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    order = range(len(steps)) if bug == "loop_runs_forward" else reversed(range(len(steps)))
    if bug == "skip_first_and_db_mean":
        order = reversed(range(1, len(steps)))
    walked = 0
    for t in order:
        s = steps[t]
        if bug == "h_prev_index_wraps":
            h_prev = steps[t - 1]["h"]
        else:
            h_prev = steps[t - 1]["h"] if t > 0 else h0
        dh_t = dh[:, t, :] + dh_next
        if bug == "tanh_grad_from_a":
            da = dh_t * (1 - s["a"] ** 2)
        elif bug == "tanh_grad_one_minus_h_squared_typo":
            da = dh_t * (1 - s["h"]) * (1 - s["h"])
        else:
            da = dh_t * (1 - s["h"]) * (1 + s["h"])
        dx[:, t, :] = da @ Wx.T
        dWx += s["x"].T @ da
        if bug == "dWh_written_transposed":
            dWh += da.T @ h_prev
        else:
            dWh += (s["h"] if bug == "dWh_from_this_h" else h_prev).T @ da
        if bug in ("db_batch_mean", "skip_first_and_db_mean"):
            db += da.mean(axis=0)
        elif bug == "bias_added_twice":
            db += 2 * da.sum(axis=0)
        else:
            db += da.sum(axis=0)
        if bug == "Wh_not_transposed":
            dh_next = da @ Wh
        elif bug == "dh_next_typo":
            dh_prevstep = da @ Wh.T                       # noqa: F841 (the typo: never read)
        elif bug == "dh_next_from_dWh":
            dh_next = da @ dWh.T
        else:
            dh_next = da @ Wh.T
        walked += 1
        if bug == "carry_cut_after_3" and walked == 3:
            dh_next = np.zeros_like(dh_next)
    if bug == "clip_dWh_at_end":
        np.clip(dWh, -1, 1, out=dWh)
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

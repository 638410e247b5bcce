"""A vanilla RNN with ReLU (an IRNN-style experiment) on the built-in ``cs231n`` layout, declared
with activation="relu": x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,),

    next_h = max(0, x_t @ Wx + prev_h @ Wh + b)

step functions keeping the pre-activation in the cache and a sequence driver; the backward
masks with (a > 0) and uses np.dot. Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "relu_mask_of_prev_h": "wrong_time",                  # mask = prev_h > 0: the ReLU' of the step before
    "relu_grad_left_out": "derivative_missing",           # da = dnext_h
    "tanh_grad_kept_from_tanh_version": "derivative_wrong_function",  # da = dnext_h * (1 - next_h ** 2)
    "relu_mask_inverted": "derivative_miswritten",        # mask = a < 0
    "dWh_transposed": "gradient_transposed",              # dWh = np.dot(prev_h.T, da).T
    "dprev_h_Wh_untransposed": "weight_transposed",       # dprev_h = np.dot(Wh.T, da.T).T = da @ Wh
    "db_over_N": "reduction_scaled",                      # db = da.sum(axis=0) / N
    "carry_replaces_upstream": "carry_overwrites",        # dcur = dh[:, t] only at the last step, else dprev_h
    "bptt_truncated_2": "truncated_bptt",                 # dprev_h zeroed once 2 steps are done
    "forward_bias_added_twice": "forward_mistake",        # a = x @ Wx + b + prev_h @ Wh + b; db = 2 * sum, consistent
    "dcur_clipped": "gradient_clipped",                   # np.clip(dcur, -1, 1): each step's incoming gradient clipped
    "leaky_relu_grad_in_backward": "unknown",             # np.where(a > 0, 1, 0.01): a slope the forward does not have
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "relu_mask_of_prev_h": "",
    "relu_grad_left_out": "",
    "tanh_grad_kept_from_tanh_version": "",
    "relu_mask_inverted": "",
    "dWh_transposed": "",
    "dprev_h_Wh_untransposed": "",
    "db_over_N": "",
    "carry_replaces_upstream": "",
    "bptt_truncated_2": "",
    "forward_bias_added_twice": "",
    "dcur_clipped": "",
    "leaky_relu_grad_in_backward": "",
}


def rnn_step_forward(x, prev_h, Wx, Wh, b, bug=None):
    if bug == "forward_bias_added_twice":
        a = x.dot(Wx) + b + prev_h.dot(Wh) + b
    else:
        a = x.dot(Wx) + prev_h.dot(Wh) + b
    next_h = np.maximum(0, a)
    return next_h, (x, prev_h, Wx, Wh, a, next_h)


def rnn_step_backward(dnext_h, cache, bug=None):
    x, prev_h, Wx, Wh, a, next_h = cache
    N = x.shape[0]
    if bug == "relu_grad_left_out":
        da = dnext_h
    elif bug == "tanh_grad_kept_from_tanh_version":
        da = dnext_h * (1 - next_h ** 2)
    elif bug == "leaky_relu_grad_in_backward":
        da = dnext_h * np.where(a > 0, 1.0, 0.01)
    else:
        mask = {"relu_mask_of_prev_h": prev_h > 0, "relu_mask_inverted": a < 0}.get(bug, a > 0)
        da = dnext_h * mask
    dx = np.dot(da, Wx.T)
    if bug == "dprev_h_Wh_untransposed":
        dprev_h = np.dot(Wh.T, da.T).T
    else:
        dprev_h = np.dot(da, Wh.T)
    dWx = np.dot(x.T, da)
    dWh = np.dot(prev_h.T, da).T if bug == "dWh_transposed" else np.dot(prev_h.T, da)
    db = da.sum(axis=0) / N if bug == "db_over_N" else da.sum(axis=0)
    if bug == "forward_bias_added_twice":
        db = 2 * db
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def rnn_forward(x, h0, Wx, Wh, b):
        N, T, D = x.shape
        h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
        prev_h, cache = h0, []
        for t in range(T):
            prev_h, step = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b, bug)
            h[:, t, :] = prev_h
            cache.append(step)
        return h, cache

    def rnn_backward(dh, cache):
        N, T, H = dh.shape
        dx = np.zeros((N, T, cache[0][0].shape[1]), dtype=dh.dtype)
        dWx, dWh, db = np.zeros_like(cache[0][2]), np.zeros_like(cache[0][3]), np.zeros(H, dtype=dh.dtype)
        dprev_h = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            if bug == "carry_replaces_upstream":
                dcur = dh[:, t, :] if t == T - 1 else dprev_h
            else:
                dcur = dh[:, t, :] + dprev_h
            if bug == "dcur_clipped":
                dcur = np.clip(dcur, -1, 1)          # exploding-gradient guard
            dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dcur, cache[t], bug)
            if bug == "bptt_truncated_2" and T - t >= 2:
                dprev_h = np.zeros_like(dprev_h)
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        return dx, dprev_h, dWx, dWh, db

    return rnn_forward, rnn_backward, {"cell": "rnn", "layout": "cs231n", "activation": "relu"}

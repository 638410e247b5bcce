"""A min-char-rnn-layout RNN with a sigmoid activation whose forward also computes each
step's local derivative and caches it (ds[t] = h_t (1 - h_t)), so that the backward only
multiplies; the backward counts down with a while loop. One example at a time, column
vectors (the built-in karpathy layout):

    h_t = sigmoid(Wxh x_t + Whh h_(t-1) + bh)          x (T, D, 1), h0 (H, 1), bh (H, 1)

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "deriv_at_preactivation": "derivative_wrong_point",  # ds[t] = a * (1 - a) on the pre-activation a
    "deriv_of_tanh": "derivative_wrong_function",      # ds[t] = 1 - h * h
    "deriv_applied_twice": "derivative_twice",         # dz = dh * ds[t] * ds[t]
    "deriv_one_step_early": "wrong_time",              # dz = dh * ds[t - 1] (the previous step's derivative; also derivative_wrong_point)
    "dWhh_outer_swapped": "gradient_transposed",       # dWhh += hs[t] @ dz.T for dz @ hs[t].T
    "dhnext_Whh_untransposed": "weight_transposed",    # dhnext = Whh @ dz for Whh.T @ dz
    "dhnext_from_dWhh": "gradient_for_weight",         # dhnext = dWhh.T @ dz
    "dh_without_dhnext": "carry_dropped",              # dh = dys[t] (dhnext computed, never added)
    "while_stops_at_1": "loop_skips_step",             # while t > 1: step 0 never visited
    "dWxh_over_T": "reduction_scaled",                 # dWxh / T at the end
    "deriv_sign_flipped": "wrong_sign",                # ds[t] = h * (h - 1)
    "forward_bias_twice": "forward_mistake",           # a = Wxh x + Whh h + bh + bh; dbh += 2 dz (consistent)
    "grads_kept_across_calls": "unknown",              # dWxh lives in a default argument and grows across calls
    "deriv_constant_quarter": "unknown",               # ds[t] = 0.25 (sigmoid' at 0) for every step
}

TOUCHES = {b: "" for b in BUGS}                        # an RNN has no gates


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(xs, h0, Wxh, Whh, bh):
        T = xs.shape[0]
        hs = np.zeros((T + 1,) + h0.shape, dtype=xs.dtype)   # hs[t + 1] is h_t, hs[0] = h0
        ds = np.zeros((T,) + h0.shape, dtype=xs.dtype)
        hs[0] = h0
        for t in range(T):
            a = Wxh @ xs[t] + Whh @ hs[t] + bh
            if bug == "forward_bias_twice":
                a = a + bh
            h = sigmoid(a)
            hs[t + 1] = h
            if bug == "deriv_at_preactivation":
                ds[t] = a * (1 - a)
            elif bug == "deriv_of_tanh":
                ds[t] = 1 - h * h
            elif bug == "deriv_sign_flipped":
                ds[t] = h * (h - 1)
            elif bug == "deriv_constant_quarter":
                ds[t] = 0.25
            else:
                ds[t] = h * (1 - h)
        return hs[1:].copy(), {"xs": xs, "hs": hs, "ds": ds, "Wxh": Wxh, "Whh": Whh}

    def backward(dys, cache, _kept={}):
        xs, hs, ds, Wxh, Whh = (cache[k] for k in ("xs", "hs", "ds", "Wxh", "Whh"))
        T = xs.shape[0]
        if bug == "grads_kept_across_calls":
            dWxh = _kept.setdefault("dWxh", np.zeros_like(Wxh))
        else:
            dWxh = np.zeros_like(Wxh)
        dWhh, dbh = np.zeros_like(Whh), np.zeros_like(hs[0])
        dxs = np.zeros_like(xs)
        dhnext = np.zeros_like(hs[0])
        t = T
        while t > (1 if bug == "while_stops_at_1" else 0):
            t -= 1
            dh = dys[t] if bug == "dh_without_dhnext" else dys[t] + dhnext
            if bug == "deriv_applied_twice":
                dz = dh * ds[t] * ds[t]
            elif bug == "deriv_one_step_early":
                dz = dh * ds[t - 1]
            else:
                dz = dh * ds[t]
            dbh += 2 * dz if bug == "forward_bias_twice" else dz
            dWxh += dz @ xs[t].T
            dWhh += hs[t] @ dz.T if bug == "dWhh_outer_swapped" else dz @ hs[t].T
            dxs[t] = Wxh.T @ dz
            if bug == "dhnext_Whh_untransposed":
                dhnext = Whh @ dz
            elif bug == "dhnext_from_dWhh":
                dhnext = dWhh.T @ dz
            else:
                dhnext = Whh.T @ dz
        if bug == "dWxh_over_T":
            dWxh = dWxh / T
        return dxs, dhnext, dWxh.copy(), dWhh, dbh

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

"""A ReLU RNN on the built-in ``karpathy`` layout (column vectors, one example at a time),
written by someone who keeps every parameter and every gradient in a dict keyed by tuples
(kind, into, from), so that one loop can walk them all:

    P[("W", "h", "x")] = Wxh (H, D)   P[("W", "h", "h")] = Whh (H, H)   P[("b", "h", "")] = bh (H, 1)
    z[t] = Wxh @ x[t] + Whh @ h[t - 1] + bh       h[t] = relu(z[t])      h[-1] = h0

and the states in dicts keyed by t (h[-1] holds h0). Option ``activation="relu"``.
Twenty-sixth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

WX, WH, BH = ("W", "h", "x"), ("W", "h", "h"), ("b", "h", "")

BUGS = {
    "relu_grad_as_tanh": "derivative_wrong_function",     # dz = dh_t * (1 - h[t] ** 2)
    "relu_grad_left_out": "derivative_missing",           # dz = dh_t
    "relu_mask_before_bias": "derivative_wrong_point",    # mask (z[t] - bh > 0): relu' at the pre-bias sum
    "Whh_untransposed_in_carry": "weight_transposed",     # dh_next = P[WH] @ dz
    "dWhh_outer_reversed": "gradient_transposed",         # G[WH] += h[t - 1] @ dz.T
    "dWhh_with_h_t": "wrong_time",                        # G[WH] += dz @ h[t].T
    "carry_from_grad_dict": "gradient_for_weight",        # dh_next = G[WH].T @ dz (the gradient dict for P)
    "dh_next_reset_in_loop": "carry_dropped",             # dh_next = zeros at the top of every iteration
    "range_stops_at_1": "loop_skips_step",                # for t in range(T - 1, 0, -1)
    "bias_minus_equals": "wrong_sign",                    # G[BH] -= dz (copied from the SGD update line)
    "grads_over_T": "reduction_scaled",                   # every G[k] /= T at the end
    "truncate_after_3": "truncated_bptt",                 # dh_next zeroed once 3 steps have been walked back
    "bias_grad_from_dh": "wrong_value",                   # G[BH] += dh_t (dh_t read for dz)
    "carry_leak_09": "unknown",                           # dh_next = 0.9 * (Whh.T @ dz): an arbitrary 0.9
}

TOUCHES = {b: "" for b in BUGS}                           # computed: blind_index.touched_gates (an RNN: "")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        P = {WX: Wxh, WH: Whh, BH: bh}
        h, z = {-1: h0.copy()}, {}
        for t in range(len(x)):
            z[t] = P[WX] @ x[t] + P[WH] @ h[t - 1] + P[BH]
            h[t] = np.maximum(z[t], 0)
        return np.stack([h[t] for t in range(len(x))]), (x, P, h, z)

    def backward(dh, cache):
        x, P, h, z = cache
        T = len(x)
        G = {k: np.zeros_like(v) for k, v in P.items()}
        dx = np.zeros_like(x)
        dh_next = np.zeros_like(h[-1])
        order = range(T - 1, 0, -1) if bug == "range_stops_at_1" else range(T - 1, -1, -1)
        for t in order:
            if bug == "dh_next_reset_in_loop":
                dh_next = np.zeros_like(h[-1])
            dh_t = dh[t] + dh_next
            if bug == "relu_grad_as_tanh":
                dz = dh_t * (1 - h[t] ** 2)
            elif bug == "relu_grad_left_out":
                dz = dh_t
            elif bug == "relu_mask_before_bias":
                dz = dh_t * (z[t] - P[BH] > 0)
            else:
                dz = dh_t * (z[t] > 0)
            G[WX] += dz @ x[t].T
            if bug == "dWhh_outer_reversed":
                G[WH] += h[t - 1] @ dz.T
            elif bug == "dWhh_with_h_t":
                G[WH] += dz @ h[t].T
            else:
                G[WH] += dz @ h[t - 1].T
            if bug == "bias_minus_equals":
                G[BH] -= dz
            elif bug == "bias_grad_from_dh":
                G[BH] += dh_t
            else:
                G[BH] += dz
            dx[t] = P[WX].T @ dz
            if bug == "Whh_untransposed_in_carry":
                dh_next = P[WH] @ dz
            elif bug == "carry_from_grad_dict":
                dh_next = G[WH].T @ dz
            elif bug == "carry_leak_09":
                dh_next = 0.9 * (P[WH].T @ dz)
            else:
                dh_next = P[WH].T @ dz
            if bug == "truncate_after_3" and T - t >= 3:
                dh_next = np.zeros_like(dh_next)
        if bug == "grads_over_T":
            G = {k: g / T for k, g in G.items()}
        return dx, dh_next, G[WX], G[WH], G[BH]

    return forward, backward, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}

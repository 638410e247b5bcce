"""A ReLU RNN as a quick Stack Overflow answer writes it, in the tf_kernel layout (one
kernel (D+H, H) on [x_t, h_(t-1)] plus bias (H,), activation="relu"): the forward is a
``functools.reduce`` that appends each new state to a list, the backward a countdown
``range(T - 1, -1, -1)`` with the ReLU mask taken from the cached output, the kernel
gradient from one ``np.hstack`` per step and the carry sliced off ``dz @ kernel.T``.
Twenty-eighth held-out zoo: written without reading the diagnosis.
"""

from functools import reduce

import numpy as np

BUGS = {
    "mask_one_step_early": "wrong_time",                 # mask (hs[t] > 0): the ReLU' of h_(t-1) for step t
    "mask_ge_zero": "derivative_missing",                # mask (hs[t + 1] >= 0): always true, the ReLU' left out
    "mask_as_tanh_grad": "derivative_wrong_function",    # dz = g * (1 - h**2): tanh's derivative for a ReLU
    "carry_kernel_untransposed": "weight_transposed",    # dh_next = dz @ kernel[D:] (dx still from kernel[:D].T)
    "dkernel_h_rows_transposed": "gradient_transposed",  # dkernel[D:] += dz.T @ h_prev
    "carry_from_dkernel": "gradient_for_weight",         # dxh = dz @ dkernel.T
    "dkernel_assigned": "carry_overwrites",              # dkernel = xh.T @ dz (= for +=)
    "dbias_mean": "reduction_scaled",                    # dbias += dz.mean(axis=0)
    "range_stops_at_one": "loop_skips_step",             # range(T - 1, 0, -1): step 0 never visited
    "truncate_after_3": "truncated_bptt",                # the carry zeroed once 3 steps have been walked back
    "clip_carry": "gradient_clipped",                    # dh_next = np.clip(dxh[:, D:], -0.02, 0.02)
    "loop_counts_up": "loop_direction",                  # range(T): the carry flows from t to t + 1
    "forward_leaky_relu": "forward_mistake",             # h = max(a, 0.1 a) (a leaky ReLU); backward mask 1 / 0.1
    "carry_halved": "unknown",                           # dz = (dh[:, t] + 0.5 * dh_next) * mask: an arbitrary constant
    "stops_at_one_and_dbias_mean": "unknown",            # two mistakes: range(T - 1, 0, -1) and dbias += dz.mean(axis=0)
}

TOUCHES = {b: "" for b in BUGS}                          # an RNN: computed as "" by blind_index.touched_gates

relu = lambda a: np.maximum(a, 0)                        # noqa: E731


def forward(x, h0, kernel, bias, bug=None):
    def step(hs, x_t):
        a = np.hstack([x_t, hs[-1]]) @ kernel + bias
        return hs + [np.maximum(a, 0.1 * a) if bug == "forward_leaky_relu" else relu(a)]
    hs = reduce(step, np.swapaxes(x, 0, 1), [h0])
    return np.stack(hs[1:], 1), (x, hs, kernel)


def backward(dh, cache, bug=None):
    x, hs, kernel = cache
    N, T, D = x.shape
    dkernel, dbias = np.zeros_like(kernel), np.zeros_like(kernel[0])
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(hs[0])
    order = range(T) if bug == "loop_counts_up" else range(T - 1, 0 if bug in ("range_stops_at_one", "stops_at_one_and_dbias_mean") else -1, -1)
    for t in order:
        g = dh[:, t] + (0.5 * dh_next if bug == "carry_halved" else dh_next)
        if bug == "mask_one_step_early":
            dz = g * (hs[t] > 0)
        elif bug == "mask_ge_zero":
            dz = g * (hs[t + 1] >= 0)
        elif bug == "mask_as_tanh_grad":
            dz = g * (1 - hs[t + 1] ** 2)
        elif bug == "forward_leaky_relu":
            dz = g * np.where(hs[t + 1] > 0, 1.0, 0.1)
        else:
            dz = g * (hs[t + 1] > 0)
        xh = np.hstack([x[:, t], hs[t]])
        if bug == "dkernel_assigned":
            dkernel = xh.T @ dz
        elif bug == "dkernel_h_rows_transposed":
            dkernel[:D] += x[:, t].T @ dz
            dkernel[D:] += dz.T @ hs[t]
        else:
            dkernel += xh.T @ dz
        dbias += dz.mean(axis=0) if bug in ("dbias_mean", "stops_at_one_and_dbias_mean") else dz.sum(axis=0)
        dxh = dz @ (dkernel.T if bug == "carry_from_dkernel" else kernel.T)
        dx[:, t], dh_next = dxh[:, :D], dxh[:, D:]
        if bug == "carry_kernel_untransposed":
            dh_next = dz @ kernel[D:]
        elif bug == "truncate_after_3" and T - t >= 3:
            dh_next = np.zeros_like(dh_next)
        elif bug == "clip_carry":
            dh_next = np.clip(dh_next, -0.02, 0.02)
    return dx, dh_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel", "activation": "relu"}

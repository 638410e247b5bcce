"""An RNN in TF's BasicRNNCell layout (tf_kernel: kernel (D+H, H) applied to
concat([x_t, h_(t-1)]) plus bias (H,)) whose author wrote tanh out as sinh/cosh and its
derivative as 1 / cosh(a)^2 from the cached pre-activation a, walking a time-major list of
(concat, a) records:

    a_t = [x_t, h_(t-1)] kernel + bias      h_t = sinh(a_t) / cosh(a_t)
    da_t = dh_t / cosh(a_t)^2

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "sech2_at_output": "derivative_wrong_point",        # 1 / cosh(h_t) ** 2: the derivative taken at h, not a
    "sech_not_squared": "derivative_miswritten",        # 1 / np.cosh(a): the square forgotten
    "cosh_for_sech2": "derivative_wrong_function",      # da = dz * np.cosh(a): sinh's derivative, not tanh's
    "sech2_twice": "derivative_twice",                  # da = dz * sech2; da *= sech2 (a leftover second line)
    "tanh2_minus_one": "wrong_sign",                    # (sinh/cosh) ** 2 - 1 for 1 - tanh ** 2
    "carry_from_dkernel": "gradient_for_weight",        # dprev = da @ dkernel[D:].T
    "carry_kernel_no_T": "weight_transposed",           # dprev = da @ kernel[D:]
    "loop_stops_at_1": "loop_skips_step",               # for t in range(T - 1, 0, -1): step 0 never walked
    "clip_grads_to_1": "gradient_clipped",              # np.clip(g, -1, 1, out=g) for dkernel, dbias in the backward
    "dbias_first_step_only": "carry_overwrites",        # dbias = da.sum(0) (= for +=): only the last walked step kept
    "forward_concat_h_x": "forward_mistake",            # the forward applies kernel to [h, x]; backward consistent
    "untransposed_and_skip": "unknown",                 # two at once: dprev = da @ kernel[D:] and the loop stops at 1
}

TOUCHES = {bug: "" for bug in BUGS}                     # an RNN: blind_index.touched_gates gives ""


def _concat(xt, h, bug):
    return np.concatenate([h, xt] if bug == "forward_concat_h_x" else [xt, h], axis=1)


def forward(x, h0, kernel, bias, bug=None):
    N, T, D = x.shape
    h, records, outs = h0, [], []
    for t in range(T):
        inp = _concat(x[:, t], h, bug)
        a = inp @ kernel + bias
        h = np.sinh(a) / np.cosh(a)
        records.append((inp, a, h))
        outs.append(h)
    return np.stack(outs, axis=1), (records, kernel, D)


def _dact(dz, a, h, bug):
    if bug == "sech2_at_output":
        return dz / np.cosh(h) ** 2
    if bug == "sech_not_squared":
        return dz / np.cosh(a)
    if bug == "cosh_for_sech2":
        return dz * np.cosh(a)
    if bug == "tanh2_minus_one":
        return dz * ((np.sinh(a) / np.cosh(a)) ** 2 - 1)
    sech2 = 1.0 / np.cosh(a) ** 2
    da = dz * sech2
    if bug == "sech2_twice":
        da *= sech2
    return da


def backward(dh, cache, bug=None):
    records, kernel, D = cache
    N, T, H = dh.shape
    dkernel, dbias = np.zeros_like(kernel), np.zeros(H, dtype=dh.dtype)
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dprev = np.zeros((N, H), dtype=dh.dtype)
    stop = 0 if bug in ("loop_stops_at_1", "untransposed_and_skip") else -1
    for t in range(T - 1, stop, -1):
        inp, a, h = records[t]
        da = _dact(dh[:, t] + dprev, a, h, bug)
        dkernel += inp.T @ da
        if bug == "dbias_first_step_only":
            dbias = da.sum(axis=0)
        else:
            dbias += da.sum(axis=0)
        dinp = da @ kernel.T
        if bug == "forward_concat_h_x":
            dprev, dx[:, t] = dinp[:, :H], dinp[:, H:]
            continue
        dx[:, t] = dinp[:, :D]
        if bug == "carry_from_dkernel":
            dprev = da @ dkernel[D:].T
        elif bug in ("carry_kernel_no_T", "untransposed_and_skip"):
            dprev = da @ kernel[D:]
        else:
            dprev = dinp[:, D:]
    if bug == "clip_grads_to_1":
        for g in (dkernel, dbias):
            np.clip(g, -1, 1, out=g)
    return dx, dprev, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel"}

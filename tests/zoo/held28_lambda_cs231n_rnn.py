"""A vanilla RNN as a chatbot answer gives it, in the cs231n layout (x (N, T, D), Wx (D, H),
Wh (H, H), b (H,), tanh): the activation and its derivative as lambdas, the states in a
list, the backward walking ``zip(reversed(...))`` over the steps and collecting each step's
pre-activation gradient, then every weight gradient after the loop as a generator ``sum``
and the whole result built as one dict. Twenty-eighth held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dact_at_preact": "derivative_wrong_point",          # da = g * dact(pre[t]): 1 - a**2 at the pre-activation a, not h
    "dact_sign_flipped": "wrong_sign",                   # dact = lambda y: y ** 2 - 1
    "dact_star_typo": "derivative_miswritten",           # dact = lambda y: 1 - y * 2 (one * for **)
    "dact_applied_twice": "derivative_twice",            # dh_raw = g * dact(h_t); da = dh_raw * dact(h_t)
    "dWh_with_h_t": "wrong_time",                        # dWh = sum(h_t.T @ da): zip(hs[1:], das) for zip(hs[:-1], das)
    "carry_Wh_untransposed": "weight_transposed",        # dnext = da @ Wh
    "dWh_written_transposed": "gradient_transposed",     # dWh = sum(da.T @ h_prev)
    "carry_name_typo": "carry_dropped",                  # dnxt = da @ Wh.T: the carry stored in a name never read
    "zip_skips_first_step": "loop_skips_step",           # zip(reversed(range(1, T)), ...): zip stops before step 0
    "db_mean_over_batch": "reduction_scaled",            # db = sum(da.mean(0)) (np.mean for np.sum)
    "dact_squares_in_place": "inplace_corruption",       # def dact(y): y *= y; return 1 - y -- squares the cached h
    "loop_runs_forward": "loop_direction",               # zip(range(T), dh_t's, hs[1:]) without reversed: carry goes t -> t+1
    "forward_bias_twice": "forward_mistake",             # a = x_t @ Wx + h @ Wh + b + b; backward db = 2 * sum(da)
    "Wh_untransposed_and_db_mean": "unknown",            # two mistakes: dnext = da @ Wh and db from da.mean(0)
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "dact_at_preact": "",
    "dact_sign_flipped": "",
    "dact_star_typo": "",
    "dact_applied_twice": "",
    "dWh_with_h_t": "",
    "carry_Wh_untransposed": "",
    "dWh_written_transposed": "",
    "carry_name_typo": "",
    "zip_skips_first_step": "",
    "db_mean_over_batch": "",
    "dact_squares_in_place": "",
    "loop_runs_forward": "",
    "forward_bias_twice": "",
    "Wh_untransposed_and_db_mean": "",
}

act = np.tanh
dact = lambda y: 1 - y ** 2                              # noqa: E731  (tanh' from tanh's output)


def _dact_for(bug):
    if bug == "dact_sign_flipped":
        return lambda y: y ** 2 - 1
    if bug == "dact_star_typo":
        return lambda y: 1 - y * 2
    if bug == "dact_squares_in_place":
        def squaring(y):
            y *= y
            return 1 - y
        return squaring
    return dact


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    hs, pre = [h0], []
    for x_t in np.swapaxes(x, 0, 1):
        a = x_t @ Wx + hs[-1] @ Wh + b
        if bug == "forward_bias_twice":
            a = a + b
        pre.append(a)
        hs.append(act(a))
    return np.stack(hs[1:], axis=1), (np.swapaxes(x, 0, 1), hs, pre, Wx, Wh)


def rnn_backward(dh, cache, bug=None):
    xs, hs, pre, Wx, Wh = cache
    T = len(xs)
    d = _dact_for(bug)
    dnext = np.zeros_like(hs[0])
    das = [np.zeros_like(dnext) for _ in range(T)]
    steps = range(1, T) if bug == "zip_skips_first_step" else range(T)
    walk = zip(steps, np.swapaxes(dh, 0, 1), hs[1:]) if bug == "loop_runs_forward" else \
        zip(reversed(steps), reversed(np.swapaxes(dh, 0, 1)), reversed(hs[1:]))
    for t, dh_t, h_t in walk:
        g = dh_t + dnext
        if bug == "dact_at_preact":
            da = g * d(pre[t])
        elif bug == "dact_applied_twice":
            dh_raw = g * d(h_t)
            da = dh_raw * d(h_t)
        else:
            da = g * d(h_t)
        das[t] = da
        if bug in ("carry_Wh_untransposed", "Wh_untransposed_and_db_mean"):
            dnext = da @ Wh
        elif bug == "carry_name_typo":
            dnxt = da @ Wh.T                              # noqa: F841
        else:
            dnext = da @ Wh.T
    h_prevs = hs[1:] if bug == "dWh_with_h_t" else hs[:-1]
    grads = {
        "dx": np.stack([da @ Wx.T for da in das], axis=1),
        "dWx": sum(x_t.T @ da for x_t, da in zip(xs, das)),
        "dWh": sum((da.T @ hp if bug == "dWh_written_transposed" else hp.T @ da) for hp, da in zip(h_prevs, das)),
        "db": sum((da.mean(0) if bug in ("db_mean_over_batch", "Wh_untransposed_and_db_mean") else da.sum(0))
                  for da in das),
    }
    if bug == "forward_bias_twice":
        grads["db"] = 2 * grads["db"]
    return grads["dx"], dnext, grads["dWx"], grads["dWh"], grads["db"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

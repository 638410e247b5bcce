"""A ReLU RNN in Karpathy's min-char-rnn layout (column vectors, one example at a time)
whose activation and its derivative are sympy ``lambdify`` output: the generated sources
(printed with ``inspect.getsource``) are pasted into a string and exec'd into a namespace
of NumPy names, as lambdify does itself.

    >>> a = Symbol("a"); relu = Max(0, a)
    >>> lambdify(a, relu); lambdify(a, Piecewise((0, a < 0), (1, True)))

lambdify's select() returns int64 for integer choices, hence the ``.astype`` at the call.
Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial, reduce

import numpy as np

BUGS = {
    "drelu_of_h": "derivative_wrong_point",         # drelu(hs[t]): select(less(h, 0)) is 1 where a < 0
    "drelu_softplus": "derivative_wrong_function",  # lambdified diff(log(1 + exp(a)), a)
    "drelu_choices_swapped": "derivative_miswritten",  # select([less(a, 0), True], [1, 0])
    "drelu_forgotten": "derivative_missing",        # dhraw = dh
    "Whh_untransposed": "weight_transposed",        # Whh @ dhraw
    "dWhh_h_now": "wrong_time",                     # dhraw @ hs[t].T
    "dWhh_transposed": "gradient_transposed",       # hs[t-1] @ dhraw.T
    "dhnext_dropped": "carry_dropped",              # dh = dhs[t]
    "dWxh_assigned": "carry_overwrites",            # dWxh = np.dot(...)
    "loop_to_one": "loop_skips_step",               # reversed(range(1, T))
    "clip_dhnext": "gradient_clipped",              # np.clip(dhnext, -0.05, 0.05) every step
    "dbh_over_T": "reduction_scaled",               # dbh / T
    "dx_from_dWxh": "gradient_for_weight",          # dWxh.T @ dhraw
    "forward_leaky": "forward_mistake",             # lambdified Piecewise((a/100, a < 0), (a, True)), backward too
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates

_GENERATED = {
    "relu": "def _lambdifygenerated(a):\n    return reduce(maximum, [0, a])\n",
    "drelu": "def _lambdifygenerated(a):\n    return select([less(a, 0),True], [0,1], default=nan)\n",
}
_VARIANTS = {
    "drelu_softplus": {"drelu": "def _lambdifygenerated(a):\n    return exp(a)/(exp(a) + 1)\n"},
    "drelu_choices_swapped": {"drelu": "def _lambdifygenerated(a):\n    return select([less(a, 0),True], [1,0], "
                                       "default=nan)\n"},
    "forward_leaky": {"relu": "def _lambdifygenerated(a):\n    return select([less(a, 0),True], [(1/100)*a,a], "
                              "default=nan)\n",
                      "drelu": "def _lambdifygenerated(a):\n    return select([less(a, 0),True], [1/100,1], "
                               "default=nan)\n"},
}
_NAMESPACE = {"reduce": reduce, "maximum": np.maximum, "select": np.select, "less": np.less, "nan": np.nan,
              "exp": np.exp}


def lambdified(bug=None):
    funcs = {}
    for name, src in {**_GENERATED, **_VARIANTS.get(bug, {})}.items():
        ns = dict(_NAMESPACE)
        exec(src, ns)
        funcs[name] = ns["_lambdifygenerated"]
    return funcs


def forward(xs, h0, Wxh, Whh, bh, f=None):
    T = xs.shape[0]
    hs, raws = {-1: h0}, {}
    for t in range(T):
        raws[t] = np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh
        hs[t] = f["relu"](raws[t]).astype(xs.dtype)
    return np.array([hs[t] for t in range(T)]), (xs, hs, raws, Wxh, Whh, bh)


def backward(dhs, cache, f=None, bug=None):
    xs, hs, raws, Wxh, Whh, bh = cache
    T = xs.shape[0]
    dxs = np.zeros_like(xs)
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dhnext = np.zeros_like(hs[0])
    steps = reversed(range(1, T)) if bug == "loop_to_one" else reversed(range(T))
    for t in steps:
        dh = dhs[t] if bug == "dhnext_dropped" else dhs[t] + dhnext
        if bug == "drelu_forgotten":
            dhraw = dh
        else:
            at = hs[t] if bug == "drelu_of_h" else raws[t]
            dhraw = f["drelu"](at).astype(dh.dtype) * dh
        if bug == "dWxh_assigned":
            dWxh = np.dot(dhraw, xs[t].T)
        else:
            dWxh += np.dot(dhraw, xs[t].T)
        if bug == "dWhh_h_now":
            dWhh += np.dot(dhraw, hs[t].T)
        elif bug == "dWhh_transposed":
            dWhh += np.dot(hs[t - 1], dhraw.T)
        else:
            dWhh += np.dot(dhraw, hs[t - 1].T)
        dbh += dhraw
        dxs[t] = np.dot(dWxh.T if bug == "dx_from_dWxh" else Wxh.T, dhraw)
        dhnext = np.dot(Whh if bug == "Whh_untransposed" else Whh.T, dhraw)
        if bug == "clip_dhnext":
            np.clip(dhnext, -0.05, 0.05, out=dhnext)
    if bug == "dbh_over_T":
        dbh /= T
    return dxs, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    f = lambdified(bug)
    return (partial(forward, f=f), partial(backward, f=f, bug=bug),
            {"cell": "rnn", "layout": "karpathy", "activation": "relu"})

"""A sigmoid RNN ported from an R script that keeps everything in lists of matrices, one
example at a time (Karpathy's layout: column vectors x_t (D, 1), h (H, 1)): ``hs`` is
R's ``vector("list", T + 1)`` with ``hs[[1]] <- h0``, the backward walks ``rev(seq_len(T))``
filling a list of deltas, and the weight gradients come after the loop from
``Reduce("+", Map(function(d, v) d %*% t(v), deltas, ...))``.

    sigmoid <- function(z) 1 / (1 + exp(-z))
    for (t in seq_len(T)) hs[[t + 1]] <- sigmoid(Wxh %*% xs[[t]] + Whh %*% hs[[t]] + bh)

R's negative indices drop elements (``hs[-1]``: all but h0, ``hs[-(T + 1)]``: all but the
last), which is what the port has to translate. The R helpers are written out below
(``Map``, ``Reduce``, ``lapply``, ``t``, ``rev``, ``seq_len``, ``drop``).

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial, reduce

import numpy as np

BUGS = {
    "hs_drop_first_for_prev": "wrong_time",             # Map(.., deltas, hs[-1]): h_t for h_(t-1) in dWhh
    "t_missing_in_carry": "weight_transposed",          # dhnext <- Whh %*% delta
    "dsig_of_h": "derivative_wrong_point",              # sigmoid(h) * (1 - sigmoid(h))
    "dtanh_for_sigmoid": "derivative_wrong_function",   # (1 - h^2) copied from a tanh script
    "dsig_one_minus_h": "derivative_miswritten",        # (1 - h)
    "dbh_last_delta": "carry_overwrites",               # dbh <- delta inside the loop, not Reduce("+")
    "Reduce_mean": "reduction_scaled",                  # Reduce("+", ..) / length(deltas) for dWxh
    "dhnext_never_set": "carry_dropped",                # dhnext stays the zero matrix
    "seq_len_not_rev": "loop_direction",                # for (t in seq_len(T)): forward in time
    "delta_sign": "wrong_sign",                         # dh * h * (h - 1)
    "upstream_dropped": "term_dropped",                 # dh <- dhnext: dhs[[t]] left out
    "dh0_delta_1": "wrong_value",                       # dh0 <- deltas[[1]] (the t(Whh) %*% forgotten)
    "Map_rev_xs": "wrong_time",                         # Map(.., deltas, rev(xs)): x_(T+1-t) for x_t
    "lapply_picks_dWxh": "gradient_for_weight",         # lapply(deltas, function(d) t(dWxh) %*% d) for dxs
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


# --- the R functions the port needs -----------------------------------------------------
def seq_len(n):
    return list(range(1, n + 1))


def rev(v):
    return list(reversed(v))


def t(m):
    return m.T


def Map(f, *lists):
    return [f(*args) for args in zip(*lists)]


def Reduce(f, lst):
    return reduce(f, lst)


def lapply(lst, f):
    return [f(v) for v in lst]


def drop_last(lst):
    return lst[:-1]                  # R: lst[-length(lst)]


def drop_first(lst):
    return lst[1:]                   # R: lst[-1]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def plus(a, b):
    return a + b


# --- the script ----------------------------------------------------------------------
def rnn_forward(x, h0, Wxh, Whh, bh):
    """x (T, D, 1) -> hs as an array (T, H, 1) and the cache list(xs, hs, Wxh, Whh)."""
    T = x.shape[0]
    xs = [x[k] for k in range(T)]                         # xs[[t]]: list of (D, 1)
    hs = [None] * (T + 1)
    hs[0] = h0                                            # hs[[1]] <- h0
    for tt in seq_len(T):
        hs[tt] = sigmoid(Wxh @ xs[tt - 1] + Whh @ hs[tt - 1] + bh)   # hs[[t + 1]]
    out = np.stack(drop_first(hs))                        # simplify2array(hs[-1])
    return out, {"xs": xs, "hs": hs, "Wxh": Wxh, "Whh": Whh}


def rnn_backward(dh_all, cache, bug=None):
    """dh_all (T, H, 1): the upstream gradient -> dx (T, D, 1), dh0, dWxh, dWhh, dbh."""
    xs, hs, Wxh, Whh = cache["xs"], cache["hs"], cache["Wxh"], cache["Whh"]
    T = len(xs)
    dhs = [dh_all[k] for k in range(T)]
    deltas = [None] * T
    dhnext = np.zeros_like(hs[0])
    dbh = None
    order = seq_len(T) if bug == "seq_len_not_rev" else rev(seq_len(T))
    for tt in order:
        h = hs[tt]                                        # hs[[t + 1]]
        dh = dhnext if bug == "upstream_dropped" else dhs[tt - 1] + dhnext
        if bug == "dsig_of_h":
            dsig = sigmoid(h) * (1 - sigmoid(h))
        elif bug == "dtanh_for_sigmoid":
            dsig = 1 - h ** 2
        elif bug == "dsig_one_minus_h":
            dsig = 1 - h
        elif bug == "delta_sign":
            dsig = h * (h - 1)
        else:
            dsig = h * (1 - h)
        delta = dh * dsig
        deltas[tt - 1] = delta
        if bug == "dbh_last_delta":
            dbh = delta
        if bug != "dhnext_never_set":
            dhnext = (Whh if bug == "t_missing_in_carry" else t(Whh)) @ delta
    dh0 = deltas[0] if bug == "dh0_delta_1" else dhnext
    prev = drop_first(hs) if bug == "hs_drop_first_for_prev" else drop_last(hs)
    xs_used = rev(xs) if bug == "Map_rev_xs" else xs
    dWxh = Reduce(plus, Map(lambda d, v: d @ t(v), deltas, xs_used))
    if bug == "Reduce_mean":
        dWxh = dWxh / len(deltas)
    dWhh = Reduce(plus, Map(lambda d, v: d @ t(v), deltas, prev))
    if bug != "dbh_last_delta":
        dbh = Reduce(plus, deltas)
    W_in = dWxh if bug == "lapply_picks_dWxh" else Wxh
    dx = np.stack(lapply(deltas, lambda d: t(W_in) @ d))  # simplify2array(lapply(deltas, ...))
    return dx, dh0, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return rnn_forward, partial(rnn_backward, bug=bug), {"cell": "rnn", "layout": "karpathy",
                                                         "activation": "sigmoid"}

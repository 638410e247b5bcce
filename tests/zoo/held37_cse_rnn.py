"""A tanh RNN in cs231n's layout whose backward was derived with sympy and pasted: the
step's gradients came out of ``sympy.cse`` as x0, x1, ... in expanded form, the weight
gradients are einsums over the whole sequence after the loop.

    a_t = x_t Wx + h_(t-1) Wh + b,  h_t = tanh(a_t)          x (N, T, D), H (N, T + 1, H), H[:, 0] = h0

    >>> cse([expand(dn * diff(tanh(a), a)).subs(tanh(a), hn)])   # dn: all of dL/dh_t
    ([(x0, hn**2), (x1, dn*x0)], [dn - x1])

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "x0_tanh_of_hn": "derivative_wrong_point",     # x0 = tanh(hn)**2: tanh' taken at the output
    "x2_sign_lost": "derivative_miswritten",       # x2 = dn + x1 (1 + h^2)
    "x2_reversed": "wrong_sign",                   # x2 = x1 - dn
    "x2_only_dn": "derivative_missing",            # x2 = dn: x1 left out of the expanded sum
    "x3_reads_x1": "wrong_value",                  # x3 = x1 @ Wh.T: subexpression index off
    "x3_Wh_untransposed": "weight_transposed",     # x3 = x2 @ Wh
    "dnext_dropped": "carry_dropped",              # dn = dh[:, t]
    "dh_t_dropped": "term_dropped",                # dn = dnext
    "loop_forward": "loop_direction",              # for t in range(T)
    "x0_inplace_square": "inplace_corruption",     # x0 = H[:, t + 1]; x0 **= 2 squares the cached state
    "dWh_states_shifted": "wrong_time",            # einsum over H[:, 1:] for H[:, :-1]
    "dWh_transposed": "gradient_transposed",       # einsum "nth,ntk->kh"
    "db_batch_mean": "reduction_scaled",           # DA.sum(1).mean(0)
    "forward_lecun_tanh": "forward_mistake",       # h = 1.7159 tanh(2a/3), backward re-derived for it
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = np.empty((N, T + 1, h0.shape[1]), dtype=x.dtype)
    H[:, 0] = h0
    for t in range(T):
        a = x[:, t] @ Wx + H[:, t] @ Wh + b
        H[:, t + 1] = 1.7159 * np.tanh(2 * a / 3) if bug == "forward_lecun_tanh" else np.tanh(a)
    return H[:, 1:].copy(), (x, H, Wx, Wh)


def rnn_backward(dh, cache, bug=None):
    x, H, Wx, Wh = cache
    T = x.shape[1]
    DA = np.zeros_like(dh)
    dx = np.zeros_like(x)
    dnext = np.zeros_like(dh[:, 0])
    steps = range(T) if bug == "loop_forward" else reversed(range(T))
    for t in steps:
        dn = dnext if bug == "dh_t_dropped" else dh[:, t] if bug == "dnext_dropped" else dh[:, t] + dnext
        hn = H[:, t + 1]
        # ---- pasted from sympy.cse ----
        if bug == "x0_tanh_of_hn":
            x0 = np.tanh(hn)**2
        elif bug == "x0_inplace_square":
            x0 = hn
            x0 **= 2
        elif bug == "forward_lecun_tanh":
            x0 = 0.339637825370872*hn**2              # sympy: (hn/1.7159)**2 as a float
        else:
            x0 = hn**2
        x1 = dn*x0
        if bug == "x2_sign_lost":
            x2 = dn + x1
        elif bug == "x2_reversed":
            x2 = x1 - dn
        elif bug == "x2_only_dn":
            x2 = dn
        elif bug == "forward_lecun_tanh":
            x2 = 1.14393333333333*dn - 1.14393333333333*x1
        else:
            x2 = dn - x1
        if bug == "x3_reads_x1":
            x3 = x1 @ Wh.T
        elif bug == "x3_Wh_untransposed":
            x3 = x2 @ Wh
        else:
            x3 = x2 @ Wh.T
        x4 = x2 @ Wx.T
        # -------------------------------
        DA[:, t] = x2
        dx[:, t] = x4
        dnext = x3
    Hp = H[:, 1:] if bug == "dWh_states_shifted" else H[:, :-1]
    dWx = np.einsum("ntd,ntk->dk", x, DA)
    dWh = np.einsum("nth,ntk->kh" if bug == "dWh_transposed" else "nth,ntk->hk", Hp, DA)
    db = DA.sum(1).mean(0) if bug == "db_batch_mean" else DA.sum((0, 1))
    return dx, dnext, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(rnn_forward, bug=bug), partial(rnn_backward, bug=bug), {"cell": "rnn", "layout": "cs231n"}

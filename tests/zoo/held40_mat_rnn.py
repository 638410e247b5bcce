"""A vanilla tanh RNN written with np.matrix, the way pre-2017 tutorials did (cs231n layout):
every step's slice is turned into a matrix with np.asmatrix (the old np.mat) so that ``*`` is
the matrix product and np.multiply the elementwise one; ``.A`` gives arrays back at the end.

    h_t = tanh(x_t * Wx + h_(t-1) * Wh + b)      x_t (N, D), h_t (N, H), b a (1, H) row

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

mat = np.asmatrix                 # np.mat in the original (gone from NumPy 2)

BUGS = {
    "dtanh_at_preact": "derivative_wrong_point",     # 1 - a^2 on the cached pre-activation
    "dtanh_sign": "wrong_sign",                      # np.multiply(h, h) - 1
    "dtanh_dropped": "derivative_missing",           # da = dnext
    "Wh_without_T": "weight_transposed",             # dprev = da * Wh
    "dWh_rows_cols": "gradient_transposed",          # dWh += da.T * h_prev (an (H, H) that fits)
    "dWh_with_h_t": "wrong_time",                    # dWh += h_t.T * da
    "dx_through_dWx": "gradient_for_weight",         # dx_t = da * dWx.T
    "no_dprev": "carry_dropped",                     # dnext = dh_t, the carried gradient forgotten
    "dWx_assigned": "carry_overwrites",              # dWx = x_t.T * da
    "range_stops_at_1": "loop_skips_step",           # range(T - 1, 0, -1)
    "db_mean_rows": "reduction_scaled",              # db += da.mean(0)
    "dW_over_float_N": "reduction_scaled",           # dWx, dWh /= float(N) at the end
    "dtanh_one_minus_h": "derivative_miswritten",    # np.multiply(dnext, 1 - h_t)
    "dx_from_next_step": "wrong_time",               # dx[:, t] from x-side of step t + 1
    "forward_h_doubled": "forward_mistake",          # h_t = tanh(2 (x Wx + h Wh + b)), backward consistent
}
TOUCHES = {b: "" for b in BUGS}


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H) ndarray, cache."""
    N, T = x.shape[:2]
    Wx, Wh, b = mat(Wx), mat(Wh), mat(b)             # b (H,) -> a (1, H) row
    hs, acts, xs = [mat(h0)], [], []
    for t in range(T):
        xt = mat(x[:, t, :])
        a = xt * Wx + hs[-1] * Wh + b
        if bug == "forward_h_doubled":
            a = 2 * a
        xs.append(xt)
        acts.append(a)
        hs.append(np.tanh(a))
    h = np.zeros((N, T, Wh.shape[0]), dtype=x.dtype)
    for t in range(len(xs)):
        h[:, t, :] = hs[t + 1].A
    return h, (xs, hs, acts, Wx, Wh, b)


def rnn_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,), all ndarrays."""
    xs, hs, acts, Wx, Wh, b = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev = mat(np.zeros((N, H), dtype=dh.dtype))
    das = {}
    steps = range(T - 1, 0, -1) if bug == "range_stops_at_1" else range(T - 1, -1, -1)
    for t in steps:
        h_t, h_prev = hs[t + 1], hs[t]
        dnext = mat(dh[:, t, :]) if bug == "no_dprev" else mat(dh[:, t, :]) + dprev
        if bug == "dtanh_at_preact":
            da = np.multiply(dnext, 1 - np.multiply(acts[t], acts[t]))
        elif bug == "dtanh_sign":
            da = np.multiply(dnext, np.multiply(h_t, h_t) - 1)
        elif bug == "dtanh_one_minus_h":
            da = np.multiply(dnext, 1 - h_t)
        elif bug == "dtanh_dropped":
            da = dnext
        elif bug == "forward_h_doubled":
            da = 2 * np.multiply(dnext, 1 - np.multiply(h_t, h_t))
        else:
            da = np.multiply(dnext, 1 - np.multiply(h_t, h_t))
        das[t] = da
        if bug == "dWx_assigned":
            dWx = xs[t].T * da
        else:
            dWx += xs[t].T * da
        if bug == "dWh_rows_cols":
            dWh += da.T * h_prev
        elif bug == "dWh_with_h_t":
            dWh += h_t.T * da
        else:
            dWh += h_prev.T * da
        if bug == "db_mean_rows":
            db += da.mean(0)
        else:
            db += da.sum(0)
        if bug == "dx_through_dWx":
            dx[:, t, :] = (da * dWx.T).A
        else:
            dx[:, t, :] = (da * Wx.T).A
        if bug == "Wh_without_T":
            dprev = da * Wh
        else:
            dprev = da * Wh.T
    if bug == "dx_from_next_step":
        for t in range(T - 1):
            dx[:, t, :] = (das[t + 1] * Wx.T).A
    if bug == "dW_over_float_N":
        dWx, dWh = dWx / float(N), dWh / float(N)
    return dx, dprev.A, dWx.A, dWh.A, db.A1


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(rnn_forward, bug=bug), partial(rnn_backward, bug=bug), {"cell": "rnn", "layout": "cs231n"}

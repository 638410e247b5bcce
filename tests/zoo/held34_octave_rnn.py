"""An Elman RNN ported line by line from an Octave script (``rnn_fwd.m`` / ``rnn_bwd.m``):
column-major (n_h, m) states, x as (n_x, m, T), one preallocated (n_h, m, T + 1) array of
states whose first page is h0 (MATLAB's H(:, :, 1)), so h_t lives at page t + 1, and
functions that return many outputs as a tuple. The port keeps the 1-based loop counters of
the original (``for t = 1:T`` -> ``range(1, T + 1)``) and subtracts 1 where it indexes x.

    function [Hout, cache] = rnn_fwd(X, h0, Wxh, Whh, bh)
      H(:, :, 1) = h0;
      for t = 1:T
        A(:, :, t) = Wxh * X(:, :, t) + Whh * H(:, :, t) + repmat(bh, 1, m);
        H(:, :, t + 1) = tanh(A(:, :, t));
      end

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "H_page_not_shifted": "wrong_time",                 # dWhh from H(:, :, t + 1), h_t, for H(:, :, t)
    "Whh_apostrophe_dropped": "weight_transposed",      # dhnext = Whh * draw (the ' lost in the port)
    "dWhh_outer_reversed": "gradient_transposed",       # dWhh += H(:, :, t) * draw'
    "dbh_mean_dim2": "reduction_scaled",                # mean(draw, 2) for sum(draw, 2)
    "dtanh_from_A": "derivative_wrong_point",           # 1 - A(:, :, t).^2: the pre-activation
    "dhnext_not_added": "carry_dropped",                # dh = dH(:, :, t)
    "dh0_is_dh": "wrong_value",                         # [.., dh0, ..] = .. returns dh, not Whh' * draw
    "dWhh_assigned": "carry_overwrites",                # dWhh = draw * H(:, :, t)'
    "loop_stops_at_2": "loop_skips_step",               # for t = T:-1:2
    "logsig_forward": "forward_mistake",                # logsig for tanh, backward H .* (1 - H) with it
    "dhnext_dtanh_ahead": "derivative_twice",           # dhnext = (Whh' * draw) .* (1 - H(:, :, t).^2)
    "dX_from_dWxh": "gradient_for_weight",              # dX(:, :, t) = dWxh' * draw
    "dhnext_from_dh": "derivative_missing",             # dhnext = Whh' * dh: the carry skips tanh'
    "loop_rewritten_zero_based": "unknown",             # for t = T-1:-1:0 with the 1-based body kept
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


# --- the few Octave built-ins the port needs ------------------------------------------
def zeros(*shape, like=None):
    return np.zeros(shape, dtype=like.dtype if like is not None else float)


def repmat(a, r, c):
    return np.tile(a, (r, c))


def size(a, dim=None):
    return a.shape if dim is None else a.shape[dim - 1]


def sum_(a, dim):
    return np.sum(a, axis=dim - 1, keepdims=True)


def mean_(a, dim):
    return np.mean(a, axis=dim - 1, keepdims=True)


def logsig(a):
    return 1 / (1 + np.exp(-a))                                # logsig(a) = 1 ./ (1 + exp(-a))


# --- rnn_fwd.m ---------------------------------------------------------------------------
def rnn_fwd(X, h0, Wxh, Whh, bh, bug=None):
    """[Hout, cache] = rnn_fwd(X, h0, Wxh, Whh, bh): X (n_x, m, T), h0 (n_h, m)."""
    _n_x, m, T = size(X)
    n_h = size(Whh, 1)
    H = zeros(n_h, m, T + 1, like=X)
    A = zeros(n_h, m, T, like=X)
    H[:, :, 0] = h0                                             # H(:, :, 1) = h0
    for t in range(1, T + 1):                                   # for t = 1:T
        A[:, :, t - 1] = Wxh @ X[:, :, t - 1] + Whh @ H[:, :, t - 1] + repmat(bh, 1, m)
        if bug == "logsig_forward":
            H[:, :, t] = logsig(A[:, :, t - 1])
        else:
            H[:, :, t] = np.tanh(A[:, :, t - 1])
    Hout = H[:, :, 1:]                                          # H(:, :, 2:end)
    cache = (X, H, A, Wxh, Whh, bh)
    return Hout, cache


# --- rnn_bwd.m ---------------------------------------------------------------------------
def rnn_bwd(dH, cache, bug=None):
    """[dX, dh0, dWxh, dWhh, dbh] = rnn_bwd(dH, cache): dH (n_h, m, T), the upstream gradient."""
    X, H, A, Wxh, Whh, bh = cache
    n_x, m, T = size(X)
    n_h = size(Whh, 1)
    dX = zeros(n_x, m, T, like=dH)
    dWxh = zeros(*size(Wxh), like=dH)
    dWhh = zeros(*size(Whh), like=dH)
    dbh = zeros(*size(bh), like=dH)
    dhnext = zeros(n_h, m, like=dH)
    if bug == "loop_stops_at_2":
        steps = range(T, 1, -1)                                 # for t = T:-1:2
    elif bug == "loop_rewritten_zero_based":
        steps = range(T - 1, -1, -1)                            # "0-based" loop, body left 1-based
    else:
        steps = range(T, 0, -1)                                 # for t = T:-1:1
    dh = dhnext
    for t in steps:
        if bug == "dhnext_not_added":
            dh = dH[:, :, t - 1]
        else:
            dh = dH[:, :, t - 1] + dhnext                       # dh = dH(:, :, t) + dhnext
        if bug == "dtanh_from_A":
            draw = (1 - A[:, :, t - 1] ** 2) * dh
        elif bug == "logsig_forward":
            draw = H[:, :, t] * (1 - H[:, :, t]) * dh
        else:
            draw = (1 - H[:, :, t] ** 2) * dh                   # draw = (1 - H(:, :, t+1).^2) .* dh
        dWxh = dWxh + draw @ X[:, :, t - 1].T
        if bug == "H_page_not_shifted":
            dWhh = dWhh + draw @ H[:, :, t].T
        elif bug == "dWhh_outer_reversed":
            dWhh = dWhh + H[:, :, t - 1] @ draw.T
        elif bug == "dWhh_assigned":
            dWhh = draw @ H[:, :, t - 1].T
        else:
            dWhh = dWhh + draw @ H[:, :, t - 1].T               # dWhh = dWhh + draw * H(:, :, t)'
        if bug == "dbh_mean_dim2":
            dbh = dbh + mean_(draw, 2)
        else:
            dbh = dbh + sum_(draw, 2)
        if bug == "dX_from_dWxh":
            dX[:, :, t - 1] = dWxh.T @ draw
        else:
            dX[:, :, t - 1] = Wxh.T @ draw                      # dX(:, :, t) = Wxh' * draw
        if bug == "Whh_apostrophe_dropped":
            dhnext = Whh @ draw
        elif bug == "dhnext_dtanh_ahead":
            dhnext = (Whh.T @ draw) * (1 - H[:, :, t - 1] ** 2)   # tanh' here, and again at step t - 1
        elif bug == "dhnext_from_dh":
            dhnext = Whh.T @ dh
        else:
            dhnext = Whh.T @ draw                               # dhnext = Whh' * draw
    dh0 = dh if bug == "dh0_is_dh" else dhnext
    return dX, dh0, dWxh, dWhh, dbh


def to_user(cell, p):
    """Canonical torch weights -> Wxh (n_h, n_x), Whh (n_h, n_h), bh (n_h, 1): the script's."""
    return {"Wxh": np.array(p["weight_ih"]), "Whh": np.array(p["weight_hh"]),
            "bh": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if "dWxh" in g:
        out["dweight_ih"] = g["dWxh"]
    if "dWhh" in g:
        out["dweight_hh"] = g["dWhh"]
    if "dbh" in g:
        out["dbias_ih"] = g["dbh"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="octave_rnn", cells=("rnn",), axes="DNT")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(rnn_fwd, bug=bug), partial(rnn_bwd, bug=bug), {"cell": "rnn", "layout": LAYOUT,
                                                                  "activation": "tanh"}

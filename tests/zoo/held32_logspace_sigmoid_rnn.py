"""A sigmoid RNN in the karpathy layout (one example, column vectors: x (T, D, 1), h0 (H, 1),
Wxh (H, D), Whh (H, H), bh (H, 1)) written by someone careful about overflow: the sigmoid is
taken in log space, ``s = exp(-logaddexp(0, -a))``, and so is its derivative,
``s' = exp(-logaddexp(0, -a) - logaddexp(0, a))`` (log s + log(1 - s)). The columns of x are
stacked into X (D, T) so that every input projection is one matmul ``Wxh @ X + bh``, the
states are the columns of S (H, T+1) (column 0 is h0), and the weight gradients are one
matmul each over the (H, T) block of pre-activation gradients after the loop.

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dsig_log_sign": "derivative_miswritten",           # exp(-logaddexp(0, -a) + logaddexp(0, a))
    "dsig_at_state": "derivative_wrong_point",          # the log-space s' evaluated at s = S[:, t+1] instead of a
    "dsig_as_tanh": "derivative_wrong_function",        # 1 - s ** 2
    "carry_Whh_no_T": "weight_transposed",              # carry = Whh @ dA[:, t] (for Whh.T @ ...)
    "dWhh_with_S_next": "wrong_time",                   # dA @ S[:, 1:].T: h_t for h_(t-1)
    "dWxh_over_T": "reduction_scaled",                  # dWxh = dA @ X.T / T
    "carry_dropped": "carry_dropped",                   # dA[:, t] = dH[:, t] * ds: the carry never added
    "dX_from_dWxh": "gradient_for_weight",              # dX = dWxh.T @ dA (dWxh computed on the line above)
    "params_clipped": "gradient_clipped",               # min-char-rnn's clip loop, with 0.1 for 5
    "forward_sigmoid_of_minus_a": "forward_mistake",    # s = exp(-logaddexp(0, a)) = sigmoid(-a); backward
                                                        # consistent (ds = -s')
    "loop_skips_last": "loop_skips_step",               # reversed(range(T - 1))
    "sigmoid_grad_in_place_on_S": "inplace_corruption", # ds = S[:, 1:]; ds *= 1 - ds: the cached states (and so
                                                        # dWhh) become s (1 - s)
    "Whh_no_T_and_S_next": "unknown",                   # carry_Whh_no_T and dWhh_with_S_next together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dsig_log_sign": "",
    "dsig_at_state": "",
    "dsig_as_tanh": "",
    "carry_Whh_no_T": "",
    "dWhh_with_S_next": "",
    "dWxh_over_T": "",
    "carry_dropped": "",
    "dX_from_dWxh": "",
    "params_clipped": "",
    "forward_sigmoid_of_minus_a": "",
    "loop_skips_last": "",
    "sigmoid_grad_in_place_on_S": "",
    "Whh_no_T_and_S_next": "",
}


def log_sigmoid(a):
    return -np.logaddexp(0, -a)


def forward(x, h0, Wxh, Whh, bh, bug=None):
    """x (T, D, 1), h0 (H, 1) -> h (T, H, 1), cache."""
    T = x.shape[0]
    H = h0.shape[0]
    X = x[:, :, 0].T                                    # (D, T)
    A = Wxh @ X + bh                                    # (H, T): every input projection
    S = np.empty((H, T + 1), dtype=x.dtype)
    S[:, 0] = h0[:, 0]
    for t in range(T):
        A[:, t] += Whh @ S[:, t]
        if bug == "forward_sigmoid_of_minus_a":
            S[:, t + 1] = np.exp(log_sigmoid(-A[:, t]))
        else:
            S[:, t + 1] = np.exp(log_sigmoid(A[:, t]))
    return np.ascontiguousarray(S[:, 1:].T[:, :, None]), (X, S, A, Wxh, Whh)


def backward(dh, cache, bug=None):
    """dh (T, H, 1) -> dx, dh0, dWxh, dWhh, dbh."""
    X, S, A, Wxh, Whh = cache
    H, T = A.shape
    dH = dh[:, :, 0].T                                  # (H, T)
    if bug == "dsig_log_sign":
        ds = np.exp(log_sigmoid(A) + np.logaddexp(0, A))
    elif bug == "dsig_at_state":
        ds = np.exp(log_sigmoid(S[:, 1:]) + log_sigmoid(-S[:, 1:]))
    elif bug == "dsig_as_tanh":
        ds = 1 - S[:, 1:] ** 2
    elif bug == "forward_sigmoid_of_minus_a":
        ds = -np.exp(log_sigmoid(A) + log_sigmoid(-A))
    elif bug == "sigmoid_grad_in_place_on_S":
        ds = S[:, 1:]
        ds *= 1 - ds
    else:
        ds = np.exp(log_sigmoid(A) + log_sigmoid(-A))   # s (1 - s), in log space
    dA = np.zeros_like(A)
    carry = np.zeros(H, dtype=dh.dtype)
    for t in reversed(range(T - 1 if bug == "loop_skips_last" else T)):
        if bug == "carry_dropped":
            dA[:, t] = dH[:, t] * ds[:, t]
        else:
            dA[:, t] = (dH[:, t] + carry) * ds[:, t]
        carry = (Whh if bug in ("carry_Whh_no_T", "Whh_no_T_and_S_next") else Whh.T) @ dA[:, t]
    dWxh = dA @ X.T
    if bug == "dWxh_over_T":
        dWxh /= T
    if bug in ("dWhh_with_S_next", "Whh_no_T_and_S_next"):
        dWhh = dA @ S[:, 1:].T
    else:
        dWhh = dA @ S[:, :-1].T
    dbh = dA.sum(axis=1, keepdims=True)
    dX = (dWxh.T if bug == "dX_from_dWxh" else Wxh.T) @ dA      # (D, T)
    if bug == "params_clipped":
        for dparam in (dWxh, dWhh, dbh):
            np.clip(dparam, -0.1, 0.1, out=dparam)
    return np.ascontiguousarray(dX.T[:, :, None]), carry[:, None], dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

"""A cs231n-layout tanh RNN written by someone who keeps everything 2-D for speed: x (N, T, D)
is flattened to rows (N*T, D) (row n*T + t), the input projection of every step is one matmul
``A = X @ Wx + b`` done before the loop, step t works on the strided row view ``A[t::T]``,
and the weight gradients are one matmul each after the loop over a shifted copy of the
states (``Hprev``: h0 in the rows of t = 0, the state one row up elsewhere). Thirty-second
held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dA_tanh_grad_at_A": "derivative_wrong_point",      # (1 - A[rows] ** 2): tanh' written on the pre-activation
    "carry_Wh_untransposed": "weight_transposed",       # carry = dA[rows] @ Wh (for Wh.T)
    "carry_never_added": "carry_dropped",               # dA[rows] = dH[rows] * (1 - h ** 2): carry unused
    "carry_subtracted": "wrong_sign",                   # (dH[rows] - carry)
    "loop_stops_at_1": "loop_skips_step",               # reversed(range(1, T)): step 0 never visited
    "db_mean": "reduction_scaled",                      # db = dA.mean(axis=0): off by N*T
    "hprev_shift_after_h0": "wrong_value",              # Hprev[0::T] = h0 written before Hprev[1:] = Hs[:-1]:
                                                        # the rows of t = 0 read the previous example's last h
                                                        # (only the first example keeps h0)
    "loop_runs_forward": "loop_direction",              # for t in range(T): the carry goes the wrong way
    "forward_bias_twice": "forward_mistake",            # forward adds b again with the recurrent part;
                                                        # backward consistent (db = 2 * sum)
    "tanh_grad_applied_early": "derivative_twice",      # carry = (dA[rows] @ Wh.T) * (1 - prev ** 2) and the next
                                                        # step multiplies by tanh' again (dh0 gets the extra too)
    "squares_Hs_in_place": "inplace_corruption",        # Hs[rows] **= 2 to form 1 - h ** 2: the cached states
                                                        # that dWh reads are squared
    "tanh_grad_missing": "derivative_missing",          # dA[rows] = dH[rows] + carry
    "dWh_operands_swapped": "gradient_transposed",      # dWh = dA.T @ Hprev: (H_out, H_in) for cs231n's (H_in, H_out)
    "carry_damped": "unknown",                          # carry = 0.9 * dA[rows] @ Wh.T: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dA_tanh_grad_at_A": "",
    "carry_Wh_untransposed": "",
    "carry_never_added": "",
    "carry_subtracted": "",
    "loop_stops_at_1": "",
    "db_mean": "",
    "hprev_shift_after_h0": "",
    "loop_runs_forward": "",
    "forward_bias_twice": "",
    "tanh_grad_applied_early": "",
    "squares_Hs_in_place": "",
    "tanh_grad_missing": "",
    "dWh_operands_swapped": "",
    "carry_damped": "",
}


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    """x (N, T, D), h0 (N, H) -> h (N, T, H), cache. Rows n*T + t throughout."""
    N, T, D = x.shape
    H = h0.shape[1]
    X = x.reshape(N * T, D)
    A = X @ Wx + b                                      # every step's input part at once
    Hs = np.empty((N * T, H), dtype=x.dtype)
    prev = h0
    for t in range(T):
        rows = slice(t, None, T)
        A[rows] += prev @ Wh
        if bug == "forward_bias_twice":
            A[rows] += b
        Hs[rows] = np.tanh(A[rows])
        prev = Hs[rows]
    return Hs.reshape(N, T, H).copy(), (X, h0, Wx, Wh, A, Hs, N, T)


def rnn_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, dh0, dWx, dWh, db."""
    X, h0, Wx, Wh, A, Hs, N, T = cache
    H = h0.shape[1]
    dH = dh.reshape(N * T, H)
    dA = np.zeros_like(Hs)
    carry = np.zeros((N, H), dtype=dh.dtype)
    steps = range(T) if bug == "loop_runs_forward" else reversed(range(1 if bug == "loop_stops_at_1" else 0, T))
    for t in steps:
        rows = slice(t, None, T)
        if bug == "squares_Hs_in_place":
            Hs[rows] **= 2
            local = 1 - Hs[rows]
        elif bug == "dA_tanh_grad_at_A":
            local = 1 - A[rows] ** 2
        else:
            local = 1 - Hs[rows] ** 2
        if bug == "carry_never_added":
            dA[rows] = dH[rows] * local
        elif bug == "carry_subtracted":
            dA[rows] = (dH[rows] - carry) * local
        elif bug == "tanh_grad_missing":
            dA[rows] = dH[rows] + carry
        else:
            dA[rows] = (dH[rows] + carry) * local
        carry = dA[rows] @ (Wh if bug == "carry_Wh_untransposed" else Wh.T)
        if bug == "carry_damped":
            carry = 0.9 * carry
        if bug == "tanh_grad_applied_early":
            prev = h0 if t == 0 else Hs[t - 1::T]
            carry = carry * (1 - prev ** 2)
    Hprev = np.empty_like(Hs)
    if bug == "hprev_shift_after_h0":
        Hprev[0::T] = h0
        Hprev[1:] = Hs[:-1]
    else:
        Hprev[1:] = Hs[:-1]
        Hprev[0::T] = h0
    dWx = X.T @ dA
    dWh = dA.T @ Hprev if bug == "dWh_operands_swapped" else Hprev.T @ dA
    db = dA.mean(axis=0) if bug == "db_mean" else dA.sum(axis=0)
    if bug == "forward_bias_twice":
        db = 2 * db
    dx = (dA @ Wx.T).reshape(N, T, X.shape[1])
    return dx, carry, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

"""A tanh RNN written the way a classifier course writes a whole-sequence backward: the
forward keeps every step in arrays stacked over time, and the backward has no step
function: one loop for the recurrence on the stacked pre-activation gradients dA (N, T, H),
then every weight gradient at once from the stacked arrays. The notation is the deep
learning book's, h_t = tanh(b + W h_(t-1) + U x_t), with row vectors, and the weights come
in one dict:

    params = {"U": (H, D), "W": (H, H), "b": (H,)}      A = X U^T + H_prev W^T + b

Sixth held-out zoo: written without reading the diagnosis. "[own]" marks mistakes of the
writer's own invention (beyond issue 8's list).
"""

import numpy as np

import harness

BUGS = {
    "dW_from_H_not_Hprev": "wrong_time",               # dW = dA^T H (h_t) instead of H_prev (h_(t-1))
    "dW_flat_product_reversed": "gradient_transposed", # dW = Hprev_flat.T @ dA_flat: W's gradient comes out transposed
    "carry_W_transposed": "weight_transposed",         # dA[:, t + 1] @ W.T carried into step t
    "tanh_grad_from_A": "derivative_wrong_point",      # 1 - A ** 2: the pre-activation for tanh's output
    "tanh_grad_left_out": "derivative_missing",        # dA[:, t] = dH[:, t] + carry
    "tanh_grad_sign": "wrong_sign",                    # (H ** 2 - 1)
    "carry_tanh_grad_twice": "derivative_twice",       # the carry already times 1 - H_t ** 2, multiplied again
    "no_recurrence_vectorised": "carry_dropped",       # [own] dA = dH * (1 - H ** 2) for every t at once; no loop
    "db_mean": "reduction_scaled",                     # [own] db = dA.mean(axis=(0, 1)) for the sum
    "recurrence_stops_at_1": "loop_skips_step",        # for t in range(T - 1, 0, -1): dA[:, 0] stays zero
    "h0_term_left_out": "term_dropped",                # [own] dW from H[:, :-1] and dA[:, 1:]: h0's term forgotten
    "carry_window_2": "truncated_bptt",                # [own] the carry taken only from the last two steps
    "forward_bias_twice": "forward_mistake",           # [own] a = x U^T + b; a += h W^T + b; the backward's db = 2 sum dA
    "tanh_in_place": "inplace_corruption",             # np.tanh(a, out=a) in the forward: the stacked A holds h, and the
                                                       # backward's 1 - tanh(A) ** 2 reads tanh(h)
    "carry_W_T_and_db_mean": "unknown",                # two mistakes at once
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dW_from_H_not_Hprev": "",
    "dW_flat_product_reversed": "",
    "carry_W_transposed": "",
    "tanh_grad_from_A": "",
    "tanh_grad_left_out": "",
    "tanh_grad_sign": "",
    "carry_tanh_grad_twice": "",
    "no_recurrence_vectorised": "",
    "db_mean": "",
    "recurrence_stops_at_1": "",
    "h0_term_left_out": "",
    "carry_window_2": "",
    "forward_bias_twice": "",
    "tanh_in_place": "",
    "carry_W_T_and_db_mean": "",
}


def forward(x, h0, params, bug=None):
    """x (N, T, D), h0 (N, H) -> H (N, T, H), cache."""
    U, W, b = params["U"], params["W"], params["b"]
    N, T, _ = x.shape
    A = np.zeros((N, T, W.shape[0]), dtype=x.dtype)
    Hs = np.zeros_like(A)
    h = h0
    for t in range(T):
        a = x[:, t] @ U.T + b
        a += h @ W.T + (b if bug == "forward_bias_twice" else 0)
        if bug == "tanh_in_place":
            A[:, t] = a
            h = np.tanh(A[:, t], out=A[:, t])
        else:
            A[:, t] = a
            h = np.tanh(a)
        Hs[:, t] = h
    return Hs, {"X": x, "h0": h0, "A": A, "H": Hs, "params": params}


def backward(dH, cache, bug=None):
    X, h0, A, Hs, params = cache["X"], cache["h0"], cache["A"], cache["H"], cache["params"]
    U, W = params["U"], params["W"]
    N, T, Hdim = dH.shape
    if bug == "tanh_in_place":
        dtanh = 1 - np.tanh(A) ** 2
    elif bug == "tanh_grad_from_A":
        dtanh = 1 - A ** 2
    elif bug == "tanh_grad_sign":
        dtanh = Hs ** 2 - 1
    else:
        dtanh = 1 - Hs ** 2
    Wc = W.T if bug in ("carry_W_transposed", "carry_W_T_and_db_mean") else W
    if bug == "no_recurrence_vectorised":
        dA = dH * dtanh
    else:
        dA = np.zeros_like(dH)
        last = 0 if bug != "recurrence_stops_at_1" else 1
        for t in range(T - 1, last - 1, -1):
            carry = dA[:, t + 1] @ Wc if t + 1 < T else 0
            if bug == "carry_window_2" and t + 1 < T - 2:
                carry = 0
            if bug == "tanh_grad_left_out":
                dA[:, t] = dH[:, t] + carry
            elif bug == "carry_tanh_grad_twice":
                dA[:, t] = (dH[:, t] + carry * dtanh[:, t]) * dtanh[:, t]
            else:
                dA[:, t] = (dH[:, t] + carry) * dtanh[:, t]
    Hprev = np.concatenate([h0[:, None], Hs[:, :-1]], axis=1)
    flat = dA.reshape(N * T, Hdim)
    dU = flat.T @ X.reshape(N * T, -1)
    if bug == "dW_from_H_not_Hprev":
        dW = flat.T @ Hs.reshape(N * T, Hdim)
    elif bug == "dW_flat_product_reversed":
        dW = Hprev.reshape(N * T, Hdim).T @ flat
    elif bug == "h0_term_left_out":
        dW = dA[:, 1:].reshape(-1, Hdim).T @ Hs[:, :-1].reshape(-1, Hdim)
    else:
        dW = flat.T @ Hprev.reshape(N * T, Hdim)
    if bug in ("db_mean", "carry_W_T_and_db_mean"):
        db = dA.mean(axis=(0, 1))
    else:
        db = dA.sum(axis=(0, 1)) * (2 if bug == "forward_bias_twice" else 1)
    dX = dA @ U
    dh0 = dA[:, 0] @ Wc
    return {"dx": dX, "dh0": dh0, "dU": dU, "dW": dW, "db": db}


def to_user(cell, p):
    return {"U": p["weight_ih"], "W": p["weight_hh"], "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    names = {"dU": "dweight_ih", "dW": "dweight_hh", "db": "dbias_ih"}
    return {names[k]: v for k, v in g.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="book_rnn", cells=("rnn",), weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, params):
        return forward(x, h0, params, bug)

    def bwd(dH, cache):
        return backward(dH, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT}

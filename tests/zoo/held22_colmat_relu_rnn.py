"""An Elman RNN with ReLU written in the linear-algebra convention of a signal-processing
group: the state is an (H, N) matrix whose columns are the examples, time is the first axis
of everything (X (T, D, N), states (T, H, N)), every product is np.matmul with the weight on
the left, and the bias is an (H, 1) column broadcast over the batch:

    h_t = relu(W @ x_t + U @ h_(t-1) + b)        W (H, D), U (H, H), b (H, 1)

The forward keeps a list of the previous states for the backward. Twenty-second held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "relu_mask_from_gradient": "derivative_wrong_point",  # da = g * (g > 0): relu' taken at the gradient, not at h_t
    "relu_derivative_missing": "derivative_missing",      # da = g
    "relu_mask_as_tanh_prime": "derivative_wrong_function",  # da = g * (1 - h_t ** 2)
    "U_untransposed": "weight_transposed",                # carry = U @ da (for U.T @ da)
    "dU_transposed": "gradient_transposed",               # dU += h_prev @ da.T
    "carry_from_dU": "gradient_for_weight",               # carry = dU.T @ da (the running gradient)
    "grads_over_N_times_T": "reduction_scaled",           # dW, dU, db divided by N * T ("per sample")
    "range_stops_at_1": "loop_skips_step",                # for t in reversed(range(1, T))
    "bptt_window_2": "truncated_bptt",                    # carry zeroed once two steps have been walked
    "forward_leaky_relu": "forward_mistake",              # h = where(a > 0, a, 0.01 a); backward consistent
    "dX_before_da_update": "wrong_time",                  # dX[t] = W.T @ da computed before da of step t (da of t+1)
    "h_buffer_reused": "inplace_corruption",              # np.maximum(..., 0, out=h): every cached h_prev is the last h
    "U_untransposed_and_db_over_N": "unknown",            # carry = U @ da and db /= N (two mistakes)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "relu_mask_from_gradient": "",
    "relu_derivative_missing": "",
    "relu_mask_as_tanh_prime": "",
    "U_untransposed": "",
    "dU_transposed": "",
    "carry_from_dU": "",
    "grads_over_N_times_T": "",
    "range_stops_at_1": "",
    "bptt_window_2": "",
    "forward_leaky_relu": "",
    "dX_before_da_update": "",
    "h_buffer_reused": "",
    "U_untransposed_and_db_over_N": "",
}


def forward(X, h0, W, U, b, bug=None):
    T, _, N = X.shape
    Hs = np.zeros((T, U.shape[0], N), dtype=X.dtype)
    h, prevs = h0.copy(), []
    for t in range(T):
        prevs.append(h)
        a = np.matmul(W, X[t]) + np.matmul(U, h) + b
        if bug == "h_buffer_reused":
            np.maximum(a, 0, out=h)
        elif bug == "forward_leaky_relu":
            h = np.where(a > 0, a, 0.01 * a)
        else:
            h = np.maximum(a, 0)
        Hs[t] = h
    return Hs, (X, Hs, prevs, W, U)


def backward(dH, cache, bug=None):
    X, Hs, prevs, W, U = cache
    T, Hn, N = dH.shape
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros((Hn, 1), dtype=dH.dtype)
    dX = np.zeros_like(X)
    carry = np.zeros((Hn, N), dtype=dH.dtype)
    da = np.zeros((Hn, N), dtype=dH.dtype)
    for t in (reversed(range(1, T)) if bug == "range_stops_at_1" else reversed(range(T))):
        if bug == "bptt_window_2" and t == T - 3:
            carry = np.zeros_like(carry)
        g = dH[t] + carry
        if bug == "dX_before_da_update":
            dX[t] = np.matmul(W.T, da)
        if bug == "relu_mask_from_gradient":
            da = g * (g > 0)
        elif bug == "relu_derivative_missing":
            da = g
        elif bug == "relu_mask_as_tanh_prime":
            da = g * (1 - Hs[t] ** 2)
        elif bug == "forward_leaky_relu":
            da = g * np.where(Hs[t] > 0, 1, 0.01).astype(dH.dtype)
        else:
            da = g * (Hs[t] > 0)
        dW += np.matmul(da, X[t].T)
        dU += np.matmul(prevs[t], da.T) if bug == "dU_transposed" else np.matmul(da, prevs[t].T)
        db += da.sum(axis=1, keepdims=True)
        if bug != "dX_before_da_update":
            dX[t] = np.matmul(W.T, da)
        if bug in ("U_untransposed", "U_untransposed_and_db_over_N"):
            carry = np.matmul(U, da)
        elif bug == "carry_from_dU":
            carry = np.matmul(dU.T, da)
        else:
            carry = np.matmul(U.T, da)
    if bug == "grads_over_N_times_T":
        dW, dU, db = dW / (N * T), dU / (N * T), db / (N * T)
    if bug == "U_untransposed_and_db_over_N":
        db /= N
    return dX, carry, dW, dU, db


def to_user(cell, p):
    return {"W": p["weight_ih"], "U": p["weight_hh"], "b": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = grads["dW"]
    if "dU" in grads:
        out["dweight_hh"] = grads["dU"]
    if "db" in grads:
        out["dbias_ih"] = grads["db"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="colmat_relu_rnn", cells=("rnn",), axes="TDN")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(X, h0, W, U, b):
        return forward(X, h0, W, U, b, bug)

    def bwd(dH, cache):
        return backward(dH, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

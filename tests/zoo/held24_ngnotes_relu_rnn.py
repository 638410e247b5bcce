"""A ReLU RNN written in the deep-learning-course notation (Z for pre-activations, A for
activations, caches in dicts keyed "Z1".."ZT" and "A0".."AT", dA for the upstream
gradient), on TF's kernel layout: kernel (D+H, H) applied to concat([x_t, A_(t-1)]) plus
bias (H,) (the built-in tf_kernel layout), options activation="relu". The backward splits
dconcat = dZ @ kernel.T into its x and A parts. Twenty-fourth held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

BUGS = {
    "relu_grad_from_prev_Z": "wrong_time",             # dZ = dA_t * (Z(t-1) > 0): the mask one step early
    "relu_grad_is_relu": "derivative_wrong_function",  # dZ = dA_t * np.maximum(Z, 0): relu itself for relu'
    "relu_grad_forgotten": "derivative_missing",       # dZ = dA_t
    "relu_mask_from_dA": "derivative_wrong_point",     # dZ = dA_t * (dA_t > 0): mask from the gradient (also wrong_value)
    "dkernel_concat_with_A_t": "wrong_time",           # dkernel += concat([x_t, A_t]).T @ dZ
    "dA_prev_kernel_untransposed": "weight_transposed",  # dA_prev = dZ @ kernel[D:] (no .T), the h part
    "dconcat_from_dkernel": "gradient_for_weight",     # dconcat = dZ @ dkernel.T (the running gradient)
    "dbias_over_T": "reduction_scaled",                # dbias / T at the end
    "dA_carry_overwrites": "carry_overwrites",         # dA_t = dA_prev (the carry) once there is one, dA[:, t] dropped
    "cached_A_buffer_reused": "inplace_corruption",    # one buffer A_buf updated in place and cached each step
    "dA_prev_clipped": "gradient_clipped",             # np.clip(dA_prev, -0.5, 0.5)
    "loop_skips_last_step": "loop_skips_step",         # for t in range(T - 2, -1, -1)
    "truncated_after_3": "truncated_bptt",             # the carry stops 3 steps back from the end
    "dkernel_A_t_and_dbias_T": "unknown",              # dkernel with A_t and dbias / T: two mistakes
    "forward_leaky_relu": "forward_mistake",           # forward leaky relu (0.01), backward consistent
}

TOUCHES = {b: "" for b in BUGS}


def rnn_forward(X, A0, kernel, bias, bug=None):
    """X (N, T, D), A0 (N, H) -> A (N, T, H), caches."""
    N, T, D = X.shape
    caches = {"A0": A0, "X": X, "kernel": kernel, "bias": bias}
    A_out = np.zeros((N, T, A0.shape[1]), dtype=X.dtype)
    A_buf = np.array(A0)
    A_prev = A0
    for t in range(1, T + 1):
        Z = np.concatenate([X[:, t - 1], A_prev], axis=1) @ kernel + bias
        if bug == "forward_leaky_relu":
            A = np.where(Z > 0, Z, 0.01 * Z)
        elif bug == "cached_A_buffer_reused":
            A_buf[...] = np.maximum(Z, 0)
            A = A_buf
        else:
            A = np.maximum(Z, 0)
        caches[f"Z{t}"], caches[f"A{t}"] = Z, A
        A_out[:, t - 1] = A
        A_prev = A
    return A_out, caches


def rnn_backward(dA, caches, bug=None):
    """dA (N, T, H) -> dX, dA0, dkernel, dbias."""
    X, kernel = caches["X"], caches["kernel"]
    N, T, D = X.shape
    dX = np.zeros_like(dA[:, :, :1].repeat(D, axis=2))
    dkernel, dbias = np.zeros_like(kernel), np.zeros_like(caches["bias"])
    dA_prev = np.zeros_like(dA[:, 0])
    last = T - 1 if bug == "loop_skips_last_step" else T
    for t in range(last, 0, -1):
        if bug == "truncated_after_3" and t == T - 3:
            dA_prev = np.zeros_like(dA_prev)
        if bug == "dA_carry_overwrites" and t < T:
            dA_t = dA_prev
        else:
            dA_t = dA[:, t - 1] + dA_prev
        Z = caches[f"Z{t}"]
        if bug == "relu_grad_from_prev_Z":
            dZ = dA_t * (caches[f"Z{t - 1}"] > 0) if t > 1 else dA_t * (Z > 0)
        elif bug == "relu_grad_is_relu":
            dZ = dA_t * np.maximum(Z, 0)
        elif bug == "relu_grad_forgotten":
            dZ = dA_t
        elif bug == "relu_mask_from_dA":
            dZ = dA_t * (dA_t > 0)
        elif bug == "forward_leaky_relu":
            dZ = dA_t * np.where(Z > 0, 1.0, 0.01).astype(Z.dtype)
        else:
            dZ = dA_t * (Z > 0)
        A_used = caches[f"A{t}"] if bug in ("dkernel_concat_with_A_t", "dkernel_A_t_and_dbias_T") \
            else caches[f"A{t - 1}"]
        dkernel += np.concatenate([X[:, t - 1], A_used], axis=1).T @ dZ
        dbias += dZ.sum(axis=0)
        if bug == "dconcat_from_dkernel":
            dconcat = dZ @ dkernel.T
        else:
            dconcat = dZ @ kernel.T
        dX[:, t - 1] = dconcat[:, :D]
        dA_prev = dZ @ kernel[D:] if bug == "dA_prev_kernel_untransposed" else dconcat[:, D:]
        if bug == "dA_prev_clipped":
            dA_prev = np.clip(dA_prev, -0.5, 0.5)
    if bug in ("dbias_over_T", "dkernel_A_t_and_dbias_T"):
        dbias = dbias / T
    return dX, dA_prev, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, bias):
        return rnn_forward(x, h0, kernel, bias, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "tf_kernel", "activation": "relu"}

"""A ReLU RNN in TF's kernel layout (kernel (D+H, H) on concat([x, h]), bias (H,)) written
by someone who folds the bias into the matrix: each step builds the augmented row input
[x_t, h_(t-1), 1] and multiplies it by W_aug = vstack([kernel, bias]) (D+H+1, H); the
backward gets dW_aug and splits it back into dkernel and dbias. Time-major inside:

    h_t = relu([x_t, h_(t-1), 1] @ W_aug)

Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "mask_of_prev_h": "wrong_time",                       # dz = dh * (h_(t-1) > 0): the previous step's mask
    "mask_from_incoming_grad": "derivative_wrong_point",  # dz = dh * (dh > 0): relu' taken at the gradient
    "no_relu_mask": "derivative_missing",                 # dz = dh
    "dh_slice_off_by_one": "wrong_value",                 # dinp[:, D + 1:] read as dh_prev (bias column in, x's last out)
    "Wh_not_transposed": "weight_transposed",             # dh_prev = dz @ W_aug[D:D+H] (no .T)
    "dh_prev_through_dW": "gradient_for_weight",          # dh_prev = dz @ dW_aug[D:D+H].T
    "dkernel_over_N": "reduction_scaled",                 # dkernel / N at the end (a mean loss assumed)
    "loop_skips_last": "loop_skips_step",                 # for t in range(T - 2, -1, -1)
    "carry_into_typo": "carry_dropped",                   # dh_nxt = ... (the carry stored under a name never read)
    "shared_input_buffer": "inplace_corruption",          # one inp buffer reused every step and cached by reference
    "forward_relu_on_state": "forward_mistake",           # inp = [x, relu(h)], consistent backward (only h0 changes)
    "mask_threshold_0p05": "unknown",                     # dz = dh * (a > 0.05): an arbitrary threshold
    "clip_dkernel_norm": "gradient_clipped",              # dW_aug rescaled to norm 0.5 when larger
}

TOUCHES = {b: "" for b in BUGS}


def forward(x, h0, kernel, bias, bug=None):
    N, T, D = x.shape
    W_aug = np.vstack([kernel, bias[None, :]])
    xs = x.transpose(1, 0, 2)
    h, hs, cache = h0, [], []
    buf = np.ones((N, W_aug.shape[0]), dtype=x.dtype)
    for t in range(T):
        state = np.maximum(h, 0) if bug == "forward_relu_on_state" else h
        if bug == "shared_input_buffer":
            inp = buf
            inp[:, :D], inp[:, D:-1] = xs[t], state
        else:
            inp = np.concatenate([xs[t], state, np.ones((N, 1), dtype=x.dtype)], axis=1)
        a = inp @ W_aug
        h_new = np.maximum(a, 0)
        cache.append((inp, a, h, h_new))
        hs.append(h_new)
        h = h_new
    return np.stack(hs, axis=1), (cache, W_aug, D)


def backward(dh, cache_all, bug=None):
    cache, W_aug, D = cache_all
    N, T, H = dh.shape
    dW_aug = np.zeros_like(W_aug)
    dx = np.zeros((T, N, D), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    start = T - 2 if bug == "loop_skips_last" else T - 1
    for t in range(start, -1, -1):
        inp, a, h_prev, h = cache[t]
        g = dh[:, t] + dh_next
        if bug == "mask_of_prev_h":
            dz = g * (h_prev > 0)
        elif bug == "mask_from_incoming_grad":
            dz = g * (g > 0)
        elif bug == "no_relu_mask":
            dz = g
        elif bug == "mask_threshold_0p05":
            dz = g * (a > 0.05)
        else:
            dz = g * (a > 0)
        dW_aug += inp.T @ dz
        dinp = dz @ W_aug.T
        dx[t] = dinp[:, :D]
        if bug == "dh_slice_off_by_one":
            dh_prev = dinp[:, D + 1:]
        elif bug == "Wh_not_transposed":
            dh_prev = dz @ W_aug[D:D + H]
        elif bug == "dh_prev_through_dW":
            dh_prev = dz @ dW_aug[D:D + H].T
        else:
            dh_prev = dinp[:, D:D + H]
        if bug == "forward_relu_on_state":
            dh_prev = dh_prev * (h_prev > 0)
        if bug == "carry_into_typo":
            dh_nxt = dh_prev  # noqa: F841
        else:
            dh_next = dh_prev
    if bug == "clip_dkernel_norm":
        norm = np.linalg.norm(dW_aug)
        if norm > 0.5:
            dW_aug = dW_aug * (0.5 / norm)
    dkernel, dbias = dW_aug[:-1], dW_aug[-1]
    if bug == "dkernel_over_N":
        dkernel = dkernel / N
    return dx.transpose(1, 0, 2), dh_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel", "activation": "relu"}

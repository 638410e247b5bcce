"""A sigmoid RNN in TF's kernel layout (one kernel (D+H, H) on concat([x, h]) plus bias)
whose backward is built for speed: the loop only carries the gradient back step by step,
and the weight and input gradients are taken after it in one batched np.matmul over the
stacked (T, N, ...) arrays: dkernel = sum_t xh_t^T da_t as matmul(xh^T, da).sum(0),
dx = matmul(da, kernel[:D].T). The forward keeps xh (T, N, D+H) and hs (T, N, H).

    h_t = sigmoid([x_t, h_(t-1)] kernel + bias)        x (N, T, D), h0 (N, H)

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "sigmoid_grad_as_tanh": "derivative_wrong_function",  # da = dh_t * (1 - h ** 2)
    "sigmoid_grad_twice": "derivative_twice",       # da[t] has s(1 - s), then da *= hs * (1 - hs) again after the loop
    "sigmoid_grad_miswritten": "derivative_miswritten",  # h * (1 - h ** 2) for h * (1 - h)
    "carry_from_kernel_top": "wrong_weight",        # carry = da @ kernel[:H].T (first H rows) for kernel[D:]
    "xh_rebuilt_with_h_t": "wrong_time",            # after the loop xh rebuilt as [x_t, h_t] from hs for dkernel
    "dkernel_mean_over_T": "reduction_scaled",      # matmul(xh^T, da).mean(0) (np.mean for np.sum)
    "loop_skips_last": "loop_skips_step",           # for t in range(T - 2, -1, -1): step T-1's da stays 0
    "truncated_after_3": "truncated_bptt",          # no carry once 3 steps have been walked back
    "carry_overwrites_upstream": "carry_overwrites",  # g[t - 1] = carry: the upstream dh[t-1] replaced
    "xh_buffer_aliased": "inplace_corruption",      # forward appends one reused xh buffer: every cached xh is the last
    "fwd_concat_h_first": "forward_mistake",        # xh = [h, x] with the kernel as is; backward slices consistently
    "sigmoid_grad_const": "unknown",                # da = dh_t * 0.2 (hard-sigmoid slope for s(1 - s))
    "skip_last_and_mean": "unknown",                # two at once: loop_skips_last and dkernel_mean_over_T
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "sigmoid_grad_as_tanh": "",
    "sigmoid_grad_twice": "",
    "sigmoid_grad_miswritten": "",
    "carry_from_kernel_top": "",
    "xh_rebuilt_with_h_t": "",
    "dkernel_mean_over_T": "",
    "loop_skips_last": "",
    "truncated_after_3": "",
    "carry_overwrites_upstream": "",
    "xh_buffer_aliased": "",
    "fwd_concat_h_first": "",
    "sigmoid_grad_const": "",
    "skip_last_and_mean": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(x, h0, kernel, bias, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    xh = np.empty((T, N, D + H), dtype=x.dtype)
    hs = np.empty((T, N, H), dtype=x.dtype)
    buf = np.empty((N, D + H), dtype=x.dtype)
    xhs = []
    h = h0
    for t in range(T):
        if bug == "fwd_concat_h_first":
            xh[t] = np.concatenate([h, x[:, t]], axis=1)
        else:
            xh[t, :, :D], xh[t, :, D:] = x[:, t], h
        if bug == "xh_buffer_aliased":
            buf[:, :D], buf[:, D:] = x[:, t], h
            xhs.append(buf)
        h = sigmoid(xh[t] @ kernel + bias)
        hs[t] = h
    if bug == "xh_buffer_aliased":
        xh = np.stack(xhs)
    return hs.transpose(1, 0, 2).copy(), (x, h0, xh, hs, kernel)


def backward(dh, cache, bug=None):
    x, h0, xh, hs, kernel = cache
    N, T, D = x.shape
    H = h0.shape[1]
    g = dh.transpose(1, 0, 2).copy()                  # (T, N, H): upstream, the carry is added in place
    da = np.zeros_like(g)
    W_rec = kernel[:H] if bug == "carry_from_kernel_top" else (kernel[:H] if bug == "fwd_concat_h_first"
                                                               else kernel[D:])
    last = T - 2 if bug in ("loop_skips_last", "skip_last_and_mean") else T - 1
    for walked, t in enumerate(range(last, -1, -1)):
        s = hs[t]
        if bug == "sigmoid_grad_as_tanh":
            da[t] = g[t] * (1 - s ** 2)
        elif bug == "sigmoid_grad_miswritten":
            da[t] = g[t] * s * (1 - s ** 2)
        elif bug == "sigmoid_grad_const":
            da[t] = g[t] * 0.2
        else:
            da[t] = g[t] * s * (1 - s)
        if t > 0 and not (bug == "truncated_after_3" and walked >= 2):
            if bug == "carry_overwrites_upstream":
                g[t - 1] = da[t] @ W_rec.T
            else:
                g[t - 1] += da[t] @ W_rec.T
    dh0 = da[0] @ W_rec.T
    if bug == "sigmoid_grad_twice":
        da *= hs * (1 - hs)
        dh0 = da[0] @ W_rec.T
    if bug == "xh_rebuilt_with_h_t":
        xh = np.concatenate([x.transpose(1, 0, 2), hs], axis=2)
    per_step = np.matmul(xh.transpose(0, 2, 1), da)   # (T, D+H, H)
    dkernel = per_step.mean(0) if bug in ("dkernel_mean_over_T", "skip_last_and_mean") else per_step.sum(0)
    dbias = da.sum(axis=(0, 1))
    W_in = kernel[H:] if bug == "fwd_concat_h_first" else kernel[:D]
    dx = np.matmul(da, W_in.T).transpose(1, 0, 2)
    return dx, dh0, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, kernel, bias):
        return forward(x, h0, kernel, bias, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "tf_kernel", "activation": "sigmoid"}

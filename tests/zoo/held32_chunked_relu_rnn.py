"""A time-major ReLU RNN with torch's weight names and orientation (W_ih (H, D), W_hh (H, H),
b_ih, b_hh), written to be fast: the input projection of all steps is one
``np.einsum(..., optimize=True)``, the states live in a preallocated (T+1, N, H) array, and
the backward walks the sequence in chunks of K = 2 steps from the end, building the chunk's
pre-activation gradients in a (K, N, H) block and folding them into the weight gradients
with one ``np.tensordot`` per chunk (the carry goes on across chunks: full BPTT).

    pre_t = x_t W_ih^T + b_ih + b_hh + h_(t-1) W_hh^T      h_t = max(pre_t, 0)

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

K = 2

BUGS = {
    "carry_reset_per_chunk": "truncated_bptt",          # dnext = 0 at the start of every chunk: the carry is cut
                                                        # every K = 2 steps
    "relu_grad_from_prev_state": "wrong_time",          # mask (hs[t] > 0): h_(t-1) for the step's own pre_t
    "carry_W_hh_T": "weight_transposed",                # dnext = da @ W_hh.T (for da @ W_hh)
    "dW_hh_args_swapped": "gradient_transposed",        # np.tensordot(hs[start:stop], da, ...): (H_in, H_out)
    "chunk_start_break": "loop_skips_step",             # start = stop - K; if start < 0: break  -> step 0 left out
    "dx_over_N": "reduction_scaled",                    # dx = da @ W_ih / N
    "forward_W_hh_untransposed": "forward_mistake",     # pre_t += h @ W_hh (no .T); backward consistent
    "only_last_step_gets_dh": "carry_overwrites",       # g = dnext if t < T - 1 else dh[t]: the carry replaces dh[t]
    "carry_clipped": "gradient_clipped",                # np.clip(dnext, -0.05, 0.05, out=dnext)
    "relu_mask_flipped": "derivative_miswritten",       # (pre[t] < 0) for (pre[t] > 0)
    "dW_hh_with_new_states": "wrong_time",              # tensordot(da, hs[start + 1:stop + 1]): h_t for h_(t-1)
    "dx_from_dW_ih": "gradient_for_weight",             # dx[start:stop] = da @ dW_ih (the running gradient)
    "carry_halved": "unknown",                          # dnext = 0.5 * (da @ W_hh): an arbitrary constant
    "mask_flipped_and_dx_over_N": "unknown",            # relu_mask_flipped and dx_over_N together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "carry_reset_per_chunk": "",
    "relu_grad_from_prev_state": "",
    "carry_W_hh_T": "",
    "dW_hh_args_swapped": "",
    "chunk_start_break": "",
    "dx_over_N": "",
    "forward_W_hh_untransposed": "",
    "only_last_step_gets_dh": "",
    "carry_clipped": "",
    "relu_mask_flipped": "",
    "dW_hh_with_new_states": "",
    "dx_from_dW_ih": "",
    "carry_halved": "",
    "mask_flipped_and_dx_over_N": "",
}


def rnn_relu_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug=None):
    """x (T, N, D), h0 (N, H) -> hs[1:] (T, N, H), cache."""
    T, N, _ = x.shape
    H = h0.shape[1]
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    pre = np.einsum("tnd,hd->tnh", x, W_ih, optimize=True) + (b_ih + b_hh)
    W_rec = W_hh if bug == "forward_W_hh_untransposed" else W_hh.T
    for t in range(T):
        pre[t] += hs[t] @ W_rec
        np.maximum(pre[t], 0, out=hs[t + 1])
    return hs[1:].copy(), (x, hs, pre, W_ih, W_hh)


def _mask(pre, hs, t, bug):
    if bug == "relu_grad_from_prev_state":
        return hs[t] > 0
    if bug in ("relu_mask_flipped", "mask_flipped_and_dx_over_N"):
        return pre[t] < 0
    return pre[t] > 0


def rnn_relu_backward(dh, cache, bug=None):
    """dh (T, N, H) -> dx, dh0, dW_ih, dW_hh, db_ih, db_hh."""
    x, hs, pre, W_ih, W_hh = cache
    T, N, H = dh.shape
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db = np.zeros(H, dtype=dh.dtype)
    dx = np.zeros_like(x)
    dnext = np.zeros((N, H), dtype=dh.dtype)
    W_back = W_hh.T if bug in ("carry_W_hh_T", "forward_W_hh_untransposed") else W_hh
    for stop in range(T, 0, -K):
        start = stop - K
        if start < 0:
            if bug == "chunk_start_break":
                break
            start = 0
        if bug == "carry_reset_per_chunk":
            dnext = np.zeros((N, H), dtype=dh.dtype)
        da = np.empty((stop - start, N, H), dtype=dh.dtype)
        for t in range(stop - 1, start - 1, -1):
            g = (dnext if t < T - 1 else dh[t]) if bug == "only_last_step_gets_dh" else dh[t] + dnext
            da[t - start] = g * _mask(pre, hs, t, bug)
            dnext = da[t - start] @ W_back
            if bug == "carry_clipped":
                np.clip(dnext, -0.05, 0.05, out=dnext)
            if bug == "carry_halved":
                dnext = 0.5 * dnext
        dW_ih += np.tensordot(da, x[start:stop], axes=([0, 1], [0, 1]))
        if bug in ("dW_hh_args_swapped", "forward_W_hh_untransposed"):
            dW_hh += np.tensordot(hs[start:stop], da, axes=([0, 1], [0, 1]))
        elif bug == "dW_hh_with_new_states":
            dW_hh += np.tensordot(da, hs[start + 1:stop + 1], axes=([0, 1], [0, 1]))
        else:
            dW_hh += np.tensordot(da, hs[start:stop], axes=([0, 1], [0, 1]))
        db += da.sum(axis=(0, 1))
        dx[start:stop] = da @ (dW_ih if bug == "dx_from_dW_ih" else W_ih)
        if bug in ("dx_over_N", "mask_flipped_and_dx_over_N"):
            dx[start:stop] /= N
    return dx, dnext, dW_ih, dW_hh, db, db.copy()


def to_user(cell, p):
    return {"W_ih": p["weight_ih"].copy(), "W_hh": p["weight_hh"].copy(), "b_ih": p["bias_ih"].copy(),
            "b_hh": p["bias_hh"].copy()}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="chunked_relu_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        return rnn_relu_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug)

    def backward(dh, cache):
        return rnn_relu_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

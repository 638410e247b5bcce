"""A vanilla RNN on the built-in ``cs231n`` layout whose backward runs in micro-batches
(the user copied the "gradient accumulation" idiom from a training loop into BPTT to save
memory): x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H), b (H,),

    h_t = tanh(x_t @ Wx + h_(t-1) @ Wh + b)

the forward keeps the whole (N, T, H) history in one array; the backward splits the batch
rows into two chunks, runs BPTT on each with ``_bptt_rows`` and adds the chunks' weight
gradients into a dict. Twenty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "chunks_averaged": "reduction_scaled",        # acc[k] += g[k] / n_chunks (accumulation averaged, as for a mean loss)
    "dtanh_skipped": "derivative_missing",        # da = dcur: the tanh' factor left out
    "dtanh_of_tanh": "derivative_wrong_point",    # 1 - np.tanh(h_t) ** 2: tanh' taken at h_t, not at a_t
    "dtanh_relu_mask": "derivative_wrong_function",  # da = dcur * (h_t > 0): ReLU's derivative for tanh
    "dWh_with_h_t": "wrong_time",                 # dWh += h_t.T @ da (h_t for h_(t-1))
    "carry_Wh_untransposed": "weight_transposed",  # dnext = da @ Wh
    "dnext_reset_in_loop": "carry_dropped",       # dnext = zeros moved inside the time loop
    "loop_stops_before_0": "loop_skips_step",     # for t in range(T - 1, 0, -1)
    "carry_cut_after_3": "truncated_bptt",        # the carry is zeroed once it has gone 3 steps back
    "grad_norm_clipped": "gradient_clipped",      # every weight gradient rescaled to norm <= 1 before returning
    "forward_bias_twice": "forward_mistake",      # a = x_t @ Wx + b; a += h_(t-1) @ Wh + b: b added twice; consistent
    "db_negated_and_dWx_halved": "unknown",       # two mistakes: db = -sum(da) and dWx accumulated as 0.5 * x.T @ da
    "no_dtanh_and_dWh_with_h_t": "unknown",       # two mistakes: dtanh_skipped and dWh_with_h_t at once
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "chunks_averaged": "",
    "dtanh_skipped": "",
    "dtanh_of_tanh": "",
    "dtanh_relu_mask": "",
    "dWh_with_h_t": "",
    "carry_Wh_untransposed": "",
    "dnext_reset_in_loop": "",
    "loop_stops_before_0": "",
    "carry_cut_after_3": "",
    "grad_norm_clipped": "",
    "forward_bias_twice": "",
    "db_negated_and_dWx_halved": "",
    "no_dtanh_and_dWh_with_h_t": "",
}


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    hs = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
    h_prev = h0
    for t in range(T):
        a = x[:, t] @ Wx + b
        a += h_prev @ Wh + (b if bug == "forward_bias_twice" else 0)
        h_prev = np.tanh(a)
        hs[:, t] = h_prev
    return hs, {"x": x, "h0": h0, "hs": hs, "Wx": Wx, "Wh": Wh}


def _bptt_rows(dh, x, h0, hs, Wx, Wh, bug):
    """BPTT for some rows of the batch -> dx, dh0, {dWx, dWh, db}."""
    n, T, H = dh.shape
    dx = np.zeros(x.shape, dtype=dh.dtype)
    g = {"dWx": np.zeros_like(Wx), "dWh": np.zeros_like(Wh), "db": np.zeros(H, dtype=dh.dtype)}
    dnext = np.zeros((n, H), dtype=dh.dtype)
    steps = range(T - 1, 0, -1) if bug == "loop_stops_before_0" else range(T - 1, -1, -1)
    for t in steps:
        if bug == "dnext_reset_in_loop":
            dnext = np.zeros((n, H), dtype=dh.dtype)
        if bug == "carry_cut_after_3" and T - t > 3:
            dnext = np.zeros((n, H), dtype=dh.dtype)
        h_t = hs[:, t]
        h_before = hs[:, t - 1] if t > 0 else h0
        dcur = dh[:, t] + dnext
        if bug in ("dtanh_skipped", "no_dtanh_and_dWh_with_h_t"):
            da = dcur
        elif bug == "dtanh_of_tanh":
            da = dcur * (1 - np.tanh(h_t) ** 2)
        elif bug == "dtanh_relu_mask":
            da = dcur * (h_t > 0)
        else:
            da = dcur * (1 - h_t * h_t)
        dx[:, t] = da @ Wx.T
        if bug == "db_negated_and_dWx_halved":
            g["dWx"] += 0.5 * x[:, t].T @ da
            g["db"] -= da.sum(axis=0)
        else:
            g["dWx"] += x[:, t].T @ da
            g["db"] += (2 if bug == "forward_bias_twice" else 1) * da.sum(axis=0)
        g["dWh"] += (h_t if bug in ("dWh_with_h_t", "no_dtanh_and_dWh_with_h_t") else h_before).T @ da
        dnext = da @ (Wh if bug == "carry_Wh_untransposed" else Wh.T)
    return dx, dnext, g


def rnn_backward(dhs, cache, bug=None):
    x, h0, hs, Wx, Wh = cache["x"], cache["h0"], cache["hs"], cache["Wx"], cache["Wh"]
    N = x.shape[0]
    chunks = [slice(0, N // 2), slice(N // 2, N)]
    acc = {"dWx": np.zeros_like(Wx), "dWh": np.zeros_like(Wh), "db": np.zeros(Wh.shape[0], dtype=dhs.dtype)}
    dx_parts, dh0_parts = [], []
    for rows in chunks:
        dx_c, dh0_c, g = _bptt_rows(dhs[rows], x[rows], h0[rows], hs[rows], Wx, Wh, bug)
        dx_parts.append(dx_c)
        dh0_parts.append(dh0_c)
        for k in acc:
            acc[k] += g[k] / len(chunks) if bug == "chunks_averaged" else g[k]
    if bug == "grad_norm_clipped":
        for k in acc:
            norm = np.linalg.norm(acc[k])
            if norm > 1.0:
                acc[k] *= 1.0 / norm
    return (np.concatenate(dx_parts), np.concatenate(dh0_parts), acc["dWx"], acc["dWh"], acc["db"])


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n"}

"""A ReLU RNN vectorised over the batch with ``np.matmul`` and explicit (N, 1, H) row shapes,
weights stored (out, in) as a linear-algebra course writes them, gradients accumulated with
``np.einsum('ni,nj->ij', ...)`` and the per-step dx collected in a Python list that is
reversed and stacked at the end:

    x_t (N, 1, D)   a_t = x_t @ W_in.T + h_(t-1) @ W_rec.T + b_rec     (N, 1, H)
    h_t = relu(a_t)

W_in (H, D), W_rec (H, H), b_rec (H,) (one bias: torch's bias_ih + bias_hh).
forward(x, h0, W_in, W_rec, b_rec) -> (h, cache); backward -> (dx, dh0, dW_in, dW_rec, db_rec).
Twelfth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "relu_grad_is_relu": "derivative_wrong_function",     # da = dh_t * np.maximum(a, 0) (relu itself for its slope)
    "relu_grad_left_out": "derivative_missing",           # da = dh_t
    "relu_grad_sign": "derivative_miswritten",            # da = dh_t * np.sign(a): -1 on the negative side for 0
    "relu_mask_from_prev_h": "wrong_time",                # mask (h_(t-1) > 0) for (a_t > 0)
    "dW_rec_einsum_swapped": "gradient_transposed",       # einsum('ni,nj->ji', da, h_prev): dW_rec written transposed
    "W_rec_transposed_in_carry": "weight_transposed",     # dh_prev = da @ W_rec.T (should be da @ W_rec)
    "dx_list_not_reversed": "wrong_time",                 # dxs (filled from t = T-1 down) stacked unreversed
    "db_over_T": "reduction_scaled",                      # db_rec += da.sum(0) / T
    "dW_in_assigned": "carry_overwrites",                 # dW_in = einsum(...) (= for +=)
    "clip_carry_norm": "gradient_clipped",                # dh_prev rescaled to norm 1 when its norm exceeds 1
    "leaky_forward": "forward_mistake",                   # forward leaky relu (0.01 a for a < 0); backward consistent
    "range_stops_at_1": "loop_skips_step",                # for t in range(T - 1, 0, -1)
    "carry_halved": "unknown",                            # dh_prev = 0.5 * (da @ W_rec): an arbitrary constant
    "mask_prev_h_and_db_over_T": "unknown",               # two at once: mask (h_(t-1) > 0) and db_rec / T
    "dh_t_without_upstream": "carry_overwrites",          # dh_t = dh_prev: the carry overwrites dh[:, t]
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "relu_grad_is_relu": "",
    "relu_grad_left_out": "",
    "relu_grad_sign": "",
    "relu_mask_from_prev_h": "",
    "dW_rec_einsum_swapped": "",
    "W_rec_transposed_in_carry": "",
    "dx_list_not_reversed": "",
    "db_over_T": "",
    "dW_in_assigned": "",
    "clip_carry_norm": "",
    "leaky_forward": "",
    "range_stops_at_1": "",
    "carry_halved": "",
    "mask_prev_h_and_db_over_T": "",
    "dh_t_without_upstream": "",
}


def relu_rnn_forward(x, h0, W_in, W_rec, b_rec, bug=None):
    N, T, D = x.shape
    h = h0[:, None, :]                                    # (N, 1, H)
    pre, states = [], [h]
    for t in range(T):
        x_t = x[:, t:t + 1, :]                            # (N, 1, D)
        a = np.matmul(x_t, W_in.T) + np.matmul(h, W_rec.T) + b_rec
        if bug == "leaky_forward":
            h = np.where(a > 0, a, 0.01 * a)
        else:
            h = np.maximum(a, 0)
        pre.append(a)
        states.append(h)
    out = np.concatenate(states[1:], axis=1)              # (N, T, H)
    return out, (x, pre, states, W_in, W_rec)


def relu_rnn_backward(dh, cache, bug=None):
    x, pre, states, W_in, W_rec = cache
    N, T, H = dh.shape
    dW_in, dW_rec = np.zeros_like(W_in), np.zeros_like(W_rec)
    db_rec = np.zeros(H, dtype=dh.dtype)
    dh_prev = np.zeros((N, 1, H), dtype=dh.dtype)
    dxs = []
    last = 0 if bug == "range_stops_at_1" else -1
    for t in range(T - 1, last, -1):
        a, h_prev = pre[t], states[t]                     # states[t] is h_(t-1)
        if bug == "dh_t_without_upstream":
            dh_t = dh_prev
        else:
            dh_t = dh[:, t:t + 1, :] + dh_prev
        if bug == "relu_grad_is_relu":
            da = dh_t * np.maximum(a, 0)
        elif bug == "relu_grad_left_out":
            da = dh_t
        elif bug == "relu_grad_sign":
            da = dh_t * np.sign(a)
        elif bug in ("relu_mask_from_prev_h", "mask_prev_h_and_db_over_T"):
            da = dh_t * (h_prev > 0)
        elif bug == "leaky_forward":
            da = dh_t * np.where(a > 0, 1.0, 0.01)
        else:
            da = dh_t * (a > 0)
        dxs.append(np.matmul(da, W_in))                   # (N, 1, D)
        da2, x2, h2 = da[:, 0], x[:, t], h_prev[:, 0]
        if bug == "dW_in_assigned":
            dW_in = np.einsum("ni,nj->ij", da2, x2)
        else:
            dW_in += np.einsum("ni,nj->ij", da2, x2)
        if bug == "dW_rec_einsum_swapped":
            dW_rec += np.einsum("ni,nj->ji", da2, h2)
        else:
            dW_rec += np.einsum("ni,nj->ij", da2, h2)
        db_rec += da2.sum(axis=0) / T if bug in ("db_over_T", "mask_prev_h_and_db_over_T") else da2.sum(axis=0)
        if bug == "W_rec_transposed_in_carry":
            dh_prev = np.matmul(da, W_rec.T)
        elif bug == "carry_halved":
            dh_prev = 0.5 * np.matmul(da, W_rec)
        else:
            dh_prev = np.matmul(da, W_rec)
        if bug == "clip_carry_norm":
            norm = np.linalg.norm(dh_prev)
            if norm > 1:
                dh_prev = dh_prev / norm
    if bug == "range_stops_at_1":
        dxs.append(np.zeros((N, 1, x.shape[2]), dtype=dh.dtype))
    dx = np.concatenate(dxs if bug == "dx_list_not_reversed" else dxs[::-1], axis=1)
    return dx, dh_prev[:, 0], dW_in, dW_rec, db_rec


def to_user(cell, p):
    return {"W_in": p["weight_ih"], "W_rec": p["weight_hh"], "b_rec": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    names = {"dW_in": "dweight_ih", "dW_rec": "dweight_hh", "db_rec": "dbias_ih"}
    return {names[k]: v for k, v in g.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="matmul3d_relu", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_in, W_rec, b_rec):
        return relu_rnn_forward(x, h0, W_in, W_rec, b_rec, bug)

    def backward(dh, cache):
        return relu_rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

"""An LSTM written around one weight tensor W (4, D+H, H) (one (D+H, H) kernel per gate,
stacked in the order forget, input, candidate, output) and a bias b (4, H), time-major
(x (T, N, D), h (T, N, H)), parameters in a dict: every step is one
``np.einsum("nk,gkh->gnh", [x_t, h], W)`` giving all four gates at once as a (4, N, H)
array, the backward builds the (4, N, H) local gradients with ``np.stack`` and pushes
them back through two more einsums; it returns a dict of gradients. The forward returns
(hs, cs, cache). Twenty-eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "carry_einsum_untransposed": "weight_transposed",    # dh = einsum("gnh,ghk->nk", dz, W[:, D:]): the H x H blocks transposed
    "dW_h_rows_transposed": "gradient_transposed",       # dW[:, D:] += einsum("nk,gnh->ghk", h_prev, dz)
    "df_with_c_t": "wrong_time",                         # dz_f = dc * c * f * (1 - f)
    "tanh_c_of_c_prev": "wrong_time",                    # tc = np.tanh(c_prev) in the backward's do and dc
    "dc_reassigned": "carry_dropped",                    # dc = dh * o * (1 - tc * tc) (= for the dc + ...)
    "dW_assigned": "carry_overwrites",                   # dW = einsum(...) (= for +=)
    "db_batch_mean": "reduction_scaled",                 # db += dz.mean(axis=1)
    "i_grad_parentheses": "derivative_miswritten",       # dz_i = dc * g * i * 1 - i  (parentheses of i * (1 - i) lost)
    "dg_no_tanh_grad": "derivative_missing",             # dz_g = dc * i
    "df_tanh_grad": "derivative_wrong_function",         # dz_f = dc * c_prev * (1 - f * f)
    "stack_canonical_order": "gate_order",               # np.stack([dz_i, dz_f, dz_g, dz_o]) while W is f, i, g, o
    "xh_buffer_reused": "inplace_corruption",            # one xh buffer filled in place each step and cached by reference
    "loop_forward_in_time": "loop_direction",            # for t in range(T)
    "forward_coupled_gates": "forward_mistake",          # c = f * c_prev + (1 - f) * g (i unused); backward consistent
    "forward_forget_bias_plus_one": "forget_bias",       # z[0] + 1.0 (Keras' unit_forget_bias read as a call-time bias)
    "df_twice_and_db_mean": "unknown",                   # two mistakes: f * (1 - f) applied twice and db from the batch mean
    "carry_per_gate_copy_paste": "wrong_weight",         # dh summed gate by gate, the o term through W[2, D:] (g's block)
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "carry_einsum_untransposed": "",
    "dW_h_rows_transposed": "",
    "df_with_c_t": "f",
    "tanh_c_of_c_prev": "",
    "dc_reassigned": "",
    "dW_assigned": "",
    "db_batch_mean": "",
    "i_grad_parentheses": "i",
    "dg_no_tanh_grad": "g",
    "df_tanh_grad": "f",
    "stack_canonical_order": "if",
    "xh_buffer_reused": "",
    "loop_forward_in_time": "",
    "forward_coupled_gates": "",
    "forward_forget_bias_plus_one": "",
    "df_twice_and_db_mean": "",
    "carry_per_gate_copy_paste": "",
}

ORDER = "figo"                                           # W[0] forget, W[1] input, W[2] candidate, W[3] output
sigmoid = lambda v: 1 / (1 + np.exp(-v))                 # noqa: E731


def lstm_forward(x, h0, c0, params, bug=None):
    W, b = params["W"], params["b"]
    T, N, D = x.shape
    h, c = h0, c0
    hs, cs, steps = [], [], []
    xh_buf = np.empty((N, D + h0.shape[1]), dtype=x.dtype)
    for t in range(T):
        if bug == "xh_buffer_reused":
            xh = xh_buf
            xh[:, :D], xh[:, D:] = x[t], h
        else:
            xh = np.concatenate([x[t], h], axis=1)
        z = np.einsum("nk,gkh->gnh", xh, W) + b[:, None, :]
        if bug == "forward_forget_bias_plus_one":
            z[0] += 1.0
        f, i, o = sigmoid(z[0]), sigmoid(z[1]), sigmoid(z[3])
        g = np.tanh(z[2])
        c_prev = c
        c = f * c + ((1 - f) * g if bug == "forward_coupled_gates" else i * g)
        h = o * np.tanh(c)
        steps.append((xh, c_prev, f, i, g, o, c))
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs), {"steps": steps, "W": W}


def lstm_backward(dhs, cache, bug=None):
    steps, W = cache["steps"], cache["W"]
    T, N, H = dhs.shape
    D = W.shape[1] - H
    dW, db = np.zeros_like(W), np.zeros(W.shape[::2], dtype=W.dtype)
    dxs = np.zeros((T, N, D), dtype=dhs.dtype)
    dh, dc = np.zeros((N, H), dhs.dtype), np.zeros((N, H), dhs.dtype)
    for t in (range(T) if bug == "loop_forward_in_time" else range(T - 1, -1, -1)):
        xh, c_prev, f, i, g, o, c = steps[t]
        dh = dh + dhs[t]
        tc = np.tanh(c_prev if bug == "tanh_c_of_c_prev" else c)
        if bug == "dc_reassigned":
            dc = dh * o * (1 - tc * tc)
        else:
            dc = dc + dh * o * (1 - tc * tc)
        if bug == "df_with_c_t":
            dz_f = dc * c * f * (1 - f)
        elif bug == "df_tanh_grad":
            dz_f = dc * c_prev * (1 - f * f)
        elif bug == "forward_coupled_gates":
            dz_f = dc * (c_prev - g) * f * (1 - f)
        elif bug == "df_twice_and_db_mean":
            dz_f = dc * c_prev * f * (1 - f) * f * (1 - f)
        else:
            dz_f = dc * c_prev * f * (1 - f)
        if bug == "i_grad_parentheses":
            dz_i = dc * g * i * 1 - i
        elif bug == "forward_coupled_gates":
            dz_i = np.zeros_like(dc)
        else:
            dz_i = dc * g * i * (1 - i)
        if bug == "dg_no_tanh_grad":
            dz_g = dc * i
        elif bug == "forward_coupled_gates":
            dz_g = dc * (1 - f) * (1 - g * g)
        else:
            dz_g = dc * i * (1 - g * g)
        dz_o = dh * tc * o * (1 - o)
        dz = np.stack([dz_i, dz_f, dz_g, dz_o] if bug == "stack_canonical_order" else [dz_f, dz_i, dz_g, dz_o])
        if bug == "dW_assigned":
            dW = np.einsum("nk,gnh->gkh", xh, dz)
        elif bug == "dW_h_rows_transposed":
            dW[:, :D] += np.einsum("nk,gnh->gkh", xh[:, :D], dz)
            dW[:, D:] += np.einsum("nk,gnh->ghk", xh[:, D:], dz)
        else:
            dW += np.einsum("nk,gnh->gkh", xh, dz)
        db += dz.mean(axis=1) if bug in ("db_batch_mean", "df_twice_and_db_mean") else dz.sum(axis=1)
        dxs[t] = np.einsum("gnh,gkh->nk", dz, W[:, :D])
        if bug == "carry_einsum_untransposed":
            dh = np.einsum("gnh,ghk->nk", dz, W[:, D:])
        elif bug == "carry_per_gate_copy_paste":
            dh = dz[0] @ W[0, D:].T + dz[1] @ W[1, D:].T + dz[2] @ W[2, D:].T + dz[3] @ W[2, D:].T
        else:
            dh = np.einsum("gnh,gkh->nk", dz, W[:, D:])
        dc = dc * f
    return {"dx": dxs, "dh0": dh, "dc0": dc, "dW": dW, "db": db}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blk = lambda a, u: a["ifgo".index(u) * H:("ifgo".index(u) + 1) * H]          # noqa: E731
    bias = p["bias_ih"] + p["bias_hh"]
    W = np.stack([np.concatenate([blk(p["weight_ih"], u).T, blk(p["weight_hh"], u).T]) for u in ORDER])
    return {"W": W, "b": np.stack([blk(bias, u) for u in ORDER])}


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dW" in grads:
        dW = grads["dW"]
        out["dweight_ih"] = np.concatenate([dW[ORDER.index(q)][:D].T for q in "ifgo"])
        out["dweight_hh"] = np.concatenate([dW[ORDER.index(q)][D:].T for q in "ifgo"])
    if "db" in grads:
        out["dbias_ih"] = np.concatenate([grads["db"][ORDER.index(q)] for q in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="einsum_tensor_lstm", cells=("lstm",), axes="TND",
                               weights_as="dict", forward_returns=("h", "c", "cache"), gate_order=ORDER)


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, params):
        return lstm_forward(x, h0, c0, params, bug)

    def backward(dhs, cache):
        return lstm_backward(dhs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

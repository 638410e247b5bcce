"""A tanh RNN whose bias is folded into its one weight matrix as an extra input column of
ones, the way some lecture notes write it to get rid of the bias: every step stacks

    v_t = [x_t, h_(t-1), 1]          (N, D+H+1)
    h_t = tanh(v_t @ W)               W (D+H+1, H): rows x, then h, then the bias row

so the backward has a single ``dW += v_t.T @ da`` and reads dx and the carry off
``dv = da @ W.T`` by slicing. x (N, T, D), batch first; h0 (N, H). Ninth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dnext_from_W_h_block_untransposed": "weight_transposed",   # dnext = da @ W[D:D+H] (not .T): W's h rows unsliced from dv
    "dW_h_rows_transposed": "gradient_transposed",              # dW[D:D+H] += da.T @ h_prev (for h_prev.T @ da)
    "dv_through_dW": "gradient_for_weight",                     # dv = da @ dW.T: the running dW used for W
    "tanh_grad_from_prev_h": "wrong_time",                      # 1 - hs[t]**2: the cache read one index early (h_(t-1) for h_t)
    "tanh_grad_of_preactivation": "derivative_wrong_point",     # 1 - a**2 with a = v_t @ W recomputed, for 1 - h_t**2
    "carry_never_added": "carry_dropped",                       # g = dh[:, t]: dnext computed but not added
    "backward_loop_runs_forward": "loop_direction",             # for t in range(T) in the backward
    "dW_averaged_over_batch": "reduction_scaled",               # dW += v_t.T @ da / N
    "bias_row_added_twice_forward": "forward_mistake",          # a = v_t @ W + W[-1]; backward consistent (dW[-1] gets da twice)
    "carry_clipped": "gradient_clipped",                        # dnext = np.clip(dv[:, D:D+H], -0.02, 0.02)
    "tanh_grad_sign": "wrong_sign",                             # da = g * (h**2 - 1)
    "dx_from_h_rows": "wrong_weight",                           # dx[:, t] = dv[:, D:2D]: the h rows of W (W_hh's first D) for the x rows
    "two_mistakes": "unknown",                                  # tanh' at h_(t-1) AND dW / N
    "tanh_grad_halved": "unknown",                              # da = g * (1 - h**2) / 2: an arbitrary constant
}

TOUCHES = {bug: "" for bug in BUGS}                             # an RNN: no gates


def rnn_forward(x, h0, W, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    ones = np.ones((N, 1), dtype=x.dtype)
    hs, vs = [h0], []
    for t in range(T):
        v = np.hstack([x[:, t, :], hs[-1], ones])
        a = v @ W
        if bug == "bias_row_added_twice_forward":
            a = a + W[-1]
        hs.append(np.tanh(a))
        vs.append(v)
    return np.stack(hs[1:], axis=1), {"vs": vs, "hs": hs, "W": W, "D": D}


def rnn_backward(dh, cache, bug=None):
    vs, hs, W, D = cache["vs"], cache["hs"], cache["W"], cache["D"]
    N, T, H = dh.shape
    dW = np.zeros_like(W)
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dnext = np.zeros((N, H), dtype=dh.dtype)
    steps = range(T) if bug == "backward_loop_runs_forward" else reversed(range(T))
    for t in steps:
        g = dh[:, t] if bug == "carry_never_added" else dh[:, t] + dnext
        h = hs[t + 1]
        if bug in ("tanh_grad_from_prev_h", "two_mistakes"):
            da = g * (1 - hs[t] ** 2)
        elif bug == "tanh_grad_of_preactivation":
            a = vs[t] @ W
            da = g * (1 - a ** 2)
        elif bug == "tanh_grad_sign":
            da = g * (h ** 2 - 1)
        elif bug == "tanh_grad_halved":
            da = g * (1 - h ** 2) / 2
        else:
            da = g * (1 - h ** 2)
        if bug in ("dW_averaged_over_batch", "two_mistakes"):
            dW += vs[t].T @ da / N
        elif bug == "dW_h_rows_transposed":
            dW[:D] += vs[t][:, :D].T @ da
            dW[D:D + H] += da.T @ vs[t][:, D:D + H]
            dW[-1] += da.sum(axis=0)
        else:
            dW += vs[t].T @ da
        if bug == "bias_row_added_twice_forward":
            dW[-1] += da.sum(axis=0)
        dv = da @ (dW.T if bug == "dv_through_dW" else W.T)
        dx[:, t] = dv[:, D:2 * D] if bug == "dx_from_h_rows" else dv[:, :D]
        if bug == "dnext_from_W_h_block_untransposed":
            dnext = da @ W[D:D + H]
        elif bug == "carry_clipped":
            dnext = np.clip(dv[:, D:D + H], -0.02, 0.02)
        else:
            dnext = dv[:, D:D + H]
    return dx, dnext, dW


def to_user(cell, p):
    b = (p["bias_ih"] + p["bias_hh"])[None, :]
    return {"W": np.concatenate([p["weight_ih"].T, p["weight_hh"].T, b], axis=0)}


def to_canonical(cell, grads, p):
    if "dW" not in grads:
        return {}
    D, H = p["weight_ih"].shape[1], p["weight_hh"].shape[1]
    dW = grads["dW"]
    return {"dweight_ih": dW[:D].T, "dweight_hh": dW[D:D + H].T, "dbias_ih": dW[D + H]}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="bias_column_rnn", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W):
        return rnn_forward(x, h0, W, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

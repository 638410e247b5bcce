"""A time-major sigmoid Elman RNN that keeps its states in a preallocated (T, N, H) array and
reads ``hs[t - 1]`` with an explicit ``if t == 0`` branch for s0. The recurrent matrix is
stored transposed, as the docstring of the user's code says:

    params["W_in"]  (H, D)      applied as x_t @ W_in.T   (torch's orientation)
    params["R"]     (H_in, H_out) applied as s_prev @ R    (stored transposed)
    params["c"]     (H,)        one bias
    s_t = sigmoid(x_t @ W_in.T + s_(t-1) @ R + c),   x (T, N, D), s0 (N, H) -> s (T, N, H)

Nineteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "R_not_transposed_in_carry": "weight_transposed",   # ds_prev = da @ R: the stored-transposed R used as is
    "dR_built_transposed": "gradient_transposed",       # dR += da.T @ s_prev (shape (H_out, H_in))
    "dx_from_dW_in": "gradient_for_weight",             # dx[t] = da @ dW_in: the accumulator for W_in's gradient
    "sigmoid_grad_of_output_again": "derivative_wrong_point",  # sigmoid(s)(1 - sigmoid(s)): s' at s, not at a
    "sigmoid_grad_written_tanh": "derivative_wrong_function",  # da = g * (1 - s**2)
    "sigmoid_grad_applied_twice": "derivative_twice",   # da = g * s(1-s) * s(1-s)
    "backward_forgets_h0_branch": "wrong_time",         # s_prev = hs[t - 1] at t = 0 too: reads hs[-1]
    "dR_assigned_each_step": "carry_overwrites",        # dR = s_prev.T @ da (= for +=)
    "dc_divided_by_batch": "reduction_scaled",          # dc / N at the end
    "forward_starts_from_zeros": "forward_mistake",     # s_prev = zeros at t = 0 (s0 ignored); backward ds0 = 0
    "global_norm_clip": "gradient_clipped",             # all gradients rescaled to global norm 1.0
    "carry_from_g_not_da": "wrong_value",               # ds_prev = g @ R.T: g read in place of da
    "sigmoid_grad_quarter": "unknown",                  # da = g * 0.25 (sigmoid' at 0 for every unit)
    "tanh_grad_and_dc_over_N": "unknown",               # two at once: tanh' and dc / N
}

TOUCHES = {b: "" for b in BUGS}


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_forward(x, s0, params, bug=None):
    """x (T, N, D), s0 (N, H) -> hs (T, N, H), cache. R is stored (H_in, H_out)."""
    W_in, R, c = params["W_in"], params["R"], params["c"]
    T, N, _ = x.shape
    hs = np.zeros((T, N, R.shape[1]), dtype=x.dtype)
    for t in range(T):
        if t == 0:
            s_prev = np.zeros_like(s0) if bug == "forward_starts_from_zeros" else s0
        else:
            s_prev = hs[t - 1]
        hs[t] = sigmoid(x[t] @ W_in.T + s_prev @ R + c)
    return hs, {"x": x, "s0": s0, "hs": hs, "params": params}


def rnn_backward(dhs, cache, bug=None):
    x, s0, hs, params = cache["x"], cache["s0"], cache["hs"], cache["params"]
    W_in, R = params["W_in"], params["R"]
    T, N, H = dhs.shape
    dx = np.zeros_like(x)
    dW_in, dR, dc = np.zeros_like(W_in), np.zeros_like(R), np.zeros(H, dtype=dhs.dtype)
    ds_prev = np.zeros((N, H), dtype=dhs.dtype)
    for t in reversed(range(T)):
        s = hs[t]
        if t == 0 and bug != "backward_forgets_h0_branch":
            s_prev = np.zeros_like(s0) if bug == "forward_starts_from_zeros" else s0
        else:
            s_prev = hs[t - 1]
        g = dhs[t] + ds_prev
        if bug == "sigmoid_grad_of_output_again":
            da = g * sigmoid(s) * (1 - sigmoid(s))
        elif bug in ("sigmoid_grad_written_tanh", "tanh_grad_and_dc_over_N"):
            da = g * (1 - s ** 2)
        elif bug == "sigmoid_grad_applied_twice":
            da = g * s * (1 - s) * s * (1 - s)
        elif bug == "sigmoid_grad_quarter":
            da = g * 0.25
        else:
            da = g * s * (1 - s)
        dx[t] = da @ (dW_in if bug == "dx_from_dW_in" else W_in)
        dW_in += da.T @ x[t]
        if bug == "dR_built_transposed":
            dR += da.T @ s_prev
        elif bug == "dR_assigned_each_step":
            dR = s_prev.T @ da
        else:
            dR += s_prev.T @ da
        dc += da.sum(axis=0)
        if bug == "R_not_transposed_in_carry":
            ds_prev = da @ R
        elif bug == "carry_from_g_not_da":
            ds_prev = g @ R.T
        else:
            ds_prev = da @ R.T
    if bug == "forward_starts_from_zeros":
        ds_prev = np.zeros_like(ds_prev)
    if bug in ("dc_divided_by_batch", "tanh_grad_and_dc_over_N"):
        dc = dc / N
    grads = [dx, ds_prev, dW_in, dR, dc]
    if bug == "global_norm_clip":
        total = np.sqrt(sum(np.sum(q ** 2) for q in grads))
        if total > 1.0:
            grads = [q / total for q in grads]
    return tuple(grads)


def to_user(cell, p):
    return {"W_in": np.array(p["weight_ih"]), "R": np.array(p["weight_hh"]).T,
            "c": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {}
    if "dW_in" in g:
        out["dweight_ih"] = g["dW_in"]
    if "dR" in g:
        out["dweight_hh"] = g["dR"].T
    if "dc" in g:
        out["dbias_ih"] = g["dc"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="prealloc_sigmoid_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict", names={"h": "s"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, s0, params):
        return rnn_forward(x, s0, params, bug)

    def backward(dhs, cache):
        return rnn_backward(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

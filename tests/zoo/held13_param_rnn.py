"""An RNN written micrograd-style but on NumPy arrays: every weight is a ``Param`` holding
``value`` and ``grad``, the forward records each op of a step (two matmuls, the bias add,
tanh) and the backward is written by hand op by op, accumulating into ``.grad``:

    h_t = tanh(x_t @ W + h_(t-1) @ U + b)      x (N, T, D), W (D, H), U (H, H), b (H,)

Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "tanh_grad_at_preact": "derivative_wrong_point",      # da = dh * (1 - a**2): tanh' at a (also a wrong_value)
    "tanh_grad_sign": "wrong_sign",                       # da = dh * (h**2 - 1)
    "U_grad_assigned": "carry_overwrites",                # U.grad = h_prev.T @ da (= for +=)
    "dh_prev_U_untransposed": "weight_transposed",        # dh_prev = da @ U.value
    "dh_prev_from_U_grad": "gradient_for_weight",         # dh_prev = da @ U.grad.T (U.grad, the running sum)
    "loop_stops_before_first": "loop_skips_step",         # for t in range(T - 1, 0, -1)
    "carry_never_added": "carry_dropped",                 # the incoming gradient is dh[:, t] only
    "b_grad_mean": "reduction_scaled",                    # b.grad += da.mean(axis=0)
    "U_grad_with_h_t": "wrong_time",                      # U.grad += h_t.T @ da (h_t for h_(t-1))
    "tanh_backward_twice": "derivative_twice",            # the add op's backward multiplies by 1 - h**2 again
    "tanh_out_into_preact": "inplace_corruption",         # np.tanh(a, out=a): the cached a is h; tanh' = 1 - tanh(a)**2 reads it
    "forward_bias_twice": "forward_mistake",              # a = x W + b + h U + b; backward b.grad += 2 * sum(da)
    "loop_runs_forward": "loop_direction",                # for t in range(T): the carry goes the wrong way
    "carry_damped_and_no_tanh": "unknown",                # dh_prev * 0.9 and tanh' left out: two mistakes
}

TOUCHES = {b: "" for b in BUGS}


class Param:
    def __init__(self, value):
        self.value = value
        self.grad = np.zeros_like(value)


def rnn_forward(x, h0, W, U, b, bug=None):
    params = {"W": Param(W), "U": Param(U), "b": Param(b)}
    N, T, _ = x.shape
    h_prev, tape, hs = h0, [], []
    for t in range(T):
        xw = x[:, t] @ params["W"].value
        hu = h_prev @ params["U"].value
        a = xw + hu + params["b"].value
        if bug == "forward_bias_twice":
            a = a + params["b"].value
        if bug == "tanh_out_into_preact":
            h = np.tanh(a, out=a)
        else:
            h = np.tanh(a)
        tape.append({"x": x[:, t], "h_prev": h_prev, "a": a, "h": h})
        hs.append(h)
        h_prev = h
    return np.stack(hs, axis=1), (tape, params)


def tanh_backward(dout, rec, bug):
    if bug == "tanh_grad_at_preact":
        return dout * (1 - rec["a"] ** 2)
    if bug == "tanh_grad_sign":
        return dout * (rec["h"] ** 2 - 1)
    if bug == "carry_damped_and_no_tanh":
        return dout
    return dout * (1 - np.tanh(rec["a"]) ** 2)


def add_backward(dout, rec, params, bug):
    if bug == "tanh_backward_twice":
        dout = dout * (1 - rec["h"] ** 2)
    if bug == "b_grad_mean":
        params["b"].grad += dout.mean(axis=0)
    elif bug == "forward_bias_twice":
        params["b"].grad += 2 * dout.sum(axis=0)
    else:
        params["b"].grad += dout.sum(axis=0)
    return dout, dout


def matmul_backward(dout, inp, p):
    p.grad += inp.T @ dout
    return dout @ p.value.T


def rnn_backward(dh, cache, bug=None):
    tape, params = cache
    N, T, H = dh.shape
    dx = np.zeros((N, T, tape[0]["x"].shape[1]), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    if bug == "loop_stops_before_first":
        steps = range(T - 1, 0, -1)
    elif bug == "loop_runs_forward":
        steps = range(T)
    else:
        steps = range(T - 1, -1, -1)
    for t in steps:
        rec = tape[t]
        dout = dh[:, t] if bug == "carry_never_added" else dh[:, t] + dh_next
        da = tanh_backward(dout, rec, bug)
        dxw, dhu = add_backward(da, rec, params, bug)
        dx[:, t] = matmul_backward(dxw, rec["x"], params["W"])
        U = params["U"]
        if bug == "U_grad_assigned":
            U.grad = rec["h_prev"].T @ dhu
            dh_prev = dhu @ U.value.T
        elif bug == "U_grad_with_h_t":
            U.grad += rec["h"].T @ dhu
            dh_prev = dhu @ U.value.T
        elif bug == "dh_prev_U_untransposed":
            U.grad += rec["h_prev"].T @ dhu
            dh_prev = dhu @ U.value
        elif bug == "dh_prev_from_U_grad":
            U.grad += rec["h_prev"].T @ dhu
            dh_prev = dhu @ U.grad.T
        else:
            dh_prev = matmul_backward(dhu, rec["h_prev"], U)
        if bug == "carry_damped_and_no_tanh":
            dh_prev = dh_prev * 0.9
        dh_next = dh_prev
    return dx, dh_next, params["W"].grad, params["U"].grad, params["b"].grad


def to_user(cell, p):
    return {"W": p["weight_ih"].T.copy(), "U": p["weight_hh"].T.copy(), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {}
    if "dW" in g:
        out["dweight_ih"] = g["dW"].T
    if "dU" in g:
        out["dweight_hh"] = g["dU"].T
    if "db" in g:
        out["dbias_ih"] = g["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="param_rnn", cells=("rnn",))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, b):
        return rnn_forward(x, h0, W, U, b, bug)

    def backward(dh, cache):
        return rnn_backward(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

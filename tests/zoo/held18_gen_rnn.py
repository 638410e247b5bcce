"""A vanilla tanh RNN written as a generator/coroutine pair, in the cs231n layout
(x (N, T, D), Wx (D, H), Wh (H, H), b (H,)): the forward is a generator that yields
(h_t, step cache) one step at a time and the driver collects them; the backward is a
coroutine that is primed once and then sent (dnext_h, step cache) for the steps in reverse,
answering (dx_t, dprev_h) and accumulating the weight gradients in a dict it was given.

    a_t = x_t Wx + h_(t-1) Wh + b      h_t = tanh(a_t)

Eighteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "da_at_preactivation": "derivative_wrong_point",    # da = dnext * (1 - a ** 2): tanh' at a, not at h
    "da_sigmoid_prime": "derivative_wrong_function",    # da = dnext * h * (1 - h)
    "da_no_tanh_prime": "derivative_missing",           # da = dnext
    "carry_times_Wh": "weight_transposed",              # dprev = da @ Wh (no .T)
    "send_only_dh": "carry_dropped",                    # co.send((dh[:, t], ...)): the answered dprev never added
    "send_only_carry": "carry_overwrites",              # dnext = dprev for every step but the last (dh[:, t] lost)
    "dWh_with_h_t": "wrong_time",                       # dWh += h_t.T @ da (the step's own output, not h_(t-1))
    "db_mean_over_batch": "reduction_scaled",           # db += da.mean(axis=0): np.mean for np.sum
    "caches_not_reversed": "loop_direction",            # for t in range(T): the coroutine walks forward in time
    "carry_cut_after_3": "truncated_bptt",              # dprev zeroed once 3 steps have been walked back
    "b_added_twice": "forward_mistake",                 # a = x Wx + b + h Wh + b in the forward; db doubled (consistent)
    "dx_scaled_mean_and_no_prime": "unknown",           # two at once: da = dnext (no tanh') and dx / N
    "tanh_prime_1_1": "unknown",                        # da = dnext * (1.1 - h ** 2): an arbitrary constant for 1
}

TOUCHES = {bug: "" for bug in BUGS}                     # an RNN has no gates: blind_index.touched_gates gives ""


def rnn_steps(x, h0, Wx, Wh, b, bug=None):
    """Generator: yields (h_t, (x_t, h_prev, h_t, a_t)) for t = 0 .. T-1."""
    h = h0
    for t in range(x.shape[1]):
        xt = x[:, t, :]
        a = xt @ Wx + h @ Wh + b
        if bug == "b_added_twice":
            a = a + b
        h_new = np.tanh(a)
        yield h_new, (xt, h, h_new, a)
        h = h_new


def forward(x, h0, Wx, Wh, b, bug=None):
    outs = list(rnn_steps(x, h0, Wx, Wh, b, bug))
    hs = np.stack([h for h, _ in outs], axis=1)
    return hs, {"steps": [c for _, c in outs], "Wx": Wx, "Wh": Wh}


def step_backprop(Wx, Wh, grads, bug=None):
    """Coroutine: receives (dnext_h, step cache), answers (dx_t, dprev_h)."""
    answer = None
    while True:
        dnext, (xt, h_prev, h_t, a) = yield answer
        if bug == "da_at_preactivation":
            da = dnext * (1 - a ** 2)
        elif bug == "da_sigmoid_prime":
            da = dnext * h_t * (1 - h_t)
        elif bug in ("da_no_tanh_prime", "dx_scaled_mean_and_no_prime"):
            da = dnext
        elif bug == "tanh_prime_1_1":
            da = dnext * (1.1 - h_t ** 2)
        else:
            da = dnext * (1 - h_t ** 2)
        grads["Wx"] += xt.T @ da
        grads["Wh"] += (h_t if bug == "dWh_with_h_t" else h_prev).T @ da
        if bug == "db_mean_over_batch":
            grads["b"] += da.mean(axis=0)
        elif bug == "b_added_twice":
            grads["b"] += 2 * da.sum(axis=0)
        else:
            grads["b"] += da.sum(axis=0)
        dx_t = da @ Wx.T
        if bug == "dx_scaled_mean_and_no_prime":
            dx_t = dx_t / da.shape[0]
        dprev = da @ (Wh if bug == "carry_times_Wh" else Wh.T)
        answer = dx_t, dprev


def backward(dh, cache, bug=None):
    steps, Wx, Wh = cache["steps"], cache["Wx"], cache["Wh"]
    N, T, H = dh.shape
    grads = {"Wx": np.zeros_like(Wx), "Wh": np.zeros_like(Wh), "b": np.zeros(H, dtype=dh.dtype)}
    co = step_backprop(Wx, Wh, grads, bug)
    next(co)
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
    dcarry = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "caches_not_reversed" else reversed(range(T))
    for walked, t in enumerate(order):
        if bug == "send_only_dh":
            dnext = dh[:, t, :]
        elif bug == "send_only_carry" and walked > 0:
            dnext = dcarry
        else:
            dnext = dh[:, t, :] + dcarry
        dx[:, t, :], dcarry = co.send((dnext, steps[t]))
        if bug == "carry_cut_after_3" and walked + 1 >= 3:
            dcarry = np.zeros_like(dcarry)
    co.close()
    return dx, dcarry, grads["Wx"], grads["Wh"], grads["b"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wx, Wh, b):
        return forward(x, h0, Wx, Wh, b, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "cs231n"}

"""A sigmoid RNN written time-major with its states in one pre-allocated (T + 1, N, H) array
whose LAST row holds h0, so that hs[t - 1] at t = 0 reads h0 by negative indexing; the
sigmoid and its derivative come from scipy-like helpers (expit, and dexpit from the output).
x (T, N, D), h0 (N, H), params {"U": (D, H), "V": (H, H), "c": (H,)}:

    hs[t] = expit(x[t] @ U + hs[t - 1] @ V + c)

The backward returns a dict keyed by the user's names. Eleventh held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dexpit_of_expit": "derivative_wrong_point",          # dexpit(expit(y)): the helper fed a sigmoid of the output
    "dexpit_as_tanh": "derivative_wrong_function",        # dz = dh * (1 - y ** 2)
    "dexpit_extra_square": "derivative_miswritten",       # dexpit(y) written y * (1 - y) ** 2
    "dexpit_applied_twice": "derivative_twice",           # dz = dh * dexpit(y), then dz *= dexpit(y) again
    "dU_with_x_t_minus_1": "wrong_time",                  # gU += x[t - 1].T @ dz (x[-1] at t = 0)
    "dV_transposed": "gradient_transposed",               # gV += dz.T @ hs[t - 1]
    "V_untransposed_in_carry": "weight_transposed",       # dnext = dz @ V
    "carry_through_dV": "gradient_for_weight",            # dnext = dz @ gV.T
    "dc_mean_over_batch": "reduction_scaled",             # gc += dz.mean(axis=0)
    "loop_stops_before_t0": "loop_skips_step",            # for t in range(T - 1, 0, -1)
    "carry_replaces_upstream": "carry_overwrites",        # dh = dhs[t] if t == T - 1 else dnext
    "forward_c_outside_expit": "forward_mistake",         # hs[t] = expit(x U + h V) + c; backward consistent (gc += dh)
    "two_mistakes_dexpit_and_dV": "unknown",              # dz = dh (dexpit left out) AND gV transposed
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dexpit_of_expit": "",
    "dexpit_as_tanh": "",
    "dexpit_extra_square": "",
    "dexpit_applied_twice": "",
    "dU_with_x_t_minus_1": "",
    "dV_transposed": "",
    "V_untransposed_in_carry": "",
    "carry_through_dV": "",
    "dc_mean_over_batch": "",
    "loop_stops_before_t0": "",
    "carry_replaces_upstream": "",
    "forward_c_outside_expit": "",
    "two_mistakes_dexpit_and_dV": "",
}


def expit(v):
    return 1.0 / (1.0 + np.exp(-v))


def dexpit(y):
    """d expit / dv from the output y = expit(v)."""
    return y * (1.0 - y)


def rnn_forward(x, h0, params, bug=None):
    U, V, c = params["U"], params["V"], params["c"]
    T, N, _ = x.shape
    hs = np.zeros((T + 1, N, V.shape[0]), dtype=x.dtype)
    hs[-1] = h0
    for t in range(T):
        if bug == "forward_c_outside_expit":
            hs[t] = expit(x[t] @ U + hs[t - 1] @ V) + c
        else:
            hs[t] = expit(x[t] @ U + hs[t - 1] @ V + c)
    return hs[:T], (x, hs, params)


def rnn_backward(dhs, cache, bug=None):
    x, hs, p = cache
    T = len(x)
    gU, gV, gc = np.zeros_like(p["U"]), np.zeros_like(p["V"]), np.zeros_like(p["c"])
    dx = np.zeros_like(x)
    dnext = np.zeros_like(hs[-1])
    for t in (range(T - 1, 0, -1) if bug == "loop_stops_before_t0" else range(T - 1, -1, -1)):
        if bug == "carry_replaces_upstream":
            dh = dhs[t] if t == T - 1 else dnext
        else:
            dh = dhs[t] + dnext
        y = hs[t] - p["c"] if bug == "forward_c_outside_expit" else hs[t]
        if bug == "dexpit_of_expit":
            dz = dh * dexpit(expit(y))
        elif bug == "dexpit_as_tanh":
            dz = dh * (1 - y ** 2)
        elif bug == "dexpit_extra_square":
            dz = dh * y * (1 - y) ** 2
        elif bug == "two_mistakes_dexpit_and_dV":
            dz = dh
        else:
            dz = dh * dexpit(y)
        if bug == "dexpit_applied_twice":
            dz *= dexpit(y)
        gU += (x[t - 1] if bug == "dU_with_x_t_minus_1" else x[t]).T @ dz
        if bug in ("dV_transposed", "two_mistakes_dexpit_and_dV"):
            gV += dz.T @ hs[t - 1]
        else:
            gV += hs[t - 1].T @ dz
        if bug == "dc_mean_over_batch":
            gc += dz.mean(axis=0)
        elif bug == "forward_c_outside_expit":
            gc += dh.sum(axis=0)
        else:
            gc += dz.sum(axis=0)
        dx[t] = dz @ p["U"].T
        if bug == "V_untransposed_in_carry":
            dnext = dz @ p["V"]
        elif bug == "carry_through_dV":
            dnext = dz @ gV.T
        else:
            dnext = dz @ p["V"].T
    return {"dx": dx, "dh0": dnext, "dU": gU, "dV": gV, "dc": gc}


def to_user(cell, p):
    return {"U": p["weight_ih"].T.copy(), "V": p["weight_hh"].T.copy(), "c": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dU" in grads:
        out["dweight_ih"] = grads["dU"].T
    if "dV" in grads:
        out["dweight_hh"] = grads["dV"].T
    if "dc" in grads:
        out["dbias_ih"] = grads["dc"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="negidx_sigmoid_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return rnn_forward(x, h0, params, bug)

    def backward(dhs, cache):
        return rnn_backward(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

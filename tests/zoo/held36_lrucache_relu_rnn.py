"""A ReLU RNN from a notebook that memoizes every step with functools.lru_cache: the
pre-activation and the state at step t are cached functions of t reading the module's
globals (X, H0, P), and the backward is two more memoized recursions (the total gradient
of h_t, the gradient of the pre-activation at t). The caches are cleared by hand
(``cache_clear()``) whenever the globals change. Time-major, a params dict:

    a_t = x_t W_xh + h_(t-1) W_hh + b_h,  h_t = relu(a_t)     x (T, N, D), h0 (N, H)

Held-out zoo: written without reading the diagnosis.
"""

import functools

import numpy as np

import harness

BUGS = {
    "mask_next_step": "wrong_time",                 # relu' read at a_(t+1)
    "no_relu_grad": "derivative_missing",           # dpre(t) = dhtot(t)
    "W_hh_not_transposed": "weight_transposed",     # dpre(t + 1) @ W_hh
    "upstream_only_last": "term_dropped",           # DH[t] only at the last step, the carry alone before
    "carry_dropped": "carry_dropped",               # dhtot(t) = DH[t]
    "dW_xh_over_T": "reduction_scaled",             # dW_xh / T
    "carry_from_earlier": "loop_direction",         # dhtot(t) takes dpre(t - 1): the recursion runs forward
    "carry_minus": "wrong_sign",                    # DH[t] - dpre(t + 1) @ W_hh.T
    "dhtot_clipped": "gradient_clipped",            # np.clip(dhtot, -0.1, 0.1)
    "leaky_forward": "forward_mistake",             # np.maximum(a, 0.01 a), backward consistent
    "dW_hh_assigned": "carry_overwrites",           # dW_hh = ... in the weights loop
    "weights_loop_from_one": "loop_skips_step",     # for t in range(1, T): step 0's share left out
    "dW_hh_transposed": "gradient_transposed",      # dW_hh += dpre(t).T @ hidden(t - 1)
    "dW_hh_h_t": "wrong_time",                      # hidden(t) for hidden(t - 1)
}
TOUCHES = {b: "" for b in BUGS}

# In[1]: data and parameters (set by the loading cell)
X = H0 = DH = None
P = {}
T = 0
BUG = None


# In[2]:
def relu(a):
    return np.maximum(a, 0.01 * a) if BUG == "leaky_forward" else np.maximum(a, 0)


def relu_grad(a):
    return np.where(a > 0, 1.0, 0.01 if BUG == "leaky_forward" else 0.0).astype(a.dtype)


@functools.lru_cache(maxsize=None)
def preact(t):
    return X[t] @ P["W_xh"] + hidden(t - 1) @ P["W_hh"] + P["b_h"]


@functools.lru_cache(maxsize=None)
def hidden(t):
    return H0 if t < 0 else relu(preact(t))


# In[3]: backward, memoized the same way
@functools.lru_cache(maxsize=None)
def dhtot(t):
    """dL/dh_t, the upstream gradient plus what step t + 1 carries back."""
    if BUG == "carry_dropped":
        return DH[t]
    if BUG == "carry_from_earlier":
        return DH[t] + (dpre(t - 1) @ P["W_hh"].T if t > 0 else 0)
    if t + 1 >= T:
        return DH[t]
    carry = dpre(t + 1) @ (P["W_hh"] if BUG == "W_hh_not_transposed" else P["W_hh"].T)
    if BUG == "upstream_only_last":
        return carry
    if BUG == "carry_minus":
        return DH[t] - carry
    if BUG == "dhtot_clipped":
        return np.clip(DH[t] + carry, -0.1, 0.1)
    return DH[t] + carry


@functools.lru_cache(maxsize=None)
def dpre(t):
    if BUG == "no_relu_grad":
        return dhtot(t)
    if BUG == "mask_next_step" and t + 1 < T:
        return dhtot(t) * relu_grad(preact(t + 1))
    return dhtot(t) * relu_grad(preact(t))


def clear_all():
    for fn in (preact, hidden, dhtot, dpre):
        fn.cache_clear()


# In[4]:
def grads():
    g = {k: np.zeros_like(v) for k, v in P.items()}
    dx = np.stack([dpre(t) @ P["W_xh"].T for t in range(T)])
    for t in (range(1, T) if BUG == "weights_loop_from_one" else range(T)):
        g["W_xh"] += X[t].T @ dpre(t)
        h_in = hidden(t) if BUG == "dW_hh_h_t" else hidden(t - 1)
        if BUG == "dW_hh_assigned":
            g["W_hh"] = h_in.T @ dpre(t)
        elif BUG == "dW_hh_transposed":
            g["W_hh"] += dpre(t).T @ h_in
        else:
            g["W_hh"] += h_in.T @ dpre(t)
        g["b_h"] += dpre(t).sum(axis=0)
    if BUG == "dW_xh_over_T":
        g["W_xh"] /= T
    return {"dx": dx, "dh0": dpre(0) @ P["W_hh"].T, **{"d" + k: v for k, v in g.items()}}


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        global X, H0, P, T, BUG
        X, H0, P, T, BUG = x, h0, params, x.shape[0], bug
        clear_all()
        h = np.stack([hidden(t) for t in range(T)])
        return h, {"X": x, "H0": h0, "P": params}

    def backward(dh, cache):
        global X, H0, P, T, DH, BUG
        X, H0, P, T, DH, BUG = cache["X"], cache["H0"], cache["P"], cache["X"].shape[0], dh, bug
        clear_all()
        out = grads()
        clear_all()
        return out

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}


def to_user(cell, p):
    return {"W_xh": np.array(p["weight_ih"]).T, "W_hh": np.array(p["weight_hh"]).T,
            "b_h": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {}
    if "dW_xh" in g:
        out["dweight_ih"] = g["dW_xh"].T
    if "dW_hh" in g:
        out["dweight_hh"] = g["dW_hh"].T
    if "db_h" in g:
        out["dbias_ih"] = g["db_h"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="nb_lru_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")

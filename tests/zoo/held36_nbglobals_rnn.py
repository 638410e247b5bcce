"""A tanh RNN as a Jupyter notebook writes it (cs231n layout): the weights, the sizes and a
``CACHE`` list live at module level, set in earlier cells and read inside the functions; the
forward clears the cache by hand (``CACHE.clear()``) and appends one tuple per step.

    h_t = tanh(x_t Wx + h_(t-1) Wh + b)        x (N, T, D), h0 (N, H)

``make`` returns closures that set the notebook's globals before calling its functions, so
each check is self-contained. Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dtanh_from_preact": "derivative_wrong_point",   # 1 - a**2 with a the cached pre-activation
    "Wh_not_transposed": "weight_transposed",        # dh_next = da @ Wh
    "dWh_transposed": "gradient_transposed",         # dWh += da.T @ h_prev
    "dh_next_zeroed_in_loop": "carry_dropped",       # dh_next = 0 at the top of every step
    "upstream_not_added": "term_dropped",            # dcur = dh_next: dh[:, t] left out
    "db_assigned": "carry_overwrites",               # db = da.sum(0)
    "loop_stops_at_one": "loop_skips_step",          # range(T - 1, 0, -1)
    "dWx_over_N": "reduction_scaled",                # dWx / N at the end
    "da_clipped": "gradient_clipped",                # np.clip(da, -0.05, 0.05) (exploding-gradient cell)
    "cache_h_as_prev": "wrong_time",                 # CACHE gets h_t in the h_prev slot
    "db_minus": "wrong_sign",                        # db -= ... pasted from the SGD cell
    "dtanh_in_loop_too": "derivative_twice",         # the loop scales by 1 - h**2, step_back again
    "dx_from_dWx": "gradient_for_weight",            # dx_t = da @ dWx.T
    "bias_added_twice": "forward_mistake",           # a = ... + b + b (the cell re-run), db = 2 sum
}
TOUCHES = {b: "" for b in BUGS}

# In[1]: sizes and weights, overwritten by the data cell
N, T, D, H = 3, 10, 4, 5
Wx = Wh = b = None
BUG = None
CACHE = []                       # (x_t, h_prev, a, h) per step; clear by hand before a new forward


# In[2]:
def step(x_t, h_prev):
    a = x_t @ Wx + h_prev @ Wh + b
    if BUG == "bias_added_twice":
        a = a + b
    h = np.tanh(a)
    CACHE.append((x_t, h if BUG == "cache_h_as_prev" else h_prev, a, h))
    return h


# In[3]:
def run_forward(x, h0):
    CACHE.clear()
    hs = np.zeros((N, T, H), dtype=x.dtype)
    h = h0
    for t in range(T):
        h = step(x[:, t, :], h)
        hs[:, t, :] = h
    return hs


# In[4]:
def step_back(dcur, t, grads):
    x_t, h_prev, a, h = CACHE[t]
    if BUG == "dtanh_from_preact":
        da = dcur * (1 - a ** 2)
    else:
        da = dcur * (1 - h ** 2)
    grads["dWx"] += x_t.T @ da
    if BUG == "dWh_transposed":
        grads["dWh"] += da.T @ h_prev
    else:
        grads["dWh"] += h_prev.T @ da
    if BUG == "db_assigned":
        grads["db"] = da.sum(axis=0)
    elif BUG == "db_minus":
        grads["db"] -= da.sum(axis=0)
    elif BUG == "bias_added_twice":
        grads["db"] += 2 * da.sum(axis=0)
    else:
        grads["db"] += da.sum(axis=0)
    if BUG == "da_clipped":
        da = np.clip(da, -0.05, 0.05)
    grads["dx"][:, t, :] = da @ (grads["dWx"].T if BUG == "dx_from_dWx" else Wx.T)
    return da @ (Wh if BUG == "Wh_not_transposed" else Wh.T)


# In[5]:
def run_backward(dh):
    grads = {"dx": np.zeros((N, T, D), dtype=dh.dtype), "dWx": np.zeros_like(Wx), "dWh": np.zeros_like(Wh),
             "db": np.zeros_like(b)}
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T - 1, 0, -1) if BUG == "loop_stops_at_one" else range(T - 1, -1, -1)):
        if BUG == "dh_next_zeroed_in_loop":
            dh_next = np.zeros((N, H), dtype=dh.dtype)
        dcur = dh_next if BUG == "upstream_not_added" else dh[:, t, :] + dh_next
        if BUG == "dtanh_in_loop_too":
            dcur = dcur * (1 - CACHE[t][3] ** 2)
        dh_next = step_back(dcur, t, grads)
    if BUG == "dWx_over_N":
        grads["dWx"] = grads["dWx"] / N
    return grads["dx"], dh_next, grads["dWx"], grads["dWh"], grads["db"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx_, Wh_, b_):
        global N, T, D, H, Wx, Wh, b, BUG
        (N, T, D), H, Wx, Wh, b, BUG = x.shape, h0.shape[1], Wx_, Wh_, b_, bug
        hs = run_forward(x, h0)
        return hs, {"steps": list(CACHE), "W": (Wx_, Wh_, b_), "sizes": (N, T, D, H)}

    def backward(dh, cache):
        global N, T, D, H, Wx, Wh, b, BUG
        (N, T, D, H), (Wx, Wh, b), BUG = cache["sizes"], cache["W"], bug
        CACHE[:] = cache["steps"]
        return run_backward(dh)

    return forward, backward, {"cell": "rnn", "layout": "cs231n", "activation": "tanh"}

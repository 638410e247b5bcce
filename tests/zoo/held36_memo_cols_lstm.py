"""An LSTM from a notebook on column-major arrays (the course's (n_x, m, T_x)): one weight
per gate and input (W* (H, D), U* (H, H), b* (H, 1)) in a params dict, every step's values
memoized in module-level dicts keyed by t (``hs``, ``cs``, ``gates``, with h0 and c0 at
t = -1) that the forward clears by hand, and the sigmoid taken with the log-sum trick
exp(-logaddexp(0, -z)). The backward accumulates into a dict with ``grads.get(k, 0) +``.

    i, f, o = sigmoid(W x + U h + b) (f: + FORGET_BIAS),  g = tanh(...)
    c_t = f c_(t-1) + i g,  h_t = o tanh(c_t)          x (D, N, T), h0, c0 (H, N)

forget_bias = 1.0. Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dUi_from_h_t": "wrong_time",                  # hs[t] for hs[t - 1] in the U gradients of i
    "dh_prev_from_dUi": "gradient_for_weight",     # grads["dUi"].T @ dai
    "dh_prev_Uf_for_Ui": "wrong_weight",           # Uf.T @ dai
    "Uo_not_transposed": "weight_transposed",      # Uo @ dao
    "dUf_transposed": "gradient_transposed",       # dUf += hs[t - 1] @ daf.T
    "dtanh_c_twice": "derivative_twice",           # dc gets (1 - tanh(c)^2) applied twice
    "dh_prev_g_path_dropped": "term_dropped",      # Ug.T @ dag left out of dh_prev
    "db_assigned": "carry_overwrites",             # grads[k] = v for the biases
    "forget_bias_stale_zero": "forget_bias",       # FORGET_BIAS = 0 from an earlier cell
    "db_mean_over_batch": "reduction_scaled",      # np.mean(..., axis=1) for the biases
    "loop_from_one": "loop_skips_step",            # reversed(range(1, T))
    "df_sigmoid_of_f": "derivative_wrong_point",   # sigmoid(f) * (1 - sigmoid(f)): the gate's output fed back in
    "dh_next_dropped": "carry_dropped",            # dh = dH[:, :, t] only
    "h_from_c_prev": "forward_mistake",            # h_t = o tanh(cs[t - 1]): key off by one, backward consistent
    "dg_times_f": "wrong_value",                   # dg = dc * f for dc * i
}
TOUCHES = {
    "dUi_from_h_t": "i",
    "dh_prev_from_dUi": "",
    "dh_prev_Uf_for_Ui": "",
    "Uo_not_transposed": "",
    "dUf_transposed": "f",
    "dtanh_c_twice": "ifg",
    "dh_prev_g_path_dropped": "",
    "db_assigned": "",
    "forget_bias_stale_zero": "",
    "db_mean_over_batch": "",
    "loop_from_one": "",
    "df_sigmoid_of_f": "f",
    "dh_next_dropped": "",
    "h_from_c_prev": "",
    "dg_times_f": "g",
}

# In[1]:
FORGET_BIAS = 1.0
params = {}
hs, cs, gates = {}, {}, {}
BUG = None


# In[2]:
def sigmoid(z):
    return np.exp(-np.logaddexp(0, -z))


def affine(k, x_t, h_prev):
    return params["W" + k] @ x_t + params["U" + k] @ h_prev + params["b" + k]


def forward(x, h0, c0):
    hs.clear()
    cs.clear()
    gates.clear()
    hs[-1], cs[-1] = h0, c0
    for t in range(x.shape[2]):
        x_t = x[:, :, t]
        i = sigmoid(affine("i", x_t, hs[t - 1]))
        f = sigmoid(affine("f", x_t, hs[t - 1]) + FORGET_BIAS)
        g = np.tanh(affine("g", x_t, hs[t - 1]))
        o = sigmoid(affine("o", x_t, hs[t - 1]))
        cs[t] = f * cs[t - 1] + i * g
        hs[t] = o * np.tanh(cs[t - 1] if BUG == "h_from_c_prev" else cs[t])
        gates[t] = {"i": i, "f": f, "g": g, "o": o}
    return np.stack([hs[t] for t in range(x.shape[2])], axis=2)


# In[3]:
def add(grads, k, v):
    if BUG == "db_assigned" and k.startswith("db"):
        grads[k] = v
    else:
        grads[k] = grads.get(k, 0) + v


def backward(dH, x, grads={}):
    grads.clear()
    grads.update({"d" + k: np.zeros_like(v) for k, v in params.items()})
    H, N, T = dH.shape
    dx = np.zeros_like(x)
    dh_next, dc_next = np.zeros((H, N), dtype=dH.dtype), np.zeros((H, N), dtype=dH.dtype)
    for t in (reversed(range(1, T)) if BUG == "loop_from_one" else reversed(range(T))):
        i, f, g, o = (gates[t][k] for k in "ifgo")
        c_out = cs[t - 1] if BUG == "h_from_c_prev" else cs[t]
        tc = np.tanh(c_out)
        dh = dH[:, :, t] if BUG == "dh_next_dropped" else dH[:, :, t] + dh_next
        do = dh * tc
        dc_h = dh * o * (1 - tc ** 2)
        if BUG == "dtanh_c_twice":
            dc_h = dc_h * (1 - tc ** 2)
        if BUG == "h_from_c_prev":
            dc_prev_h, dc_h = dc_h, 0
        dc = dc_h + dc_next
        di, df, dg = dc * g, dc * cs[t - 1], dc * (f if BUG == "dg_times_f" else i)
        dai = di * i * (1 - i)
        if BUG == "df_sigmoid_of_f":
            daf = df * sigmoid(f) * (1 - sigmoid(f))
        else:
            daf = df * f * (1 - f)
        dag = dg * (1 - g ** 2)
        dao = do * o * (1 - o)
        h_prev, x_t = hs[t - 1], x[:, :, t]
        for k, da in (("i", dai), ("f", daf), ("g", dag), ("o", dao)):
            add(grads, "dW" + k, da @ x_t.T)
            if BUG == "dUi_from_h_t" and k == "i":
                add(grads, "dU" + k, da @ hs[t].T)
            elif BUG == "dUf_transposed" and k == "f":
                add(grads, "dU" + k, h_prev @ da.T)
            else:
                add(grads, "dU" + k, da @ h_prev.T)
            if BUG == "db_mean_over_batch":
                add(grads, "db" + k, np.mean(da, axis=1, keepdims=True))
            else:
                add(grads, "db" + k, np.sum(da, axis=1, keepdims=True))
        U_i = grads["dUi"] if BUG == "dh_prev_from_dUi" else params["Uf"] if BUG == "dh_prev_Uf_for_Ui" else params["Ui"]
        dh_next = (U_i.T @ dai + params["Uf"].T @ daf
                   + (params["Uo"] if BUG == "Uo_not_transposed" else params["Uo"].T) @ dao)
        if BUG != "dh_prev_g_path_dropped":
            dh_next = dh_next + params["Ug"].T @ dag
        dx[:, :, t] = sum(params["W" + k].T @ da for k, da in (("i", dai), ("f", daf), ("g", dag), ("o", dao)))
        dc_next = dc * f
        if BUG == "h_from_c_prev":
            dc_next = dc_next + dc_prev_h
    return {"dx": dx, "dh0": dh_next, "dc0": dc_next, **grads}


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, p):
        global params, BUG, FORGET_BIAS
        params, BUG, FORGET_BIAS = p, bug, 0.0 if bug == "forget_bias_stale_zero" else 1.0
        h = forward(x, h0, c0)
        return h, {"x": x, "params": p, "hs": dict(hs), "cs": dict(cs), "gates": dict(gates)}

    def bwd(dH, cache):
        global params, BUG, FORGET_BIAS
        params, BUG, FORGET_BIAS = cache["params"], bug, 0.0 if bug == "forget_bias_stale_zero" else 1.0
        for memo, k in ((hs, "hs"), (cs, "cs"), (gates, "gates")):
            memo.clear()
            memo.update(cache[k])
        return backward(dH, cache["x"])

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT, "forget_bias": 1.0}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    user = {}
    for n, k in enumerate("ifgo"):
        rows = slice(n * H, (n + 1) * H)
        user.update({"W" + k: np.array(p["weight_ih"][rows]), "U" + k: np.array(p["weight_hh"][rows]),
                     "b" + k: b[rows][:, None]})
    return user


def to_canonical(cell, g, p):
    out = {}
    if all("dW" + k in g for k in "ifgo"):
        out["dweight_ih"] = np.concatenate([g["dW" + k] for k in "ifgo"])
    if all("dU" + k in g for k in "ifgo"):
        out["dweight_hh"] = np.concatenate([g["dU" + k] for k in "ifgo"])
    if all("db" + k in g for k in "ifgo"):
        out["dbias_ih"] = np.concatenate([g["db" + k][:, 0] for k in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="nb_memo_lstm", cells=("lstm",), axes="DNT",
                               weights_as="dict")

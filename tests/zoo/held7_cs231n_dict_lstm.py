"""An LSTM in the cs231n assignment layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,),
blocks i, f, o, g, c0 = 0) whose step backward returns a dict of gradients and whose
sequence driver accumulates them with ``np.add(dWx, grads["dWx"], out=dWx)``; the step
forward keeps its cache as a dict too. Built-in ``cs231n`` layout. Seventh held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "dc_drops_h_path": "term_dropped",                    # dc = dnext_c: the dnext_h * o * tanh'(c) term left out
    "tanh_grad_at_c": "derivative_wrong_point",           # 1 - next_c ** 2 for 1 - tanh(next_c) ** 2
    "df_next_c": "wrong_time",                            # df = dc * next_c (c_t for c_(t-1))
    "dg_sigmoid_grad": "derivative_wrong_function",       # da_g = dg * g * (1 - g)
    "do_sign": "wrong_sign",                              # da_o = do * o * (o - 1)
    "dx_from_dWx": "gradient_for_weight",                 # dx = da @ dWx.T (dWx computed the line above)
    "dc_never_carried": "carry_dropped",                  # driver: dprev_C = grads["dprev_c"] (a name never read)
    "dWh_slice_assigned": "carry_overwrites",             # driver: dWh[:] = grads["dWh"] for np.add(..., out=dWh)
    "db_mean": "reduction_scaled",                        # db = da.mean(axis=0)
    "blocks_ifgo": "gate_order",                          # da = np.hstack([da_i, da_f, da_g, da_o]) (forward is i f o g)
    "prev_c_inplace": "inplace_corruption",               # next_c = prev_c; next_c *= f; next_c += i * g
    "forward_h_no_tanh": "forward_mistake",               # next_h = o * next_c; backward consistent
    "driver_forward_loop": "loop_direction",              # driver: for t in range(T)
    "df_sigmoid_twice": "derivative_twice",               # df = dc * prev_c * f * (1 - f), then da_f = df * f * (1 - f)
    "df_next_c_and_db_mean": "unknown",                   # both df_next_c and db_mean
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dc_drops_h_path": "ig",
    "tanh_grad_at_c": "ig",
    "df_next_c": "f",
    "dg_sigmoid_grad": "g",
    "do_sign": "o",
    "dx_from_dWx": "",
    "dc_never_carried": "",
    "dWh_slice_assigned": "",
    "db_mean": "",
    "blocks_ifgo": "go",
    "prev_c_inplace": "f",
    "forward_h_no_tanh": "",
    "driver_forward_loop": "",
    "df_sigmoid_twice": "",
    "df_next_c_and_db_mean": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, bug=None):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    if bug == "prev_c_inplace":
        next_c = prev_c
        next_c *= f
        next_c += i * g
    else:
        next_c = f * prev_c + i * g
    next_h = o * next_c if bug == "forward_h_no_tanh" else o * np.tanh(next_c)
    cache = {"x": x, "prev_h": prev_h, "prev_c": prev_c, "next_c": next_c,
             "i": i, "f": f, "o": o, "g": g, "Wx": Wx, "Wh": Wh}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache, bug=None):
    """-> {"dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"}"""
    i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
    next_c, prev_c = cache["next_c"], cache["prev_c"]
    if bug == "forward_h_no_tanh":
        do = dnext_h * next_c
        dc = dnext_c + dnext_h * o
    else:
        tanh_c = np.tanh(next_c)
        do = dnext_h * tanh_c
        if bug == "dc_drops_h_path":
            dc = dnext_c
        elif bug == "tanh_grad_at_c":
            dc = dnext_c + dnext_h * o * (1 - next_c ** 2)
        else:
            dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    df = dc * (next_c if bug in ("df_next_c", "df_next_c_and_db_mean") else prev_c)
    if bug == "df_sigmoid_twice":
        df = df * f * (1 - f)
    di = dc * g
    dg = dc * i
    grads = {"dprev_c": dc * f}
    da_i = di * i * (1 - i)
    da_f = df * f * (1 - f)
    da_o = do * o * (o - 1) if bug == "do_sign" else do * o * (1 - o)
    da_g = dg * g * (1 - g) if bug == "dg_sigmoid_grad" else dg * (1 - g ** 2)
    if bug == "blocks_ifgo":
        da = np.hstack([da_i, da_f, da_g, da_o])
    else:
        da = np.hstack([da_i, da_f, da_o, da_g])
    grads["dWx"] = cache["x"].T.dot(da)
    grads["dWh"] = cache["prev_h"].T.dot(da)
    grads["db"] = da.mean(axis=0) if bug in ("db_mean", "df_next_c_and_db_mean") else da.sum(axis=0)
    grads["dx"] = da.dot(grads["dWx"].T if bug == "dx_from_dWx" else cache["Wx"].T)
    grads["dprev_h"] = da.dot(cache["Wh"].T)
    return grads


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H), dtype=x.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    cache = []
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b, bug)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def lstm_backward(dh, cache, bug=None):
    N, T, H = dh.shape
    D = cache[0]["x"].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros_like(cache[0]["Wx"])
    dWh = np.zeros_like(cache[0]["Wh"])
    db = np.zeros(4 * H, dtype=dh.dtype)
    dprev_h = np.zeros((N, H), dtype=dh.dtype)
    dprev_c = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "driver_forward_loop" else reversed(range(T))
    for t in order:
        grads = lstm_step_backward(dh[:, t, :] + dprev_h, dprev_c, cache[t], bug)
        dx[:, t, :] = grads["dx"]
        np.add(dWx, grads["dWx"], out=dWx)
        if bug == "dWh_slice_assigned":
            dWh[:] = grads["dWh"]
        else:
            np.add(dWh, grads["dWh"], out=dWh)
        np.add(db, grads["db"], out=db)
        dprev_h = grads["dprev_h"]
        if bug == "dc_never_carried":
            dprev_C = grads["dprev_c"]  # noqa: F841  (the typo is the mistake)
        else:
            dprev_c = grads["dprev_c"]
    return dx, dprev_h, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

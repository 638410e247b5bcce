"""An RNN as a Japanese blog post writes it, with romaji names: time-major x (T, N, D)
("jikan" first), the weights in a dict ``omomi`` {"W_nyuryoku" (D, H), "W_kakure" (H, H),
"b" (H,)}, the hidden states ``kakure`` (T + 1, N, H) with kakure[0] = h0, gradients named
``koubai_*`` (勾配):

    kakure[t + 1] = tanh(x[t] @ W_nyuryoku + kakure[t] @ W_kakure + b)

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dtanh_at_mae_no_kakure": "derivative_wrong_point",  # 1 - kakure[t]**2 (h_(t-1)) for 1 - kakure[t+1]**2 (also a wrong_value)
    "dW_kakure_with_ima": "wrong_time",                  # koubai_W_kakure += kakure[t + 1].T @ da (h_t for h_(t-1))
    "carry_not_added": "carry_dropped",                  # dh_t = dh[t]: the koubai_tsugi from step t+1 never added
    "loop_stops_at_one": "loop_skips_step",              # for t in range(T - 1, 0, -1): step 0 never visited
    "db_mean": "reduction_scaled",                       # koubai_b += da.mean(axis=0) (np.mean for np.sum)
    "dtanh_no_square": "derivative_miswritten",          # da = dh_t * (1 - kakure[t + 1]): the square forgotten
    "dtanh_sign": "wrong_sign",                          # da = dh_t * (kakure[t + 1]**2 - 1)
    "W_kakure_not_T": "weight_transposed",               # koubai_tsugi = da @ W_kakure (W_kakure.T needed)
    "loop_forward_in_time": "loop_direction",            # for t in range(T): the backward walks forward in time
    "clip_each_step": "gradient_clipped",                # koubai_tsugi = np.clip(koubai_tsugi, -0.05, 0.05) each step
    "forward_b_twice": "forward_mistake",                # x W + h W + b + b in the forward; koubai_b += 2 * da.sum(0)
    "no_dtanh_and_wrong_time": "unknown",                # da = dh_t (no tanh') and W_kakure's gradient with h_t
    "dW_nyuryoku_times_gakushuritsu": "unknown",         # koubai_W_nyuryoku *= 0.1: a learning rate left in the backward
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dtanh_at_mae_no_kakure": "",
    "dW_kakure_with_ima": "",
    "carry_not_added": "",
    "loop_stops_at_one": "",
    "db_mean": "",
    "dtanh_no_square": "",
    "dtanh_sign": "",
    "W_kakure_not_T": "",
    "loop_forward_in_time": "",
    "clip_each_step": "",
    "forward_b_twice": "",
    "no_dtanh_and_wrong_time": "",
    "dW_nyuryoku_times_gakushuritsu": "",
}


def junden(x, h0, omomi, bug=None):
    """順伝播 (forward). x (T, N, D), h0 (N, H) -> kakure[1:] (T, N, H), cache."""
    W_nyuryoku, W_kakure, b = omomi["W_nyuryoku"], omomi["W_kakure"], omomi["b"]
    T = x.shape[0]
    kakure = np.zeros((T + 1,) + h0.shape, dtype=x.dtype)
    kakure[0] = h0
    for t in range(T):
        a = x[t] @ W_nyuryoku + kakure[t] @ W_kakure + b
        if bug == "forward_b_twice":
            a = a + b
        kakure[t + 1] = np.tanh(a)
    return kakure[1:].copy(), (x, kakure, W_nyuryoku, W_kakure)


def gyakuden(dh, cache, bug=None):
    """逆伝播 (backward). dh (T, N, H) -> dx, dh0, dW_nyuryoku, dW_kakure, db."""
    x, kakure, W_nyuryoku, W_kakure = cache
    T = x.shape[0]
    koubai_x = np.zeros_like(x)
    koubai_W_nyuryoku = np.zeros_like(W_nyuryoku)
    koubai_W_kakure = np.zeros_like(W_kakure)
    koubai_b = np.zeros(W_kakure.shape[0], dtype=dh.dtype)
    koubai_tsugi = np.zeros_like(kakure[0])
    if bug == "loop_stops_at_one":
        jikan = range(T - 1, 0, -1)
    elif bug == "loop_forward_in_time":
        jikan = range(T)
    else:
        jikan = range(T - 1, -1, -1)
    for t in jikan:
        dh_t = dh[t] if bug == "carry_not_added" else dh[t] + koubai_tsugi
        if bug == "dtanh_at_mae_no_kakure":
            da = dh_t * (1 - kakure[t] ** 2)
        elif bug == "dtanh_no_square":
            da = dh_t * (1 - kakure[t + 1])
        elif bug == "dtanh_sign":
            da = dh_t * (kakure[t + 1] ** 2 - 1)
        elif bug == "no_dtanh_and_wrong_time":
            da = dh_t
        else:
            da = dh_t * (1 - kakure[t + 1] ** 2)
        koubai_W_nyuryoku += x[t].T @ da
        if bug in ("dW_kakure_with_ima", "no_dtanh_and_wrong_time"):
            koubai_W_kakure += kakure[t + 1].T @ da
        else:
            koubai_W_kakure += kakure[t].T @ da
        if bug == "db_mean":
            koubai_b += da.mean(axis=0)
        elif bug == "forward_b_twice":
            koubai_b += 2 * da.sum(axis=0)
        else:
            koubai_b += da.sum(axis=0)
        koubai_x[t] = da @ W_nyuryoku.T
        koubai_tsugi = da @ W_kakure if bug == "W_kakure_not_T" else da @ W_kakure.T
        if bug == "clip_each_step":
            koubai_tsugi = np.clip(koubai_tsugi, -0.05, 0.05)
    if bug == "dW_nyuryoku_times_gakushuritsu":
        koubai_W_nyuryoku *= 0.1
    return koubai_x, koubai_tsugi, koubai_W_nyuryoku, koubai_W_kakure, koubai_b


def to_user(cell, p):
    return {"W_nyuryoku": p["weight_ih"].T.copy(), "W_kakure": p["weight_hh"].T.copy(),
            "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {}
    if "dW_nyuryoku" in g:
        out["dweight_ih"] = g["dW_nyuryoku"].T
    if "dW_kakure" in g:
        out["dweight_hh"] = g["dW_kakure"].T
    if "db" in g:
        out["dbias_ih"] = g["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="romaji_rnn", cells=("rnn",), axes="TND",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, omomi):
        return junden(x, h0, omomi, bug)

    def backward(dh, cache):
        return gyakuden(dh, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

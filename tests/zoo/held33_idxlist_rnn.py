"""A vanilla RNN on the built-in ``karpathy`` layout (column vectors, one example at a time,
x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)) whose forward writes down the
order it visited the steps in, and whose backward walks a precomputed index list instead
of a range:

    visit = [0, 1, ..., T-1]                 (kept in the cache)
    back = visit[::-1]
    for t in back: ... hs[t - 1] ...         (hs a dict with hs[-1] = h0)

The learning-rate and clipping habits of min-char-rnn show up in the mistakes. Thirty-third
held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "index_list_not_reversed": "loop_direction",          # back = visit (the [::-1] forgotten): walks forward in time
    "index_slice_drops_zero": "loop_skips_step",          # back = visit[:0:-1]: t = 0 never visited
    "dhnext_from_dWhh": "gradient_for_weight",            # dhnext = dWhh.T @ dhraw (the running gradient)
    "tanh_grad_parenthesis": "derivative_miswritten",     # (1 - hs[t]) ** 2 for 1 - hs[t] ** 2
    "tanh_grad_in_carry_too": "derivative_twice",         # dhnext = (Whh.T @ dhraw) * (1 - hs[t-1]**2), applied again next step
    "dWhh_with_hs_t": "wrong_time",                       # dhraw @ hs[t].T: h_t for h_(t-1)
    "dWxh_assigned": "carry_overwrites",                  # dWxh = dhraw @ xs[t].T (= for +=)
    "dbh_over_len_back": "reduction_scaled",              # dbh / len(back): the mean over the steps
    "clip_at_one": "gradient_clipped",                    # np.clip(dparam, -1, 1, out=dparam) on the weight gradients
    "lr_folded_into_dWhh": "unknown",                     # dWhh *= 0.01 (the learning rate applied inside backward)
    "dhnext_with_Whh": "weight_transposed",               # dhnext = Whh @ dhraw
    "dh_without_dhnext": "carry_dropped",                 # dh_t = dh[t]: the carry from t + 1 never added
    "dhraw_no_tanh_grad": "derivative_missing",           # dhraw = dh_t
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "index_list_not_reversed": "",
    "index_slice_drops_zero": "",
    "dhnext_from_dWhh": "",
    "tanh_grad_parenthesis": "",
    "tanh_grad_in_carry_too": "",
    "dWhh_with_hs_t": "",
    "dWxh_assigned": "",
    "dbh_over_len_back": "",
    "clip_at_one": "",
    "lr_folded_into_dWhh": "",
    "dhnext_with_Whh": "",
    "dh_without_dhnext": "",
    "dhraw_no_tanh_grad": "",
}


def forward(x, h0, Wxh, Whh, bh):
    hs, visit = {-1: h0.copy()}, []
    for t in range(x.shape[0]):
        hs[t] = np.tanh(np.dot(Wxh, x[t]) + np.dot(Whh, hs[t - 1]) + bh)
        visit.append(t)
    h = np.array([hs[t] for t in visit])
    return h, {"xs": x, "hs": hs, "visit": visit, "params": (Wxh, Whh, bh)}


def backward(dh, cache, bug=None):
    xs, hs, visit = cache["xs"], cache["hs"], cache["visit"]
    Wxh, Whh, bh = cache["params"]
    if bug == "index_list_not_reversed":
        back = visit
    elif bug == "index_slice_drops_zero":
        back = visit[:0:-1]
    else:
        back = visit[::-1]
    dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(bh)
    dx = np.zeros_like(xs)
    dhnext = np.zeros_like(hs[-1])
    for t in back:
        dh_t = dh[t] if bug == "dh_without_dhnext" else dh[t] + dhnext
        if bug == "tanh_grad_parenthesis":
            dhraw = (1 - hs[t]) ** 2 * dh_t
        elif bug == "dhraw_no_tanh_grad":
            dhraw = dh_t
        else:
            dhraw = (1 - hs[t] * hs[t]) * dh_t
        dbh += dhraw
        if bug == "dWxh_assigned":
            dWxh = np.dot(dhraw, xs[t].T)
        else:
            dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, (hs[t] if bug == "dWhh_with_hs_t" else hs[t - 1]).T)
        dx[t] = np.dot(Wxh.T, dhraw)
        if bug == "dhnext_from_dWhh":
            dhnext = np.dot(dWhh.T, dhraw)
        elif bug == "dhnext_with_Whh":
            dhnext = np.dot(Whh, dhraw)
        elif bug == "tanh_grad_in_carry_too":
            dhnext = np.dot(Whh.T, dhraw) * (1 - hs[t - 1] * hs[t - 1])
        else:
            dhnext = np.dot(Whh.T, dhraw)
    if bug == "dbh_over_len_back":
        dbh = dbh / len(back)
    if bug == "clip_at_one":
        for dparam in (dWxh, dWhh, dbh):
            np.clip(dparam, -1, 1, out=dparam)
    if bug == "lr_folded_into_dWhh":
        dWhh *= 0.01
    return dx, dhnext, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy"}

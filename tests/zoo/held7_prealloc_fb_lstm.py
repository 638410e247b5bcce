"""An LSTM with TF's forget_bias=1.0 added to the forget gate at call time, written
batch-major with preallocated arrays: ``hs``, ``cs`` (N, T+1, H) with the initial states in
slot 0, the pre-activations ``zs`` (N, T, 4H), and ``np.split(..., 4, axis=1)`` into the
Keras-ordered blocks i, f, c, o (c the candidate):

    z = x_t @ W + h_(t-1) @ U + b
    i = s(z_i)  f = s(z_f + FORGET_BIAS)  c~ = tanh(z_c)  o = s(z_o)
    c_t = f * c_(t-1) + i * c~          h_t = o * tanh(c_t)

The backward recomputes the gates from the cached pre-activations. x (N, T, D), h0 and c0
(N, H), W (D, 4H), U (H, 4H), b (4H,). Custom layout, forget_bias=1.0. Seventh held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "forward_no_forget_bias": "forget_bias",              # f = s(z_f) in forward and backward (consistently)
    "backward_f_without_bias": "forget_bias",             # the backward recomputes f = s(z_f): the +1.0 forgotten
    "dz_blocks_ifoc": "gate_order",                       # dz = concatenate([dz_i, dz_f, dz_o, dz_c])
    "dc_carry_not_added": "carry_dropped",                # dc = dh_t * o * (1 - tc ** 2): dc_next left out
    "db_assigned": "carry_overwrites",                    # db = dz.sum(axis=0)
    "df_missing_parens": "derivative_miswritten",         # dz_f = df * f * 1 - f
    "df_with_c_t": "wrong_time",                          # df = dc * cs[:, t + 1] (c_t for c_(t-1))
    "dh_over_N": "reduction_scaled",                      # dh = dh / N at the top ("mean over the batch")
    "dh_next_from_dU": "gradient_for_weight",             # dh_next = dz @ dU.T
    "dc_cand_no_tanh_grad": "derivative_missing",         # dz_c = dcand
    "dc_cand_at_preactivation": "derivative_wrong_point", # dz_c = dcand * (1 - z_c ** 2)
    "c_in_place": "inplace_corruption",                   # c = cs[:, t]; c *= f; c += i * cand (a view of cs)
    "forward_candidate_sigmoid": "forward_mistake",       # cand = s(z_c); backward consistent
    "truncate_every_2": "truncated_bptt",                 # the carries zeroed every 2 steps back
    "dcand_missing_and_db_assigned": "unknown",           # both dc_cand_no_tanh_grad and db_assigned
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forward_no_forget_bias": "",
    "backward_f_without_bias": "f",
    "dz_blocks_ifoc": "go",
    "dc_carry_not_added": "",
    "db_assigned": "",
    "df_missing_parens": "f",
    "df_with_c_t": "f",
    "dh_over_N": "",
    "dh_next_from_dU": "",
    "dc_cand_no_tanh_grad": "g",
    "dc_cand_at_preactivation": "g",
    "c_in_place": "f",
    "forward_candidate_sigmoid": "",
    "truncate_every_2": "",
    "dcand_missing_and_db_assigned": "g",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(x, h0, c0, W, U, b, bug=None):
    N, T, D = x.shape
    H = h0.shape[1]
    fb = 0.0 if bug == "forward_no_forget_bias" else FORGET_BIAS
    hs = np.zeros((N, T + 1, H), dtype=x.dtype)
    cs = np.zeros((N, T + 1, H), dtype=x.dtype)
    zs = np.zeros((N, T, 4 * H), dtype=x.dtype)
    hs[:, 0], cs[:, 0] = h0, c0
    for t in range(T):
        zs[:, t] = x[:, t] @ W + hs[:, t] @ U + b
        z_i, z_f, z_c, z_o = np.split(zs[:, t], 4, axis=1)
        i, f, o = sigmoid(z_i), sigmoid(z_f + fb), sigmoid(z_o)
        cand = sigmoid(z_c) if bug == "forward_candidate_sigmoid" else np.tanh(z_c)
        if bug == "c_in_place":
            c = cs[:, t]
            c *= f
            c += i * cand
            cs[:, t + 1] = c
        else:
            cs[:, t + 1] = f * cs[:, t] + i * cand
        hs[:, t + 1] = o * np.tanh(cs[:, t + 1])
    return hs[:, 1:], (x, hs, cs, zs, W, U)


def lstm_backward(dh, cache, bug=None):
    x, hs, cs, zs, W, U = cache
    N, T, H = dh.shape
    if bug == "dh_over_N":
        dh = dh / N
    fb = 0.0 if bug in ("forward_no_forget_bias", "backward_f_without_bias") else FORGET_BIAS
    dx = np.zeros_like(x)
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(4 * H, dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        if bug == "truncate_every_2" and (T - t) % 2 == 1 and t < T - 1:
            dh_next = np.zeros_like(dh_next)
            dc_next = np.zeros_like(dc_next)
        z_i, z_f, z_c, z_o = np.split(zs[:, t], 4, axis=1)
        i, f, o = sigmoid(z_i), sigmoid(z_f + fb), sigmoid(z_o)
        cand = sigmoid(z_c) if bug == "forward_candidate_sigmoid" else np.tanh(z_c)
        c, c_prev = cs[:, t + 1], cs[:, t]
        tc = np.tanh(c)
        dh_t = dh[:, t] + dh_next
        do = dh_t * tc
        if bug == "dc_carry_not_added":
            dc = dh_t * o * (1 - tc ** 2)
        else:
            dc = dc_next + dh_t * o * (1 - tc ** 2)
        di = dc * cand
        df = dc * (c if bug == "df_with_c_t" else c_prev)
        dcand = dc * i
        dc_next = dc * f
        dz_i = di * i * (1 - i)
        dz_f = df * f * 1 - f if bug == "df_missing_parens" else df * f * (1 - f)
        if bug in ("dc_cand_no_tanh_grad", "dcand_missing_and_db_assigned"):
            dz_c = dcand
        elif bug == "dc_cand_at_preactivation":
            dz_c = dcand * (1 - z_c ** 2)
        elif bug == "forward_candidate_sigmoid":
            dz_c = dcand * cand * (1 - cand)
        else:
            dz_c = dcand * (1 - cand ** 2)
        dz_o = do * o * (1 - o)
        if bug == "dz_blocks_ifoc":
            dz = np.concatenate([dz_i, dz_f, dz_o, dz_c], axis=1)
        else:
            dz = np.concatenate([dz_i, dz_f, dz_c, dz_o], axis=1)
        dW += x[:, t].T @ dz
        dU += hs[:, t].T @ dz
        if bug in ("db_assigned", "dcand_missing_and_db_assigned"):
            db = dz.sum(axis=0)
        else:
            db += dz.sum(axis=0)
        dx[:, t] = dz @ W.T
        dh_next = dz @ (dU.T if bug == "dh_next_from_dU" else U.T)
    return dx, dh_next, dc_next, dW, dU, db


def _ifco(a, axis=0):
    return np.array(a, copy=True)         # Keras's i, f, c, o is torch's i, f, g, o: no reordering


def to_user(cell, p):
    return {"W": _ifco(p["weight_ih"]).T, "U": _ifco(p["weight_hh"]).T, "b": _ifco(p["bias_ih"] + p["bias_hh"])}


def to_canonical(cell, grads, p):
    names = (("dW", "dweight_ih"), ("dU", "dweight_hh"))
    out = {q: _ifco(grads[u].T) for u, q in names if u in grads}
    if "db" in grads:
        out["dbias_ih"] = _ifco(grads["db"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="prealloc_lstm", cells=("lstm",), gate_order="ifco",
                               gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W, U, b):
        return lstm_forward(x, h0, c0, W, U, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

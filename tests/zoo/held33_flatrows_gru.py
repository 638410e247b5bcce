"""A GRU (torch's form: params list [W_ih (3H, D), W_hh (3H, H), b_ih, b_hh (3H,)], blocks
r, z, n, reset after the recurrent product) that keeps everything in flat (N*T, .) arrays,
row n*T + t, and reaches a step's rows through a precomputed index list:

    X = x.reshape(N * T, D);  GI = X @ W_ih.T + b_ih           (all input projections at once)
    rows = [np.arange(N) * T + t for t in range(T)]
    for t, idx in enumerate(rows): ... HP[idx] = h; ... HS[idx] = h_new

The backward walks rows[::-1], writes each step's pre-activation gradients into flat DGI,
DGH and, after the loop, forms every weight gradient with one product over all rows.
Thirty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dW_hh_with_HS": "wrong_time",                        # DGH.T @ HS (h_t rows) for DGH.T @ HP (h_(t-1) rows)
    "rows_z_r_n": "gate_order",                           # DGI, DGH rows written [z, r, n] for [r, z, n]
    "dh_prev_without_z_path": "term_dropped",             # dh_prev = dgh @ W_hh: dh_t * z left out
    "dn_tanh_of_output": "derivative_wrong_point",        # 1 - np.tanh(n) ** 2: n already is a tanh
    "dz_sigmoid_grad_twice": "derivative_twice",          # dz = dh_t * (hp - n) * z * (1 - z), and again for daz
    "dz_sign": "wrong_sign",                              # dz = dh_t * (n - hp)
    "W_hn_untransposed": "weight_transposed",             # dgh[:, 2H:] @ W_hh[2H:].T in dh_prev (the n block)
    "dW_hn_block_transposed": "gradient_transposed",      # the n rows of dW_hh written HP.T @ DGH[:, 2H:] (transposed)
    "db_hh_mean": "reduction_scaled",                     # DGH.mean(0): np.mean over all N*T rows for np.sum
    "carry_written_with_equals": "carry_overwrites",      # DHT[prev_idx] = dh_prev: the upstream dh of step t-1 overwritten
    "dz_aliases_dh_t": "inplace_corruption",              # dz = dh_t; dz *= (hp - n): dn then reads dh_t * (hp - n)
    "forward_z_keeps_new": "forward_mistake",             # h = z * n + (1 - z) * h (Keras-doc reading); backward consistent
    "rows_from_one": "loop_skips_step",                   # rows[:0:-1]: step 0 never walked back
    "dz_sign_and_db_ih_mean": "unknown",                  # two at once: dz sign and db_ih mean
    "dr_scaled_by_point_five": "unknown",                 # dr = 0.5 * dan * HN: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dW_hh_with_HS": "",
    "rows_z_r_n": "rz",
    "dh_prev_without_z_path": "",
    "dn_tanh_of_output": "rn",
    "dz_sigmoid_grad_twice": "z",
    "dz_sign": "z",
    "W_hn_untransposed": "",
    "dW_hn_block_transposed": "n",
    "db_hh_mean": "",
    "carry_written_with_equals": "",
    "dz_aliases_dh_t": "rn",
    "forward_z_keeps_new": "",
    "rows_from_one": "",
    "dz_sign_and_db_ih_mean": "",
    "dr_scaled_by_point_five": "r",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, params, bug=None):
    W_ih, W_hh, b_ih, b_hh = params
    N, T, D = x.shape
    H = h0.shape[1]
    X = x.reshape(N * T, D)
    GI = X @ W_ih.T + b_ih
    rows = [np.arange(N) * T + t for t in range(T)]
    HP, HS, R, Z, NN, HN = (np.zeros((N * T, H), dtype=x.dtype) for _ in range(6))
    h = h0
    for idx in rows:
        gh = h @ W_hh.T + b_hh
        r = sigmoid(GI[idx, :H] + gh[:, :H])
        z = sigmoid(GI[idx, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(GI[idx, 2 * H:] + r * gh[:, 2 * H:])
        HP[idx], R[idx], Z[idx], NN[idx], HN[idx] = h, r, z, n, gh[:, 2 * H:]
        h = z * n + (1 - z) * h if bug == "forward_z_keeps_new" else (1 - z) * n + z * h
        HS[idx] = h
    cache = {"X": X, "rows": rows, "HP": HP, "HS": HS, "R": R, "Z": Z, "N": NN, "HN": HN, "params": params}
    return HS.reshape(N, T, H), cache


def _local(dh_t, idx, c, bug):
    """dL/d(input part), dL/d(recurrent part) of one step's rows, and the direct dh_prev path."""
    r, z, n, hp, hn = c["R"][idx], c["Z"][idx], c["N"][idx], c["HP"][idx], c["HN"][idx]
    keeps_new = bug == "forward_z_keeps_new"
    if bug == "dz_aliases_dh_t":
        dz = dh_t
        dz *= hp - n
    elif bug in ("dz_sign", "dz_sign_and_db_ih_mean") or keeps_new:
        dz = dh_t * (n - hp)
    else:
        dz = dh_t * (hp - n)
    dn = dh_t * (z if keeps_new else 1 - z)
    if bug == "dz_sigmoid_grad_twice":
        dz = dz * z * (1 - z)
    dan = dn * (1 - (np.tanh(n) if bug == "dn_tanh_of_output" else n) ** 2)
    dr = dan * hn * (0.5 if bug == "dr_scaled_by_point_five" else 1)
    dar, daz = dr * r * (1 - r), dz * z * (1 - z)
    first = [daz, dar] if bug == "rows_z_r_n" else [dar, daz]
    dgi = np.concatenate(first + [dan], axis=1)
    dgh = np.concatenate(first + [dan * r], axis=1)
    return dgi, dgh, dh_t * (1 - z if keeps_new else z)


def backward(dh, cache, bug=None):
    W_ih, W_hh, _, _ = cache["params"]
    N, T, H = dh.shape
    rows = cache["rows"]
    DHT = dh.reshape(N * T, H).copy()
    DGI, DGH = np.zeros((N * T, 3 * H), dtype=dh.dtype), np.zeros((N * T, 3 * H), dtype=dh.dtype)
    dh0 = np.zeros_like(dh[:, 0])
    walk = rows[:0:-1] if bug == "rows_from_one" else rows[::-1]
    for idx in walk:
        t = int(idx[0])
        dgi, dgh, direct = _local(DHT[idx], idx, cache, bug)
        DGI[idx], DGH[idx] = dgi, dgh
        if bug == "dh_prev_without_z_path":
            dh_prev = dgh @ W_hh
        elif bug == "W_hn_untransposed":
            dh_prev = direct + dgh[:, :2 * H] @ W_hh[:2 * H] + dgh[:, 2 * H:] @ W_hh[2 * H:].T
        else:
            dh_prev = direct + dgh @ W_hh
        if t == 0:
            dh0 = dh_prev
        elif bug == "carry_written_with_equals":
            DHT[idx - 1] = dh_prev
        else:
            DHT[idx - 1] += dh_prev
    dW_ih = DGI.T @ cache["X"]
    dW_hh = DGH.T @ (cache["HS"] if bug == "dW_hh_with_HS" else cache["HP"])
    if bug == "dW_hn_block_transposed":
        dW_hh[2 * H:] = cache["HP"].T @ DGH[:, 2 * H:]
    db_ih = DGI.mean(axis=0) if bug == "dz_sign_and_db_ih_mean" else DGI.sum(axis=0)
    db_hh = DGH.mean(axis=0) if bug == "db_hh_mean" else DGH.sum(axis=0)
    dx = (DGI @ W_ih).reshape(N, T, W_ih.shape[1])
    return dx, dh0, dW_ih, dW_hh, db_ih, db_hh


def to_user(cell, p):
    return {"W_ih": p["weight_ih"], "W_hh": p["weight_hh"], "b_ih": p["bias_ih"], "b_hh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flatrows_gru", cells=("gru",), weights_as="list",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, params):
        return forward(x, h0, params, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A sigmoid RNN in the cs231n layout (x (N, T, D), Wx (D, H), Wh (H, H), b (H,)) written by
an engineer who saves memory with in-place ufuncs and scratch buffers everywhere
(np.dot(..., out=), np.add(..., out=), the sigmoid computed in place on the drive buffer):

    drive_t = x_t Wx + h_(t-1) Wh + b       h_t = sigmoid(drive_t)

The forward caches a copy of every drive; the backward recomputes the sigmoid from it and
works in a scratch buffer g: g = (dh_t + carry) * s * (1 - s), carry = g Wh^T.
Thirty-first held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "drive_cached_without_copy": "inplace_corruption",   # drives.append(pre) then the in-place sigmoid: cached drive =
                                                         # h
    "dsig_as_tanh": "derivative_wrong_function",         # g *= 1 - s * s
    "dsig_at_drive": "derivative_wrong_point",           # g *= a * (1 - a) with a the cached drive
    "dsig_applied_twice": "derivative_twice",            # g *= s * (1 - s) a second time before the weight products
    "carry_Wh_not_transposed": "weight_transposed",      # np.dot(g, Wh, out=carry)
    "carry_from_dWh": "gradient_for_weight",             # np.dot(g, dWh.T, out=carry)
    "dWh_with_h_t": "wrong_time",                        # dWh += hs[:, t].T @ g
    "db_mean": "reduction_scaled",                       # db += g.mean(axis=0) (np.mean for np.sum)
    "carry_not_added": "carry_dropped",                  # np.copyto(g, dhs[:, t])
    "carry_replaces_dh": "carry_overwrites",             # np.copyto(g, carry) below the last step
    "loop_forward_in_time": "loop_direction",            # for t in range(T)
    "grads_norm_clipped": "gradient_clipped",            # invention: all weight gradients rescaled to total norm 1
    "dsig_halved": "unknown",                            # g *= 0.5 * s * (1 - s): an arbitrary constant
    "db_mean_and_carry_dropped": "unknown",              # two mistakes: db_mean and carry_not_added
}

TOUCHES = {                    # computed: blind_index.touched_gates(module, bug)
    "drive_cached_without_copy": "",
    "dsig_as_tanh": "",
    "dsig_at_drive": "",
    "dsig_applied_twice": "",
    "carry_Wh_not_transposed": "",
    "carry_from_dWh": "",
    "dWh_with_h_t": "",
    "db_mean": "",
    "carry_not_added": "",
    "carry_replaces_dh": "",
    "loop_forward_in_time": "",
    "grads_norm_clipped": "",
    "dsig_halved": "",
    "db_mean_and_carry_dropped": "",
}


def _sigmoid_(buf):
    """The logistic sigmoid in place; returns buf."""
    np.negative(buf, out=buf)
    np.exp(buf, out=buf)
    buf += 1
    np.reciprocal(buf, out=buf)
    return buf


def rnn_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    hs = np.empty((N, T, H), dtype=x.dtype)
    drives = []
    h = h0
    for t in range(T):
        pre = np.dot(x[:, t], Wx)
        pre += np.dot(h, Wh)
        pre += b
        drives.append(pre if bug == "drive_cached_without_copy" else pre.copy())
        hs[:, t] = _sigmoid_(pre)
        h = hs[:, t]
    return hs, (x, h0, Wx, Wh, drives, hs)


def rnn_backward(dhs, cache, bug=None):
    x, h0, Wx, Wh, drives, hs = cache
    N, T, H = dhs.shape
    dx = np.empty_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(H, dtype=dhs.dtype)
    carry = np.zeros_like(h0)
    g = np.empty_like(h0)
    steps = range(T) if bug == "loop_forward_in_time" else range(T - 1, -1, -1)
    for t in steps:
        if bug in ("carry_not_added", "db_mean_and_carry_dropped"):
            np.copyto(g, dhs[:, t])
        elif bug == "carry_replaces_dh" and t < T - 1:
            np.copyto(g, carry)
        else:
            np.add(dhs[:, t], carry, out=g)
        a = drives[t]
        s = _sigmoid_(a.copy())
        if bug == "dsig_as_tanh":
            g *= 1 - s * s
        elif bug == "dsig_at_drive":
            g *= a * (1 - a)
        elif bug == "dsig_halved":
            g *= 0.5 * s * (1 - s)
        else:
            g *= s * (1 - s)
        if bug == "dsig_applied_twice":
            g *= s * (1 - s)
        h_prev = h0 if t == 0 else hs[:, t - 1]
        dWx += x[:, t].T @ g
        dWh += (hs[:, t] if bug == "dWh_with_h_t" else h_prev).T @ g
        if bug in ("db_mean", "db_mean_and_carry_dropped"):
            db += g.mean(axis=0)
        else:
            db += g.sum(axis=0)
        dx[:, t] = np.dot(g, Wx.T)
        if bug == "carry_Wh_not_transposed":
            np.dot(g, Wh, out=carry)
        elif bug == "carry_from_dWh":
            np.dot(g, dWh.T, out=carry)
        else:
            np.dot(g, Wh.T, out=carry)
    if bug == "grads_norm_clipped":
        total = np.sqrt(sum((d * d).sum() for d in (dWx, dWh, db)))
        if total > 1.0:
            for d in (dWx, dWh, db):
                d *= 1.0 / total
    return dx, carry, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return rnn_forward(x, h0, Wx, Wh, b, bug)

    def backward(dhs, cache):
        return rnn_backward(dhs, cache, bug)

    return forward, backward, {"cell": "rnn", "layout": "cs231n", "activation": "sigmoid"}

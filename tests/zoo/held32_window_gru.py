"""A time-major GRU with torch's weights as they are stored (W_ih (3H, D), W_hh (3H, H), b_ih,
b_hh, blocks r, z, n; the reset applied after the recurrent product), written by someone
who likes views: the states live in one (T+1, N, H) array and both passes read the
(h_(t-1), h_t) pairs from ``sliding_window_view(hs, 2, axis=0)``; the input projection of
all steps is one einsum; the backward stores the pre-activation gradients of the input and
recurrent products in (T, N, 3H) arrays dgi, dgh and does dW_ih, dW_hh, both biases and dx
as one matmul each after the loop.

    r, z = s(gi_r + gh_r), s(gi_z + gh_z)      gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh
    n = tanh(gi_n + r * gh_n)                  h' = (1 - z) * n + z * h

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import harness

BUGS = {
    "carry_z_path_overwritten": "term_dropped",         # carry = dht * z; carry = dar @ W_hr + ... (= for +=): the
                                                        # numbers of the direct z path dropped (not a carry mistake:
                                                        # the carry itself is carried)
    "dz_from_window_current": "wrong_time",             # dz = dht * (cur[t] - n): h_t for h_(t-1)
    "dan_miswritten": "derivative_miswritten",          # dan = dn * (1 - n) ** 2
    "dar_at_z": "derivative_wrong_point",               # dar = dr * z * (1 - z): s' at z for r
    "daz_missing": "derivative_missing",                # daz = dz
    "db_hh_mean": "reduction_scaled",                   # db_hh = dgh.mean(axis=(0, 1))
    "dx_from_dW_ih": "gradient_for_weight",             # dx = dgi @ dW_ih (computed on the line above)
    "loop_forward": "loop_direction",                   # for t in range(T)
    "dr_aliases_dan": "inplace_corruption",             # dr = dan; dr *= ghn: dan (read after for dgh's n block and
                                                        # dgi's) becomes dan * ghn
    "forward_z_flipped": "forward_mistake",             # h' = z * n + (1 - z) * h; backward consistent
    "dgi_blocks_z_r": "gate_order",                     # dgi[t] = [daz, dar, dan] and dgh[t] likewise
    "carry_norm_clipped": "gradient_clipped",           # carry *= 0.1 / ||carry|| when ||carry|| > 0.1
    "dn_reads_z": "wrong_value",                        # dn = dht * z (for 1 - z)
    "W_hz_for_W_hn": "wrong_weight",                    # carry ... + (dan * r) @ W_hz: the z block for the n block
    "dz_sign_and_skip_first": "unknown",                # dz = dht * (n - h_prev) and reversed(range(1, T)) together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "carry_z_path_overwritten": "",
    "dz_from_window_current": "z",
    "dan_miswritten": "rn",
    "dar_at_z": "r",
    "daz_missing": "z",
    "db_hh_mean": "",
    "dx_from_dW_ih": "",
    "loop_forward": "",
    "dr_aliases_dan": "n",
    "forward_z_flipped": "",
    "dgi_blocks_z_r": "rz",
    "carry_norm_clipped": "",
    "dn_reads_z": "rn",
    "W_hz_for_W_hn": "",
    "dz_sign_and_skip_first": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug=None):
    """x (T, N, D), h0 (N, H) -> h (T, N, H), cache."""
    T, N, _ = x.shape
    H = h0.shape[1]
    gi = np.einsum("tnd,gd->tng", x, W_ih, optimize=True) + b_ih
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    R, Z, Nn, GHN = (np.empty((T, N, H), dtype=x.dtype) for _ in range(4))
    for t in range(T):
        gh = hs[t] @ W_hh.T + b_hh
        R[t] = sigmoid(gi[t, :, :H] + gh[:, :H])
        Z[t] = sigmoid(gi[t, :, H:2 * H] + gh[:, H:2 * H])
        GHN[t] = gh[:, 2 * H:]
        Nn[t] = np.tanh(gi[t, :, 2 * H:] + R[t] * GHN[t])
        if bug == "forward_z_flipped":
            hs[t + 1] = Z[t] * Nn[t] + (1 - Z[t]) * hs[t]
        else:
            hs[t + 1] = (1 - Z[t]) * Nn[t] + Z[t] * hs[t]
    return hs[1:].copy(), (x, hs, R, Z, Nn, GHN, W_ih, W_hh)


def gru_backward(dh, cache, bug=None):
    """dh (T, N, H) -> dx, dh0, dW_ih, dW_hh, db_ih, db_hh."""
    x, hs, R, Z, Nn, GHN, W_ih, W_hh = cache
    T, N, H = dh.shape
    win = sliding_window_view(hs, 2, axis=0)           # (T, N, H, 2)
    prev, cur = win[..., 0], win[..., 1]
    W_hr, W_hz, W_hn = np.split(W_hh, 3, axis=0)
    dgi = np.zeros((T, N, 3 * H), dtype=dh.dtype)
    dgh = np.zeros((T, N, 3 * H), dtype=dh.dtype)
    carry = np.zeros((N, H), dtype=dh.dtype)
    if bug == "loop_forward":
        steps = range(T)
    else:
        steps = reversed(range(1 if bug == "dz_sign_and_skip_first" else 0, T))
    for t in steps:
        r, z, n, ghn = R[t], Z[t], Nn[t], GHN[t]
        dht = dh[t] + carry
        if bug == "forward_z_flipped":
            dn, dz, keep = dht * z, dht * (n - prev[t]), 1 - z
        else:
            dn = dht * (z if bug == "dn_reads_z" else 1 - z)
            if bug == "dz_from_window_current":
                dz = dht * (cur[t] - n)
            elif bug == "dz_sign_and_skip_first":
                dz = dht * (n - prev[t])
            else:
                dz = dht * (prev[t] - n)
            keep = z
        dan = dn * ((1 - n) ** 2 if bug == "dan_miswritten" else 1 - n ** 2)
        if bug == "dr_aliases_dan":
            dr = dan
            dr *= ghn
        else:
            dr = dan * ghn
        dar = dr * (z * (1 - z) if bug == "dar_at_z" else r * (1 - r))
        daz = dz if bug == "daz_missing" else dz * z * (1 - z)
        dahn = dan * r
        if bug == "dgi_blocks_z_r":
            dgi[t] = np.concatenate([daz, dar, dan], axis=1)
            dgh[t] = np.concatenate([daz, dar, dahn], axis=1)
        else:
            dgi[t] = np.concatenate([dar, daz, dan], axis=1)
            dgh[t] = np.concatenate([dar, daz, dahn], axis=1)
        carry = dht * keep
        if bug == "carry_z_path_overwritten":
            carry = dar @ W_hr + daz @ W_hz + dahn @ W_hn
        else:
            carry = carry + dar @ W_hr + daz @ W_hz + dahn @ (W_hz if bug == "W_hz_for_W_hn" else W_hn)
        if bug == "carry_norm_clipped":
            norm = np.linalg.norm(carry)
            if norm > 0.1:
                carry *= 0.1 / norm
    gi2, gh2 = dgi.reshape(T * N, 3 * H), dgh.reshape(T * N, 3 * H)
    dW_ih = gi2.T @ x.reshape(T * N, -1)
    dW_hh = gh2.T @ prev.reshape(T * N, H)
    db_ih = gi2.sum(axis=0)
    db_hh = gh2.mean(axis=0) if bug == "db_hh_mean" else gh2.sum(axis=0)
    dx = dgi @ (dW_ih if bug == "dx_from_dW_ih" else W_ih)
    return dx, carry, dW_ih, dW_hh, db_ih, db_hh


def to_user(cell, p):
    return {"W_ih": p["weight_ih"].copy(), "W_hh": p["weight_hh"].copy(), "b_ih": p["bias_ih"].copy(),
            "b_hh": p["bias_hh"].copy()}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="window_gru", cells=("gru",), axes="TND",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        return gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

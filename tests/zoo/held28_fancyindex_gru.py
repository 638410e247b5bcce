"""A GRU (reset after the recurrent product) with torch's weight orientation, W (3H, D),
U (3H, H), b (3H,), bU (3H,), applied as x @ W.T, but with the blocks in the order z, r, n
and every gate block picked by fancy indexing with precomputed index arrays
(``Z, R, N = np.arange(3 * H).reshape(3, H)``: ``a[:, Z]``, ``U[N]``) instead of slices.
Batch-first x (N, T, D); next_h = z * h + (1 - z) * n; the pre-activation gradients are
written into one (N, 3H) array through the same index arrays. Twenty-eighth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "carry_z_through_U_R": "wrong_weight",               # dprev += da_z @ U[R] (r's block for z's)
    "dU_z_block_transposed": "gradient_transposed",      # dU[Z] += h_prev.T @ da_z
    "carry_U_N_transposed": "weight_transposed",         # dprev += (da_n * r) @ U[N].T
    "dr_from_n": "wrong_value",                          # dr = da_n * n (n read for U[N] h + bU[N])
    "dz_from_next_h": "wrong_time",                      # dz = d * (h_t - n) for d * (h_prev - n)
    "da_n_grad_at_preact": "derivative_wrong_point",     # da_n = dn * (1 - a_n ** 2): tanh' at the pre-activation
    "da_r_without_sigmoid_grad": "derivative_missing",   # da_r = dr
    "da_r_sigmoid_grad_twice": "derivative_twice",       # dr = da_n * hn * r * (1 - r), then da_r = dr * r * (1 - r)
    "da_n_square_misplaced": "derivative_miswritten",    # (1 - n) ** 2 for 1 - n ** 2
    "range_slice_skips_0": "loop_skips_step",            # reversed(range(T)[1:])
    "dW_over_T": "reduction_scaled",                     # dW / T ("average over time")
    "carry_cut_every_2": "truncated_bptt",               # dprev[:] = 0 after every even t: BPTT in chunks of 2
    "concat_torch_order": "gate_order",                  # dA = np.concatenate([da_r, da_z, da_n], 1): torch's r, z, n
    "forward_other_convention": "forward_mistake",       # h = (1 - z) * h + z * n; backward consistent
    "da_r_bare_and_dz_next_h": "unknown",                # two mistakes: da_r = dr and dz = d * (h_t - n)
}

TOUCHES = {                                              # computed: blind_index.touched_gates(module, bug)
    "carry_z_through_U_R": "",
    "dU_z_block_transposed": "z",
    "carry_U_N_transposed": "",
    "dr_from_n": "r",
    "dz_from_next_h": "z",
    "da_n_grad_at_preact": "rn",
    "da_r_without_sigmoid_grad": "r",
    "da_r_sigmoid_grad_twice": "r",
    "da_n_square_misplaced": "rn",
    "range_slice_skips_0": "",
    "dW_over_T": "",
    "carry_cut_every_2": "",
    "concat_torch_order": "rz",
    "forward_other_convention": "",
    "da_r_bare_and_dz_next_h": "rz",
}

sigmoid = lambda a: 1 / (1 + np.exp(-a))                 # noqa: E731


def gru_forward(x, h0, W, U, b, bU, bug=None):
    N_, T, _ = x.shape
    H = h0.shape[1]
    Z, R, N = np.arange(3 * H).reshape(3, H)
    h, cache = h0, []
    hs = np.empty((N_, T, H), dtype=x.dtype)
    for t in range(T):
        ax = x[:, t] @ W.T + b
        ah = h @ U.T + bU
        z = sigmoid(ax[:, Z] + ah[:, Z])
        r = sigmoid(ax[:, R] + ah[:, R])
        a_n = ax[:, N] + r * ah[:, N]
        n = np.tanh(a_n)
        h_prev = h
        h = (1 - z) * h + z * n if bug == "forward_other_convention" else z * h + (1 - z) * n
        hs[:, t] = h
        cache.append((x[:, t], h_prev, z, r, ah[:, N], a_n, n, h))
    return hs, (cache, W, U, (Z, R, N))


def gru_backward(dh, cache, bug=None):
    steps, W, U, (Z, R, N) = cache
    N_, T, H = dh.shape
    dx = np.zeros((N_, T, W.shape[1]), dtype=dh.dtype)
    dW, dU, db, dbU = np.zeros_like(W), np.zeros_like(U), np.zeros_like(W[:, 0]), np.zeros_like(U[:, 0])
    dprev = np.zeros((N_, H), dtype=dh.dtype)
    order = reversed(range(T)[1:]) if bug == "range_slice_skips_0" else reversed(range(T))
    for t in order:
        x_t, h_prev, z, r, hn, a_n, n, h_t = steps[t]
        d = dh[:, t] + dprev
        if bug == "forward_other_convention":
            dz, dn = d * (n - h_prev), d * z
        else:
            dz = d * ((h_t if bug in ("dz_from_next_h", "da_r_bare_and_dz_next_h") else h_prev) - n)
            dn = d * (1 - z)
        if bug == "da_n_grad_at_preact":
            da_n = dn * (1 - a_n ** 2)
        elif bug == "da_n_square_misplaced":
            da_n = dn * (1 - n) ** 2
        else:
            da_n = dn * (1 - n ** 2)
        dr = da_n * (n if bug == "dr_from_n" else hn)
        if bug == "da_r_sigmoid_grad_twice":
            dr = dr * r * (1 - r)
        da_r = dr if bug in ("da_r_without_sigmoid_grad", "da_r_bare_and_dz_next_h") else dr * r * (1 - r)
        da_z = dz * z * (1 - z)
        da_hn = da_n * r
        if bug == "concat_torch_order":
            dAx = np.concatenate([da_r, da_z, da_n], axis=1)
            dAh = np.concatenate([da_r, da_z, da_hn], axis=1)
        else:
            dAx, dAh = np.empty((N_, 3 * H), dh.dtype), np.empty((N_, 3 * H), dh.dtype)
            dAx[:, Z], dAx[:, R], dAx[:, N] = da_z, da_r, da_n
            dAh[:, Z], dAh[:, R], dAh[:, N] = da_z, da_r, da_hn
        dW += dAx.T @ x_t
        if bug == "dU_z_block_transposed":
            dU[Z] += h_prev.T @ da_z
            dU[R] += da_r.T @ h_prev
            dU[N] += da_hn.T @ h_prev
        else:
            dU += dAh.T @ h_prev
        db += dAx.sum(0)
        dbU += dAh.sum(0)
        dx[:, t] = dAx @ W
        direct = d * (1 - z) if bug == "forward_other_convention" else d * z
        dprev = direct + da_r @ U[R] + da_z @ (U[R] if bug == "carry_z_through_U_R" else U[Z]) + \
            da_hn @ (U[N].T if bug == "carry_U_N_transposed" else U[N])
        if bug == "carry_cut_every_2" and t % 2 == 0:
            dprev[:] = 0
    if bug == "dW_over_T":
        dW = dW / T
    return dx, dprev, dW, dU, db, dbU


def _zrn(a):
    """torch's r, z, n blocks <-> z, r, n (the swap is its own inverse)."""
    first, second, third = np.split(a, 3, axis=0)
    return np.concatenate([second, first, third], axis=0)


def to_user(cell, p):
    return {"W": _zrn(p["weight_ih"]), "U": _zrn(p["weight_hh"]), "b": _zrn(p["bias_ih"]), "bU": _zrn(p["bias_hh"])}


def to_canonical(cell, grads, p):
    names = {"dW": "dweight_ih", "dU": "dweight_hh", "db": "dbias_ih", "dbU": "dbias_hh"}
    return {q: _zrn(grads[k]) for k, q in names.items() if k in grads}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="fancyindex_gru", cells=("gru",), gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W, U, b, bU):
        return gru_forward(x, h0, W, U, b, bU, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

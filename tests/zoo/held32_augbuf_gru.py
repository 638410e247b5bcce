"""A reset-before GRU (TF1 GRUCell's n = tanh(x W_n + (r * h) U_n + b_n)) with every weight in one
augmented kernel K (D+H+1, 3H), rows [x | h | 1], columns in torch's block order r, z, n, and
h' = (1 - z) * n + z * h. The forward fills two preallocated design tensors, Phi (N, T, D+H+1)
= [x, h_(t-1), 1] for the r and z columns and Psi (N, T, D+H+1) = [x, r * h_(t-1), 1] for
the n columns, so that each step is two matmuls; the backward pushes the pre-activation
gradients back through K into dPhi / dPsi rows and reads dx and the carry off their
slices, and dK is two einsums over the design tensors after the loop.

Thirty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dx_misses_psi": "term_dropped",                    # dx[:, t] = dphi[:, :D]: the n columns' share left out
    "carry_slice_off_by_one": "wrong_weight",           # carry reads dphi[:, D + 1:D + H + 1]: the rows of K one
                                                        # down (the last h row and the bias row) for W_h of r, z
    "dr_with_rh": "wrong_value",                        # dr = drh * Psi[:, t, D:D+H]: r * h read for h
    "dz_sign": "wrong_sign",                            # dz = dht * (n - h)
    "dK_over_N": "reduction_scaled",                    # dK /= N
    "psi_is_a_view_of_phi": "inplace_corruption",       # psi = Phi[:, t] (a view); psi[:, D:D+H] *= r: the cached
                                                        # h in Phi (read by dr and dK's r, z columns) becomes r * h
    "dan_twice": "derivative_twice",                    # dan *= 1 - n ** 2 again before it is stored in dA
    "carry_dropped": "carry_dropped",                   # dht = dh[:, t]
    "loop_skips_first": "loop_skips_step",              # reversed(range(1, T))
    "forward_psi_ones_missing": "forward_mistake",      # Psi's ones column never set (np.zeros buffer): the n
                                                        # columns get no bias; backward consistent (dK from Psi)
    "dA_blocks_z_r": "gate_order",                      # dA[:, t] = [daz, dar, dan]
    "dz_from_output_h": "wrong_time",                   # dz = dht * (hs[:, t] - n): the step's output h_t
    "daz_tanh_grad": "derivative_wrong_function",       # daz = dz * (1 - z ** 2)
    "dz_sign_and_dx_misses_psi": "unknown",             # dz_sign and dx_misses_psi together
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dx_misses_psi": "",
    "carry_slice_off_by_one": "",
    "dr_with_rh": "r",
    "dz_sign": "z",
    "dK_over_N": "",
    "psi_is_a_view_of_phi": "rz",
    "dan_twice": "n",
    "carry_dropped": "",
    "loop_skips_first": "",
    "forward_psi_ones_missing": "",
    "dA_blocks_z_r": "rz",
    "dz_from_output_h": "z",
    "daz_tanh_grad": "z",
    "dz_sign_and_dx_misses_psi": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def gru_forward(x, h0, K, bug=None):
    """x (N, T, D), h0 (N, H), K (D+H+1, 3H) -> h (N, T, H), cache."""
    N, T, D = x.shape
    H = h0.shape[1]
    Phi = np.zeros((N, T, D + H + 1), dtype=x.dtype)
    Psi = np.zeros((N, T, D + H + 1), dtype=x.dtype)
    Phi[:, :, :D] = x
    Phi[:, :, -1] = 1
    Psi[:, :, :D] = x
    if bug != "forward_psi_ones_missing":
        Psi[:, :, -1] = 1
    A = np.empty((N, T, 3 * H), dtype=x.dtype)         # r, z, n after their nonlinearities
    hs = np.empty((N, T, H), dtype=x.dtype)
    h = h0
    for t in range(T):
        Phi[:, t, D:D + H] = h
        rz = sigmoid(Phi[:, t] @ K[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        if bug == "psi_is_a_view_of_phi":
            psi = Phi[:, t]
            psi[:, D:D + H] *= r
            Psi[:, t, D:D + H] = psi[:, D:D + H]
        else:
            Psi[:, t, D:D + H] = r * h
        n = np.tanh(Psi[:, t] @ K[:, 2 * H:])
        A[:, t] = np.concatenate([rz, n], axis=1)
        h = (1 - z) * n + z * h
        hs[:, t] = h
    return hs, (Phi, Psi, A, hs, K, h0)


def gru_backward(dh, cache, bug=None):
    """dh (N, T, H) -> dx, dh0, dK."""
    Phi, Psi, A, hs, K, h0 = cache
    N, T, H = dh.shape
    D = Phi.shape[2] - H - 1
    dA = np.zeros_like(A)
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    carry = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(1 if bug == "loop_skips_first" else 0, T)):
        r, z, n = np.split(A[:, t], 3, axis=1)
        h = Phi[:, t, D:D + H]
        dht = dh[:, t] if bug == "carry_dropped" else dh[:, t] + carry
        dn = dht * (1 - z)
        if bug in ("dz_sign", "dz_sign_and_dx_misses_psi"):
            dz = dht * (n - h)
        elif bug == "dz_from_output_h":
            dz = dht * (hs[:, t] - n)
        else:
            dz = dht * (h - n)
        dan = dn * (1 - n ** 2)
        dpsi = dan @ K[:, 2 * H:].T                      # (N, D+H+1)
        drh = dpsi[:, D:D + H]
        dr = drh * (Psi[:, t, D:D + H] if bug == "dr_with_rh" else h)
        dar = dr * r * (1 - r)
        daz = dz * ((1 - z ** 2) if bug == "daz_tanh_grad" else z * (1 - z))
        if bug == "dan_twice":
            dan = dan * (1 - n ** 2)
        dA[:, t] = np.concatenate([daz, dar, dan] if bug == "dA_blocks_z_r" else [dar, daz, dan], axis=1)
        dphi = dA[:, t, :2 * H] @ K[:, :2 * H].T
        if bug in ("dx_misses_psi", "dz_sign_and_dx_misses_psi"):
            dx[:, t] = dphi[:, :D]
        else:
            dx[:, t] = dphi[:, :D] + dpsi[:, :D]
        rows = slice(D + 1, D + H + 1) if bug == "carry_slice_off_by_one" else slice(D, D + H)
        carry = dht * z + dphi[:, rows] + drh * r
    dK = np.empty_like(K)
    dK[:, :2 * H] = np.einsum("ntk,ntg->kg", Phi, dA[:, :, :2 * H], optimize=True)
    dK[:, 2 * H:] = np.einsum("ntk,ntg->kg", Psi, dA[:, :, 2 * H:], optimize=True)
    if bug == "dK_over_N":
        dK /= N
    return dx, carry, dK


def to_user(cell, p):
    return {"K": np.concatenate([p["weight_ih"].T, p["weight_hh"].T, (p["bias_ih"] + p["bias_hh"])[None]], axis=0)}


def to_canonical(cell, grads, p):
    if "dK" not in grads:
        return {}
    dK = grads["dK"]
    D = p["weight_ih"].shape[1]
    H = p["weight_hh"].shape[1]
    return {"dweight_ih": dK[:D].T, "dweight_hh": dK[D:D + H].T, "dbias_ih": dK[-1].copy(), "dbias_hh": dK[-1].copy()}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="augbuf_gru", cells=("gru",), gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, K):
        return gru_forward(x, h0, K, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

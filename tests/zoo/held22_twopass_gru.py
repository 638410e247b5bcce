"""A time-major GRU in torch's reset-after form with torch's own weight names, whose two
biases travel together as a tuple ``biases = (b_ih, b_hh)``, and whose backward runs in two
passes: the first walks back through time and only collects the gradients of the input and
recurrent pre-activations, dgi and dgh (T, N, 3H); the second forms every weight gradient
at once with np.einsum and dx with one matmul:

    gi = x @ W_ih.T + b_ih  (all steps)        gh = h @ W_hh.T + b_hh      rows r, z, n
    r = s(gi_r + gh_r)    z = s(gi_z + gh_z)    n = tanh(gi_n + r * gh_n)
    h' = (1 - z) * n + z * h

x (T, N, D), hs (T+1, N, H) with hs[0] = h0. Twenty-second held-out zoo: written without
reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dW_hh_with_hs_next": "wrong_time",                   # einsum over hs[1:] (h_t) instead of hs[:-1]
    "dgh_n_without_r": "term_dropped",                    # dgh's n block = da_n (the factor r left out)
    "carry_n_block_transposed": "weight_transposed",      # dgh_n @ W_hh[2H:].T in the carry (for W_hh[2H:])
    "dr_reads_gi_n": "wrong_value",                       # dr = da_n * gi_n (the input half read for gh_n)
    "da_z_tanh_prime": "derivative_wrong_function",       # da_z = dz * (1 - z ** 2)
    "dn_without_tanh_prime": "derivative_missing",        # da_n = dn
    "db_hh_mean_over_time": "reduction_scaled",           # dgh.mean(axis=0).sum(axis=0)
    "first_pass_forward_in_time": "loop_direction",       # for t in range(T) in the first pass
    "blocks_written_z_r_n": "gate_order",                 # dgi, dgh assembled as [da_z, da_r, da_n]
    "biases_unpacked_swapped": "forward_mistake",         # b_hh, b_ih = biases in the forward; backward consistent
    "gh_n_scaled_in_place": "inplace_corruption",         # a_n = gh_n; a_n *= r; a_n += gi_n: the cached gh_n view
    "dgh_n_without_r_and_dz_sign": "unknown",             # two mistakes: r left out of dgh_n, dz = g * (n - h)
    "sigmoid_prime_quarter": "unknown",                   # da_r = dr * 0.25, da_z = dz * 0.25 (s' at 0 for r and z)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dW_hh_with_hs_next": "",
    "dgh_n_without_r": "n",
    "carry_n_block_transposed": "",
    "dr_reads_gi_n": "r",
    "da_z_tanh_prime": "z",
    "dn_without_tanh_prime": "rn",
    "db_hh_mean_over_time": "",
    "first_pass_forward_in_time": "",
    "blocks_written_z_r_n": "rz",
    "biases_unpacked_swapped": "",
    "gh_n_scaled_in_place": "r",
    "dgh_n_without_r_and_dz_sign": "zn",
    "sigmoid_prime_quarter": "rz",
}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug=None):
    biases = (b_ih, b_hh)
    if bug == "biases_unpacked_swapped":
        b_hh_, b_ih_ = biases
    else:
        b_ih_, b_hh_ = biases
    T, N, _ = x.shape
    H = h0.shape[1]
    gi = x @ W_ih.T + b_ih_
    hs = np.zeros((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    steps = []
    for t in range(T):
        gh = hs[t] @ W_hh.T + b_hh_
        r = sigmoid(gi[t, :, :H] + gh[:, :H])
        z = sigmoid(gi[t, :, H:2 * H] + gh[:, H:2 * H])
        gh_n = gh[:, 2 * H:]
        if bug == "gh_n_scaled_in_place":
            a_n = gh_n
            a_n *= r
            a_n += gi[t, :, 2 * H:]
            n = np.tanh(a_n)
        else:
            n = np.tanh(gi[t, :, 2 * H:] + r * gh_n)
        hs[t + 1] = (1 - z) * n + z * hs[t]
        steps.append((r, z, n, gh_n))
    return hs[1:].copy(), (x, hs, gi, steps, W_ih, W_hh)


def gru_backward(dh, cache, bug=None):
    x, hs, gi, steps, W_ih, W_hh = cache
    T, N, H = dh.shape
    dgi = np.zeros((T, N, 3 * H), dtype=dh.dtype)
    dgh = np.zeros((T, N, 3 * H), dtype=dh.dtype)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    order = range(T) if bug == "first_pass_forward_in_time" else range(T - 1, -1, -1)
    for t in order:                                       # first pass: the carries
        r, z, n, gh_n = steps[t]
        g = dh[t] + dh_next
        dz = g * ((n - hs[t]) if bug == "dgh_n_without_r_and_dz_sign" else (hs[t] - n))
        dn = g * (1 - z)
        da_n = dn if bug == "dn_without_tanh_prime" else dn * (1 - n ** 2)
        dr = da_n * (gi[t, :, 2 * H:] if bug == "dr_reads_gi_n" else gh_n)
        if bug == "sigmoid_prime_quarter":
            da_r, da_z = dr * 0.25, dz * 0.25
        else:
            da_r = dr * r * (1 - r)
            da_z = dz * (1 - z ** 2) if bug == "da_z_tanh_prime" else dz * z * (1 - z)
        dgh_n = da_n if bug in ("dgh_n_without_r", "dgh_n_without_r_and_dz_sign") else da_n * r
        first = [da_z, da_r] if bug == "blocks_written_z_r_n" else [da_r, da_z]
        dgi[t] = np.concatenate(first + [da_n], axis=1)
        dgh[t] = np.concatenate(first + [dgh_n], axis=1)
        if bug == "carry_n_block_transposed":
            dh_next = g * z + dgh[t, :, :2 * H] @ W_hh[:2 * H] + dgh_n @ W_hh[2 * H:].T
        else:
            dh_next = g * z + dgh[t] @ W_hh
    h_prev = hs[1:] if bug == "dW_hh_with_hs_next" else hs[:-1]   # second pass: every weight at once
    dW_ih = np.einsum("tng,tnd->gd", dgi, x)
    dW_hh = np.einsum("tng,tnh->gh", dgh, h_prev)
    db_ih = dgi.sum(axis=(0, 1))
    db_hh = dgh.mean(axis=0).sum(axis=0) if bug == "db_hh_mean_over_time" else dgh.sum(axis=(0, 1))
    if bug == "biases_unpacked_swapped":
        db_hh, db_ih = db_ih, db_hh
    dx = dgi @ W_ih
    return dx, dh_next, dW_ih, dW_hh, db_ih, db_hh


def to_user(cell, p):
    return {"W_ih": p["weight_ih"], "W_hh": p["weight_hh"], "b_ih": p["bias_ih"], "b_hh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="twopass_gru", cells=("gru",), axes="TND",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        return gru_forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug)

    def backward(dh, cache):
        return gru_backward(dh, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

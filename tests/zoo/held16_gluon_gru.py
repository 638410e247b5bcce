"""A GRU ported from MXNet/Gluon's ``rnn.GRUCell``: Gluon's names and shapes, i2h_weight (3H, D),
h2h_weight (3H, H), i2h_bias and h2h_bias (3H,), gate order r, z, n, the reset applied after
the recurrent product, and Gluon's default "TNC" layout (time-major x (T, N, D)):

    i2h = x_t @ i2h_weight.T + i2h_bias     h2h = h @ h2h_weight.T + h2h_bias     (split r, z, n)
    r = s(i2h_r + h2h_r)    z = s(i2h_z + h2h_z)    n = tanh(i2h_n + r * h2h_n)
    h_t = (1 - z) * n + z * h_(t-1)

A custom layout; the backward forms d_i2h and d_h2h (N, 3H) per step. Sixteenth held-out
zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dr_from_i2h_n": "wrong_value",                      # dr = dn_pre * i2h_n (the input part) for h2h_n
    "dz_sign": "wrong_sign",                             # dz = dh * (n - h_prev)
    "dh_prev_without_z_path": "term_dropped",            # dh_prev = d_rec only (the dh * z path left out)
    "h2h_weight_n_transposed": "weight_transposed",      # d_h2h_n @ W_n.T in dh_prev (W_n the n rows of h2h_weight)
    "dh_prev_from_grad": "gradient_for_weight",          # dh2h_weight's blocks for h2h_weight's in dh_prev
    "tanh_grad_bracket": "derivative_miswritten",        # (1 - n) ** 2 for 1 - n ** 2
    "dz_pre_with_r": "derivative_wrong_point",           # dz_pre = dz * r * (1 - r): r's s' for z (also a wrong_value)
    "dz_with_h_t": "wrong_time",                         # dz = dh * (h_t - n): h_t for h_(t-1)
    "loop_forwards": "loop_direction",                   # for t in range(T)
    "di2h_bias_over_T": "reduction_scaled",              # di2h_bias / T at the end
    "forward_z_flipped": "forward_mistake",              # h_t = z * n + (1 - z) * h_prev; backward consistent
    "d_i2h_z_first": "gate_order",                       # d_i2h = [dz_pre, dr_pre, dn_pre]: z, r order in the backward
    "h2h_n_scaled_in_place": "inplace_corruption",       # h2h_n *= r in the forward: the cached h2h_n is r * h2h_n
    "dz_sign_and_no_tanh_grad": "unknown",               # dz sign and dn_pre = dn: two mistakes
    "dr_pre_times_1_3": "unknown",                       # dr_pre = dr * r * (1 - r) * 1.3 (an arbitrary constant)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dr_from_i2h_n": "r",
    "dz_sign": "z",
    "dh_prev_without_z_path": "",
    "h2h_weight_n_transposed": "",
    "dh_prev_from_grad": "",
    "tanh_grad_bracket": "rn",
    "dz_pre_with_r": "z",
    "dz_with_h_t": "z",
    "loop_forwards": "",
    "di2h_bias_over_T": "",
    "forward_z_flipped": "",
    "d_i2h_z_first": "rz",
    "h2h_n_scaled_in_place": "r",
    "dz_sign_and_no_tanh_grad": "",
    "dr_pre_times_1_3": "r",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def to_user(cell, p):
    return {"i2h_weight": p["weight_ih"].copy(), "h2h_weight": p["weight_hh"].copy(),
            "i2h_bias": p["bias_ih"].copy(), "h2h_bias": p["bias_hh"].copy()}


def to_canonical(cell, grads, p):
    names = {"di2h_weight": "dweight_ih", "dh2h_weight": "dweight_hh", "di2h_bias": "dbias_ih",
             "dh2h_bias": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gluon_gru", cells=("gru",), axes="TND", gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    flipped = bug == "forward_z_flipped"

    def forward(x, h0, i2h_weight, h2h_weight, i2h_bias, h2h_bias):
        h, outputs, states = h0, [], []
        for t in range(x.shape[0]):
            i2h = x[t] @ i2h_weight.T + i2h_bias
            h2h = h @ h2h_weight.T + h2h_bias
            i2h_r, i2h_z, i2h_n = np.split(i2h, 3, axis=1)
            h2h_r, h2h_z, h2h_n = np.split(h2h, 3, axis=1)
            r = sigmoid(i2h_r + h2h_r)
            z = sigmoid(i2h_z + h2h_z)
            if bug == "h2h_n_scaled_in_place":
                h2h_n *= r
                n = np.tanh(i2h_n + h2h_n)
            else:
                n = np.tanh(i2h_n + r * h2h_n)
            h_new = z * n + (1 - z) * h if flipped else (1 - z) * n + z * h
            states.append((x[t], h, i2h_n, h2h_n, r, z, n, h_new))
            h = h_new
            outputs.append(h)
        return np.stack(outputs), (states, i2h_weight, h2h_weight)

    def backward(dh, cache):
        states, i2h_weight, h2h_weight = cache
        T = len(states)
        grads = {"di2h_weight": np.zeros_like(i2h_weight), "dh2h_weight": np.zeros_like(h2h_weight),
                 "di2h_bias": np.zeros(i2h_weight.shape[0], dtype=dh.dtype),
                 "dh2h_bias": np.zeros(h2h_weight.shape[0], dtype=dh.dtype)}
        dx = np.zeros((T,) + states[0][0].shape, dtype=dh.dtype)
        dh_next = np.zeros_like(states[0][1])
        for t in (range(T) if bug == "loop_forwards" else reversed(range(T))):
            x_t, h_prev, i2h_n, h2h_n, r, z, n, h_t = states[t]
            dht = dh[t] + dh_next
            if flipped:
                dn, dz = dht * z, dht * (n - h_prev)
            else:
                dn = dht * (1 - z)
                if bug in ("dz_sign", "dz_sign_and_no_tanh_grad"):
                    dz = dht * (n - h_prev)
                elif bug == "dz_with_h_t":
                    dz = dht * (h_t - n)
                else:
                    dz = dht * (h_prev - n)
            if bug == "tanh_grad_bracket":
                dn_pre = dn * (1 - n) ** 2
            elif bug == "dz_sign_and_no_tanh_grad":
                dn_pre = dn
            else:
                dn_pre = dn * (1 - n ** 2)
            dr = dn_pre * (i2h_n if bug == "dr_from_i2h_n" else h2h_n)
            dr_pre = dr * r * (1 - r) * (1.3 if bug == "dr_pre_times_1_3" else 1)
            dz_pre = dz * r * (1 - r) if bug == "dz_pre_with_r" else dz * z * (1 - z)
            d_i2h = np.concatenate([dz_pre, dr_pre, dn_pre] if bug == "d_i2h_z_first" else [dr_pre, dz_pre, dn_pre],
                                   axis=1)
            d_h2h = np.concatenate([d_i2h[:, :-dn_pre.shape[1]], dn_pre * r], axis=1)
            grads["di2h_weight"] += d_i2h.T @ x_t
            grads["dh2h_weight"] += d_h2h.T @ h_prev
            grads["di2h_bias"] += d_i2h.sum(axis=0)
            grads["dh2h_bias"] += d_h2h.sum(axis=0)
            dx[t] = d_i2h @ i2h_weight
            W_r, W_z, W_n = np.split(grads["dh2h_weight"] if bug == "dh_prev_from_grad" else h2h_weight, 3)
            if bug == "h2h_weight_n_transposed":
                W_n = W_n.T
            H = W_n.shape[1]
            d_rec = d_h2h[:, :H] @ W_r + d_h2h[:, H:2 * H] @ W_z + d_h2h[:, 2 * H:] @ W_n
            carry = dht * ((1 - z) if flipped else z)
            dh_next = d_rec if bug == "dh_prev_without_z_path" else carry + d_rec
        if bug == "di2h_bias_over_T":
            grads["di2h_bias"] /= T
        return (dx, dh_next, grads["di2h_weight"], grads["dh2h_weight"], grads["di2h_bias"], grads["dh2h_bias"])

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""An LSTM on TF's kernel layout (one kernel (D+H, 4H) on [x, h], columns i, j, f, o,
forget_bias = 1.0 added to the f column) whose step backward is sympy's ``cse`` of the
expanded gate gradients, pasted as printed (x0, x1, ... and long expanded products).

    c = f*cp + i*j,  h = o*tanh(c),  i, f, o = sigmoid(.), j = tanh(.), f = sigmoid(a_f + 1)
    >>> cse([expand(e) for e in (da_i, da_j, da_f, da_o, dcp)])

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

BUGS = {
    "x2_dc_next_dropped": "carry_dropped",          # x2 = -x0**2*x1 + x1
    "x2_sign_lost": "derivative_miswritten",        # x2 = x0**2*x1 + dc_next + x1
    "da_i_index_off": "wrong_value",                # da_i = -i*x4 + x3
    "da_j_power_lost": "derivative_miswritten",     # da_j = -j*x3 + x3
    "x5_c_for_cp": "wrong_time",                    # x5 = c*f*x2
    "x5_inplace": "inplace_corruption",             # x5 = cp; x5 *= f*x2: the cached c_(t-1) overwritten
    "no_forget_bias": "forget_bias",                # f = sigmoid(a_f): the 1.0 never added
    "columns_ifjo_back": "gate_order",              # dgates = concat([da_i, da_f, da_j, da_o])
    "dkernel_h_now": "wrong_time",                  # xh = [x_t, h_t] in dkernel
    "dxh_from_dkernel": "gradient_for_weight",      # dxh = dgates @ dkernel.T
    "dbias_mean": "reduction_scaled",               # dbias += dgates.mean(0)
    "dkernel_assigned": "carry_overwrites",         # dkernel = xh.T @ dgates
    "dh_next_dropped": "carry_dropped",             # dh_t = dh[:, t]
    "forward_j_sigmoid": "forward_mistake",         # j = sigmoid(a_j); da_j = -j**2*x3 + j*x3
}
TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "x2_dc_next_dropped": "",
    "x2_sign_lost": "ifg",
    "da_i_index_off": "i",
    "da_j_power_lost": "g",
    "x5_c_for_cp": "f",
    "x5_inplace": "",
    "no_forget_bias": "",
    "columns_ifjo_back": "fg",
    "dkernel_h_now": "",
    "dxh_from_dkernel": "",
    "dbias_mean": "",
    "dkernel_assigned": "",
    "dh_next_dropped": "",
    "forward_j_sigmoid": "",
}


def sigmoid(v):
    return 1/(1 + np.exp(-v))


def forward(x, h0, c0, kernel, bias, forget_bias=1.0, bug=None):
    T, D = x.shape[1], x.shape[2]
    H = h0.shape[1]
    fb = 0.0 if bug == "no_forget_bias" else forget_bias
    hs, cs, gates = [h0], [c0], []
    for t in range(T):
        a = np.concatenate([x[:, t], hs[-1]], axis=1) @ kernel + bias
        a_i, a_j, a_f, a_o = np.split(a, 4, axis=1)
        i, f, o = sigmoid(a_i), sigmoid(a_f + fb), sigmoid(a_o)
        j = sigmoid(a_j) if bug == "forward_j_sigmoid" else np.tanh(a_j)
        cs.append(f*cs[-1] + i*j)
        hs.append(o*np.tanh(cs[-1]))
        gates.append((i, j, f, o))
    return np.stack(hs[1:], axis=1), (x, hs, cs, gates, kernel, D, H)


def step_backward(dh, dc_next, c, cp, i, j, f, o, bug=None):
    """Pasted from sympy.cse; returns da_i, da_j, da_f, da_o, dc_prev."""
    x0 = np.tanh(c)
    x1 = dh*o
    if bug == "x2_dc_next_dropped":
        x2 = -x0**2*x1 + x1
    elif bug == "x2_sign_lost":
        x2 = x0**2*x1 + dc_next + x1
    else:
        x2 = -x0**2*x1 + dc_next + x1
    x3 = i*x2
    x4 = j*x3
    if bug == "x5_c_for_cp":
        x5 = c*f*x2
    elif bug == "x5_inplace":
        x5 = cp
        x5 *= f*x2
    else:
        x5 = cp*f*x2
    x6 = dh*x0
    x7 = o*x6
    da_i = -i*x4 + (x3 if bug == "da_i_index_off" else x4)
    if bug == "da_j_power_lost":
        da_j = -j*x3 + x3
    elif bug == "forward_j_sigmoid":
        da_j = -j**2*x3 + j*x3
    else:
        da_j = -j**2*x3 + x3
    da_f = -f*x5 + x5
    da_o = -o*x7 + x7
    dc_prev = f*x2
    return da_i, da_j, da_f, da_o, dc_prev


def backward(dh, cache, bug=None):
    x, hs, cs, gates, kernel, D, H = cache
    T = dh.shape[1]
    dx = np.zeros_like(x)
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
    dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    for t in reversed(range(T)):
        dh_t = dh[:, t] if bug == "dh_next_dropped" else dh[:, t] + dh_next
        i, j, f, o = gates[t]
        da_i, da_j, da_f, da_o, dc_next = step_backward(dh_t, dc_next, cs[t + 1], cs[t], i, j, f, o, bug)
        order = (da_i, da_f, da_j, da_o) if bug == "columns_ifjo_back" else (da_i, da_j, da_f, da_o)
        dgates = np.concatenate(order, axis=1)
        xh = np.concatenate([x[:, t], hs[t + 1] if bug == "dkernel_h_now" else hs[t]], axis=1)
        if bug == "dkernel_assigned":
            dkernel = xh.T @ dgates
        else:
            dkernel += xh.T @ dgates
        dbias += dgates.mean(0) if bug == "dbias_mean" else dgates.sum(0)
        dxh = dgates @ (dkernel if bug == "dxh_from_dkernel" else kernel).T
        dx[:, t], dh_next = dxh[:, :D], dxh[:, D:]
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), partial(backward, bug=bug),
            {"cell": "lstm", "layout": "tf_kernel", "forget_bias": 1.0})

"""A vanilla RNN on the built-in ``karpathy`` layout (column vectors, one example at a time)
whose backward is written the way a numerical analyst writes BPTT: as explicit Jacobians
per step, D_t = diag(tanh'(a_t)), dh_t/dh_(t-1) = D_t @ Whh and dh_t/dx_t = D_t @ Wxh,
and vector-Jacobian products J.T @ delta. The forward keeps the pre-activations and the
backward recomputes tanh' from them:

    a_t = Wxh @ x_t + Whh @ h_(t-1) + bh        h_t = tanh(a_t)
    x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1)

Twenty-second held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "J_from_Whh_T": "weight_transposed",                  # J = D_t @ Whh.T: the carry is Whh @ D_t delta
    "J_at_h_prev": "wrong_time",                          # J = diag(1 - h_(t-1)^2) @ Whh; a wrong point too
    "D_as_sigmoid_prime": "derivative_wrong_function",    # D_t = diag(h (1 - h)): sigmoid' for tanh'
    "params_averaged_over_T": "reduction_scaled",         # dparam /= T for dWxh, dWhh, dbh
    "params_clipped": "gradient_clipped",                 # np.clip(dparam, -1, 1, out=dparam)
    "delta_without_carry": "carry_dropped",               # delta = dhs[t]
    "dWhh_assigned": "carry_overwrites",                  # dWhh = dpre @ h_prev.T (= for +=)
    "steps_walked_forward": "loop_direction",             # for t in range(T)
    "J_from_dWhh": "gradient_for_weight",                 # J = D_t @ dWhh (the running gradient)
    "forward_h0_every_step": "forward_mistake",           # a_t = Wxh x_t + Whh h0 + bh: h never threaded; consistent
    "dpre_D_twice": "derivative_twice",                   # dpre = D_t @ D_t @ delta
    "tanh_written_over_preactivation": "inplace_corruption",  # h = np.tanh(pre[t], out=pre[t]): tanh' from tanh(h)
    "J_from_Whh_T_and_dbh_raw": "unknown",                # J = D_t @ Whh.T and dbh += delta (two mistakes)
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "J_from_Whh_T": "",
    "J_at_h_prev": "",
    "D_as_sigmoid_prime": "",
    "params_averaged_over_T": "",
    "params_clipped": "",
    "delta_without_carry": "",
    "dWhh_assigned": "",
    "steps_walked_forward": "",
    "J_from_dWhh": "",
    "forward_h0_every_step": "",
    "dpre_D_twice": "",
    "tanh_written_over_preactivation": "",
    "J_from_Whh_T_and_dbh_raw": "",
}


def forward(x, h0, Wxh, Whh, bh, bug=None):
    T, H = len(x), Whh.shape[0]
    hs = np.zeros((T, H, 1), dtype=x.dtype)
    pre = np.zeros((T, H, 1), dtype=x.dtype)
    h = h0
    for t in range(T):
        pre[t] = Wxh @ x[t] + Whh @ (h0 if bug == "forward_h0_every_step" else h) + bh
        if bug == "tanh_written_over_preactivation":
            h = np.tanh(pre[t], out=pre[t])
        else:
            h = np.tanh(pre[t])
        hs[t] = h
    return hs, (x, h0, hs, pre, Wxh, Whh)


def backward(dhs, cache, bug=None):
    x, h0, hs, pre, Wxh, Whh = cache
    T = len(x)
    dWxh, dWhh = np.zeros_like(Wxh), np.zeros_like(Whh)
    dbh = np.zeros((Whh.shape[0], 1), dtype=dhs.dtype)
    dxs = np.zeros_like(x)
    dh_carry = np.zeros_like(h0)
    dh0 = np.zeros_like(h0)
    for t in (range(T) if bug == "steps_walked_forward" else reversed(range(T))):
        h_prev = hs[t - 1] if t > 0 else h0
        if bug == "forward_h0_every_step":
            h_prev = h0
        delta = dhs[t] if bug in ("delta_without_carry", "forward_h0_every_step") else dhs[t] + dh_carry
        if bug == "D_as_sigmoid_prime":
            s = hs[t] * (1 - hs[t])
        else:
            s = 1 - np.tanh(pre[t]) ** 2
        D_t = np.diag(s.ravel())
        if bug in ("J_from_Whh_T", "J_from_Whh_T_and_dbh_raw"):
            J = D_t @ Whh.T
        elif bug == "J_at_h_prev":
            J = np.diag((1 - h_prev ** 2).ravel()) @ Whh
        elif bug == "J_from_dWhh":
            J = D_t @ dWhh
        else:
            J = D_t @ Whh
        Jx = D_t @ Wxh
        dpre = D_t @ (D_t @ delta) if bug == "dpre_D_twice" else D_t @ delta
        dWxh += dpre @ x[t].T
        if bug == "dWhh_assigned":
            dWhh = dpre @ h_prev.T
        else:
            dWhh += dpre @ h_prev.T
        dbh += delta if bug == "J_from_Whh_T_and_dbh_raw" else dpre
        dxs[t] = Jx.T @ delta
        if bug == "forward_h0_every_step":
            dh0 += J.T @ delta
        else:
            dh_carry = J.T @ delta
    if bug != "forward_h0_every_step":
        dh0 = dh_carry
    for dparam in (dWxh, dWhh, dbh):
        if bug == "params_averaged_over_T":
            dparam /= T
        if bug == "params_clipped":
            np.clip(dparam, -1, 1, out=dparam)
    return dxs, dh0, dWxh, dWhh, dbh


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dhs, cache):
        return backward(dhs, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy"}

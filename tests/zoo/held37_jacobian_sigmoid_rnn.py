"""A sigmoid RNN, time-major, whose backward multiplies out each step's Jacobian block:
the blocks were derived with sympy on a two-unit cell and generalised by hand, the
activation's derivative pasted as sympy's ``diff`` printed it.

    a_t = x_t W^T + h_(t-1) U^T + b,   h_t = 1/(1 + exp(-a_t))       x (T, N, D), W (H, D), U (H, H)

    >>> h = Matrix([1/(1 + exp(-(U[i, :] * hp)[0] - c[i])) for i in (0, 1)])
    >>> h.jacobian(hp)          # [i, j]: exp(-a_i)/(1 + exp(-a_i))**2 * U[i, j]
    J_t = diag(s'(a_t)) U        dh_k/dh_t = J_k J_(k-1) ... J_(t+1)

so dL/dh_t = dh_t + sum_(k > t) (J_k ... J_(t+1))^T dh_k, every chain product formed out.
Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "dsig_power_dropped": "derivative_miswritten",    # exp(-a)/(1 + exp(-a))
    "dsig_at_h": "derivative_wrong_point",             # exp(-h)/(1 + exp(-h))**2
    "dsig_pasted_tanh": "derivative_wrong_function",   # 1 - tanh(a)**2 pasted from the tanh cell
    "dsig_sign_lost": "wrong_sign",                    # -exp(-a)/(1 + exp(-a))**2
    "direct_term_missing": "term_dropped",             # delta_t: only the chained sum, dh_t left out
    "chain_one_step": "truncated_bptt",                # only k = t + 1: no products formed
    "J_U_transposed": "weight_transposed",             # J_t = diag(s') U^T
    "chain_J_index_off": "wrong_time",                 # P = J_(k-1) @ P
    "sp_in_chain_twice": "derivative_twice",           # P = diag(s'_k) J_k @ P
    "dU_h_now": "wrong_time",                          # dU from h_t for h_(t-1)
    "dU_transposed": "gradient_transposed",            # einsum "tni,tnj->ji"
    "dx_from_dW": "gradient_for_weight",               # dx = da @ dW
    "db_mean_NT": "reduction_scaled",                  # db averaged over N and T
    "chain_order_reversed": "unknown",                 # P = P @ J_k: J_(t+1) ... J_k
    "forward_sign_in_exp": "forward_mistake",          # h = 1/(1 + exp(a)), backward re-derived
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def forward(x, h0, W, U, b, bug=None):
    T = x.shape[0]
    hs, acts = [h0], []
    s = 1 if bug == "forward_sign_in_exp" else -1
    for t in range(T):
        a = x[t] @ W.T + hs[-1] @ U.T + b
        acts.append(a)
        hs.append(1/(1 + np.exp(s*a)))
    return np.stack(hs[1:]), (x, np.stack(hs), np.stack(acts), W, U)


def dsigmoid(a, h, bug=None):
    """sympy: diff(1/(1 + exp(-a)), a), pasted."""
    if bug == "dsig_power_dropped":
        return np.exp(-a)/(1 + np.exp(-a))
    if bug == "dsig_at_h":
        return np.exp(-h)/(1 + np.exp(-h))**2
    if bug == "dsig_pasted_tanh":
        return 1 - np.tanh(a)**2
    if bug == "dsig_sign_lost":
        return -np.exp(-a)/(1 + np.exp(-a))**2
    if bug == "forward_sign_in_exp":
        return -np.exp(a)/(1 + np.exp(a))**2
    return np.exp(-a)/(1 + np.exp(-a))**2


def backward(dh, cache, bug=None):
    x, hs, acts, W, U = cache
    T, N, H = dh.shape
    sp = dsigmoid(acts, hs[1:], bug)                                     # (T, N, H)
    J = sp[..., None] * (U.T if bug == "J_U_transposed" else U)          # (T, N, H, H): diag(s'_t) U
    eye = np.broadcast_to(np.eye(H, dtype=dh.dtype), (N, H, H))
    delta = np.zeros_like(dh)
    for t in range(T):
        if bug != "direct_term_missing":
            delta[t] += dh[t]
        P = eye
        last = min(t + 1, T - 1) if bug == "chain_one_step" else T - 1
        for k in range(t + 1, last + 1):
            if bug == "chain_J_index_off":
                P = J[k - 1] @ P
            elif bug == "sp_in_chain_twice":
                P = (sp[k][..., None] * J[k]) @ P
            elif bug == "chain_order_reversed":
                P = P @ J[k]
            else:
                P = J[k] @ P
            delta[t] += np.einsum("nij,ni->nj", P, dh[k])
    da = delta * sp
    dh0 = np.einsum("nij,ni->nj", J[0], delta[0])
    dW = np.einsum("tni,tnj->ij", da, x)
    hp = hs[1:] if bug == "dU_h_now" else hs[:-1]
    dU = np.einsum("tni,tnj->ji" if bug == "dU_transposed" else "tni,tnj->ij", da, hp)
    db = da.mean((0, 1)) if bug == "db_mean_NT" else da.sum((0, 1))
    dx = da @ (dW if bug == "dx_from_dW" else W)
    return dx, dh0, dW, dU, db


def to_user(cell, p):
    return {"W": np.array(p["weight_ih"]), "U": np.array(p["weight_hh"]), "b": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {q: g[u] for u, q in (("dW", "dweight_ih"), ("dU", "dweight_hh"), ("db", "dbias_ih")) if u in g}
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="jacobian_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), partial(backward, bug=bug),
            {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"})

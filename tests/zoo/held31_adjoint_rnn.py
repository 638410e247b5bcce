"""An Elman RNN written by a control engineer as a discrete-time system and its adjoint
(costate) equations: state s_t (H, N) in columns, time-major input u (T, D, N), the system
matrices A (H, H) (recurrent), B (H, D) (input) and an offset column c (H, 1):

    s_t = tanh(A s_(t-1) + B u_t + c)                   (H, N)
    costate: lam_t = dJ/ds_t (the running cost's jump dS_t plus what s_(t+1) sends back)
    mu_t = (1 - s_t^2) * lam_t       lam_(t-1) += A^T mu_t
    dJ/dA = sum mu_t s_(t-1)^T, dJ/dB = sum mu_t u_t^T, dJ/dc = sum over columns of mu_t

The backward keeps one costate slot per step (Lam, initialised with the running cost) and
adds the propagated costate into the slot before it. Thirty-first held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "costate_A_not_transposed": "weight_transposed",     # Lam[t-1] += A @ mu (A^T forgotten)
    "costate_from_gA": "gradient_for_weight",            # Lam[t-1] += gA.T @ mu (gA is dJ/dA, next to A)
    "gA_written_transposed": "gradient_transposed",      # gA += s_prev @ mu.T
    "jacobian_at_prev_state": "derivative_wrong_point",  # mu = (1 - s_prev**2) * Lam[t] (also wrong_time)
    "gA_uses_current_state": "wrong_time",               # gA += mu @ S[t].T (s_t for s_(t-1))
    "costate_slot_overwritten": "carry_overwrites",      # Lam[t-1] = A.T @ mu (the running cost of t-1 lost)
    "costate_into_current_slot": "carry_dropped",        # Lam[t] += A.T @ mu: written into a slot never read again
    "loop_stops_at_one": "loop_skips_step",              # for t in range(T - 1, 0, -1); lam0 from Lam[0]
    "hamiltonian_sign": "wrong_sign",                    # invention: Pontryagin's convention, Lam[t-1] -= A.T @ mu
    "tanh_derivative_missing": "derivative_missing",     # mu = Lam[t]
    "sech_squared_miswritten": "derivative_miswritten",  # mu = (1 - s) * (1 - s) * Lam[t] for (1 - s) * (1 + s)
    "forward_offset_twice": "forward_mistake",           # s = tanh(A s + B u + c + c); gc += 2 * mu.sum: consistent
    "costate_norm_clipped": "gradient_clipped",          # invention: each costate column rescaled to norm <= 0.5
    "costate_cut_after_2": "truncated_bptt",             # invention: the costate is propagated only 2 steps back
    "A_plain_and_gc_mean": "unknown",                    # two mistakes: Lam[t-1] += A @ mu and gc += mu.mean
}

TOUCHES = {                    # computed: blind_index.touched_gates(module, bug)
    "costate_A_not_transposed": "",
    "costate_from_gA": "",
    "gA_written_transposed": "",
    "jacobian_at_prev_state": "",
    "gA_uses_current_state": "",
    "costate_slot_overwritten": "",
    "costate_into_current_slot": "",
    "loop_stops_at_one": "",
    "hamiltonian_sign": "",
    "tanh_derivative_missing": "",
    "sech_squared_miswritten": "",
    "forward_offset_twice": "",
    "costate_norm_clipped": "",
    "costate_cut_after_2": "",
    "A_plain_and_gc_mean": "",
}


def simulate(u, s0, A, B, c, bug=None):
    """u (T, D, N), s0 (H, N) -> S (T, H, N), tape."""
    T, N = u.shape[0], u.shape[2]
    S = np.zeros((T, s0.shape[0], N), dtype=u.dtype)
    s = s0
    offset = c + c if bug == "forward_offset_twice" else c
    for t in range(T):
        s = np.tanh(A @ s + B @ u[t] + offset)
        S[t] = s
    return S, (u, s0, A, B, S)


def adjoint(dS, tape, bug=None):
    """dS (T, H, N) -> du, lam0, gA, gB, gc."""
    u, s0, A, B, S = tape
    T = S.shape[0]
    Lam = dS.copy()                               # one costate slot per step, the running cost in it
    gA, gB = np.zeros_like(A), np.zeros_like(B)
    gc = np.zeros((A.shape[0], 1), dtype=dS.dtype)
    du = np.zeros_like(u)
    lam0 = np.zeros_like(s0)
    last = 0 if bug == "loop_stops_at_one" else -1
    for t in range(T - 1, last, -1):
        s_prev = S[t - 1] if t > 0 else s0
        if bug == "tanh_derivative_missing":
            mu = Lam[t].copy()
        elif bug == "sech_squared_miswritten":
            mu = (1 - S[t]) * (1 - S[t]) * Lam[t]
        elif bug == "jacobian_at_prev_state":
            mu = (1 - s_prev ** 2) * Lam[t]
        else:
            mu = (1 - S[t] ** 2) * Lam[t]
        if bug == "gA_written_transposed":
            gA += s_prev @ mu.T
        else:
            gA += mu @ (S[t] if bug == "gA_uses_current_state" else s_prev).T
        gB += mu @ u[t].T
        if bug == "A_plain_and_gc_mean":
            gc += mu.mean(axis=1, keepdims=True)
        else:
            gc += (2 if bug == "forward_offset_twice" else 1) * mu.sum(axis=1, keepdims=True)
        du[t] = B.T @ mu
        if bug in ("costate_A_not_transposed", "A_plain_and_gc_mean"):
            back = A @ mu
        elif bug == "costate_from_gA":
            back = gA.T @ mu
        else:
            back = A.T @ mu
        if bug == "costate_norm_clipped":
            norms = np.sqrt((back * back).sum(axis=0, keepdims=True))
            back = back * np.minimum(1.0, 0.5 / np.maximum(norms, 1e-12))
        if bug == "costate_cut_after_2" and T - t > 2:
            back = np.zeros_like(back)
        if t == 0:
            lam0 = back
        elif bug == "costate_slot_overwritten":
            Lam[t - 1] = back
        elif bug == "costate_into_current_slot":
            Lam[t] += back
        elif bug == "hamiltonian_sign":
            Lam[t - 1] -= back
        else:
            Lam[t - 1] += back
    if bug == "loop_stops_at_one":
        lam0 = Lam[0]
    return du, lam0, gA, gB, gc


def to_user(cell, p):
    return {"A": np.array(p["weight_hh"]), "B": np.array(p["weight_ih"]),
            "c": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, grads, p):
    out = {}
    if "dA" in grads:
        out["dweight_hh"] = grads["dA"]
    if "dB" in grads:
        out["dweight_ih"] = grads["dB"]
    if "dc" in grads:
        out["dbias_ih"] = grads["dc"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="adjoint_rnn", cells=("rnn",), axes="TDN",
                               names={"h": "s"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(u, s0, A, B, c):
        return simulate(u, s0, A, B, c, bug)

    def backward(dS, tape):
        return adjoint(dS, tape, bug)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

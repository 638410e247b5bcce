"""An LSTM, time-major, whose backward carries (dL/dh, dL/dc) back through the step's
Jacobian blocks, each block's entries derived with sympy (``Matrix.jacobian`` of the
two-unit cell, the pattern generalised) and written out expanded, per gate. Per-gate
weights stacked in gate order i, f, g, o: W (4, D, H), U (4, H, H), b (4, H);
forget_bias = 1.0 added to the f pre-activation.

    a_k = x W_k + h U_k + b_k;   c = f cp + i g;   h = o tanh(c)
    dc/dcp = diag(f)                     dc/dhp[k, j] = sum_(q in i, f, g) coef_q[k] U_q[j, k]
    dh/dcp = diag(o (1 - tanh(c)^2) f)   dh/dhp = coef_o U_o^T + diag(o (1 - tanh(c)^2)) dc/dhp
    coef_i = g (i - i^2), coef_f = cp (f - f^2), coef_g = i (1 - g^2), coef_o = tanh(c) (o - o^2)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "Jch_i_term_missing": "term_dropped",          # dc/dhp: the i term of the three left out
    "Jch_Uf_for_Ui": "wrong_weight",               # coef_i * U_f in dc/dhp
    "Jhh_Uo_untransposed": "weight_transposed",    # coef_o[k] U_o[k, j]
    "Jhc_no_f": "derivative_missing",              # dh/dcp = diag(o (1 - tanh^2))
    "dtc_power_lost": "derivative_miswritten",     # o - o*tc
    "coef_g_sigmoid": "derivative_wrong_function", # coef_g = i (g - g^2)
    "gc_not_carried": "carry_dropped",             # gc = 0 at every step
    "Jcc_f_prev_step": "wrong_time",               # gc_prev = ... + F[t - 1] gc
    "f_recomputed_no_fb": "forget_bias",           # f = sigmoid(A[t, 1]) in the backward, no + 1.0
    "dU_h_now": "wrong_time",                      # dU from h_t
    "loop_to_one": "loop_skips_step",              # range(T - 1, 0, -1)
    "dU_over_T": "reduction_scaled",               # dU / T
    "dW_assigned": "carry_overwrites",             # dW[q] = ... instead of +=
    "clip_carry": "gradient_clipped",              # np.clip(gh_prev, -0.05, 0.05)
    "forward_h_o_c": "forward_mistake",            # h = o c (no tanh); blocks re-derived for it
}
TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "Jch_i_term_missing": "",
    "Jch_Uf_for_Ui": "",
    "Jhh_Uo_untransposed": "",
    "Jhc_no_f": "",
    "dtc_power_lost": "ifg",
    "coef_g_sigmoid": "g",
    "gc_not_carried": "",
    "Jcc_f_prev_step": "",
    "f_recomputed_no_fb": "f",
    "dU_h_now": "",
    "loop_to_one": "",
    "dU_over_T": "",
    "dW_assigned": "",
    "clip_carry": "",
    "forward_h_o_c": "",
}
FB = 1.0


def sig(v):
    return 1/(1 + np.exp(-v))


def forward(x, h0, c0, W, U, b, bug=None):
    T = x.shape[0]
    hs, cs, A, G = [h0], [c0], [], []
    for t in range(T):
        a = np.einsum("nd,qdh->qnh", x[t], W) + np.einsum("nj,qjh->qnh", hs[-1], U) + b[:, None]
        i, f, g, o = sig(a[0]), sig(a[1] + FB), np.tanh(a[2]), sig(a[3])
        cs.append(f*cs[-1] + i*g)
        hs.append(o*cs[-1] if bug == "forward_h_o_c" else o*np.tanh(cs[-1]))
        A.append(a)
        G.append((i, f, g, o))
    return np.stack(hs[1:]), (x, hs, cs, A, G, W, U)


def backward(dh, cache, bug=None):
    x, hs, cs, A, G, W, U = cache
    T = dh.shape[0]
    Ui, Uf, Ug, Uo = U
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros((4, dh.shape[2]), dtype=dh.dtype)
    dx = np.zeros_like(x)
    gh_next, gc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    for t in (range(T - 1, 0, -1) if bug == "loop_to_one" else range(T - 1, -1, -1)):
        i, f, g, o = G[t]
        if bug == "f_recomputed_no_fb":
            f = sig(A[t][1])
        cp, c = cs[t], cs[t + 1]
        if bug == "forward_h_o_c":
            tc, dtc = c, o
        else:
            tc = np.tanh(c)
            dtc = o - o*tc if bug == "dtc_power_lost" else o - o*tc**2
        coef_i = g*(i - i**2)
        coef_f = cp*(f - f**2)
        coef_g = i*(g - g**2) if bug == "coef_g_sigmoid" else i*(1 - g**2)
        coef_o = tc*(o - o**2)
        # Jacobian blocks [n, k (out), j (in)]
        Jch = (np.einsum("nk,jk->nkj", coef_f, Uf) + np.einsum("nk,jk->nkj", coef_g, Ug))
        if bug != "Jch_i_term_missing":
            Jch = Jch + np.einsum("nk,jk->nkj", coef_i, Uf if bug == "Jch_Uf_for_Ui" else Ui)
        Jhh = np.einsum("nk,kj->nkj" if bug == "Jhh_Uo_untransposed" else "nk,jk->nkj", coef_o, Uo) \
            + dtc[:, :, None]*Jch
        Jhc = dtc if bug == "Jhc_no_f" else dtc*f
        Jcc = G[t - 1][1] if bug == "Jcc_f_prev_step" else f
        gh = dh[t] + gh_next
        gc = np.zeros_like(gc_next) if bug == "gc_not_carried" else gc_next
        gh_prev = np.einsum("nkj,nk->nj", Jhh, gh) + np.einsum("nkj,nk->nj", Jch, gc)
        gc_prev = Jhc*gh + Jcc*gc
        dc = gc + gh*dtc
        da = np.stack([dc*coef_i, dc*coef_f, dc*coef_g, gh*coef_o])          # (4, N, H)
        hp = hs[t + 1] if bug == "dU_h_now" else hs[t]
        if bug == "dW_assigned":
            dW = np.einsum("nd,qnh->qdh", x[t], da)
        else:
            dW += np.einsum("nd,qnh->qdh", x[t], da)
        dU += np.einsum("nj,qnh->qjh", hp, da)
        db += da.sum(1)
        dx[t] = np.einsum("qnh,qdh->nd", da, W)
        if bug == "clip_carry":
            gh_prev = np.clip(gh_prev, -0.05, 0.05)
        gh_next, gc_next = gh_prev, gc_prev
    if bug == "dU_over_T":
        dU = dU / T
    return dx, gh_next, gc_next, dW, dU, db


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W": p["weight_ih"].reshape(4, H, -1).transpose(0, 2, 1).copy(),
            "U": p["weight_hh"].reshape(4, H, H).transpose(0, 2, 1).copy(),
            "b": (p["bias_ih"] + p["bias_hh"]).reshape(4, H)}


def to_canonical(cell, g, p):
    out = {}
    if "dW" in g:
        out["dweight_ih"] = g["dW"].transpose(0, 2, 1).reshape(-1, g["dW"].shape[1])
    if "dU" in g:
        out["dweight_hh"] = g["dU"].transpose(0, 2, 1).reshape(-1, g["dU"].shape[1])
    if "db" in g:
        out["dbias_ih"] = g["db"].reshape(-1)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="jacblocks_lstm", cells=("lstm",), axes="TND",
                               gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(forward, bug=bug), partial(backward, bug=bug),
            {"cell": "lstm", "layout": LAYOUT, "forget_bias": FB})

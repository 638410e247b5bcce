"""An LSTM that keeps its four gates on a trailing axis: W (D, H, 4), U (H, H, 4), b (H, 4),
pre-activations A_t (N, H, 4) by einsum, slots i, f, c, o (c the candidate, torch's g); all
four gates of a step live in one (N, H, 4) array and their gradients in another, so the
weight gradients are single einsums over the gate axis.

    A = einsum(x_t, W) + einsum(h_(t-1), U) + b     i, f, o = s(A[..., 0, 1, 3])   c~ = tanh(A[..., 2])
    c_t = f c_(t-1) + i c~         h_t = o tanh(c_t)         x (N, T, D), h0 and c0 (N, H)

Twenty-fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "U_axes_swapped": "weight_transposed",          # dh_prev = einsum("nhk,hjk->nj", dA, U): U's in/out axes swapped
    "dU_axes_swapped": "gradient_transposed",       # dU += einsum("nj,nhk->hjk", h_prev, dA)
    "U_o_from_cand_slot": "wrong_weight",           # per-slot carry: the o term uses U[..., 2] (the candidate's)
    "dprev_c_with_i": "wrong_value",                # dc_prev = dc * i (i read for f)
    "da_f_tanh_grad": "derivative_wrong_function",  # dA[..., 1] = df * (1 - f ** 2)
    "da_i_grad_twice": "derivative_twice",          # di = dc * cand * i (1 - i), then times i (1 - i) again
    "dtanh_c_sign": "wrong_sign",                   # dc = dc_next + dh_t * o * (tc ** 2 - 1)
    "dU_assigned": "carry_overwrites",              # dU = einsum(...): each step overwrites the sum
    "loop_skips_first": "loop_skips_step",          # for t in range(T - 1, 0, -1): step 0 never walked back
    "db_mean": "reduction_scaled",                  # db += dA.mean(axis=0)
    "gate_stack_order": "gate_order",               # dA = np.stack([da_i, da_f, da_o, da_c], -1) for slots i, f, c, o
    "do_tanh_prev_c": "wrong_time",                 # do = dh_t * tanh(c_(t-1)) for tanh(c_t)
    "fwd_all_slots_sigmoid": "forward_mistake",     # G = s(A) on all four slots (no tanh for c~); backward consistent
    "carry_c_damped": "unknown",                    # dc_prev = 0.9 * dc * f (an arbitrary constant)
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "U_axes_swapped": "",
    "dU_axes_swapped": "",
    "U_o_from_cand_slot": "",
    "dprev_c_with_i": "",
    "da_f_tanh_grad": "f",
    "da_i_grad_twice": "i",
    "dtanh_c_sign": "ifg",
    "dU_assigned": "",
    "loop_skips_first": "",
    "db_mean": "",
    "gate_stack_order": "go",
    "do_tanh_prev_c": "o",
    "fwd_all_slots_sigmoid": "",
    "carry_c_damped": "",
}


def sigm(v):
    return 1 / (1 + np.exp(-v))


def forward(x, h0, c0, W, U, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    G = np.empty((T, N, H, 4), dtype=x.dtype)          # activated gates
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    cs = np.empty((T + 1, N, H), dtype=x.dtype)
    hs[0], cs[0] = h0, c0
    for t in range(T):
        A = np.einsum("nd,dhk->nhk", x[:, t], W) + np.einsum("nj,jhk->nhk", hs[t], U) + b
        G[t] = sigm(A)
        if bug != "fwd_all_slots_sigmoid":
            G[t, ..., 2] = np.tanh(A[..., 2])
        i, f, cand, o = (G[t, ..., k] for k in range(4))
        cs[t + 1] = f * cs[t] + i * cand
        hs[t + 1] = o * np.tanh(cs[t + 1])
    return hs[1:].transpose(1, 0, 2).copy(), {"x": x, "G": G, "hs": hs, "cs": cs, "W": W, "U": U}


def backward(dh, cache, bug=None):
    x, G, hs, cs, W, U = (cache[k] for k in ("x", "G", "hs", "cs", "W", "U"))
    N, T, H = dh.shape
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db = np.zeros((H, 4), dtype=dh.dtype)
    dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    for t in range(T - 1, 0 if bug == "loop_skips_first" else -1, -1):
        i, f, cand, o = (G[t, ..., k] for k in range(4))
        tc = np.tanh(cs[t + 1])
        dh_t = dh[:, t] + dh_next
        do = dh_t * (np.tanh(cs[t]) if bug == "do_tanh_prev_c" else tc)
        dtanh = tc ** 2 - 1 if bug == "dtanh_c_sign" else 1 - tc ** 2
        dc = dc_next + dh_t * o * dtanh
        di = dc * cand * i * (1 - i) if bug == "da_i_grad_twice" else dc * cand
        df, dcand = dc * cs[t], dc * i
        if bug == "dprev_c_with_i":
            dc_next = dc * i
        elif bug == "carry_c_damped":
            dc_next = 0.9 * dc * f
        else:
            dc_next = dc * f
        da_i = di * i * (1 - i)
        da_f = df * (1 - f ** 2) if bug == "da_f_tanh_grad" else df * f * (1 - f)
        if bug == "fwd_all_slots_sigmoid":
            da_c = dcand * cand * (1 - cand)
        else:
            da_c = dcand * (1 - cand ** 2)
        da_o = do * o * (1 - o)
        slots = [da_i, da_f, da_o, da_c] if bug == "gate_stack_order" else [da_i, da_f, da_c, da_o]
        dA = np.stack(slots, axis=-1)                   # (N, H, 4)
        dW += np.einsum("nd,nhk->dhk", x[:, t], dA)
        if bug == "dU_axes_swapped":
            dU += np.einsum("nj,nhk->hjk", hs[t], dA)
        elif bug == "dU_assigned":
            dU = np.einsum("nj,nhk->jhk", hs[t], dA)
        else:
            dU += np.einsum("nj,nhk->jhk", hs[t], dA)
        db += dA.mean(axis=0) if bug == "db_mean" else dA.sum(axis=0)
        dx[:, t] = np.einsum("nhk,dhk->nd", dA, W)
        if bug == "U_axes_swapped":
            dh_next = np.einsum("nhk,hjk->nj", dA, U)
        elif bug == "U_o_from_cand_slot":
            dh_next = sum(dA[..., k] @ U[..., k].T for k in range(3)) + dA[..., 3] @ U[..., 2].T
        else:
            dh_next = np.einsum("nhk,jhk->nj", dA, U)
    return dx, dh_next, dc_next, dW, dU, db


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    D = p["weight_ih"].shape[1]
    return {"W": p["weight_ih"].reshape(4, H, D).transpose(2, 1, 0).copy(),
            "U": p["weight_hh"].reshape(4, H, H).transpose(2, 1, 0).copy(),
            "b": (p["bias_ih"] + p["bias_hh"]).reshape(4, H).T.copy()}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = grads["dW"].transpose(2, 1, 0).reshape(4 * H, -1)
    if "dU" in grads:
        out["dweight_hh"] = grads["dU"].transpose(2, 1, 0).reshape(4 * H, H)
    if "db" in grads:
        out["dbias_ih"] = grads["db"].T.reshape(4 * H)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gates_last_lstm", cells=("lstm",),
                               gate_order="ifco", gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, c0, W, U, b):
        return forward(x, h0, c0, W, U, b, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "lstm", "layout": LAYOUT}

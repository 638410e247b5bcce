"""A GRU with the Cho paper's names (update gate u, reset gate r, candidate h_tilde) but
torch's convention that the update gate keeps the old state, the reset applied before the
recurrent product (reset_after=False), and one bias per gate (no recurrent biases).
Time-major xs (T, N, D), h0 (N, H); weights as arguments W_u, W_r, W_h (D, H), U_u, U_r,
U_h (H, H), b_u, b_r, b_h (H,):

    u = s(x W_u + h U_u + b_u)       r = s(x W_r + h U_r + b_r)
    h_tilde = tanh(x W_h + (r * h) U_h + b_h)
    h_new = u * h + (1 - u) * h_tilde

Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "du_paper_sign": "wrong_sign",                        # du = g * (h_tilde - h): the paper's convention in the backward
    "dh_tilde_times_u": "wrong_value",                    # dh_tilde = g * u (for g * (1 - u))
    "dU_h_with_h_not_rh": "term_dropped",                 # dU_h += h.T @ dah: the factor r left out of (r * h)
    "dr_times_h_new": "wrong_time",                       # dr = drh * h_new (h_t for h_{t-1})
    "drh_U_h_untransposed": "weight_transposed",          # drh = dah @ U_h
    "drh_through_U_r": "wrong_weight",                    # drh = dah @ U_r.T
    "dh_prev_misses_drh_r": "term_dropped",               # dh_prev without drh * r
    "dah_no_tanh_grad": "derivative_missing",             # dah = dh_tilde
    "dar_tanh_grad": "derivative_wrong_function",         # dar = dr * (1 - r ** 2)
    "dau_sigmoid_grad_twice": "derivative_twice",         # dau = du * u * (1 - u) * u * (1 - u)
    "range_from_T_minus_2": "loop_skips_step",            # for t in range(T - 2, -1, -1): the last step never visited
    "db_h_assigned": "carry_overwrites",                  # db_h = dah.sum(0) (= for +=)
    "forward_r_after_U_h": "forward_mistake",             # h_tilde = tanh(x W_h + r * (h U_h) + b_h); backward consistent
    "returns_r_before_u": "gate_order",                   # returns dW_r, dW_u, dW_h, dU_r, dU_u, dU_h, db_r, db_u, db_h
    "du_times_0_5": "unknown",                            # dau = 0.5 * du * u * (1 - u): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "du_paper_sign": "z",
    "dh_tilde_times_u": "rn",
    "dU_h_with_h_not_rh": "n",
    "dr_times_h_new": "r",
    "drh_U_h_untransposed": "r",
    "drh_through_U_r": "r",
    "dh_prev_misses_drh_r": "",
    "dah_no_tanh_grad": "rn",
    "dar_tanh_grad": "r",
    "dau_sigmoid_grad_twice": "z",
    "range_from_T_minus_2": "",
    "db_h_assigned": "",
    "forward_r_after_U_h": "",
    "returns_r_before_u": "rz",
    "du_times_0_5": "z",
}


def s(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def gru_forward(xs, h0, W_u, W_r, W_h, U_u, U_r, U_h, b_u, b_r, b_h):
        h, hs, cache = h0, [], []
        for x in xs:
            u = s(x @ W_u + h @ U_u + b_u)
            r = s(x @ W_r + h @ U_r + b_r)
            if bug == "forward_r_after_U_h":
                h_tilde = np.tanh(x @ W_h + r * (h @ U_h) + b_h)
            else:
                h_tilde = np.tanh(x @ W_h + (r * h) @ U_h + b_h)
            h_new = u * h + (1 - u) * h_tilde
            cache.append((x, h, u, r, h_tilde, h_new))
            hs.append(h_new)
            h = h_new
        return np.array(hs), (cache, (W_u, W_r, W_h, U_u, U_r, U_h, b_u, b_r, b_h))

    def gru_backward(dhs, cache):
        steps, (W_u, W_r, W_h, U_u, U_r, U_h, b_u, b_r, b_h) = cache
        T, N, H = dhs.shape
        dW_u, dW_r, dW_h = np.zeros_like(W_u), np.zeros_like(W_r), np.zeros_like(W_h)
        dU_u, dU_r, dU_h = np.zeros_like(U_u), np.zeros_like(U_r), np.zeros_like(U_h)
        db_u, db_r, db_h = np.zeros_like(b_u), np.zeros_like(b_r), np.zeros_like(b_h)
        dxs = np.zeros((T, N, W_u.shape[0]), dtype=dhs.dtype)
        dh_next = np.zeros((N, H), dtype=dhs.dtype)
        first = T - 2 if bug == "range_from_T_minus_2" else T - 1
        for t in range(first, -1, -1):
            x, h, u, r, h_tilde, h_new = steps[t]
            g = dhs[t] + dh_next
            du = g * (h_tilde - h) if bug == "du_paper_sign" else g * (h - h_tilde)
            dh_tilde = g * u if bug == "dh_tilde_times_u" else g * (1 - u)
            dah = dh_tilde if bug == "dah_no_tanh_grad" else dh_tilde * (1 - h_tilde ** 2)
            if bug == "forward_r_after_U_h":
                hU = h @ U_h
                dr = dah * hU
                drh = (dah * r) @ U_h.T
                dU_h += h.T @ (dah * r)
            else:
                if bug == "drh_U_h_untransposed":
                    drh = dah @ U_h
                elif bug == "drh_through_U_r":
                    drh = dah @ U_r.T
                else:
                    drh = dah @ U_h.T
                dr = drh * (h_new if bug == "dr_times_h_new" else h)
                dU_h += (h if bug == "dU_h_with_h_not_rh" else r * h).T @ dah
            dar = dr * (1 - r ** 2) if bug == "dar_tanh_grad" else dr * r * (1 - r)
            dau = du * u * (1 - u)
            if bug == "dau_sigmoid_grad_twice":
                dau = dau * u * (1 - u)
            elif bug == "du_times_0_5":
                dau = 0.5 * dau
            dW_u += x.T @ dau
            dW_r += x.T @ dar
            dW_h += x.T @ dah
            dU_u += h.T @ dau
            dU_r += h.T @ dar
            db_u += dau.sum(axis=0)
            db_r += dar.sum(axis=0)
            if bug == "db_h_assigned":
                db_h = dah.sum(axis=0)
            else:
                db_h += dah.sum(axis=0)
            dxs[t] = dau @ W_u.T + dar @ W_r.T + dah @ W_h.T
            dh_next = g * u + dau @ U_u.T + dar @ U_r.T
            if bug == "forward_r_after_U_h":
                dh_next = dh_next + drh
            elif bug != "dh_prev_misses_drh_r":
                dh_next = dh_next + drh * r
        if bug == "returns_r_before_u":
            return dxs, dh_next, dW_r, dW_u, dW_h, dU_r, dU_u, dU_h, db_r, db_u, db_h
        return dxs, dh_next, dW_u, dW_r, dW_h, dU_u, dU_r, dU_h, db_u, db_r, db_h

    return gru_forward, gru_backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


BLOCK = {"r": 0, "u": 1, "h": 2}                           # torch's blocks r, z, n


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    b = p["bias_ih"] + p["bias_hh"]
    rows = {q: slice(k * H, (k + 1) * H) for q, k in BLOCK.items()}
    user = {f"W_{q}": p["weight_ih"][rows[q]].T for q in "urh"}
    user.update({f"U_{q}": p["weight_hh"][rows[q]].T for q in "urh"})
    user.update({f"b_{q}": b[rows[q]] for q in "urh"})
    return user


def to_canonical(cell, g, p):
    out = {}
    if all(f"dW_{q}" in g for q in "urh"):
        out["dweight_ih"] = np.concatenate([g[f"dW_{q}"].T for q in "ruh"])
    if all(f"dU_{q}" in g for q in "urh"):
        out["dweight_hh"] = np.concatenate([g[f"dU_{q}"].T for q in "ruh"])
    if all(f"db_{q}" in g for q in "urh"):
        out["dbias_ih"] = np.concatenate([g[f"db_{q}"] for q in "ruh"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="cho_names_gru", cells=("gru",), axes="TND",
                               gate_order="urh", gate_letters={"u": "z", "h": "n"})

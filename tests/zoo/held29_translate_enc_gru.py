"""The encoder of a small translation script (a GRU encoder, its last state bridged into a GRU
decoder), ported by the author from torch's nn.GRU to NumPy, time-major like torch's default:

    X (T, N, D), W (D, 3H), U (H, 3H), b_in (3H,), b_rec (3H,), blocks r, z, n (torch's order)
    gx = X @ W + b_in                                  (all steps at once, (T, N, 3H))
    gh = h @ U + b_rec                                  (per step)
    r = sigmoid(gx_r + gh_r)   z = sigmoid(gx_z + gh_z)   n = tanh(gx_n + r * gh_n)
    h = (1 - z) * n + z * h

``encode(X, h0, W, U, b_in, b_rec) -> (states, cache)``; ``encode_backward(dstates, cache)``
returns (dX, dh0, dW, dU, db_in, db_rec); the input-side gradients are computed after the
loop from the stacked dgx. Twenty-ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "gh_n_without_b_rec": "term_dropped",                 # dr = da_n * (h @ U_n): b_rec's n block left out of gh_n
    "dn_times_z": "wrong_value",                          # dn = dh * z (meant 1 - z)
    "dz_with_new_h": "wrong_time",                        # dz = dh * (h_t - n)
    "dgx_stacked_zrn": "gate_order",                      # dgx = [dz, dr, dn]: Keras's order in the backward
    "tanh_grad_twice": "derivative_twice",                # da_n = dn * (1 - n**2) ** 2
    "r_no_sigmoid_grad": "derivative_missing",            # da_r = dr
    "z_sigmoid_grad_sign": "wrong_sign",                  # da_z = dz * z * (z - 1)
    "U_n_for_U_r": "wrong_weight",                        # dh_prev gets da_r @ U[:, 2H:].T
    "dU_n_transposed": "gradient_transposed",             # dU[:, 2H:] += dgh_n.T @ h_prev
    "last_word_skipped": "loop_skips_step",               # for t in range(T - 2, -1, -1)
    "clip_carry": "gradient_clipped",                     # dh_next = np.clip(dh_prev, -0.1, 0.1) ("exploding gradients")
    "forward_z_swapped": "forward_mistake",               # h = z * n + (1 - z) * h; backward consistent
    "da_n_doubled": "unknown",                            # da_n = 2 * dn * (1 - n**2): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "gh_n_without_b_rec": "r",
    "dn_times_z": "rn",
    "dz_with_new_h": "z",
    "dgx_stacked_zrn": "rz",
    "tanh_grad_twice": "rn",
    "r_no_sigmoid_grad": "r",
    "z_sigmoid_grad_sign": "z",
    "U_n_for_U_r": "",
    "dU_n_transposed": "n",
    "last_word_skipped": "",
    "clip_carry": "",
    "forward_z_swapped": "",
    "da_n_doubled": "rn",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def encode(X, h0, W, U, b_in, b_rec, bug=None):
    T = X.shape[0]
    H = h0.shape[1]
    gx = X @ W + b_in
    h = h0
    states, cache = [], []
    for t in range(T):
        gh = h @ U + b_rec
        r = sigmoid(gx[t, :, :H] + gh[:, :H])
        z = sigmoid(gx[t, :, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gx[t, :, 2 * H:] + r * gh[:, 2 * H:])
        cache.append((h, r, z, n, gh))
        h = z * n + (1 - z) * h if bug == "forward_z_swapped" else (1 - z) * n + z * h
        states.append(h)
        cache[-1] += (h,)
    return np.stack(states), (X, W, U, cache)


def encode_backward(dstates, cache, bug=None):
    X, W, U, steps = cache
    T, N, H = dstates.shape
    dgx = np.zeros((T, N, 3 * H), dtype=dstates.dtype)
    dU, db_rec = np.zeros_like(U), np.zeros(3 * H, dtype=dstates.dtype)
    dh_next = np.zeros((N, H), dtype=dstates.dtype)
    last = T - 2 if bug == "last_word_skipped" else T - 1
    for t in range(last, -1, -1):
        h_prev, r, z, n, gh, h_t = steps[t]
        dh = dstates[t] + dh_next
        if bug == "forward_z_swapped":
            dn, dz = dh * z, dh * (n - h_prev)
            dh_prev = dh * (1 - z)
        else:
            dn = dh * (z if bug == "dn_times_z" else 1 - z)
            dz = dh * ((h_t if bug == "dz_with_new_h" else h_prev) - n)
            dh_prev = dh * z
        if bug == "tanh_grad_twice":
            da_n = dn * (1 - n ** 2) ** 2
        elif bug == "da_n_doubled":
            da_n = 2 * dn * (1 - n ** 2)
        else:
            da_n = dn * (1 - n ** 2)
        gh_n = h_prev @ U[:, 2 * H:] if bug == "gh_n_without_b_rec" else gh[:, 2 * H:]
        dr = da_n * gh_n
        dgh_n = da_n * r
        da_r = dr if bug == "r_no_sigmoid_grad" else dr * r * (1 - r)
        da_z = dz * z * (z - 1) if bug == "z_sigmoid_grad_sign" else dz * z * (1 - z)
        blocks = [da_z, da_r, da_n] if bug == "dgx_stacked_zrn" else [da_r, da_z, da_n]
        dgx[t] = np.concatenate(blocks, axis=1)
        dgh = np.concatenate([blocks[0], blocks[1], dgh_n], axis=1)
        if bug == "dU_n_transposed":
            dU[:, :2 * H] += h_prev.T @ dgh[:, :2 * H]
            dU[:, 2 * H:] += dgh_n.T @ h_prev
        else:
            dU += h_prev.T @ dgh
        db_rec += dgh.sum(axis=0)
        if bug == "U_n_for_U_r":
            U_used = np.concatenate([U[:, 2 * H:], U[:, H:]], axis=1)
        else:
            U_used = U
        dh_prev = dh_prev + dgh @ U_used.T
        dh_next = np.clip(dh_prev, -0.1, 0.1) if bug == "clip_carry" else dh_prev
    dX = dgx @ W.T
    dW = np.einsum("tnd,tng->dg", X, dgx)
    db_in = dgx.sum(axis=(0, 1))
    return dX, dh_next, dW, dU, db_in, db_rec


class Translator:
    def __init__(self, src_embed, enc, dec_step, dec_backward):
        self.src_embed, self.enc = src_embed, enc
        self.dec_step, self.dec_backward = dec_step, dec_backward

    def train_step(self, src_ids, tgt_ids, lr=0.1):
        X = self.src_embed[src_ids]                          # (T, N, D)
        H = self.enc["U"].shape[0]
        states, cache = encode(X, np.zeros((X.shape[1], H)), **self.enc)
        loss, dcontext = self.dec_step(states[-1], tgt_ids)
        dstates = np.zeros_like(states)
        dstates[-1] = dcontext
        dX, _, dW, dU, db_in, db_rec = encode_backward(dstates, cache)
        for k, g in zip(("W", "U", "b_in", "b_rec"), (dW, dU, db_in, db_rec)):
            self.enc[k] -= lr * g
        np.add.at(self.src_embed, src_ids, -lr * dX)
        return loss


def to_user(cell, p):
    return {"W": p["weight_ih"].T, "U": p["weight_hh"].T, "b_in": p["bias_ih"], "b_rec": p["bias_hh"]}


def to_canonical(cell, g, p):
    names = {"dW": "dweight_ih", "dU": "dweight_hh", "db_in": "dbias_ih", "db_rec": "dbias_hh"}
    return {names[k]: (v.T if v.ndim == 2 else v) for k, v in g.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="translate_encoder", cells=("gru",), axes="TND",
                               gate_order="rzn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(X, h0, W, U, b_in, b_rec):
        return encode(X, h0, W, U, b_in, b_rec, bug)

    def backward(dstates, cache):
        return encode_backward(dstates, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A GRU in column vectors with the update and reset gates stacked in one matrix
Wg (2H, H+D) applied to concat([h, x]) (h first), and the candidate Wc (H, H+D) applied to
concat([r * h, x]) (the reset before the product: TF1's GRUCell, reset_after=False). Time
first, batch last: x (T, D, N), h0 (H, N); biases as columns bg (2H, 1), bc (H, 1):

    [z; r] = s(Wg [h; x] + bg)      n = tanh(Wc [r * h; x] + bc)
    h_t = z * h_(t-1) + (1 - z) * n

Fifteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "drh_sliced_from_the_end": "wrong_value",         # drh = drhx[-H:] (as if x came first) for drhx[:H]
    "dr_with_h_t": "wrong_time",                      # dr = drh * h (h_t for h_(t-1))
    "dh_prev_without_reset_path": "term_dropped",     # dh_prev lacks drh * r
    "dgates_r_then_z": "gate_order",                  # dg = concat([da_r, da_z]) (order of Wg's rows swapped)
    "z_read_from_r_rows": "wrong_value",              # the backward reads z = g[H:] (r's rows) for g[:H]
    "dWc_on_unreset_hx": "term_dropped",              # dWc += dan @ hx.T: the reset factor r left out
    "dan_one_minus_n": "derivative_miswritten",       # dan = dn * (1 - n) for (1 - n**2)
    "dz_sigmoid_grad_twice": "derivative_twice",      # dz = dh * (h_prev - n) * z * (1 - z), and again in da_z
    "gates_grad_at_preactivation": "derivative_wrong_point",  # da_g = dg * ag * (1 - ag) on the cached pre-activation
    "carry_replaces_upstream": "carry_overwrites",    # dh = dh_next if t < T-1 else dhs[t] (no sum)
    "loop_skips_first": "loop_skips_step",            # for t in reversed(range(1, T))
    "dbg_mean_over_batch": "reduction_scaled",        # dbg += dag.mean(axis=1, keepdims=True)
    "forward_candidate_unreset": "forward_mistake",   # the forward uses [h; x] for [r * h; x]; backward consistent
    "dz_halved": "unknown",                           # dz = 0.5 * dh * (h_prev - n) (an arbitrary constant)
}

TOUCHES = {                                      # computed: blind_index.touched_gates(module, bug)
    "drh_sliced_from_the_end": "r",
    "dr_with_h_t": "r",
    "dh_prev_without_reset_path": "",
    "dgates_r_then_z": "rz",
    "z_read_from_r_rows": "rn",
    "dWc_on_unreset_hx": "n",
    "dan_one_minus_n": "rn",
    "dz_sigmoid_grad_twice": "z",
    "gates_grad_at_preactivation": "rz",
    "carry_replaces_upstream": "",
    "loop_skips_first": "",
    "dbg_mean_over_batch": "rz",
    "forward_candidate_unreset": "",
    "dz_halved": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    unreset = bug == "forward_candidate_unreset"

    def forward(x, h0, Wg, bg, Wc, bc):
        T, D, N = x.shape
        H = h0.shape[0]
        h, out, caches = h0, np.zeros((T, H, N), dtype=x.dtype), []
        for t in range(T):
            hx = np.vstack([h, x[t]])
            ag = Wg @ hx + bg
            g = sigmoid(ag)
            z, r = g[:H], g[H:]
            rhx = hx if unreset else np.vstack([r * h, x[t]])
            n = np.tanh(Wc @ rhx + bc)
            h_new = z * h + (1 - z) * n
            caches.append((hx, rhx, ag, g, n, h_new))
            h = out[t] = h_new
        return out, (caches, Wg, Wc, H)

    def backward(dhs, cache):
        caches, Wg, Wc, H = cache
        T = len(caches)
        dWg, dWc = np.zeros_like(Wg), np.zeros_like(Wc)
        dbg, dbc = np.zeros((2 * H, 1), dtype=dhs.dtype), np.zeros((H, 1), dtype=dhs.dtype)
        dx = np.zeros((T, Wg.shape[1] - H, dhs.shape[2]), dtype=dhs.dtype)
        dh_next = np.zeros_like(dhs[0])
        for t in reversed(range(1 if bug == "loop_skips_first" else 0, T)):
            hx, rhx, ag, g, n, h = caches[t]
            h_prev = hx[:H]
            z = g[H:] if bug == "z_read_from_r_rows" else g[:H]
            r = g[H:]
            dh = dh_next if (bug == "carry_replaces_upstream" and t < T - 1) else dhs[t] + dh_next
            dn = dh * (1 - z)
            if bug == "dz_sigmoid_grad_twice":
                dz = dh * (h_prev - n) * z * (1 - z)
            else:
                dz = (0.5 if bug == "dz_halved" else 1) * dh * (h_prev - n)
            dan = dn * (1 - n) if bug == "dan_one_minus_n" else dn * (1 - n ** 2)
            dWc += dan @ (hx if bug == "dWc_on_unreset_hx" else rhx).T
            dbc += dan.sum(axis=1, keepdims=True)
            drhx = Wc.T @ dan
            drh = drhx[-H:] if bug == "drh_sliced_from_the_end" else drhx[:H]
            dx[t] = drhx[H:]
            dh_prev = dh * z
            if unreset:
                dh_prev = dh_prev + drh
                dr = np.zeros_like(drh)
            else:
                dr = drh * (h if bug == "dr_with_h_t" else h_prev)
                if bug != "dh_prev_without_reset_path":
                    dh_prev = dh_prev + drh * r
            dg = np.vstack([dr, dz] if bug == "dgates_r_then_z" else [dz, dr])
            dag = dg * ag * (1 - ag) if bug == "gates_grad_at_preactivation" else dg * g * (1 - g)
            dWg += dag @ hx.T
            dbg += dag.mean(axis=1, keepdims=True) if bug == "dbg_mean_over_batch" else dag.sum(axis=1, keepdims=True)
            dhx = Wg.T @ dag
            dh_next = dh_prev + dhx[:H]
            dx[t] += dhx[H:]
        return dx, dh_next, dWg, dbg, dWc, dbc

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


def to_user(cell, p):
    (Wi_r, Wi_z, Wi_n), (Wh_r, Wh_z, Wh_n) = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    b_r, b_z, b_n = np.split(p["bias_ih"] + p["bias_hh"], 3)
    return {"Wg": np.vstack([np.hstack([Wh_z, Wi_z]), np.hstack([Wh_r, Wi_r])]),
            "bg": np.concatenate([b_z, b_r])[:, None],
            "Wc": np.hstack([Wh_n, Wi_n]), "bc": b_n[:, None]}


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dWg" in grads and "dWc" in grads:
        dWg, dWc = grads["dWg"], grads["dWc"]
        out["dweight_ih"] = np.vstack([dWg[H:, H:], dWg[:H, H:], dWc[:, H:]])
        out["dweight_hh"] = np.vstack([dWg[H:, :H], dWg[:H, :H], dWc[:, :H]])
    if "dbg" in grads and "dbc" in grads:
        out["dbias_ih"] = np.concatenate([grads["dbg"][H:, 0], grads["dbg"][:H, 0], grads["dbc"][:, 0]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="hx_stacked_gru", cells=("gru",), axes="TDN",
                               gate_order="zrc", gate_letters={"c": "n"})

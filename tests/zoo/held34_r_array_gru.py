"""A GRU ported from an R script: the batch as R's 3-d ``array(dim = c(N, D, T))`` with the
examples in the rows (``x[, , t]`` an N x D matrix), states as N x H matrices kept in a
preallocated ``array(0, dim = c(N, H, T + 1))`` with ``Hs[, , 1] <- h0``, the parameters an
unnamed R list ``params <- list(W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h)`` (W_* D x H,
U_* H x H, b_* plain vectors added with ``sweep(.., 2, b, "+")``), the candidate with the
reset gate before the matrix product (one bias b_h), h' = (1 - z) h~ + z h:

    z  <- sigmoid(sweep(xt %*% W_z + hp %*% U_z, 2, b_z, "+"))
    r  <- sigmoid(sweep(xt %*% W_r + hp %*% U_r, 2, b_r, "+"))
    ht <- tanh(sweep(xt %*% W_h + (r * hp) %*% U_h, 2, b_h, "+"))

The backward returns the gradients as a list in the same order, bias gradients from
``colSums``. The R helpers are written out below.

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "colMeans_db_h": "reduction_scaled",                # db_h <- db_h + colMeans(dht_pre)
    "Hs_page_t_plus_1_dU_r": "wrong_time",              # t(Hs[, , t + 1]) %*% dr_pre: h_t for h_(t-1)
    "t_missing_U_z": "weight_transposed",               # dz_pre %*% U_z in dh_next
    "dU_h_from_hp": "wrong_value",                      # t(hp) %*% dht_pre for t(r * hp) %*% dht_pre
    "dz_pre_no_dsigmoid": "derivative_missing",         # dz_pre <- dz
    "dht_dsigmoid": "derivative_wrong_function",        # dsigmoid(dht, ht) for the tanh candidate
    "dsigmoid_helper_twice": "derivative_twice",        # dr already times r(1 - r), then dsigmoid(dr, r)
    "dh_next_without_r_path": "term_dropped",           # dh_next <- dh * z + ..: drh * r left out
    "dh_next_reassigned": "carry_overwrites",           # second line dh_next <- dz_pre %*% .. (no dh_next +)
    "list_r_before_z": "gate_order",                    # list(dx, dh0, dW_r, dU_r, db_r, dW_z, dU_z, db_z, ..)
    "truncated_k2": "truncated_bptt",                   # if ((T - t + 1) %% k == 0) dh_next <- 0 * dh_next
    "U_r_for_U_z": "wrong_weight",                      # dz_pre %*% t(U_r) in dh_next
    "dht_z_minus_1": "wrong_sign",                      # dht <- dh * (z - 1)
    "rh_view_scaled": "inplace_corruption",             # rh = Rg[:, :, t]; rh *= hp: the cached r overwritten
    "dH_only": "carry_dropped",                         # dh <- dH[, , t]
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "colMeans_db_h": "n",
    "Hs_page_t_plus_1_dU_r": "r",
    "t_missing_U_z": "",
    "dU_h_from_hp": "n",
    "dz_pre_no_dsigmoid": "z",
    "dht_dsigmoid": "rn",
    "dsigmoid_helper_twice": "r",
    "dh_next_without_r_path": "",
    "dh_next_reassigned": "",
    "list_r_before_z": "rz",
    "truncated_k2": "",
    "U_r_for_U_z": "",
    "dht_z_minus_1": "rn",
    "rh_view_scaled": "r",
    "dH_only": "",
}

K_TRUNC = 2


# --- R built-ins the port needs ------------------------------------------------------
def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def t(m):
    return m.T


def sweep(m, margin, stats, fun="+"):
    assert margin == 2 and fun == "+"
    return m + stats[None, :]


def colSums(m):
    return m.sum(axis=0)


def colMeans(m):
    return m.mean(axis=0)


def dsigmoid(d, s):
    return d * s * (1 - s)


def array0(*dim, like):
    return np.zeros(dim, dtype=like.dtype)


def gru_forward(x, h0, params):
    """x array (N, D, T), h0 N x H, params the list -> Hs[, , 2:(T+1)] (N, H, T), cache."""
    W_z, U_z, b_z, W_r, U_r, b_r, W_h, U_h, b_h = params
    N, _D, T = x.shape
    nh = U_z.shape[0]
    Hs = array0(N, nh, T + 1, like=x)
    Hs[:, :, 0] = h0
    Zg, Rg, HT = (array0(N, nh, T, like=x) for _ in range(3))
    for tt in range(1, T + 1):                                  # for (t in 1:T)
        xt, hp = x[:, :, tt - 1], Hs[:, :, tt - 1]
        z = sigmoid(sweep(xt @ W_z + hp @ U_z, 2, b_z, "+"))
        r = sigmoid(sweep(xt @ W_r + hp @ U_r, 2, b_r, "+"))
        ht = np.tanh(sweep(xt @ W_h + (r * hp) @ U_h, 2, b_h, "+"))
        Hs[:, :, tt] = (1 - z) * ht + z * hp
        Zg[:, :, tt - 1], Rg[:, :, tt - 1], HT[:, :, tt - 1] = z, r, ht
    return Hs[:, :, 1:].copy(), {"x": x, "Hs": Hs, "Z": Zg, "R": Rg, "HT": HT, "params": params}


def gru_backward(dH, cache, bug=None):
    """dH (N, H, T) -> list(dx, dh0, dW_z, dU_z, db_z, dW_r, dU_r, db_r, dW_h, dU_h, db_h)."""
    x, Hs, Zg, Rg, HT = cache["x"], cache["Hs"], cache["Z"], cache["R"], cache["HT"]
    W_z, U_z, _b_z, W_r, U_r, _b_r, W_h, U_h, _b_h = cache["params"]
    N, D, T = x.shape
    nh = U_z.shape[0]
    dx = array0(N, D, T, like=dH)
    dW_z, dU_z, db_z, dW_r, dU_r, db_r, dW_h, dU_h, db_h = (np.zeros_like(p) for p in cache["params"])
    dh_next = array0(N, nh, like=dH)
    for tt in range(T, 0, -1):                                  # for (t in T:1)
        xt, hp = x[:, :, tt - 1], Hs[:, :, tt - 1]
        z, r, ht = Zg[:, :, tt - 1], Rg[:, :, tt - 1], HT[:, :, tt - 1]
        dh = dH[:, :, tt - 1] if bug == "dH_only" else dH[:, :, tt - 1] + dh_next
        dht = dh * (z - 1) if bug == "dht_z_minus_1" else dh * (1 - z)
        dz = dh * (hp - ht)
        dht_pre = dsigmoid(dht, ht) if bug == "dht_dsigmoid" else dht * (1 - ht ** 2)
        dz_pre = dz if bug == "dz_pre_no_dsigmoid" else dsigmoid(dz, z)
        if bug == "rh_view_scaled":
            rh = Rg[:, :, tt - 1]
            rh *= hp                                            # r * hp, into the cached r
        else:
            rh = r * hp
        drh = dht_pre @ t(U_h)
        if bug == "dsigmoid_helper_twice":
            dr = drh * hp * r * (1 - r)
            dr_pre = dsigmoid(dr, r)
        else:
            dr_pre = dsigmoid(drh * hp, r)
        dW_h = dW_h + t(xt) @ dht_pre
        dU_h = dU_h + t(hp if bug == "dU_h_from_hp" else rh) @ dht_pre
        db_h = db_h + (colMeans(dht_pre) if bug == "colMeans_db_h" else colSums(dht_pre))
        dW_z = dW_z + t(xt) @ dz_pre
        dU_z = dU_z + t(hp) @ dz_pre
        db_z = db_z + colSums(dz_pre)
        dW_r = dW_r + t(xt) @ dr_pre
        hprev_r = Hs[:, :, tt] if bug == "Hs_page_t_plus_1_dU_r" else hp
        dU_r = dU_r + t(hprev_r) @ dr_pre
        db_r = db_r + colSums(dr_pre)
        dx[:, :, tt - 1] = dz_pre @ t(W_z) + dr_pre @ t(W_r) + dht_pre @ t(W_h)
        if bug == "dh_next_without_r_path":
            dh_next = dh * z
        else:
            dh_next = dh * z + drh * r
        Uz_t = U_z if bug == "t_missing_U_z" else t(U_r) if bug == "U_r_for_U_z" else t(U_z)
        if bug == "dh_next_reassigned":
            dh_next = dz_pre @ Uz_t + dr_pre @ t(U_r)
        else:
            dh_next = dh_next + dz_pre @ Uz_t + dr_pre @ t(U_r)
        if bug == "truncated_k2" and (T - tt + 1) % K_TRUNC == 0:
            dh_next = 0 * dh_next
    grads = [dW_z, dU_z, db_z, dW_r, dU_r, db_r, dW_h, dU_h, db_h]
    if bug == "list_r_before_z":
        grads = grads[3:6] + grads[0:3] + grads[6:9]
    return tuple([dx, dh_next] + grads)


NAMES = ("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h")


def to_user(cell, p):
    """Canonical torch GRU (rows r, z, n) -> the R list, z first; b_h = b_in + b_hn."""
    (Wr, Wz, Wn), (Ur, Uz, Un) = np.split(p["weight_ih"], 3), np.split(p["weight_hh"], 3)
    b = p["bias_ih"] + p["bias_hh"]
    br, bz, bn = np.split(b, 3)
    user = {"W_z": Wz.T, "U_z": Uz.T, "b_z": bz, "W_r": Wr.T, "U_r": Ur.T, "b_r": br,
            "W_h": Wn.T, "U_h": Un.T, "b_h": bn}
    return {k: np.array(user[k]) for k in NAMES}


def to_canonical(cell, g, p):
    out = {}
    if all("dW_" + q in g for q in "zrh"):
        out["dweight_ih"] = np.concatenate([g["dW_r"].T, g["dW_z"].T, g["dW_h"].T])
    if all("dU_" + q in g for q in "zrh"):
        out["dweight_hh"] = np.concatenate([g["dU_r"].T, g["dU_z"].T, g["dU_h"].T])
    if all("db_" + q in g for q in "zrh"):
        out["dbias_ih"] = np.concatenate([g["db_r"], g["db_z"], g["db_h"]])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="r_array_gru", cells=("gru",), axes="NDT",
                               weights_as="list", gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return gru_forward, partial(gru_backward, bug=bug), {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU someone wrote for themselves: time-major x (T, N, D), h0 (N, H), one matrix per
gate in (in, out) layout (W* (D, H) on the input, U* (H, H) on the state), h' = (1 - z) n + z h.

    z = sigmoid(x Wz + h Uz + bz)        r = sigmoid(x Wr + h Ur + br)
    reset after (as torch):   n = tanh(x Wh + bh + r * (h Uh + bhn))
    reset before (as TF1's GRUCell): n = tanh(x Wh + (r * h) Uh + bh)

This module is the reset-after configuration (bhn: the recurrent candidate bias, torch's
b_hn, kept separate so that the mapping to torch's GRU is exact); blind_custom_gru_tf1 is
the reset-before one (a single bias per gate, bh = b_in + b_hn). Canonical form: torch's
GRU, gate rows r, z, n. Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_reversed": "wrong_sign",                     # dz = dh * (n - h_prev)
    "dn_no_one_minus_z": "term_dropped",             # dn = dh: the factor (1 - z) left out
    "dz_no_sigmoid_grad": "derivative_missing",      # dz_pre = dz
    "dn_one_minus_n": "derivative_miswritten",       # (1 - n) for (1 - n**2)
    "dr_tanh_grad": "derivative_wrong_function",     # (1 - r**2) for the sigmoid reset gate
    "dr_without_bhn": "term_dropped",                # dr = dn_pre * (h_prev @ Uh): bhn left out
    "dh_prev_assigned_hn": "carry_overwrites",       # dh_prev = dhn @ Uh.T (= for +=)
    "Uz_for_Ur": "wrong_weight",                     # dr_pre @ Uz.T in dh_prev
    "Uz_not_transposed": "weight_transposed",        # dz_pre @ Uz in dh_prev
    "dx_from_dWh": "gradient_for_weight",            # dn_pre @ dWh.T in dx
    "dUz_h_new": "wrong_time",                       # h_t.T @ dz_pre for h_{t-1}
    "z_inplace": "inplace_corruption",               # z *= (1 - z) before dn and dh_prev read z
    "loop_skips_first": "loop_skips_step",           # range(T - 1, 0, -1)
    "dW_mean_N": "reduction_scaled",                 # dWz, dWr, dWh / N
    "dn_tanh_twice": "derivative_twice",             # (1 - n**2) in dn and again in dn_pre
    "dr_at_preact": "derivative_wrong_point",        # r_pre * (1 - r_pre)
    "return_swaps_r_z": "gate_order",                # returns the r gradients in the z slots and back
    "forward_reset_before": "forward_mistake",       # (r * h) @ Uh + bhn, backward consistent
    "backward_other_convention": "unknown",          # backward for h' = z n + (1 - z) h
    "dz_reversed_and_dUz_h_new": "unknown",          # two mistakes at once
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "dz_reversed": "z",
    "dn_no_one_minus_z": "rn",
    "dz_no_sigmoid_grad": "z",
    "dn_one_minus_n": "rn",
    "dr_tanh_grad": "r",
    "dr_without_bhn": "r",
    "dh_prev_assigned_hn": "",
    "Uz_for_Ur": "",
    "Uz_not_transposed": "",
    "dx_from_dWh": "",
    "dUz_h_new": "z",
    "z_inplace": "rn",
    "loop_skips_first": "",
    "dW_mean_N": "",
    "dn_tanh_twice": "rn",
    "dr_at_preact": "r",
    "return_swaps_r_z": "rz",
    "forward_reset_before": "",
    "backward_other_convention": "",
    "dz_reversed_and_dUz_h_new": "z",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class GRU:
    """One layer; ``reset_after`` picks the candidate's form, ``bug`` a planted mistake."""

    def __init__(self, reset_after=True, bug=None):
        self.reset_after, self.bug = reset_after, bug

    def forward(self, x, h0, Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh, bhn=None):
        """x (T, N, D), h0 (N, H) -> h (T, N, H), cache."""
        bug, after = self.bug, self.reset_after
        if bug == "forward_reset_before":
            after = False
        elif bug == "forward_reset_after":
            after = True
        h, steps = h0, []
        for t in range(x.shape[0]):
            xt = x[t]
            z = sigmoid(xt @ Wz + h @ Uz + bz)
            r_pre = xt @ Wr + h @ Ur + br
            r = sigmoid(r_pre)
            if after:
                hn = h @ Uh + (bhn if bhn is not None else 0)
                n_pre = xt @ Wh + bh + r * hn
            else:
                hn = None
                n_pre = xt @ Wh + (r * h) @ Uh + bh + (bhn if bhn is not None else 0)
            n = sigmoid(n_pre) if bug == "candidate_sigmoid" else np.tanh(n_pre)
            h_new = (1 - z) * n + z * h
            steps.append({"x": xt, "h_prev": h, "z": z, "r": r, "r_pre": r_pre, "n": n, "n_pre": n_pre,
                          "hn": hn, "h": h_new})
            h = h_new
        return np.stack([s["h"] for s in steps]), {"steps": steps, "after": after, "bhn": bhn is not None,
                                                   "W": (Wz, Uz, Wr, Ur, Wh, Uh)}

    def _gates(self, s, dh_t):
        """The gradients of the gates' pre-activations at one step, and dh_prev so far."""
        bug, z, n, r, h_prev = self.bug, s["z"], s["n"], s["r"], s["h_prev"]
        if bug == "z_inplace":
            zz = z
            zz *= (1 - z)                                    # z(1 - z), written into the cached z
            dz_pre = dh_t * (h_prev - n) * zz
        if bug in ("backward_other_convention",):
            dn, dz, dh_prev = dh_t * z, dh_t * (n - h_prev), dh_t * (1 - z)
        else:
            dn = dh_t if bug == "dn_no_one_minus_z" else dh_t * (z - 1) if bug == "dn_sign" else dh_t * (1 - z)
            reversed_dz = bug in ("dz_reversed", "dz_reversed_and_dUz_h_new")
            dz = dh_t * (n - h_prev) if reversed_dz else dh_t * (h_prev - n)
            dh_prev = dh_t * z
        if bug == "dn_tanh_twice":
            dn = dn * (1 - n ** 2)
        n_grad = {"dn_one_minus_n": 1 - n, "dn_at_preact": 1 - s["n_pre"] ** 2,
                  "dn_at_preact_and_no_carry": 1 - s["n_pre"] ** 2,
                  "candidate_sigmoid": n * (1 - n)}.get(bug, 1 - n ** 2)
        dn_pre = dn * n_grad
        if bug == "dz_no_sigmoid_grad":
            dz_pre = dz
        elif bug == "dz_tanh_grad":
            dz_pre = dz * (1 - z ** 2)
        elif bug == "dz_sigmoid_twice":
            dz_pre = dz * z * (1 - z) * z * (1 - z)
        elif bug != "z_inplace":
            dz_pre = dz * z * (1 - z)
        return dn_pre, dz_pre, dh_prev

    def _r_grad(self, dr, s):
        bug, r = self.bug, s["r"]
        if bug == "dr_tanh_grad":
            return dr * (1 - r ** 2)
        if bug == "dr_at_preact":
            return dr * s["r_pre"] * (1 - s["r_pre"])
        if bug == "dr_no_sigmoid_grad":
            return dr
        if bug == "dr_miswritten":
            return dr * r
        return dr * r * (1 - r)

    def _candidate(self, s, dn_pre, dh_prev, Uh, g, after):
        """The reset path of the candidate: dr, and dh_prev with the candidate's share added."""
        bug, h_prev, r = self.bug, s["h_prev"], s["r"]
        if after:                                            # n = tanh(x Wh + bh + r * (h Uh + bhn))
            hn = h_prev @ Uh if bug == "dr_without_bhn" else s["hn"]
            dhn = dn_pre * r
            g["dUh"] += h_prev.T @ dhn
            g["dbhn"] += dhn.sum(axis=0)
            if bug == "dh_prev_assigned_hn":
                dh_prev = dhn @ Uh.T
            else:
                dh_prev += dhn @ Uh.T
            return dn_pre * hn, dh_prev
        if bug == "r_inplace":                               # n = tanh(x Wh + (r * h) Uh + bh)
            rh = r
            rh *= h_prev                                     # r * h, written into the cached r
        else:
            rh = r * h_prev
        drh = dn_pre @ (Uh if bug == "Uh_not_transposed" else Uh.T)
        g["dUh"] += (h_prev if bug == "dUh_without_r" else rh).T @ dn_pre
        g["dbhn"] += dn_pre.sum(axis=0)                      # used only when bhn is an argument
        if bug != "dh_prev_no_r_path":
            dh_prev += drh * r
        return drh * (s["h"] if bug == "dr_uses_h_new" else h_prev), dh_prev

    def _step(self, t, steps, dh_t, W, g, after):
        """One step back: accumulates the weight gradients into ``g``; returns dx_t, dh_prev."""
        bug, s = self.bug, steps[t]
        Wz, Uz, Wr, Ur, Wh, Uh = W
        x_t, h_prev = s["x"], s["h_prev"]
        dn_pre, dz_pre, dh_prev = self._gates(s, dh_t)
        dr, dh_prev = self._candidate(s, dn_pre, dh_prev, Uh, g, after)
        dr_pre = self._r_grad(dr, s)
        g["dWh"] += (steps[t - 1]["x"] if bug == "dWh_x_prev" else x_t).T @ dn_pre
        g["dWz"] += x_t.T @ dz_pre
        g["dUz"] += (s["h"] if bug in ("dUz_h_new", "dz_reversed_and_dUz_h_new") else h_prev).T @ dz_pre
        g["dWr"] += x_t.T @ dr_pre
        g["dUr"] += h_prev.T @ dr_pre
        for name, d in (("dbz", dz_pre), ("dbr", dr_pre), ("dbh", dn_pre)):
            if bug == "dbias_assigned":
                g[name] = d.sum(axis=0)
            else:
                g[name] += d.sum(axis=0)
        W_h = g["dWh"] if bug == "dx_from_dWh" else Wh
        W_r = Wz if bug == "Wz_for_Wr_in_dx" else Wr
        dx_t = dn_pre @ W_h.T + dz_pre @ Wz.T + dr_pre @ W_r.T
        dh_prev += dz_pre @ (Uz if bug == "Uz_not_transposed" else Uz.T)
        dh_prev += dr_pre @ (Uz.T if bug == "Uz_for_Ur" else Ur.T)
        return dx_t, dh_prev

    def backward(self, dh, cache):
        """dh (T, N, H) -> dx (T, N, D), dh0 (N, H), dWz, dUz, dbz, dWr, dUr, dbr, dWh, dUh, dbh[, dbhn]."""
        bug, steps, W = self.bug, cache["steps"], cache["W"]
        T, N, H = dh.shape
        g = {"d" + k: np.zeros_like(w) for k, w in zip(("Wz", "Uz", "Wr", "Ur", "Wh", "Uh"), W)}
        g.update({k: np.zeros(H, dtype=dh.dtype) for k in ("dbz", "dbr", "dbh", "dbhn")})
        dx = np.zeros((T, N, W[0].shape[0]), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        ts = {"loop_skips_first": range(T - 1, 0, -1), "loop_skips_last": range(T - 2, -1, -1)}.get(
            bug, range(T - 1, -1, -1))
        for t in ts:
            dh_t = dh[t] + dh_next
            dx[t], dh_prev = self._step(t, steps, dh_t, W, g, cache["after"])
            if bug not in ("dh_next_not_updated", "dn_at_preact_and_no_carry"):
                dh_next = dh_prev
        if bug == "dW_mean_N":
            g.update(dWz=g["dWz"] / N, dWr=g["dWr"] / N, dWh=g["dWh"] / N)
        if bug == "db_mean":
            g.update(dbz=g["dbz"] / N, dbr=g["dbr"] / N, dbh=g["dbh"] / N)
        dh0 = dh_t if bug == "returns_dh_t" else dh_next
        names = ["dWz", "dUz", "dbz", "dWr", "dUr", "dbr", "dWh", "dUh", "dbh"]
        if bug == "return_swaps_r_z":
            names[0:6] = names[3:6] + names[0:3]
        elif bug == "return_swaps_z_n":
            names[0:3], names[6:9] = names[6:9], names[0:3]
        grads = [dx, dh0] + [g[k] for k in names]
        return tuple(grads + [g["dbhn"]]) if cache["bhn"] else tuple(grads)


def _split(a, H):
    return a[:H], a[H:2 * H], a[2 * H:]                  # torch's r, z, n


def to_user(cell, p, separate_bhn=True):
    """Canonical torch GRU (rows r, z, n) -> Wz, Uz, bz, Wr, Ur, br, Wh, Uh, bh[, bhn]."""
    H = p["weight_hh"].shape[1]
    (Wr, Wz, Wn), (Ur, Uz, Un) = _split(p["weight_ih"], H), _split(p["weight_hh"], H)
    (bir, biz, bin_), (bhr, bhz, bhn) = _split(p["bias_ih"], H), _split(p["bias_hh"], H)
    user = {"Wz": Wz.T, "Uz": Uz.T, "bz": biz + bhz, "Wr": Wr.T, "Ur": Ur.T, "br": bir + bhr, "Wh": Wn.T, "Uh": Un.T}
    if separate_bhn:
        user.update(bh=np.array(bin_), bhn=np.array(bhn))
    else:
        user["bh"] = bin_ + bhn
    return user


def to_canonical(cell, g, p, separate_bhn=True):
    """Your gradients -> torch's; dbias_hh's n block is dbhn when bhn is separate, else dbh."""
    out = {}
    if all(k in g for k in ("dWr", "dWz", "dWh")):
        out["dweight_ih"] = np.concatenate([g["dWr"].T, g["dWz"].T, g["dWh"].T])
    if all(k in g for k in ("dUr", "dUz", "dUh")):
        out["dweight_hh"] = np.concatenate([g["dUr"].T, g["dUz"].T, g["dUh"].T])
    if all(k in g for k in ("dbr", "dbz", "dbh")):
        out["dbias_ih"] = np.concatenate([g["dbr"], g["dbz"], g["dbh"]])
        n_block = "dbhn" if separate_bhn else "dbh"
        if n_block in g:
            out["dbias_hh"] = np.concatenate([g["dbr"], g["dbz"], g[n_block]])
    return out


def gru_layout(separate_bhn):
    """The layout of this GRU: with bhn as an argument (reset after) or without (reset before)."""
    def user(cell, p):
        return to_user(cell, p, separate_bhn)

    def canonical(cell, g, p):
        return to_canonical(cell, g, p, separate_bhn)
    return harness.Layout.custom(user, canonical, name="my_gru", cells=("gru",), axes="TND",
                                 gate_letters={"h": "n"})


LAYOUT = gru_layout(separate_bhn=True)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    gru = GRU(reset_after=True, bug=bug)
    return gru.forward, gru.backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A homework GRU as a class with d2l's names in a weights dict (W_xz, W_hz, b_z, W_xr,
W_hr, b_r, W_xh, W_hh, b_h; W_x* (D, H), W_h* (H, H), b_* (H,)), batch-first x (N, T, D),
d2l's update H = Z * H_prev + (1 - Z) * H_tilde and the reset gate before the recurrent
product (H_tilde = tanh(X W_xh + (R * H_prev) W_hh + b_h)). ``GRUHomework.forward`` keeps
per-step dicts in self.tape; ``backward`` fills self.grads through a small ``_acc`` helper
and returns a dict keyed by the student's names. Custom layout, weights_as="dict".
Twenty-fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dR_sigmoid_prime_sign": "wrong_sign",             # dR_pre = dR * R * (R - 1)
    "dHt_tanh_prime_typo": "derivative_miswritten",    # (1 - H_tilde * 2) for (1 - H_tilde ** 2)
    "dH_prev_kept_local": "carry_dropped",             # dH_prev computed, self.dH_next never updated
    "dRH_W_hh_untransposed": "weight_transposed",      # dRH = dHt_pre @ W_hh (no .T)
    "dW_hz_from_R_times_H": "wrong_value",             # dW_hz += (R * H_prev).T @ dZ_pre (R * H read for H)
    "dH_prev_via_grad_W_hr": "gradient_for_weight",    # dH_prev += dR_pre @ self.grads["W_hr"].T
    "dR_with_H_t": "wrong_time",                       # dR = dRH * H_t (H_t for H_prev)
    "dR_no_sigmoid_prime": "derivative_missing",       # dR_pre = dR
    "dZ_sigmoid_prime_twice": "derivative_twice",      # dZ_pre = dZ * s' * s'
    "backward_runs_forward": "loop_direction",         # for t in range(T)
    "grads_clipped_elementwise": "gradient_clipped",   # np.clip(g, -0.3, 0.3, out=g) for every gradient
    "dZ_aliases_dH": "inplace_corruption",             # dZ = dH; dZ *= (H_prev - H_tilde): dH (read after) changes
    "dHt_typo_and_W_hh_untransposed": "unknown",       # the two mistakes above at once
    "dH_next_halved": "unknown",                       # self.dH_next = 0.5 * dH_prev: an arbitrary constant
    "forward_candidate_without_b_h": "forward_mistake",  # H_tilde without b_h; backward never fills db_h (consistent)
}

TOUCHES = {                                            # computed: blind_index.touched_gates(module, bug)
    "dR_sigmoid_prime_sign": "r",
    "dHt_tanh_prime_typo": "rn",
    "dH_prev_kept_local": "",
    "dRH_W_hh_untransposed": "r",
    "dW_hz_from_R_times_H": "z",
    "dH_prev_via_grad_W_hr": "",
    "dR_with_H_t": "r",
    "dR_no_sigmoid_prime": "r",
    "dZ_sigmoid_prime_twice": "z",
    "backward_runs_forward": "",
    "grads_clipped_elementwise": "zn",
    "dZ_aliases_dH": "rn",
    "dHt_typo_and_W_hh_untransposed": "rn",
    "dH_next_halved": "",
    "forward_candidate_without_b_h": "",
}

NAMES = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")


def sigmoid(X):
    return 1 / (1 + np.exp(-X))


class GRUHomework:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, X, H0, params):
        """X (N, T, D), H0 (N, H), params dict -> outputs (N, T, H), self."""
        p, bug = params, self.bug
        self.params, self.X, self.tape = params, X, []
        N, T, _ = X.shape
        outputs = np.zeros((N, T, H0.shape[1]), dtype=X.dtype)
        H = H0
        for t in range(T):
            X_t = X[:, t]
            Z = sigmoid(X_t @ p["W_xz"] + H @ p["W_hz"] + p["b_z"])
            R = sigmoid(X_t @ p["W_xr"] + H @ p["W_hr"] + p["b_r"])
            pre = X_t @ p["W_xh"] + (R * H) @ p["W_hh"]
            H_tilde = np.tanh(pre if bug == "forward_candidate_without_b_h" else pre + p["b_h"])
            self.tape.append({"H_prev": H, "Z": Z, "R": R, "H_tilde": H_tilde})
            H = Z * H + (1 - Z) * H_tilde
            outputs[:, t] = H
        return outputs, self

    def _acc(self, name, value):
        self.grads[name] = self.grads[name] + value

    def backward(self, dY):
        """dY (N, T, H) -> {"dx", "dh0", "dW_xz", ...}."""
        p, bug, X = self.params, self.bug, self.X
        N, T, _ = X.shape
        self.grads = {k: np.zeros_like(v) for k, v in p.items()}
        dX = np.zeros_like(X)
        self.dH_next = np.zeros_like(dY[:, 0])
        order = range(T) if bug == "backward_runs_forward" else range(T - 1, -1, -1)
        for t in order:
            s = self.tape[t]
            H_prev, Z, R, H_tilde = s["H_prev"], s["Z"], s["R"], s["H_tilde"]
            X_t = X[:, t]
            dH = dY[:, t] + self.dH_next
            if bug == "dZ_aliases_dH":
                dZ = dH
                dZ *= H_prev - H_tilde
            else:
                dZ = dH * (H_prev - H_tilde)
            dHt = dH * (1 - Z)
            if bug in ("dHt_tanh_prime_typo", "dHt_typo_and_W_hh_untransposed"):
                dHt_pre = dHt * (1 - H_tilde * 2)
            else:
                dHt_pre = dHt * (1 - H_tilde ** 2)
            if bug in ("dRH_W_hh_untransposed", "dHt_typo_and_W_hh_untransposed"):
                dRH = dHt_pre @ p["W_hh"]
            else:
                dRH = dHt_pre @ p["W_hh"].T
            H_t = Z * H_prev + (1 - Z) * H_tilde
            dR = dRH * (H_t if bug == "dR_with_H_t" else H_prev)
            if bug == "dR_sigmoid_prime_sign":
                dR_pre = dR * R * (R - 1)
            elif bug == "dR_no_sigmoid_prime":
                dR_pre = dR
            else:
                dR_pre = dR * R * (1 - R)
            dZ_pre = dZ * Z * (1 - Z)
            if bug == "dZ_sigmoid_prime_twice":
                dZ_pre = dZ_pre * Z * (1 - Z)
            self._acc("W_xz", X_t.T @ dZ_pre)
            self._acc("W_hz", (R * H_prev if bug == "dW_hz_from_R_times_H" else H_prev).T @ dZ_pre)
            self._acc("b_z", dZ_pre.sum(axis=0))
            self._acc("W_xr", X_t.T @ dR_pre)
            self._acc("W_hr", H_prev.T @ dR_pre)
            self._acc("b_r", dR_pre.sum(axis=0))
            self._acc("W_xh", X_t.T @ dHt_pre)
            self._acc("W_hh", (R * H_prev).T @ dHt_pre)
            if bug != "forward_candidate_without_b_h":
                self._acc("b_h", dHt_pre.sum(axis=0))
            dX[:, t] = dZ_pre @ p["W_xz"].T + dR_pre @ p["W_xr"].T + dHt_pre @ p["W_xh"].T
            W_hr = self.grads["W_hr"] if bug == "dH_prev_via_grad_W_hr" else p["W_hr"]
            dH_prev = dH * Z + dRH * R + dZ_pre @ p["W_hz"].T + dR_pre @ W_hr.T
            if bug == "dH_next_halved":
                self.dH_next = 0.5 * dH_prev
            elif bug != "dH_prev_kept_local":
                self.dH_next = dH_prev
        if bug == "grads_clipped_elementwise":
            for g in self.grads.values():
                np.clip(g, -0.3, 0.3, out=g)
        return {"dx": dX, "dh0": self.dH_next, **{"d" + k: v for k, v in self.grads.items()}}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    blocks = {"r": slice(0, H), "z": slice(H, 2 * H), "h": slice(2 * H, 3 * H)}
    b = p["bias_ih"] + p["bias_hh"]
    return {f"{kind}{g}": arr for g in "zrh" for kind, arr in (
        ("W_x", p["weight_ih"][blocks[g]].T), ("W_h", p["weight_hh"][blocks[g]].T), ("b_", b[blocks[g]]))}


def to_canonical(cell, grads, p):
    out = {}
    if all(f"dW_x{g}" in grads for g in "rzh"):
        out["dweight_ih"] = np.concatenate([grads[f"dW_x{g}"].T for g in "rzh"])
    if all(f"dW_h{g}" in grads for g in "rzh"):
        out["dweight_hh"] = np.concatenate([grads[f"dW_h{g}"].T for g in "rzh"])
    if all(f"db_{g}" in grads for g in "rzh"):
        out["dbias_ih"] = np.concatenate([grads[f"db_{g}"] for g in "rzh"])
        out["dbias_hh"] = out["dbias_ih"].copy()       # reset before: b_h is one bias for both
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="homework_class_gru", cells=("gru",), weights_as="dict",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, params):
        return GRUHomework(bug).forward(x, h0, params)

    def backward(dh, cache):
        return cache.backward(dh)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

"""A GRU translated from Julia's Flux (``GRUv3Cell``): column vectors and ``W * x``, the
sequence as (features, batch, time), Flux's field names ``Wi`` (3H, D), ``Wh`` (2H, H) for r and
z, ``b`` (3H,) and ``Wh_h`` (Flux's ``Wh_h̃``, (H, H)), a 1-based ``gate(x, o, k)`` helper, and
Julia's broadcasting habits (``Δ`` names, adjoints written ``.T``). Reset before (v3):

    gxs = Wi * x_t      ghs = Wh * h
    r = σ(gate(gxs, o, 1) + gate(ghs, o, 1) + gate(b, o, 1))     z likewise with 2
    h̃ = tanh(gate(gxs, o, 3) + Wh_h * (r .* h) + gate(b, o, 3))
    h′ = (1 - z) .* h̃ + z .* h

x (D, N, T), h0 (H, N) -> h (H, N, T). Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_sign": "wrong_sign",                            # Δz = Δh .* (h̃ - h)
    "dh_tilde_no_tanh_grad": "derivative_missing",            # Δh̃_pre = Δh̃
    "dr_grad_at_z": "derivative_wrong_point",           # Δr_pre = Δr .* z .* (1 - z)
    "tanh_grad_power_typo": "derivative_miswritten",    # 1 .- h̃ .* 2 (Julia's h̃.^2 typed h̃.*2)
    "Wh_h_adjoint_forgotten": "weight_transposed",      # Δrh = Wh_h * Δh̃_pre (no ')
    "rh_path_reads_r_rows": "wrong_weight",             # Δrh = gate(Wh, o, 1)' * Δh̃_pre (r's rows of Wh for Wh_h)
    "dWh_h_with_z": "wrong_value",                      # ΔWh_h += Δh̃_pre * (z .* h)' (z read for r)
    "carry_not_added": "carry_dropped",                 # Δh = Δhs[:, :, t]
    "loop_T_to_2": "loop_skips_step",                   # for t in T:-1:2 (1-based): step 0 never visited
    "db_mean_over_batch": "reduction_scaled",           # Δb = mean(Δgx, dims=2)
    "dWh_h_transposed": "gradient_transposed",          # ΔWh_h += (r .* h) * Δh̃_pre'
    "forward_reset_after": "forward_mistake",           # forward h̃ = tanh(gx3 + r .* (Wh_h * h) + b3) (GRUCell v1 form); backward consistent
    "clipnorm_dWi": "gradient_clipped",                 # ClipNorm(1.0) on ΔWi inside the backward
    "h_buffer_dot_assign": "inplace_corruption",        # h .= h_new into one buffer that every step cached: all cached h are the last
    "dz_sign_and_no_carry": "unknown",                  # two at once: Δz_sign and carry_not_added
}

TOUCHES = {
    "dz_sign": "z",
    "dh_tilde_no_tanh_grad": "rn",
    "dr_grad_at_z": "r",
    "tanh_grad_power_typo": "rn",
    "Wh_h_adjoint_forgotten": "r",
    "rh_path_reads_r_rows": "r",
    "dWh_h_with_z": "n",
    "carry_not_added": "",
    "loop_T_to_2": "",
    "db_mean_over_batch": "",
    "dWh_h_transposed": "n",
    "forward_reset_after": "",
    "clipnorm_dWi": "",
    "h_buffer_dot_assign": "",
    "dz_sign_and_no_carry": "z",
}


def σ(v):
    return 1 / (1 + np.exp(-v))


def gate(x, o, k):
    """Julia's gate(x, h, n) = x[gate(h, n)]: the k-th (1-based) block of o rows."""
    return x[(k - 1) * o:k * o]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def cell(h, x, Wi, Wh, b, Wh_h):
        o = h.shape[0]
        bc = b[:, None]
        gxs, ghs = Wi @ x, Wh @ h
        r = σ(gate(gxs, o, 1) + gate(ghs, o, 1) + gate(bc, o, 1))
        z = σ(gate(gxs, o, 2) + gate(ghs, o, 2) + gate(bc, o, 2))
        if bug == "forward_reset_after":
            h̃ = np.tanh(gate(gxs, o, 3) + r * (Wh_h @ h) + gate(bc, o, 3))
        else:
            h̃ = np.tanh(gate(gxs, o, 3) + Wh_h @ (r * h) + gate(bc, o, 3))
        return (1 - z) * h̃ + z * h, (r, z, h̃)

    def forward(x, h0, Wi, Wh, b, Wh_h):
        T = x.shape[2]
        hs = np.zeros(h0.shape + (T,), dtype=x.dtype)
        h, states, cached = h0, [], []
        buf = h0.copy()
        for t in range(T):
            h_new, gates = cell(h, x[:, :, t], Wi, Wh, b, Wh_h)
            cached.append(h)
            if bug == "h_buffer_dot_assign":
                buf[...] = h_new                            # h .= h_new
                h = buf
            else:
                h = h_new
            hs[:, :, t] = h_new
            states.append(gates)
        return hs, (x, cached, states, Wi, Wh, Wh_h)

    def backward(Δhs, cache):
        x, cached, states, Wi, Wh, Wh_h = cache
        o, N, T = Δhs.shape
        ΔWi, ΔWh, ΔWh_h = np.zeros_like(Wi), np.zeros_like(Wh), np.zeros_like(Wh_h)
        Δb = np.zeros(3 * o, dtype=Δhs.dtype)
        Δx = np.zeros_like(x)
        Δh_next = np.zeros((o, N), dtype=Δhs.dtype)
        for t in (range(T - 1, 0, -1) if bug == "loop_T_to_2" else range(T - 1, -1, -1)):
            h, (r, z, h̃) = cached[t], states[t]
            Δh = Δhs[:, :, t] if bug in ("carry_not_added", "dz_sign_and_no_carry") else Δhs[:, :, t] + Δh_next
            Δh̃ = Δh * (1 - z)
            Δz = Δh * ((h̃ - h) if bug in ("dz_sign", "dz_sign_and_no_carry") else (h - h̃))
            if bug == "dh_tilde_no_tanh_grad":
                Δh̃_pre = Δh̃
            elif bug == "tanh_grad_power_typo":
                Δh̃_pre = Δh̃ * (1 - h̃ * 2)
            else:
                Δh̃_pre = Δh̃ * (1 - h̃ ** 2)
            if bug == "forward_reset_after":
                Δhn = Δh̃_pre * r
                Δr = Δh̃_pre * (Wh_h @ h)
                Δh_prev = Δh * z + Wh_h.T @ Δhn
            else:
                if bug == "Wh_h_adjoint_forgotten":
                    Δrh = Wh_h @ Δh̃_pre
                elif bug == "rh_path_reads_r_rows":
                    Δrh = gate(Wh, o, 1).T @ Δh̃_pre
                else:
                    Δrh = Wh_h.T @ Δh̃_pre
                Δr = Δrh * h
                Δh_prev = Δh * z + Δrh * r
            Δr_pre = Δr * (z * (1 - z) if bug == "dr_grad_at_z" else r * (1 - r))
            Δz_pre = Δz * z * (1 - z)
            Δgx = np.concatenate([Δr_pre, Δz_pre, Δh̃_pre])
            Δgh = np.concatenate([Δr_pre, Δz_pre])
            ΔWi += Δgx @ x[:, :, t].T
            ΔWh += Δgh @ h.T
            if bug == "forward_reset_after":
                ΔWh_h += Δhn @ h.T
            elif bug == "dWh_h_with_z":
                ΔWh_h += Δh̃_pre @ (z * h).T
            elif bug == "dWh_h_transposed":
                ΔWh_h += (r * h) @ Δh̃_pre.T
            else:
                ΔWh_h += Δh̃_pre @ (r * h).T
            Δb += Δgx.mean(axis=1) if bug == "db_mean_over_batch" else Δgx.sum(axis=1)
            Δx[:, :, t] = Wi.T @ Δgx
            Δh_next = Δh_prev + Wh.T @ Δgh
        if bug == "clipnorm_dWi":
            norm = np.sqrt(np.sum(ΔWi ** 2))
            if norm > 1.0:
                ΔWi = ΔWi / norm
        return Δx, Δh_next, ΔWi, ΔWh, Δb, ΔWh_h

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"Wi": p["weight_ih"], "Wh": p["weight_hh"][:2 * H], "b": p["bias_ih"] + p["bias_hh"],
            "Wh_h": p["weight_hh"][2 * H:]}


def to_canonical(cell, grads, p):
    out = {}
    if "dWi" in grads:
        out["dweight_ih"] = grads["dWi"]
    if "dWh" in grads and "dWh_h" in grads:
        out["dweight_hh"] = np.concatenate([grads["dWh"], grads["dWh_h"]])
    if "db" in grads:
        out["dbias_ih"] = grads["db"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="flux_gru", cells=("gru",), axes="DNT",
                               gate_order="rzh", gate_letters={"h": "n"})

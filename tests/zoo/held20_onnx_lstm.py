"""An LSTM written straight from the ONNX operator spec (opset 7+, one direction, layout=0):
X (seq_length, batch, input_size) time-major, W (4H, D) and R (4H, H) with the gate blocks
in ONNX's order i, o, f, c, B (8H,) = [Wb, Rb], the spec's names (it, ot, ft, ct for the
candidate, Ct for the cell state, Ht) and its equations, applied per gate block:

    it = s(Xt Wi^T + Ht-1 Ri^T + Wbi + Rbi)      ft, ot alike       ct = tanh(... c blocks ...)
    Ct = ft * Ct-1 + it * ct                      Ht = ot * tanh(Ct)

initial_h, initial_c (N, H). Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "dot_with_candidate": "wrong_value",                # dot = dHt * tanh(ct): the candidate ct read for the cell state Ct
    "dcand_tanh_at_cell": "derivative_wrong_point",     # (1 - Ct ** 2) for (1 - ct ** 2): tanh' at the cell state (also a wrong_value)
    "dB_Rb_half_zero": "term_dropped",                  # dB = [dWb, 0]: the Rb half of B never gets its gradient
    "backward_blocks_i_f_o_c": "gate_order",            # the gate gradients stacked i, f, o, c (the usual order) for ONNX's i, o, f, c
    "R_blocks_transposed": "weight_transposed",         # dHprev += dg @ R_g.T per gate block
    "dC_tanh_twice": "derivative_twice",                # dC = dHt * ot * (1 - tanh(Ct)^2) ** 2
    "dH_assigned_from_carry": "carry_overwrites",       # dHt = dH_next (the step's own dY[t] lost)
    "dR_with_H_t": "wrong_time",                        # dR += dg.T @ Ht (Ht for Ht-1)
    "dW_over_batch": "reduction_scaled",                # dW /= batch_size
    "truncate_every_3": "truncated_bptt",               # both carries zeroed after every 3 steps back
    "forward_identity_h": "forward_mistake",            # activations read as [Sigmoid, Tanh, Identity]: Ht = ot * Ct; backward consistent
    "lecun_tanh_slope": "unknown",                      # candidate derivative 1.7159 * 2/3 * (1 - ct^2) (LeCun's scaled tanh's constant)
    "C_buffer_shared": "inplace_corruption",            # Ct kept in one buffer C[:] = ...; every saved Ct-1 is the final C
    "dX_c_block_reads_W_f": "wrong_weight",             # dX's c block uses W's f rows
}

TOUCHES = {
    "dot_with_candidate": "o",
    "dcand_tanh_at_cell": "g",
    "dB_Rb_half_zero": "",
    "backward_blocks_i_f_o_c": "fo",
    "R_blocks_transposed": "",
    "dC_tanh_twice": "ifg",
    "dH_assigned_from_carry": "",
    "dR_with_H_t": "",
    "dW_over_batch": "",
    "truncate_every_3": "",
    "forward_identity_h": "",
    "lecun_tanh_slope": "g",
    "C_buffer_shared": "f",
    "dX_c_block_reads_W_f": "",
}

ONNX = "iofc"                                            # the block order of W, R, Wb, Rb


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def blocks(M, H):
    return {g: M[k * H:(k + 1) * H] for k, g in enumerate(ONNX)}


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(X, initial_h, initial_c, W, R, B):
        T, N, D = X.shape
        H = R.shape[1]
        Wg, Rg, Wb, Rb = blocks(W, H), blocks(R, H), blocks(B[:4 * H], H), blocks(B[4 * H:], H)
        Y, saved = np.zeros((T, N, H), dtype=X.dtype), []
        Ht, Ct = initial_h, initial_c
        C = initial_c.copy()
        for t in range(T):
            Xt = X[t]
            pre = {g: Xt @ Wg[g].T + Ht @ Rg[g].T + Wb[g] + Rb[g] for g in ONNX}
            it, ot, ft, ct = sigmoid(pre["i"]), sigmoid(pre["o"]), sigmoid(pre["f"]), np.tanh(pre["c"])
            if bug == "C_buffer_shared":
                C_prev = C
                C[:] = ft * C + it * ct
                C_new = C
            else:
                C_prev, C_new = Ct, ft * Ct + it * ct
            H_new = ot * C_new if bug == "forward_identity_h" else ot * np.tanh(C_new)
            saved.append(dict(Xt=Xt, H_prev=Ht, C_prev=C_prev, it=it, ot=ot, ft=ft, ct=ct, Ct=C_new, Ht=H_new))
            Ht, Ct = H_new, C_new
            Y[t] = Ht
        return Y, (saved, W, R, H)

    def backward(dY, cache):
        saved, W, R, H = cache
        T, N, _ = dY.shape
        Wg, Rg = blocks(W, H), blocks(R, H)
        dW, dR, dWb, dRb = np.zeros_like(W), np.zeros_like(R), np.zeros(4 * H, dY.dtype), np.zeros(4 * H, dY.dtype)
        dX = np.zeros((T, N, W.shape[1]), dtype=dY.dtype)
        dH_next, dC_next = np.zeros((N, H), dY.dtype), np.zeros((N, H), dY.dtype)
        for t in reversed(range(T)):
            s = saved[t]
            dHt = dH_next if bug == "dH_assigned_from_carry" else dY[t] + dH_next
            tanh_C = s["Ct"] if bug == "forward_identity_h" else np.tanh(s["Ct"])
            dot = dHt * (np.tanh(s["ct"]) if bug == "dot_with_candidate" else tanh_C)
            if bug == "forward_identity_h":
                dC = dC_next + dHt * s["ot"]
            elif bug == "dC_tanh_twice":
                dC = dC_next + dHt * s["ot"] * (1 - tanh_C ** 2) ** 2
            else:
                dC = dC_next + dHt * s["ot"] * (1 - tanh_C ** 2)
            dit, dft, dct = dC * s["ct"], dC * s["C_prev"], dC * s["it"]
            if bug == "dcand_tanh_at_cell":
                dtanh = 1 - s["Ct"] ** 2
            elif bug == "lecun_tanh_slope":
                dtanh = 1.7159 * 2 / 3 * (1 - s["ct"] ** 2)
            else:
                dtanh = 1 - s["ct"] ** 2
            dg = {"i": dit * s["it"] * (1 - s["it"]), "o": dot * s["ot"] * (1 - s["ot"]),
                  "f": dft * s["ft"] * (1 - s["ft"]), "c": dct * dtanh}
            order = "ifoc" if bug == "backward_blocks_i_f_o_c" else ONNX
            dgates = np.concatenate([dg[g] for g in order], axis=1)
            dW += dgates.T @ s["Xt"]
            dR += dgates.T @ (s["Ht"] if bug == "dR_with_H_t" else s["H_prev"])
            dWb += dgates.sum(axis=0)
            dRb += dgates.sum(axis=0)
            dX[t] = sum(dg[g] @ Wg["f" if (g == "c" and bug == "dX_c_block_reads_W_f") else g] for g in ONNX)
            dH_next = sum(dg[g] @ (Rg[g].T if bug == "R_blocks_transposed" else Rg[g]) for g in ONNX)
            dC_next = dC * s["ft"]
            if bug == "truncate_every_3" and (T - t) % 3 == 0:
                dH_next, dC_next = np.zeros_like(dH_next), np.zeros_like(dC_next)
        if bug == "dW_over_batch":
            dW /= N
        dB = np.concatenate([dWb, np.zeros_like(dRb) if bug == "dB_Rb_half_zero" else dRb])
        return dX, dH_next, dC_next, dW, dR, dB

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "ifgo", "iofg", 0), "R": reorder(p["weight_hh"], "ifgo", "iofg", 0),
            "B": np.concatenate([reorder(p["bias_ih"], "ifgo", "iofg", 0), reorder(p["bias_hh"], "ifgo", "iofg", 0)])}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"], "iofg", "ifgo", 0)
    if "dR" in grads:
        out["dweight_hh"] = reorder(grads["dR"], "iofg", "ifgo", 0)
    if "dB" in grads:
        half = grads["dB"].shape[0] // 2
        out["dbias_ih"] = reorder(grads["dB"][:half], "iofg", "ifgo", 0)
        out["dbias_hh"] = reorder(grads["dB"][half:], "iofg", "ifgo", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="onnx_lstm", cells=("lstm",), axes="TND",
                               gate_order="iofc", gate_letters={"c": "g"})

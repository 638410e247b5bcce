"""A GRU written by a physicist as a leaky integrator: time-major x (T, N, D), state (N, H),
W (D, 3H), R (H, 3H), b (3H,) with the blocks leak (the update gate), gate (the reset gate)
and drive (the candidate), the reset applied before the recurrent product (TF1 GRUCell,
reset_after=False), the state updated in place:

    leak = s(x W_l + state R_l + b_l)    gate = s(x W_g + state R_g + b_g)
    drive = tanh(x W_d + (gate * state) R_d + b_d)
    state <- leak * state + (1 - leak) * drive

The backward is written as the adjoint p = dL/dstate, walked back in time. Thirty-first
held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness
from harness.guard.layouts import reorder

BUGS = {
    "forward_reset_after": "forward_mistake",            # drive = tanh(x W_d + gate * (state R_d) + b_d); backward
                                                         # follows
    "gated_path_dropped": "term_dropped",                # the carry's dgs * gate term left out
    "leak_sign_flipped": "wrong_sign",                   # dl = p * (drive - prev) * l (1 - l)
    "state0_updated_in_place": "inplace_corruption",     # state = state0 (no copy), then state *= leak ...: the cached
                                                         # state0 ends as h_T
    "gate_derivative_at_leak": "derivative_wrong_point",  # dg = dgs * prev * l (1 - l) (leak's sigmoid', also
                                                          # wrong_value)
    "drive_derivative_as_sigmoid": "derivative_wrong_function",  # dd = p (1 - l) d (1 - d)
    "leak_block_for_gate_in_carry": "wrong_weight",      # dg @ R[:, :H].T in the carry (R_l for R_g)
    "R_drive_not_transposed": "weight_transposed",       # dgs = dd @ R[:, 2H:]
    "dl_with_new_state": "wrong_time",                   # dl = p * (traj[t] - d) ...: h_t for h_(t-1)
    "loop_skips_first": "loop_skips_step",               # for t in reversed(range(1, T))
    "dW_over_N": "reduction_scaled",                     # dW /= N at the end
    "adjoint_window_2": "truncated_bptt",                # invention: p propagated back only 2 steps from the end
    "blocks_gate_leak_drive": "gate_order",              # dU = [dg, dl, dd] (W's blocks are leak, gate, drive)
    "leak_sign_and_dW_over_N": "unknown",                # two mistakes: leak_sign_flipped and dW_over_N
}

TOUCHES = {                       # computed: blind_index.touched_gates(module, bug)
    "forward_reset_after": "",
    "gated_path_dropped": "",
    "leak_sign_flipped": "z",
    "state0_updated_in_place": "",
    "gate_derivative_at_leak": "r",
    "drive_derivative_as_sigmoid": "rn",
    "leak_block_for_gate_in_carry": "",
    "R_drive_not_transposed": "r",
    "dl_with_new_state": "z",
    "loop_skips_first": "",
    "dW_over_N": "",
    "adjoint_window_2": "",
    "blocks_gate_leak_drive": "rz",
    "leak_sign_and_dW_over_N": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def integrate(x, state0, W, R, b, bug=None):
    T, N, _ = x.shape
    H = state0.shape[1]
    traj = np.zeros((T, N, H), dtype=x.dtype)
    leak, gate, drive = np.zeros_like(traj), np.zeros_like(traj), np.zeros_like(traj)
    state = state0 if bug == "state0_updated_in_place" else state0.copy()
    for t in range(T):
        u = x[t] @ W + b
        leak[t] = sigmoid(u[:, :H] + state @ R[:, :H])
        gate[t] = sigmoid(u[:, H:2 * H] + state @ R[:, H:2 * H])
        if bug == "forward_reset_after":
            drive[t] = np.tanh(u[:, 2 * H:] + gate[t] * (state @ R[:, 2 * H:]))
        else:
            drive[t] = np.tanh(u[:, 2 * H:] + (gate[t] * state) @ R[:, 2 * H:])
        state *= leak[t]
        state += (1 - leak[t]) * drive[t]
        traj[t] = state
    return traj, (x, state0, W, R, leak, gate, drive, traj)


def adjoint(dtraj, memo, bug=None):
    x, state0, W, R, leak, gate, drive, traj = memo
    T, N, _ = x.shape
    H = state0.shape[1]
    dW, dR, db = np.zeros_like(W), np.zeros_like(R), np.zeros_like(W[0])
    dx = np.zeros_like(x)
    p = np.zeros_like(state0)
    first = 1 if bug == "loop_skips_first" else 0
    for t in reversed(range(first, T)):
        prev = traj[t - 1] if t > 0 else state0
        p = p + dtraj[t]
        l, g, d = leak[t], gate[t], drive[t]
        if bug in ("leak_sign_flipped", "leak_sign_and_dW_over_N"):
            dl = p * (d - prev) * l * (1 - l)
        else:
            dl = p * ((traj[t] if bug == "dl_with_new_state" else prev) - d) * l * (1 - l)
        if bug == "drive_derivative_as_sigmoid":
            dd = p * (1 - l) * d * (1 - d)
        else:
            dd = p * (1 - l) * (1 - d * d)
        R_d = R[:, 2 * H:] if bug == "R_drive_not_transposed" else R[:, 2 * H:].T
        if bug == "forward_reset_after":
            hn = prev @ R[:, 2 * H:]
            dg = dd * hn * g * (1 - g)
            dhn = dd * g
        else:
            dgs = dd @ R_d                                  # d(gate * state)
            sg = l * (1 - l) if bug == "gate_derivative_at_leak" else g * (1 - g)
            dg = dgs * prev * sg
        blocks = [dg, dl, dd] if bug == "blocks_gate_leak_drive" else [dl, dg, dd]
        dU = np.concatenate(blocks, axis=1)
        dW += x[t].T @ dU
        db += dU.sum(axis=0)
        dR[:, :H] += prev.T @ dl
        dR[:, H:2 * H] += prev.T @ dg
        if bug == "forward_reset_after":
            dR[:, 2 * H:] += prev.T @ dhn
        else:
            dR[:, 2 * H:] += (g * prev).T @ dd
        dx[t] = dU @ W.T
        R_l_for_g = R[:, :H] if bug == "leak_block_for_gate_in_carry" else R[:, H:2 * H]
        p_new = p * l + dl @ R[:, :H].T + dg @ R_l_for_g.T
        if bug == "forward_reset_after":
            p_new = p_new + dhn @ R[:, 2 * H:].T
        elif bug != "gated_path_dropped":
            p_new = p_new + dgs * g
        if bug == "adjoint_window_2" and T - t >= 2:
            p_new = np.zeros_like(p_new)
        p = p_new
    if bug in ("dW_over_N", "leak_sign_and_dW_over_N"):
        dW /= N
    return dx, p, dW, dR, db


def to_user(cell, p):
    return {"W": reorder(p["weight_ih"], "rzn", "zrn", 0).T, "R": reorder(p["weight_hh"], "rzn", "zrn", 0).T,
            "b": reorder(p["bias_ih"] + p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, grads, p):
    out = {}
    if "dW" in grads:
        out["dweight_ih"] = reorder(grads["dW"].T, "zrn", "rzn", 0)
    if "dR" in grads:
        out["dweight_hh"] = reorder(grads["dR"].T, "zrn", "rzn", 0)
    if "db" in grads:
        out["dbias_ih"] = reorder(grads["db"], "zrn", "rzn", 0)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="leaky_gru", cells=("gru",), axes="TND",
                               gate_order="lgd", gate_letters={"l": "z", "g": "r", "d": "n"},
                               names={"h": "state"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, state0, W, R, b):
        return integrate(x, state0, W, R, b, bug)

    def backward(dtraj, memo):
        return adjoint(dtraj, memo, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

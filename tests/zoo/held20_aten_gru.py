"""A GRU ported line by line from PyTorch's C++ ``gru_cell`` and its fused backward
(``_thnn_fused_gru_cell_backward``): ``igates``/``hgates`` chunked in three (r, z, n as
torch), the in-place ``add_``/``sigmoid_``/``mul_``/``tanh_`` written with numpy's ``out=``,
and a per-step ``workspace`` (N, 5H) = [rg, ig, ng, hn, hx] that the backward slices, as the
CUDA kernel does. Time-major input (T, N, D), torch's weight names, reset after:

    rg = s(i_r + h_r)   ig = s(i_z + h_z)   hn = h_n   ng = tanh(i_n + rg * hn)
    hy = (hx - ng) * ig + ng

hx (N, H), w_ih (3H, D), w_hh (3H, H), b_ih, b_hh (3H,).
Twentieth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "workspace_hn_slice_off": "wrong_value",            # hn = ws[:, 2H:3H] (ng's slice read for hn's)
    "d_hn_without_rg": "term_dropped",                  # d_hn = d_ng (the rg factor left out)
    "d_ig_sign": "wrong_sign",                          # d_ig = grad_hy * (ng - hx) * ig(1 - ig)
    "d_ng_tanh_at_hn": "derivative_wrong_point",        # (1 - hn ** 2) for (1 - ng ** 2)
    "d_rg_tanh_grad": "derivative_wrong_function",      # rg's derivative written 1 - rg ** 2
    "grad_hx_misses_direct_path": "term_dropped",       # grad_hx = grad_hidden_gates @ w_hh (grad_hy * ig left out)
    "n_chunk_weight_transposed": "weight_transposed",   # d_hn @ w_hh[2H:].T in grad_hx
    "grad_hx_from_grad_w_hh": "gradient_for_weight",    # grad_hidden_gates @ grad_w_hh (the accumulator)
    "db_hh_from_input_gates": "wrong_value",            # db_hh += grad_input_gates.sum(0) (d_ng read for d_hn: "the biases are equal")
    "carry_assigned_not_added": "carry_overwrites",     # grad_hy = carry for t < T - 1 (dy[t] lost)
    "grad_w_ih_over_T": "reduction_scaled",             # grad_w_ih / T
    "time_loop_forwards": "loop_direction",             # for t in range(T) in the backward
    "forward_add_hx_typo": "forward_mistake",           # (hx - ng).mul_(ig).add_(hx) for .add_(ng); backward consistent
    "hn_saved_after_mul_": "inplace_corruption",        # workspace takes the n chunk of hgates after its mul_(rg): rg * hn
    "no_rg_and_grad_w_ih_over_T": "unknown",            # two at once: d_hn_without_rg and grad_w_ih_over_T
}

TOUCHES = {
    "workspace_hn_slice_off": "r",
    "d_hn_without_rg": "n",
    "d_ig_sign": "z",
    "d_ng_tanh_at_hn": "rn",
    "d_rg_tanh_grad": "r",
    "grad_hx_misses_direct_path": "",
    "n_chunk_weight_transposed": "",
    "grad_hx_from_grad_w_hh": "",
    "db_hh_from_input_gates": "n",
    "carry_assigned_not_added": "",
    "grad_w_ih_over_T": "",
    "time_loop_forwards": "",
    "forward_add_hx_typo": "rn",
    "hn_saved_after_mul_": "r",
    "no_rg_and_grad_w_ih_over_T": "n",
}


def sigmoid_(a):
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)
    return a


def gru_cell(inp, hx, w_ih, w_hh, b_ih, b_hh, bug):
    H = hx.shape[1]
    igates = inp @ w_ih.T + b_ih
    hgates = hx @ w_hh.T + b_hh
    ci = [igates[:, k * H:(k + 1) * H] for k in range(3)]
    ch = [hgates[:, k * H:(k + 1) * H] for k in range(3)]
    hn = ch[2] if bug == "hn_saved_after_mul_" else ch[2].copy()
    reset_gate = sigmoid_(np.add(ch[0], ci[0], out=ch[0]))
    input_gate = sigmoid_(np.add(ch[1], ci[1], out=ch[1]))
    new_gate = np.tanh(ci[2] + np.multiply(ch[2], reset_gate, out=ch[2]))
    hy = (hx - new_gate) * input_gate + (hx if bug == "forward_add_hx_typo" else new_gate)
    workspace = np.concatenate([reset_gate, input_gate, new_gate, hn, hx], axis=1)
    return hy, workspace


def gru_cell_backward(grad_hy, ws, bug):
    H = grad_hy.shape[1]
    rg, ig, ng, hx = ws[:, :H], ws[:, H:2 * H], ws[:, 2 * H:3 * H], ws[:, 4 * H:]
    hn = ws[:, 2 * H:3 * H] if bug == "workspace_hn_slice_off" else ws[:, 3 * H:4 * H]
    d_ig = grad_hy * ((ng - hx) if bug == "d_ig_sign" else (hx - ng)) * ig * (1 - ig)
    one_minus_ig = (1 - ig) if bug != "forward_add_hx_typo" else -ig
    d_ng = grad_hy * one_minus_ig * (1 - (hn if bug == "d_ng_tanh_at_hn" else ng) ** 2)
    d_hn = d_ng if bug in ("d_hn_without_rg", "no_rg_and_grad_w_ih_over_T") else d_ng * rg
    d_rg = d_ng * hn * ((1 - rg ** 2) if bug == "d_rg_tanh_grad" else rg * (1 - rg))
    grad_input_gates = np.concatenate([d_rg, d_ig, d_ng], axis=1)
    grad_hidden_gates = np.concatenate([d_rg, d_ig, d_hn], axis=1)
    direct = grad_hy * (ig + 1 if bug == "forward_add_hx_typo" else ig)
    return grad_input_gates, grad_hidden_gates, direct


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(input, hx, w_ih, w_hh, b_ih, b_hh):
        T = input.shape[0]
        output, workspaces = np.empty((T,) + hx.shape, dtype=input.dtype), []
        for t in range(T):
            hx, ws = gru_cell(input[t], hx, w_ih, w_hh, b_ih, b_hh, bug)
            output[t] = hx
            workspaces.append(ws)
        return output, (input, workspaces, w_ih, w_hh)

    def backward(grad_output, saved):
        input, workspaces, w_ih, w_hh = saved
        T, N, H = grad_output.shape
        grad_w_ih, grad_w_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
        grad_b_ih, grad_b_hh = np.zeros(3 * H, grad_output.dtype), np.zeros(3 * H, grad_output.dtype)
        grad_input = np.zeros_like(input)
        grad_hx = np.zeros((N, H), grad_output.dtype)
        for t in (range(T) if bug == "time_loop_forwards" else reversed(range(T))):
            if bug == "carry_assigned_not_added" and t < T - 1:
                grad_hy = grad_hx
            else:
                grad_hy = grad_output[t] + grad_hx
            gi, gh, direct = gru_cell_backward(grad_hy, workspaces[t], bug)
            hx = workspaces[t][:, 4 * H:]
            grad_w_ih += gi.T @ input[t]
            grad_w_hh += gh.T @ hx
            grad_b_ih += gi.sum(axis=0)
            grad_b_hh += (gi if bug == "db_hh_from_input_gates" else gh).sum(axis=0)
            grad_input[t] = gi @ w_ih
            if bug == "n_chunk_weight_transposed":
                back = gh[:, :2 * H] @ w_hh[:2 * H] + gh[:, 2 * H:] @ w_hh[2 * H:].T
            elif bug == "grad_hx_from_grad_w_hh":
                back = gh @ grad_w_hh
            else:
                back = gh @ w_hh
            grad_hx = back if bug == "grad_hx_misses_direct_path" else back + direct
        if bug in ("grad_w_ih_over_T", "no_rg_and_grad_w_ih_over_T"):
            grad_w_ih /= T
        return grad_input, grad_hx, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}


def to_user(cell, p):
    return {"w_ih": p["weight_ih"], "w_hh": p["weight_hh"], "b_ih": p["bias_ih"], "b_hh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dw_ih": "dweight_ih", "dw_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="aten_gru", cells=("gru",), axes="TND",
                               gate_order="rzn")

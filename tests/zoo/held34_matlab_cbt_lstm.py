"""An LSTM ported from a MATLAB custom-layer file (``myLSTMLayer.m``): data in MATLAB's "CBT"
format (channels, batch, time: x (D, N, T)), states (H, N), the layer's learnables in a
struct (InputWeights (4H, D), RecurrentWeights (4H, H), Bias (4H, 1), gates stacked i, f, g, o
as MATLAB's lstmLayer does) and a ForgetGateOffset property (1) added to the forget gate's
pre-activation. The port keeps MATLAB's habits: a 1-based block helper
``idx = @(k) (k-1)*nh+1 : k*nh`` (here ``idx(k)`` returns the matching slice), states
preallocated as (H, N, T + 1) with page 1 holding H0 / C0, gate activations in one
preallocated (4H, N, T) array, vertcat to stack the gate gradients, and a struct of
gradients out of the backward.

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

import harness

FORGET_GATE_OFFSET = 1.0

BUGS = {
    "vertcat_f_g_swapped": "gate_order",                # dG = [dI; dG_; dF; dO] for [dI; dF; dG_; dO]
    "dF_C_page_t_plus_1": "wrong_time",                 # dF from Cs(:, :, t + 1), c_t, for c_(t-1)
    "offset_not_added": "forget_bias",                  # f = sigmoid(Z(idx(2), :)): ForgetGateOffset lost
    "dtanh_at_c": "derivative_wrong_point",             # (1 - c.^2) for (1 - tanh(c).^2)
    "dCn_without_f": "derivative_missing",              # dCn = dc
    "R_block_3_for_2": "wrong_weight",                  # R(idx(3), :)' * dF in dHn
    "dR_over_T": "reduction_scaled",                    # dR = dR / T at the end
    "dGc_sigmoid_grad": "derivative_wrong_function",    # dc .* i .* g .* (1 - g) for the tanh candidate
    "tanhC_end_hoisted": "wrong_time",                  # tc = tanh(Cs(:, :, end)) once, before the loop
    "dCn_zeros_in_loop": "carry_dropped",               # dCn = zeros(nh, m) moved inside the loop
    "dW_assigned": "carry_overwrites",                  # dW = dGates * X(:, :, t)'
    "for_t_1_to_T": "loop_direction",                   # for t = 1:T
    "h_o_times_c": "forward_mistake",                   # Hs = o .* c (tanh forgotten), backward with it
    "dX_from_dW": "gradient_for_weight",                # dX(:, :, t) = dW' * dGates
    "dHn_without_o_block": "term_dropped",              # dHn without its R(idx(4), :)' * dO term
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "vertcat_f_g_swapped": "fg",
    "dF_C_page_t_plus_1": "f",
    "offset_not_added": "",
    "dtanh_at_c": "ifg",
    "dCn_without_f": "",
    "R_block_3_for_2": "",
    "dR_over_T": "",
    "dGc_sigmoid_grad": "g",
    "tanhC_end_hoisted": "",
    "dCn_zeros_in_loop": "",
    "dW_assigned": "",
    "for_t_1_to_T": "",
    "h_o_times_c": "",
    "dX_from_dW": "",
    "dHn_without_o_block": "",
}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))                                 # 1 ./ (1 + exp(-z))


def block(nh):
    """idx = @(k) (k-1)*nh+1 : k*nh  ->  idx(k) the k-th gate's rows (k = 1..4)."""
    return lambda k: slice((k - 1) * nh, k * nh)


def lstm_forward(X, H0, C0, layer, bug=None):
    """[Y, C, memory] = forward(layer, X, H0, C0): X (D, N, T) -> Y (H, N, T), C (H, N, T)."""
    W, R, b = layer["InputWeights"], layer["RecurrentWeights"], layer["Bias"]
    nh = R.shape[1]
    _nx, m, T = X.shape
    idx = block(nh)
    Hs = np.zeros((nh, m, T + 1), dtype=X.dtype)
    Cs = np.zeros((nh, m, T + 1), dtype=X.dtype)
    G = np.zeros((4 * nh, m, T), dtype=X.dtype)
    Hs[:, :, 0] = H0                                           # Hs(:, :, 1) = H0
    Cs[:, :, 0] = C0
    offset = 0.0 if bug == "offset_not_added" else FORGET_GATE_OFFSET
    for t in range(1, T + 1):
        Z = W @ X[:, :, t - 1] + R @ Hs[:, :, t - 1] + b
        G[idx(1), :, t - 1] = sigmoid(Z[idx(1), :])
        G[idx(2), :, t - 1] = sigmoid(Z[idx(2), :] + offset)
        G[idx(3), :, t - 1] = np.tanh(Z[idx(3), :])
        G[idx(4), :, t - 1] = sigmoid(Z[idx(4), :])
        i, f, g, o = (G[idx(k), :, t - 1] for k in (1, 2, 3, 4))
        Cs[:, :, t] = f * Cs[:, :, t - 1] + i * g
        if bug == "h_o_times_c":
            Hs[:, :, t] = o * Cs[:, :, t]
        else:
            Hs[:, :, t] = o * np.tanh(Cs[:, :, t])
    memory = {"X": X, "Hs": Hs, "Cs": Cs, "G": G, "W": W, "R": R, "b": b}
    return Hs[:, :, 1:], Cs[:, :, 1:], memory


def lstm_backward(dY, memory, bug=None):
    """grads = backward(layer, dY, memory): dY (H, N, T) -> struct dx, dh0, dc0, dInputWeights, ..."""
    X, Hs, Cs, G, W, R, b = (memory[k] for k in ("X", "Hs", "Cs", "G", "W", "R", "b"))
    nh = R.shape[1]
    _nx, m, T = X.shape
    idx = block(nh)
    dX = np.zeros(X.shape, dtype=dY.dtype)
    dW, dR, db = np.zeros_like(W), np.zeros_like(R), np.zeros_like(b)
    dHn = np.zeros((nh, m), dtype=dY.dtype)
    dCn = np.zeros((nh, m), dtype=dY.dtype)
    if bug == "tanhC_end_hoisted":
        tc = np.tanh(Cs[:, :, -1])                             # tc = tanh(Cs(:, :, end))
    steps = range(1, T + 1) if bug == "for_t_1_to_T" else range(T, 0, -1)
    for t in steps:
        if bug == "dCn_zeros_in_loop":
            dCn = np.zeros((nh, m), dtype=dY.dtype)
        i, f, g, o = (G[idx(k), :, t - 1] for k in (1, 2, 3, 4))
        c, cp = Cs[:, :, t], Cs[:, :, t - 1]
        if bug != "tanhC_end_hoisted":
            tc = np.tanh(c)
        dh = dY[:, :, t - 1] + dHn
        if bug == "dtanh_at_c":
            dtc = 1 - c ** 2
        elif bug == "h_o_times_c":
            dtc = 1
        else:
            dtc = 1 - tc ** 2
        dc = dCn + dh * o * dtc
        dI = dc * g * i * (1 - i)
        dF = dc * (c if bug == "dF_C_page_t_plus_1" else cp) * f * (1 - f)
        dGc = dc * i * (g * (1 - g) if bug == "dGc_sigmoid_grad" else 1 - g ** 2)
        dO = dh * (c if bug == "h_o_times_c" else tc) * o * (1 - o)
        if bug == "vertcat_f_g_swapped":
            dGates = np.vstack([dI, dGc, dF, dO])
        else:
            dGates = np.vstack([dI, dF, dGc, dO])                 # dGates = [dI; dF; dGc; dO]
        if bug == "dW_assigned":
            dW = dGates @ X[:, :, t - 1].T
        else:
            dW = dW + dGates @ X[:, :, t - 1].T
        dR = dR + dGates @ Hs[:, :, t - 1].T
        db = db + dGates.sum(axis=1, keepdims=True)             # sum(dGates, 2)
        dX[:, :, t - 1] = (dW if bug == "dX_from_dW" else W).T @ dGates
        R2 = R[idx(3), :] if bug == "R_block_3_for_2" else R[idx(2), :]
        dHn = R[idx(1), :].T @ dI + R2.T @ dF + R[idx(3), :].T @ dGc
        if bug != "dHn_without_o_block":
            dHn = dHn + R[idx(4), :].T @ dO
        dCn = dc if bug == "dCn_without_f" else dc * f
    if bug == "dR_over_T":
        dR = dR / T
    return {"dx": dX, "dh0": dHn, "dc0": dCn, "dInputWeights": dW, "dRecurrentWeights": dR, "dBias": db}


def to_user(cell, p):
    """Canonical torch LSTM (i, f, g, o, as MATLAB's) -> the layer's learnables."""
    return {"InputWeights": np.array(p["weight_ih"]), "RecurrentWeights": np.array(p["weight_hh"]),
            "Bias": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if "dInputWeights" in g:
        out["dweight_ih"] = g["dInputWeights"]
    if "dRecurrentWeights" in g:
        out["dweight_hh"] = g["dRecurrentWeights"]
    if "dBias" in g:
        out["dbias_ih"] = g["dBias"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="matlab_cbt_lstm", cells=("lstm",), axes="DNT",
                               weights_as="dict", forward_returns=("h", "c", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_forward, bug=bug), partial(lstm_backward, bug=bug),
            {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_GATE_OFFSET})

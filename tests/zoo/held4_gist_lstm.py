"""An LSTM written like Karpathy's batched-LSTM gist (lstm.py): time-major X (n, b, input_size),
one matrix WLSTM (1 + input_size + d, 4d) whose first row is the bias, on Hin = [1, x_t, prevh],
gate columns I, F, O, G, and every intermediate kept in a preallocated (n, b, .) array:

    IFOG[t] = Hin[t] @ WLSTM
    IFOGf[t, :, :3d] = sigmoid(IFOG[t, :, :3d]);  IFOGf[t, :, 3d:] = tanh(IFOG[t, :, 3d:])
    C[t] = I * G + F * prevc;  Ct[t] = tanh(C[t]);  Hout[t] = O * Ct[t]

The gist's signature is forward(X, WLSTM, c0, h0); here the states come first, as the check
calls it: forward(X, h0, c0, WLSTM) -> (Hout, C[n-1], Hout[n-1], cache). The backward returns
the gist's four gradients as a dict (dX, dWLSTM, dc0, dh0); it names the gates' gradients dI,
dF, dO, dG and stacks them. Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dF_with_C_t": "wrong_time",                          # dF = C[t] * dC[t] for t > 0 (C[t] for C[t-1])
    "dO_with_C_not_tanh": "derivative_wrong_point",       # dO = C[t] * dHout[t], not Ct[t] = tanh(C[t])
    "dC_tanh_backprop_without_O": "term_dropped",         # dC[t] += (1 - Ct**2) * dHout[t]: the factor O left out
    "dWLSTM_assigned": "carry_overwrites",                # dWLSTM = np.dot(Hin[t].T, dIFOG[t]) (= for +=)
    "dC_carry_line_missing": "carry_dropped",             # dC[t-1] += F * dC[t] left out
    "sigmoid_grad_on_all_four": "derivative_wrong_function",  # y = IFOGf[t] (all four blocks): G gets sigmoid'
    "dX_slice_off_by_one": "wrong_value",                 # dX[t] = dHin[t, :, 0:input_size] (the bias column in, the last x out);
                                                          # relabelled from "unknown": other zoos label this slice wrong_value
    "dWLSTM_over_batch": "reduction_scaled",              # dWLSTM /= b
    "backward_loop_forward_in_time": "loop_direction",    # for t in range(n)
    "dHout_carry_clipped": "gradient_clipped",            # the carried dHout[t-1] clipped to [-1, 1]
    "forward_cell_without_forget": "forward_mistake",     # C[t] = I * G + prevc; backward consistent (dF = 0)
    "dIFOG_stacked_i_f_g_o": "gate_order",                # np.hstack([dI, dF, dG, dO]) for columns I, F, O, G
    "dI_sigmoid_grad_twice": "derivative_twice",          # dI = G * dC[t] * I * (1 - I), and y * (1 - y) again below
    "dC_prev_uses_I": "wrong_value",                      # dC[t-1] += I * dC[t]: another gate's value for F
    #   (labelled "unknown" by its author for want of a cause; wrong_value was added after held4's first run)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "dF_with_C_t": "",
    "dO_with_C_not_tanh": "o",
    "dC_tanh_backprop_without_O": "ifg",
    "dWLSTM_assigned": "",
    "dC_carry_line_missing": "",
    "sigmoid_grad_on_all_four": "g",
    "dX_slice_off_by_one": "",
    "dWLSTM_over_batch": "",
    "backward_loop_forward_in_time": "",
    "dHout_carry_clipped": "",
    "forward_cell_without_forget": "",
    "dIFOG_stacked_i_f_g_o": "go",
    "dI_sigmoid_grad_twice": "i",
    "dC_prev_uses_I": "",
}


def lstm_forward(X, h0, c0, WLSTM, bug=None):
    n, b, input_size = X.shape
    d = WLSTM.shape[1] // 4
    xphpb = WLSTM.shape[0]
    Hin = np.zeros((n, b, xphpb), dtype=X.dtype)
    Hout = np.zeros((n, b, d), dtype=X.dtype)
    IFOG = np.zeros((n, b, d * 4), dtype=X.dtype)
    IFOGf = np.zeros((n, b, d * 4), dtype=X.dtype)
    C = np.zeros((n, b, d), dtype=X.dtype)
    Ct = np.zeros((n, b, d), dtype=X.dtype)
    for t in range(n):
        prevh = Hout[t - 1] if t > 0 else h0
        Hin[t, :, 0] = 1
        Hin[t, :, 1:input_size + 1] = X[t]
        Hin[t, :, input_size + 1:] = prevh
        IFOG[t] = Hin[t].dot(WLSTM)
        IFOGf[t, :, :3 * d] = 1.0 / (1.0 + np.exp(-IFOG[t, :, :3 * d]))
        IFOGf[t, :, 3 * d:] = np.tanh(IFOG[t, :, 3 * d:])
        prevc = C[t - 1] if t > 0 else c0
        if bug == "forward_cell_without_forget":
            C[t] = IFOGf[t, :, :d] * IFOGf[t, :, 3 * d:] + prevc
        else:
            C[t] = IFOGf[t, :, :d] * IFOGf[t, :, 3 * d:] + IFOGf[t, :, d:2 * d] * prevc
        Ct[t] = np.tanh(C[t])
        Hout[t] = IFOGf[t, :, 2 * d:3 * d] * Ct[t]
    cache = {"WLSTM": WLSTM, "Hout": Hout, "IFOGf": IFOGf, "IFOG": IFOG, "C": C, "Ct": Ct, "Hin": Hin,
             "c0": c0, "h0": h0}
    return Hout, C[t], Hout[t], cache


def lstm_backward(dHout_in, cache, bug=None):
    WLSTM, Hout, IFOGf, C, Ct, Hin, c0 = (cache[k] for k in ("WLSTM", "Hout", "IFOGf", "C", "Ct", "Hin", "c0"))
    n, b, d = Hout.shape
    input_size = WLSTM.shape[0] - d - 1
    dIFOG = np.zeros(IFOGf.shape, dtype=dHout_in.dtype)
    dWLSTM = np.zeros(WLSTM.shape, dtype=dHout_in.dtype)
    dHin = np.zeros(Hin.shape, dtype=dHout_in.dtype)
    dC = np.zeros(C.shape, dtype=dHout_in.dtype)
    dX = np.zeros((n, b, input_size), dtype=dHout_in.dtype)
    dh0 = np.zeros((b, d), dtype=dHout_in.dtype)
    dc0 = np.zeros((b, d), dtype=dHout_in.dtype)
    dHout = dHout_in.copy()
    for t in (range(n) if bug == "backward_loop_forward_in_time" else reversed(range(n))):
        I, F, O, G = (IFOGf[t, :, k * d:(k + 1) * d] for k in range(4))
        tanhCt = Ct[t]
        dO = (C[t] if bug == "dO_with_C_not_tanh" else tanhCt) * dHout[t]
        # backprop tanh non-linearity first then continue backprop
        if bug == "dC_tanh_backprop_without_O":
            dC[t] += (1 - tanhCt ** 2) * dHout[t]
        else:
            dC[t] += (1 - tanhCt ** 2) * (O * dHout[t])
        if t > 0:
            dF = (C[t] if bug == "dF_with_C_t" else C[t - 1]) * dC[t]
            if bug == "dC_prev_uses_I":
                dC[t - 1] += I * dC[t]
            elif bug != "dC_carry_line_missing":
                dC[t - 1] += (1 if bug == "forward_cell_without_forget" else F) * dC[t]
        else:
            dF = c0 * dC[t]
            dc0 = (1 if bug == "forward_cell_without_forget" else F) * dC[t]
        if bug == "forward_cell_without_forget":
            dF = np.zeros_like(dF)
        dI = G * dC[t]
        if bug == "dI_sigmoid_grad_twice":
            dI = dI * I * (1 - I)
        dG = I * dC[t]
        # backprop activation functions
        if bug == "sigmoid_grad_on_all_four":
            y = IFOGf[t]
            dIFOG[t] = (y * (1.0 - y)) * (np.hstack([dI, dF, dO, dG]))
        else:
            dIFOG[t, :, 3 * d:] = (1 - G ** 2) * dG
            y = IFOGf[t, :, :3 * d]
            dIFOG[t, :, :3 * d] = (y * (1.0 - y)) * np.hstack([dI, dF, dO])
        if bug == "dIFOG_stacked_i_f_g_o":
            dIFOG[t] = np.hstack([dIFOG[t, :, :2 * d], dIFOG[t, :, 3 * d:], dIFOG[t, :, 2 * d:3 * d]])
        # backprop matrix multiply
        if bug == "dWLSTM_assigned":
            dWLSTM = np.dot(Hin[t].transpose(), dIFOG[t])
        else:
            dWLSTM += np.dot(Hin[t].transpose(), dIFOG[t])
        dHin[t] = dIFOG[t].dot(WLSTM.transpose())
        # backprop the identity transforms into Hin
        if bug == "dX_slice_off_by_one":
            dX[t] = dHin[t, :, 0:input_size]
        else:
            dX[t] = dHin[t, :, 1:input_size + 1]
        if t > 0:
            dHout[t - 1, :] += dHin[t, :, input_size + 1:]
            if bug == "dHout_carry_clipped":
                dHout[t - 1] = np.clip(dHout[t - 1], -1.0, 1.0)
        else:
            dh0 += dHin[t, :, input_size + 1:]
    if bug == "dWLSTM_over_batch":
        dWLSTM /= b
    return {"dX": dX, "dWLSTM": dWLSTM, "dc0": dc0, "dh0": dh0}


def _ifog(w):
    """torch's blocks i, f, g, o -> the gist's I, F, O, G (columns after the transpose)."""
    i, f, g, o = np.split(w, 4)
    return np.concatenate([i, f, o, g])


def to_user(cell, p):
    bias = _ifog(p["bias_ih"] + p["bias_hh"])
    return {"WLSTM": np.concatenate([bias[None, :], _ifog(p["weight_ih"]).T, _ifog(p["weight_hh"]).T])}


def _ifgo(w):
    i, f, o, g = np.split(w, 4)
    return np.concatenate([i, f, g, o])


def to_canonical(cell, grads, p):
    if "dWLSTM" not in grads:
        return {}
    D = p["weight_ih"].shape[1]
    W = grads["dWLSTM"]
    return {"dbias_ih": _ifgo(W[0]), "dweight_ih": _ifgo(W[1:D + 1].T), "dweight_hh": _ifgo(W[D + 1:].T)}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="gist_lstm", cells=("lstm",), axes="TND",
                               gate_order="IFOG", gate_letters={"I": "i", "F": "f", "O": "o", "G": "g"},
                               forward_returns=("h", "c_last", "h_last", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(X, h0, c0, WLSTM):
        return lstm_forward(X, h0, c0, WLSTM, bug)

    def backward(dHout, cache):
        out = lstm_backward(dHout, cache, bug)
        return {"dx": out["dX"], "dWLSTM": out["dWLSTM"], "dc0": out["dc0"], "dh0": out["dh0"]}

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""An LSTM written as a torch-like ``LSTMCell`` class in NumPy: the cell owns weight_ih
(4H, D), weight_hh (4H, H), bias_ih, bias_hh (4H,), its ``__call__`` takes (hx, cx) and
chunks the gates into i, f, g, o (torch's ``gates.chunk(4, 1)``), it saves what it needs on
``self.saved`` and keeps its gradients in ``self.grad`` as torch keeps ``.grad``. The layer
runs time-major, x (T, N, D), and the cache is the cell object itself:

    gates = x @ weight_ih.T + bias_ih + hx @ weight_hh.T + bias_hh
    ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
    cy = forgetgate * cx + ingate * cellgate          hy = outgate * tanh(cy)

Sixth held-out zoo: written without reading the diagnosis. "[own]" marks mistakes of the
writer's own invention (beyond issue 8's list).
"""

import numpy as np

import harness

BUGS = {
    "dgates_cat_ifog": "gate_order",                   # dgates = cat([di, df, do, dg]) (cs231n's habit) for chunks i, f, g, o
    "dcy_tanh_grad_at_cy": "derivative_wrong_point",   # 1 - cy ** 2 for 1 - tanh(cy) ** 2
    "cellgate_sigmoid_grad": "derivative_wrong_function",  # dg * g * (1 - g)
    "outgate_grad_left_out": "derivative_missing",     # do_raw = do (no sigmoid')
    "cellgate_grad_sign": "wrong_sign",                # dg * (g ** 2 - 1)
    "dhx_from_grad_weight_hh": "gradient_for_weight",  # dhx = dgates @ self.grad["weight_hh"]
    "dcx_without_forgetgate": "term_dropped",          # dcx = dc (the factor forgetgate left out)
    "dc_ignores_dcy": "carry_dropped",                 # dc = dhy * o * (1 - tanh(cy) ** 2): the incoming dcy not added
    "saved_cx_after_update": "wrong_time",             # [own] self.cx = cy before saving: df = dc * c_t for c_(t-1)
    "grad_weight_hh_assigned": "carry_overwrites",     # self.grad["weight_hh"] = dgates.T @ hx (= for +=)
    "backward_loop_forward": "loop_direction",         # [own] for t in range(T)
    "clamp_dgates": "gradient_clipped",                # [own] np.clip(dgates, -0.05, 0.05) in every step
    "bias_grad_mean": "reduction_scaled",              # [own] grad bias = dgates.mean(0) (np.mean for np.sum)
    "forward_hy_without_tanh": "forward_mistake",      # [own] hy = outgate * cy; the backward matches it
    "saved_hx_cx_swapped": "unknown",                  # saved (x, cx, hx, ...) but unpacked (x, hx, cx, ...): two wrong reads
}

TOUCHES = {                                         # computed: blind_index.touched_gates(module, bug)
    "dgates_cat_ifog": "go",
    "dcy_tanh_grad_at_cy": "ifg",
    "cellgate_sigmoid_grad": "g",
    "outgate_grad_left_out": "o",
    "cellgate_grad_sign": "g",
    "dhx_from_grad_weight_hh": "",
    "dcx_without_forgetgate": "",
    "dc_ignores_dcy": "",
    "saved_cx_after_update": "f",
    "grad_weight_hh_assigned": "",
    "backward_loop_forward": "",
    "clamp_dgates": "",
    "bias_grad_mean": "",
    "forward_hy_without_tanh": "",
    "saved_hx_cx_swapped": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


class LSTMCell:
    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, bug=None):
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = weight_ih, weight_hh, bias_ih, bias_hh
        self.bug = bug
        self.saved = []
        self.zero_grad()

    def zero_grad(self):
        self.grad = {"weight_ih": np.zeros_like(self.weight_ih), "weight_hh": np.zeros_like(self.weight_hh),
                     "bias_ih": np.zeros_like(self.bias_ih), "bias_hh": np.zeros_like(self.bias_hh)}

    def __call__(self, input, state):
        hx, cx = state
        gates = input @ self.weight_ih.T + self.bias_ih + hx @ self.weight_hh.T + self.bias_hh
        ingate, forgetgate, cellgate, outgate = np.split(gates, 4, axis=1)
        ingate, forgetgate = sigmoid(ingate), sigmoid(forgetgate)
        cellgate, outgate = np.tanh(cellgate), sigmoid(outgate)
        cy = forgetgate * cx + ingate * cellgate
        hy = outgate * cy if self.bug == "forward_hy_without_tanh" else outgate * np.tanh(cy)
        if self.bug == "saved_cx_after_update":
            self.cx = cy
            self.saved.append((input, hx, self.cx, ingate, forgetgate, cellgate, outgate, cy))
        elif self.bug == "saved_hx_cx_swapped":
            self.saved.append((input, cx, hx, ingate, forgetgate, cellgate, outgate, cy))
        else:
            self.saved.append((input, hx, cx, ingate, forgetgate, cellgate, outgate, cy))
        return hy, cy

    def backward(self, t, dhy, dcy):
        bug = self.bug
        input, hx, cx, i, f, g, o, cy = self.saved[t]
        tanh_cy = cy if bug == "forward_hy_without_tanh" else np.tanh(cy)
        if bug == "dcy_tanh_grad_at_cy":
            dtanh = 1 - cy ** 2
        elif bug == "forward_hy_without_tanh":
            dtanh = 1
        else:
            dtanh = 1 - tanh_cy ** 2
        dc = dhy * o * dtanh if bug == "dc_ignores_dcy" else dcy + dhy * o * dtanh
        do, di, dg, df = dhy * tanh_cy, dc * g, dc * i, dc * cx
        do_raw = do if bug == "outgate_grad_left_out" else do * o * (1 - o)
        if bug == "cellgate_sigmoid_grad":
            dg_raw = dg * g * (1 - g)
        elif bug == "cellgate_grad_sign":
            dg_raw = dg * (g ** 2 - 1)
        else:
            dg_raw = dg * (1 - g ** 2)
        blocks = [di * i * (1 - i), df * f * (1 - f), dg_raw, do_raw]
        if bug == "dgates_cat_ifog":
            blocks = [blocks[0], blocks[1], blocks[3], blocks[2]]
        dgates = np.concatenate(blocks, axis=1)
        if bug == "clamp_dgates":
            dgates = np.clip(dgates, -0.05, 0.05)
        if bug == "grad_weight_hh_assigned":
            self.grad["weight_hh"] = dgates.T @ hx
        else:
            self.grad["weight_hh"] += dgates.T @ hx
        self.grad["weight_ih"] += dgates.T @ input
        dbias = dgates.mean(0) if bug == "bias_grad_mean" else dgates.sum(0)
        self.grad["bias_ih"] += dbias
        self.grad["bias_hh"] += dbias
        dinput = dgates @ self.weight_ih
        dhx = dgates @ (self.grad["weight_hh"] if bug == "dhx_from_grad_weight_hh" else self.weight_hh)
        dcx = dc if bug == "dcx_without_forgetgate" else dc * f
        return dinput, dhx, dcx


def lstm_forward(input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh, bug=None):
    """input (T, N, D), h_0, c_0 (N, H) -> output (T, N, H), the cell (the cache)."""
    cell = LSTMCell(weight_ih, weight_hh, bias_ih, bias_hh, bug)
    hx, cx = h_0, c_0
    output = []
    for t in range(input.shape[0]):
        hx, cx = cell(input[t], (hx, cx))
        output.append(hx)
    return np.stack(output), cell


def lstm_backward(grad_output, cell):
    T = grad_output.shape[0]
    cell.zero_grad()
    grad_input = np.zeros((T,) + cell.saved[0][0].shape, dtype=grad_output.dtype)
    dh = np.zeros_like(grad_output[0])
    dc = np.zeros_like(grad_output[0])
    order = range(T) if cell.bug == "backward_loop_forward" else reversed(range(T))
    for t in order:
        grad_input[t], dh, dc = cell.backward(t, grad_output[t] + dh, dc)
    g = cell.grad
    return grad_input, dh, dc, g["weight_ih"], g["weight_hh"], g["bias_ih"], g["bias_hh"]


def to_user(cell, p):
    return {k: p[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def to_canonical(cell, g, p):
    return {k: v for k, v in g.items() if k in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="lstmcell_class", cells=("lstm",), axes="TND",
                               gate_order="ifgo")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh):
        return lstm_forward(input, h_0, c_0, weight_ih, weight_hh, bias_ih, bias_hh, bug)

    return forward, lstm_backward, {"cell": "lstm", "layout": LAYOUT}

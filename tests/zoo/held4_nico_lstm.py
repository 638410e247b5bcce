"""An LSTM written like nicodjimenez's lstm.py: one example at a time, an ``LstmParam`` holding a
matrix and a bias per gate on xc = hstack(x, h_prev) (x first) with their ``*_diff``
accumulators, one ``LstmNode`` per step whose ``top_diff_is(top_diff_h, top_diff_s)`` does the
step's backward and leaves ``bottom_diff_h``/``bottom_diff_s`` for the step before:

    g = tanh(wg xc + bg)   i = sigmoid(wi xc + bi)   f = sigmoid(wf xc + bf)   o = sigmoid(wo xc + bo)
    s = g * i + s_prev * f         h = o * tanh(s)   (the original has h = s * o; this user added the tanh)

wg, wi, wf, wo (H, D + H); bg, bi, bf, bo (H,) 1-D as in the original; the cell state starts at
zero. The check's per-example convention: x (T, D, 1), h0 (H, 1) -> h (T, H, 1); the param object
is made once and reused (its weights refreshed each forward), the diffs zeroed at the start of
each backward. Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "do_uses_s_not_tanh_s": "derivative_wrong_point",     # do = s * top_diff_h (the original's, without the tanh)
    "ds_without_tanh_grad": "derivative_missing",         # ds = o * top_diff_h + top_diff_s
    "original_backward_for_tanh_forward": "unknown",      # both of the above: the original's backward kept
    "diffs_never_zeroed": "unknown",                      # the *_diff accumulators carry over from the last example
    "df_uses_s_not_s_prev": "wrong_time",                 # df = s * ds (s_t for s_t-1)
    "bottom_diff_s_without_f": "term_dropped",            # bottom_diff_s = ds: the factor f left out
    "dg_input_sigmoid_derivative": "derivative_wrong_function",  # sigmoid_derivative(g) * dg
    "sigmoid_derivative_typo": "derivative_miswritten",   # values * 1 - values (the parentheses lost: 0)
    "top_diff_h_without_bottom_diff": "carry_dropped",    # node t gets only its own dh, not node t+1's bottom_diff_h
    "loop_stops_before_node_0": "loop_skips_step",        # while idx >= 1
    "bptt_window_3": "truncated_bptt",                    # nodes more than 3 back get zero carries
    "forward_input_gate_tanh": "forward_mistake",         # i = tanh(wi xc + bi), tanh_derivative in the backward
    "dxc_wf_for_wi": "wrong_weight",                      # dxc += wf.T @ di_input
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "do_uses_s_not_tanh_s": "o",
    "ds_without_tanh_grad": "ig",
    "original_backward_for_tanh_forward": "",
    "diffs_never_zeroed": "",
    "df_uses_s_not_s_prev": "f",
    "bottom_diff_s_without_f": "",
    "dg_input_sigmoid_derivative": "g",
    "sigmoid_derivative_typo": "io",
    "top_diff_h_without_bottom_diff": "",
    "loop_stops_before_node_0": "",
    "bptt_window_3": "",
    "forward_input_gate_tanh": "",
    "dxc_wf_for_wi": "",
}


def sigmoid(x):
    return 1. / (1 + np.exp(-x))


def sigmoid_derivative(values, typo=False):
    return values * 1 - values if typo else values * (1 - values)


def tanh_derivative(values):
    return 1. - values ** 2


class LstmParam:
    def __init__(self, mem_cell_ct, x_dim, dtype):
        self.mem_cell_ct, self.x_dim = mem_cell_ct, x_dim
        concat_len = x_dim + mem_cell_ct
        for name in ("wg", "wi", "wf", "wo"):
            setattr(self, name, np.zeros((mem_cell_ct, concat_len), dtype=dtype))
        for name in ("bg", "bi", "bf", "bo"):
            setattr(self, name, np.zeros(mem_cell_ct, dtype=dtype))
        self.zero_diffs()

    def zero_diffs(self):
        for name in ("wg", "wi", "wf", "wo", "bg", "bi", "bf", "bo"):
            setattr(self, name + "_diff", np.zeros_like(getattr(self, name)))


class LstmState:
    def __init__(self, mem_cell_ct, dtype):
        self.bottom_diff_h = np.zeros(mem_cell_ct, dtype=dtype)
        self.bottom_diff_s = np.zeros(mem_cell_ct, dtype=dtype)


class LstmNode:
    def __init__(self, lstm_param, lstm_state, bug=None):
        self.state, self.param, self.bug = lstm_state, lstm_param, bug

    def bottom_data_is(self, x, s_prev, h_prev):
        p, st = self.param, self.state
        self.s_prev, self.h_prev = s_prev, h_prev
        self.bottom_diff_x = np.zeros_like(x)
        xc = np.hstack((x, h_prev))
        st.g = np.tanh(np.dot(p.wg, xc) + p.bg)
        if self.bug == "forward_input_gate_tanh":
            st.i = np.tanh(np.dot(p.wi, xc) + p.bi)
        else:
            st.i = sigmoid(np.dot(p.wi, xc) + p.bi)
        st.f = sigmoid(np.dot(p.wf, xc) + p.bf)
        st.o = sigmoid(np.dot(p.wo, xc) + p.bo)
        st.s = st.g * st.i + s_prev * st.f
        st.h = st.o * np.tanh(st.s)
        self.xc = xc

    def top_diff_is(self, top_diff_h, top_diff_s):
        p, st, bug = self.param, self.state, self.bug
        original = bug == "original_backward_for_tanh_forward"
        tanh_s = np.tanh(st.s)
        # notice that top_diff_s is carried along the constant error carousel
        if bug == "ds_without_tanh_grad" or original:
            ds = st.o * top_diff_h + top_diff_s
        else:
            ds = st.o * tanh_derivative(tanh_s) * top_diff_h + top_diff_s
        do = (st.s if bug == "do_uses_s_not_tanh_s" or original else tanh_s) * top_diff_h
        di = st.g * ds
        dg = st.i * ds
        df = (st.s if bug == "df_uses_s_not_s_prev" else self.s_prev) * ds

        # diffs w.r.t. vector inside sigma / tanh function
        typo = bug == "sigmoid_derivative_typo"
        if bug == "forward_input_gate_tanh":
            di_input = tanh_derivative(st.i) * di
        else:
            di_input = sigmoid_derivative(st.i, typo) * di
        df_input = sigmoid_derivative(st.f, typo) * df
        do_input = sigmoid_derivative(st.o, typo) * do
        if bug == "dg_input_sigmoid_derivative":
            dg_input = sigmoid_derivative(st.g) * dg
        else:
            dg_input = tanh_derivative(st.g) * dg

        # diffs w.r.t. inputs
        p.wi_diff += np.outer(di_input, self.xc)
        p.wf_diff += np.outer(df_input, self.xc)
        p.wo_diff += np.outer(do_input, self.xc)
        p.wg_diff += np.outer(dg_input, self.xc)
        p.bi_diff += di_input
        p.bf_diff += df_input
        p.bo_diff += do_input
        p.bg_diff += dg_input

        # compute bottom diff
        dxc = np.zeros_like(self.xc)
        dxc += np.dot((p.wf if bug == "dxc_wf_for_wi" else p.wi).T, di_input)
        dxc += np.dot(p.wf.T, df_input)
        dxc += np.dot(p.wo.T, do_input)
        dxc += np.dot(p.wg.T, dg_input)

        # save bottom diffs
        st.bottom_diff_s = ds if bug == "bottom_diff_s_without_f" else ds * st.f
        st.bottom_diff_h = dxc[p.x_dim:]
        self.bottom_diff_x = dxc[:p.x_dim]


class LstmNetwork:
    def __init__(self, lstm_param, bug=None):
        self.lstm_param, self.bug = lstm_param, bug
        self.lstm_node_list = []

    def x_list_add(self, x, h0):
        p = self.lstm_param
        node = LstmNode(p, LstmState(p.mem_cell_ct, x.dtype), self.bug)
        if not self.lstm_node_list:
            node.bottom_data_is(x, np.zeros(p.mem_cell_ct, dtype=x.dtype), h0)
        else:
            prev = self.lstm_node_list[-1].state
            node.bottom_data_is(x, prev.s, prev.h)
        self.lstm_node_list.append(node)

    def backprop(self, dh_list):
        """dh_list[t]: the gradient of node t's h from outside the layer."""
        if self.bug != "diffs_never_zeroed":
            self.lstm_param.zero_diffs()
        nodes = self.lstm_node_list
        idx = len(nodes) - 1
        nodes[idx].top_diff_is(dh_list[idx], np.zeros(self.lstm_param.mem_cell_ct, dtype=dh_list.dtype))
        idx -= 1
        while idx >= (1 if self.bug == "loop_stops_before_node_0" else 0):
            later = nodes[idx + 1].state
            diff_h, diff_s = later.bottom_diff_h, later.bottom_diff_s
            if self.bug == "bptt_window_3" and len(nodes) - idx > 3:
                diff_h, diff_s = np.zeros_like(diff_h), np.zeros_like(diff_s)
            if self.bug == "top_diff_h_without_bottom_diff":
                nodes[idx].top_diff_is(dh_list[idx], diff_s)
            else:
                nodes[idx].top_diff_is(dh_list[idx] + diff_h, diff_s)
            idx -= 1
        return nodes[idx + 1]


NAMES = ("wg", "wi", "wf", "wo", "bg", "bi", "bf", "bo")
GATE = {"i": 0, "f": 1, "g": 2, "o": 3}                  # torch's block of each of the user's gates


def to_user(cell, p):
    W = [np.concatenate([wi, wh], axis=1) for wi, wh in zip(np.split(p["weight_ih"], 4), np.split(p["weight_hh"], 4))]
    b = np.split(p["bias_ih"] + p["bias_hh"], 4)
    out = {"w" + k: W[GATE[k]] for k in "gifo"}
    out.update({"b" + k: b[GATE[k]] for k in "gifo"})
    return out


def to_canonical(cell, grads, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if all("dw" + k in grads for k in "ifgo"):
        out["dweight_ih"] = np.concatenate([grads["dw" + k][:, :D] for k in "ifgo"])
        out["dweight_hh"] = np.concatenate([grads["dw" + k][:, D:] for k in "ifgo"])
    if all("db" + k in grads for k in "ifgo"):
        out["dbias_ih"] = np.concatenate([grads["db" + k] for k in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="nico_lstm", cells=("lstm",), per_example=True,
                               takes_c0=False)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    held = {}

    def forward(x, h0, wg, wi, wf, wo, bg, bi, bf, bo):
        if "param" not in held:
            held["param"] = LstmParam(wg.shape[0], x.shape[1], x.dtype)
        param = held["param"]
        for name, w in zip(NAMES, (wg, wi, wf, wo, bg, bi, bf, bo)):
            setattr(param, name, w)
        net = LstmNetwork(param, bug)
        for t in range(x.shape[0]):
            net.x_list_add(x[t, :, 0], h0[:, 0])
        h = np.stack([node.state.h for node in net.lstm_node_list])[:, :, None]
        return h, net

    def backward(dh, net):
        first = net.backprop(dh[:, :, 0])
        dx = np.stack([node.bottom_diff_x for node in net.lstm_node_list])[:, :, None]
        p = net.lstm_param
        return (dx, first.state.bottom_diff_h[:, None], *(getattr(p, n + "_diff").copy() for n in NAMES))

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""torch's nn.GRU (one layer, batch_first=False) ported to NumPy as a class, by someone who
wrote it like an autograd Function: torch's names and shapes (weight_ih (3H, D), weight_hh
(3H, H), bias_ih, bias_hh (3H,), rows r, z, n), time-major input (T, N, D), hx (N, H),
reset after the recurrent product (torch's form), torch's own formula for the new state:

    gi = input_t @ weight_ih.T + bias_ih      gh = hx @ weight_hh.T + bias_hh
    i_r, i_z, i_n = gi.chunk(3)               h_r, h_z, h_n = gh.chunk(3)
    resetgate = sigmoid(i_r + h_r)   inputgate = sigmoid(i_z + h_z)
    newgate = tanh(i_n + resetgate * h_n)      hy = newgate + inputgate * (hx - newgate)

forward(input, hx, weight_ih, weight_hh, bias_ih, bias_hh) -> (output, h_n, ctx) and
backward(grad_output, ctx) -> (grad_input, grad_hx, grad_weight_ih, ...), methods of one
object that keeps the saved tensors. Fifth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "grad_bias_hh_n_without_r": "term_dropped",           # grad_bias_hh's n rows from d_newgate_pre, not times r
    "d_newgate_paren": "derivative_miswritten",           # (1 - newgate) ** 2 for 1 - newgate ** 2
    "cat_z_r_n": "gate_order",                            # the backward concatenates (z, r, n): the order of its own variables
    "d_newgate_tanh_grad_twice": "derivative_twice",      # 1 - newgate ** 2 in d_newgate and again in its pre-activation
    "d_inputgate_tanh_grad": "derivative_wrong_function",  # inputgate' as 1 - inputgate ** 2
    "W_hn_transposed": "weight_transposed",               # d_h_n @ W_hn.T in grad_hx
    "grad_input_from_grad_weight_ih": "gradient_for_weight",  # dgi @ grad_weight_ih (the running sum)
    "grad_W_hn_block_transposed": "gradient_transposed",  # grad_weight_hh[2H:] += hx.T @ d_h_n
    "range_slice_skips_last": "loop_skips_step",          # for t in range(T - 1, -1, -1)[1:]
    "saved_after_update": "wrong_time",                   # self.saved.append(...) after hx = hy: hx saved is h_t
    "forward_h_n_without_bias": "forward_mistake",        # h_n = hx @ W_hn.T (b_hn left out); backward consistent
    "backward_time_ascending": "loop_direction",          # for t in range(T)
    "clip_grad_norm_hx_0_5": "gradient_clipped",          # the carried grad_hx scaled to norm <= 0.5 each step
    "inputgate_grad_halved": "unknown",                   # d_inputgate * 0.5 (a stray constant)
    "cat_z_r_n_and_skips_last": "unknown",                # two mistakes: (z, r, n) concatenation and the slice [1:]
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "grad_bias_hh_n_without_r": "n",
    "d_newgate_paren": "rn",
    "cat_z_r_n": "rz",
    "d_newgate_tanh_grad_twice": "rn",
    "d_inputgate_tanh_grad": "z",
    "W_hn_transposed": "",
    "grad_input_from_grad_weight_ih": "",
    "grad_W_hn_block_transposed": "n",
    "range_slice_skips_last": "",
    "saved_after_update": "",
    "forward_h_n_without_bias": "",
    "backward_time_ascending": "",
    "clip_grad_norm_hx_0_5": "",
    "inputgate_grad_halved": "z",
    "cat_z_r_n_and_skips_last": "",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


class NumpyGRU:
    def __init__(self, bug=None):
        self.bug = bug

    def forward(self, input, hx, weight_ih, weight_hh, bias_ih, bias_hh):
        H = hx.shape[1]
        self.weights = (weight_ih, weight_hh)
        self.saved = []
        output = []
        for t in range(input.shape[0]):
            gi = input[t] @ weight_ih.T + bias_ih
            if self.bug == "forward_h_n_without_bias":
                gh = hx @ weight_hh.T + np.concatenate([bias_hh[:2 * H], np.zeros_like(bias_hh[2 * H:])])
            else:
                gh = hx @ weight_hh.T + bias_hh
            i_r, i_z, i_n = np.split(gi, 3, axis=1)
            h_r, h_z, h_n = np.split(gh, 3, axis=1)
            resetgate = sigmoid(i_r + h_r)
            inputgate = sigmoid(i_z + h_z)
            newgate = np.tanh(i_n + resetgate * h_n)
            hy = newgate + inputgate * (hx - newgate)
            if self.bug != "saved_after_update":
                self.saved.append((input[t], hx, resetgate, inputgate, newgate, h_n))
            hx = hy
            if self.bug == "saved_after_update":
                self.saved.append((input[t], hx, resetgate, inputgate, newgate, h_n))
            output.append(hy)
        return np.stack(output), hx, self

    def backward(self, grad_output, ctx):
        bug = self.bug
        weight_ih, weight_hh = ctx.weights
        T, N, H = grad_output.shape
        W_hr, W_hz, W_hn = np.split(weight_hh, 3, axis=0)
        grad_input = np.zeros((T, N, weight_ih.shape[1]), dtype=grad_output.dtype)
        grad_weight_ih, grad_weight_hh = np.zeros_like(weight_ih), np.zeros_like(weight_hh)
        grad_bias_ih = np.zeros(3 * H, dtype=grad_output.dtype)
        grad_bias_hh = np.zeros(3 * H, dtype=grad_output.dtype)
        grad_hx = np.zeros((N, H), dtype=grad_output.dtype)
        if bug == "backward_time_ascending":
            steps = range(T)
        elif bug in ("range_slice_skips_last", "cat_z_r_n_and_skips_last"):
            steps = range(T - 1, -1, -1)[1:]
        else:
            steps = range(T - 1, -1, -1)
        for t in steps:
            x_t, hx, resetgate, inputgate, newgate, h_n = ctx.saved[t]
            grad_hy = grad_output[t] + grad_hx
            d_inputgate = grad_hy * (hx - newgate)
            d_newgate = grad_hy * (1 - inputgate)
            if bug == "d_newgate_tanh_grad_twice":
                d_newgate = d_newgate * (1 - newgate ** 2)
            if bug == "d_newgate_paren":
                d_n = d_newgate * (1 - newgate) ** 2
            else:
                d_n = d_newgate * (1 - newgate ** 2)
            d_h_n = d_n * resetgate
            d_r = d_n * h_n * resetgate * (1 - resetgate)
            if bug == "d_inputgate_tanh_grad":
                d_z = d_inputgate * (1 - inputgate ** 2)
            else:
                d_z = d_inputgate * inputgate * (1 - inputgate)
            if bug == "inputgate_grad_halved":
                d_z = d_z * 0.5
            zrn = bug in ("cat_z_r_n", "cat_z_r_n_and_skips_last")
            dgi = np.concatenate([d_z, d_r, d_n] if zrn else [d_r, d_z, d_n], axis=1)
            dgh = np.concatenate([d_z, d_r, d_h_n] if zrn else [d_r, d_z, d_h_n], axis=1)
            grad_weight_ih += dgi.T @ x_t
            if bug == "grad_W_hn_block_transposed":
                grad_weight_hh[:2 * H] += dgh[:, :2 * H].T @ hx
                grad_weight_hh[2 * H:] += hx.T @ d_h_n
            else:
                grad_weight_hh += dgh.T @ hx
            grad_bias_ih += dgi.sum(axis=0)
            grad_bias_hh += dgh.sum(axis=0)
            if bug == "grad_bias_hh_n_without_r":
                grad_bias_hh[2 * H:] += (d_n - d_h_n).sum(axis=0)
            if bug == "forward_h_n_without_bias":
                grad_bias_hh[2 * H:] = 0
            grad_input[t] = dgi @ (grad_weight_ih if bug == "grad_input_from_grad_weight_ih" else weight_ih)
            grad_hx = grad_hy * inputgate + d_r @ W_hr + d_z @ W_hz
            grad_hx = grad_hx + d_h_n @ (W_hn.T if bug == "W_hn_transposed" else W_hn)
            if bug == "clip_grad_norm_hx_0_5":
                norm = np.sqrt((grad_hx ** 2).sum())
                if norm > 0.5:
                    grad_hx = grad_hx * (0.5 / norm)
        return grad_input, grad_hx, grad_weight_ih, grad_weight_hh, grad_bias_ih, grad_bias_hh


def to_user(cell, p):
    return {k: p[k] for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


def to_canonical(cell, grads, p):
    return {k: v for k, v in grads.items() if k in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_class_gru", cells=("gru",), axes="TND",
                               forward_returns=("h", "h_n", "cache"), gate_order="rzn", names={"h": "hx"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    gru = NumpyGRU(bug)
    return gru.forward, gru.backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

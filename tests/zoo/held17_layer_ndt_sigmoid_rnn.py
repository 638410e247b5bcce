"""A sigmoid RNN written as a small Keras-like Layer object (build once, call, backward) by
someone who holds sequences channels-first, as for a 1-D convolution: x (N, D, T), h (N, H, T).
Weights as torch stores them, W_in (H, D), W_rec (H, H), bias (H,):

    pre_t = x[:, :, t] @ W_in.T + h_{t-1} @ W_rec.T + bias
    h_t = sigmoid(pre_t)

The layer keeps the states in a list ``self.hs`` with h0 at index 0 (so h_t is hs[t + 1]).
Seventeenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "sig_grad_of_pre": "derivative_wrong_point",          # dpre = g * pre * (1 - pre): sigmoid' taken at pre, not at h
    "tanh_grad_habit": "derivative_wrong_function",       # dpre = g * (1 - h ** 2)
    "sig_grad_h_squared": "derivative_miswritten",        # dpre = g * h * (1 - h * h)
    "sig_grad_again_in_place": "derivative_twice",        # dpre *= h * (1 - h) once more on the next line
    "carry_W_rec_T": "weight_transposed",                 # dh_next = dpre @ W_rec.T (the forward used W_rec.T)
    "dW_rec_h_first": "gradient_transposed",              # dW_rec += h_prev.T @ dpre: comes out transposed
    "h_prev_is_hs_t_plus_1": "wrong_time",                # h_prev = self.hs[t + 1] in dW_rec (h_t for h_{t-1})
    "dout_divided_by_N": "reduction_scaled",              # dh = dh / N first (the loss thought a batch mean)
    "range_T_minus_1": "loop_skips_step",                 # for t in reversed(range(T - 1))
    "forward_bias_after_sigmoid": "forward_mistake",      # h = sigmoid(pre without bias) + bias; backward consistent
    "dx_from_carry_not_dpre": "wrong_value",              # dx_t = g @ W_in: the incoming gradient g read for dpre
    "clip_dW_rec_norm": "gradient_clipped",               # dW_rec rescaled to norm 0.1 at the end when larger
    "carry_decayed_0_9": "unknown",                       # dh_next = 0.9 * (dpre @ W_rec): an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "sig_grad_of_pre": "",
    "tanh_grad_habit": "",
    "sig_grad_h_squared": "",
    "sig_grad_again_in_place": "",
    "carry_W_rec_T": "",
    "dW_rec_h_first": "",
    "h_prev_is_hs_t_plus_1": "",
    "dout_divided_by_N": "",
    "range_T_minus_1": "",
    "forward_bias_after_sigmoid": "",
    "dx_from_carry_not_dpre": "",
    "clip_dW_rec_norm": "",
    "carry_decayed_0_9": "",
}


class SigmoidRNN:
    """One recurrent layer; ``call`` runs the sequence, ``backward`` the BPTT."""

    def __init__(self, W_in, W_rec, bias, bug=None):
        self.W_in, self.W_rec, self.bias, self.bug = W_in, W_rec, bias, bug

    def call(self, x, h0):
        N, D, T = x.shape
        self.x, self.hs, self.pres = x, [h0], []
        out = np.zeros((N, self.W_rec.shape[0], T), dtype=x.dtype)
        for t in range(T):
            pre = x[:, :, t] @ self.W_in.T + self.hs[-1] @ self.W_rec.T
            if self.bug == "forward_bias_after_sigmoid":
                h = 1.0 / (1.0 + np.exp(-pre)) + self.bias
            else:
                pre = pre + self.bias
                h = 1.0 / (1.0 + np.exp(-pre))
            self.pres.append(pre)
            self.hs.append(h)
            out[:, :, t] = h
        return out

    def backward(self, dh):
        bug = self.bug
        N, H, T = dh.shape
        if bug == "dout_divided_by_N":
            dh = dh / N
        dx = np.zeros_like(self.x)
        dW_in, dW_rec, dbias = np.zeros_like(self.W_in), np.zeros_like(self.W_rec), np.zeros_like(self.bias)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T - 1 if bug == "range_T_minus_1" else T)):
            g = dh[:, :, t] + dh_next
            h, pre = self.hs[t + 1], self.pres[t]
            if bug == "forward_bias_after_sigmoid":
                dbias += g.sum(axis=0)
                h = h - self.bias                          # the sigmoid's own output
            if bug == "sig_grad_of_pre":
                dpre = g * pre * (1 - pre)
            elif bug == "tanh_grad_habit":
                dpre = g * (1 - h ** 2)
            elif bug == "sig_grad_h_squared":
                dpre = g * h * (1 - h * h)
            else:
                dpre = g * h * (1 - h)
            if bug == "sig_grad_again_in_place":
                dpre *= h * (1 - h)
            h_prev = self.hs[t + 1] if bug == "h_prev_is_hs_t_plus_1" else self.hs[t]
            dW_in += dpre.T @ self.x[:, :, t]
            dW_rec += h_prev.T @ dpre if bug == "dW_rec_h_first" else dpre.T @ h_prev
            if bug != "forward_bias_after_sigmoid":
                dbias += dpre.sum(axis=0)
            dx[:, :, t] = (g if bug == "dx_from_carry_not_dpre" else dpre) @ self.W_in
            dh_next = dpre @ (self.W_rec.T if bug == "carry_W_rec_T" else self.W_rec)
            if bug == "carry_decayed_0_9":
                dh_next = 0.9 * dh_next
        if bug == "clip_dW_rec_norm":
            norm = np.linalg.norm(dW_rec)
            if norm > 0.1:
                dW_rec = dW_rec * (0.1 / norm)
        return dx, dh_next, dW_in, dW_rec, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, W_in, W_rec, bias):
        layer = SigmoidRNN(W_in, W_rec, bias, bug)
        return layer.call(x, h0), layer

    def backward(dh, layer):
        return layer.backward(dh)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}


def to_user(cell, p):
    return {"W_in": p["weight_ih"], "W_rec": p["weight_hh"], "bias": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, g, p):
    out = {q: g[u] for u, q in (("dW_in", "dweight_ih"), ("dW_rec", "dweight_hh"), ("dbias", "dbias_ih")) if u in g}
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="channels_first_layer", cells=("rnn",), axes="NDT")

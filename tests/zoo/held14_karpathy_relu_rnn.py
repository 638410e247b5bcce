"""A ReLU RNN in the karpathy layout (column vectors, one example at a time) written as a
small class: the pre-activations and the ReLU masks kept in lists, the parameter gradients
in a ``self.grads`` dict that ``backward`` zeroes and fills, and a ``dhs_total`` buffer
that every step's carry is added into:

    z_t = Wxh @ x_t + Whh @ h_(t-1) + bh      mask_t = z_t > 0      h_t = z_t * mask_t

x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H), bh (H, 1); forward(x, h0, Wxh, Whh, bh) ->
(h (T, H, 1), cache); backward(dh, cache) -> (dx, dh0, dWxh, dWhh, dbh). Checked with
activation="relu". Fourteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "grads_not_zeroed": "unknown",                       # self.grads zeroed once in __init__, never in backward: every
                                                         # example's gradient adds the earlier examples' (state kept across calls)
    "mask_from_prev_h": "wrong_time",                    # dz = dh * (hs[t - 1] > 0): the mask of h_{t-1}
    "tanh_grad_in_relu_net": "derivative_wrong_function",  # dz = dh * (1 - hs[t] ** 2), left over from min-char-rnn
    "no_mask": "derivative_missing",                     # dz = dh
    "dbh_minus": "wrong_sign",                           # grads["bh"] -= dz
    "Whh_untransposed": "weight_transposed",             # dhnext = Whh @ dz
    "carry_assigned_into_buffer": "carry_overwrites",    # dhs_total[t - 1] = Whh.T @ dz (= for +=)
    "loop_stops_at_1": "loop_skips_step",                # for t in reversed(range(1, T))
    "dWhh_with_h_t": "wrong_time",                       # grads["Whh"] += dz @ hs[t].T
    "dWhh_over_T": "reduction_scaled",                   # grads["Whh"] / T
    "forward_leaky_relu": "forward_mistake",             # h = max(z, 0.01 z), backward with the 0.01 slope: consistent
    "carry_clipped_each_step": "gradient_clipped",       # np.clip(dhnext, -0.3, 0.3) before it is carried back
    "carry_reset_every_3_steps": "truncated_bptt",       # the carry zeroed once 3 steps have been walked back (chunks of 3)
}

TOUCHES = {b: "" for b in BUGS}                          # computed: blind_index.touched_gates(module, bug) ("" for an RNN)


class ReluRNN:
    def __init__(self, bug=None):
        self.bug = bug
        self.grads = None

    def forward(self, xs, h0, Wxh, Whh, bh):
        zs, masks, hs = [], [], [h0]
        for x in xs:
            z = Wxh @ x + Whh @ hs[-1] + bh
            if self.bug == "forward_leaky_relu":
                mask = np.where(z > 0, 1.0, 0.01).astype(z.dtype)
            else:
                mask = (z > 0).astype(z.dtype)
            zs.append(z)
            masks.append(mask)
            hs.append(z * mask)
        return np.stack(hs[1:]), (xs, hs, zs, masks, (Wxh, Whh, bh))

    def backward(self, dhs, cache):
        xs, hs, zs, masks, (Wxh, Whh, bh) = cache
        hs = hs[1:] + [hs[0]]                            # hs[t - 1] at t = 0 reads h0, as in min-char-rnn's dict
        T = len(xs)
        if self.grads is None or self.bug != "grads_not_zeroed":
            self.grads = {"Wxh": np.zeros_like(Wxh), "Whh": np.zeros_like(Whh), "bh": np.zeros_like(bh)}
        g = self.grads
        dxs = np.zeros_like(xs)
        dhs_total = dhs.copy()
        dhnext = np.zeros_like(hs[0])
        first = 1 if self.bug == "loop_stops_at_1" else 0
        walked = 0
        for t in reversed(range(first, T)):
            if self.bug == "carry_assigned_into_buffer":
                dh = dhs_total[t]
            else:
                dh = dhs_total[t] + dhnext
            if self.bug == "mask_from_prev_h":
                dz = dh * (hs[t - 1] > 0)
            elif self.bug == "tanh_grad_in_relu_net":
                dz = dh * (1 - hs[t] ** 2)
            elif self.bug == "no_mask":
                dz = dh
            else:
                dz = dh * masks[t]
            if self.bug == "dbh_minus":
                g["bh"] -= dz
            else:
                g["bh"] += dz
            g["Wxh"] += dz @ xs[t].T
            g["Whh"] += dz @ (hs[t] if self.bug == "dWhh_with_h_t" else hs[t - 1]).T
            dxs[t] = Wxh.T @ dz
            dhnext = (Whh if self.bug == "Whh_untransposed" else Whh.T) @ dz
            if self.bug == "carry_clipped_each_step":
                dhnext = np.clip(dhnext, -0.3, 0.3)
            walked += 1
            if self.bug == "carry_reset_every_3_steps" and walked % 3 == 0:
                dhnext = np.zeros_like(dhnext)
            if self.bug == "carry_assigned_into_buffer" and t > 0:
                dhs_total[t - 1] = dhnext
                dhnext = np.zeros_like(dhnext)
        dWhh = g["Whh"] / T if self.bug == "dWhh_over_T" else g["Whh"]
        return dxs, dhnext, g["Wxh"].copy(), dWhh.copy(), g["bh"].copy()


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    rnn = ReluRNN(bug)
    return rnn.forward, rnn.backward, {"cell": "rnn", "layout": "karpathy", "activation": "relu"}

"""An LSTM on the built-in ``tf_kernel`` layout (TF's BasicLSTMCell with its forget_bias = 1.0,
declared to the check), written with a dict of gate values per step and a dict of gate
gradients stacked in the kernel's column order i, j, f, o:

    i, j, f, o = split(concat([x_t, h]) @ kernel + bias, 4)
    c = c * sigmoid(f + forget_bias) + sigmoid(i) * tanh(j);   h = tanh(c) * sigmoid(o)

The forward copies c0 once and then updates c in place (c *= sf; c += si * tj), keeping a
fresh copy of the previous c in each step's dict. Fourth held-out zoo: written without reading
the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_left_out": "forget_bias",                # sf = sigmoid(f): the forget bias never added
    "forget_bias_on_o_column": "forget_bias",             # sigmoid(o + forget_bias), sigmoid(f)
    "dj_sigmoid_grad": "derivative_wrong_function",       # d["j"] = dc * si * tj * (1 - tj)
    "df_with_new_c": "wrong_time",                        # d["f"] = dc * c_new * sf * (1 - sf)
    "dc_local_only_at_last_step": "carry_overwrites",     # dc = the carried dc_next, except at t = T - 1: the h path's term overwritten
    "dkernel_mean_over_time": "reduction_scaled",         # dkernel /= T
    "loop_skips_first": "loop_skips_step",                # for t in reversed(range(1, T)); dh0, dc0 the carries into step 1
    "bptt_cut_after_3": "truncated_bptt",                 # dh_next and dc_next zeroed 3 steps back
    "clip_by_global_norm_1": "gradient_clipped",          # dkernel and dbias rescaled to a global norm of 1
    "forward_c_without_input_gate": "forward_mistake",    # c = c * sf + tj; backward consistent (d["i"] = 0)
    "dgates_stacked_i_f_j_o": "gate_order",               # np.concatenate([d[k] for k in "ifjo"])
    "c_prev_aliased": "inplace_corruption",               # the step dict keeps c itself (no copy): updated in place later
    "do_with_c_prev_and_dc_without_o": "unknown",         # two mistakes: do uses tanh(c_prev), dc misses the factor so
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "forget_bias_on_o_column": "",
    "dj_sigmoid_grad": "g",
    "df_with_new_c": "f",
    "dc_local_only_at_last_step": "",
    "dkernel_mean_over_time": "",
    "loop_skips_first": "",
    "bptt_cut_after_3": "",
    "clip_by_global_norm_1": "",
    "forward_c_without_input_gate": "",
    "dgates_stacked_i_f_j_o": "fg",
    "c_prev_aliased": "f",
    "do_with_c_prev_and_dc_without_o": "",
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        N, T, D = x.shape
        h, c = h0, c0.copy()
        outputs, steps = [], []
        for t in range(T):
            xh = np.concatenate([x[:, t], h], axis=1)
            i, j, f, o = np.split(xh @ kernel + bias, 4, axis=1)
            gate = {"si": sigmoid(i), "tj": np.tanh(j)}
            if bug == "forget_bias_left_out":
                gate["sf"], gate["so"] = sigmoid(f), sigmoid(o)
            elif bug == "forget_bias_on_o_column":
                gate["sf"], gate["so"] = sigmoid(f), sigmoid(o + FORGET_BIAS)
            else:
                gate["sf"], gate["so"] = sigmoid(f + FORGET_BIAS), sigmoid(o)
            gate["c_prev"] = c if bug == "c_prev_aliased" else c.copy()
            gate["xh"] = xh
            c *= gate["sf"]
            c += gate["tj"] if bug == "forward_c_without_input_gate" else gate["si"] * gate["tj"]
            gate["c"] = c.copy()
            gate["tanh_c"] = np.tanh(c)
            h = gate["tanh_c"] * gate["so"]
            outputs.append(h)
            steps.append(gate)
        return np.stack(outputs, axis=1), (steps, kernel)

    def backward(dh, cache):
        steps, kernel = cache
        N, T, H = dh.shape
        D = kernel.shape[0] - H
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dh.dtype)
        dh_next, dc_next = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(1 if bug == "loop_skips_first" else 0, T)):
            g = steps[t]
            if bug == "bptt_cut_after_3" and T - t > 3:
                dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
            dh_t = dh[:, t] + dh_next
            dc = dc_next.copy()
            if bug == "dc_local_only_at_last_step":
                if t == T - 1:
                    dc = dh_t * g["so"] * (1 - g["tanh_c"] ** 2)
            elif bug == "do_with_c_prev_and_dc_without_o":
                dc += dh_t * (1 - g["tanh_c"] ** 2)
            else:
                dc += dh_t * g["so"] * (1 - g["tanh_c"] ** 2)
            tanh_for_o = np.tanh(g["c_prev"]) if bug == "do_with_c_prev_and_dc_without_o" else g["tanh_c"]
            d = {"o": dh_t * tanh_for_o * g["so"] * (1 - g["so"]),
                 "i": np.zeros_like(dc) if bug == "forward_c_without_input_gate" else
                 dc * g["tj"] * g["si"] * (1 - g["si"]),
                 "f": dc * (g["c"] if bug == "df_with_new_c" else g["c_prev"]) * g["sf"] * (1 - g["sf"])}
            si = 1.0 if bug == "forward_c_without_input_gate" else g["si"]
            if bug == "dj_sigmoid_grad":
                d["j"] = dc * si * g["tj"] * (1 - g["tj"])
            else:
                d["j"] = dc * si * (1 - g["tj"] ** 2)
            dgates = np.concatenate([d[k] for k in ("ifjo" if bug == "dgates_stacked_i_f_j_o" else "ijfo")], axis=1)
            dkernel += g["xh"].T @ dgates
            dbias += dgates.sum(axis=0)
            dxh = dgates @ kernel.T
            dx[:, t] = dxh[:, :D]
            dh_next = dxh[:, D:]
            dc_next = dc * g["sf"]
        if bug == "dkernel_mean_over_time":
            dkernel /= T
        if bug == "clip_by_global_norm_1":
            global_norm = np.sqrt((dkernel ** 2).sum() + (dbias ** 2).sum())
            if global_norm > 1:
                dkernel, dbias = dkernel / global_norm, dbias / global_norm
        return dx, dh_next, dc_next, dkernel, dbias

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

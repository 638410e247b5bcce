"""A Keras ``GRU`` layer (reset_after=True, its default; return_sequences=True) ported to NumPy by
hand, BPTT included, by someone reading Keras's GRUCell source. Batch-major x (N, T, D):

    kernel (D, 3H), recurrent_kernel (H, 3H), bias (2, 3H) = [input_bias, recurrent_bias],
    column blocks z, r, h (Keras's h is torch's n)
    x_z, x_r, x_h = split(x_t @ kernel + input_bias, 3)
    recurrent_z, recurrent_r, recurrent_h = split(h_tm1 @ recurrent_kernel + recurrent_bias, 3)
    z = sigmoid(x_z + recurrent_z);  r = sigmoid(x_r + recurrent_r)
    hh = tanh(x_h + r * recurrent_h);  h = z * h_tm1 + (1 - z) * hh

input_bias is torch's bias_ih and recurrent_bias its bias_hh (blocks reordered). forward(x, h0,
kernel, recurrent_kernel, bias) -> (outputs, last_output, cache); the backward returns a dict.
Fourth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "drecurrent_h_without_r": "term_dropped",             # drecurrent_h = dhh_in: the factor r left out
    "dr_recurrent_h_without_bias": "term_dropped",        # dr = dhh_in * (h_tm1 @ rk_h): recurrent_bias left out
    "dz_sigmoid_grad_of_preactivation": "derivative_wrong_point",  # dz * s * (1 - s) with s the pre-activation
    "dhh_tanh_grad_miswritten": "derivative_miswritten",  # (1 - hh) ** 2 for 1 - hh ** 2
    "drecurrent_kernel_assigned": "carry_overwrites",     # drecurrent_kernel = h_tm1.T @ dinner (= for +=)
    "dh_carry_not_added": "carry_dropped",                # dh_t = dh[:, t]; the carry from t + 1 never added
    "loop_skips_last_step": "loop_skips_step",            # for t in reversed(range(timesteps - 1))
    "drecurrent_bias_over_T": "reduction_scaled",         # dbias[1] /= timesteps (a mean over time)
    "bptt_truncated_2": "truncated_bptt",                 # the carry cut after 2 steps back
    "backward_blocks_r_z_h": "gate_order",                # dmatrix = [dr, dz, dhh]: torch's order in the backward
    "forward_z_weighs_candidate": "forward_mistake",      # h = (1 - z) * h_tm1 + z * hh; backward consistent
    "recurrent_h_times_r_in_place": "inplace_corruption",  # recurrent_h *= r in the forward: the cached one is r * recurrent_h
    "dh_tm1_through_drecurrent_kernel": "gradient_for_weight",  # dinner @ drecurrent_kernel.T (the running gradient)
    "dz_sign_and_carry_dropped": "unknown",               # two mistakes: dz sign flipped and the carry not added
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "drecurrent_h_without_r": "n",
    "dr_recurrent_h_without_bias": "r",
    "dz_sigmoid_grad_of_preactivation": "z",
    "dhh_tanh_grad_miswritten": "rn",
    "drecurrent_kernel_assigned": "",
    "dh_carry_not_added": "",
    "loop_skips_last_step": "",
    "drecurrent_bias_over_T": "",
    "bptt_truncated_2": "",
    "backward_blocks_r_z_h": "rz",
    "forward_z_weighs_candidate": "",
    "recurrent_h_times_r_in_place": "r",
    "dh_tm1_through_drecurrent_kernel": "",
    "dz_sign_and_carry_dropped": "z",
}


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gru_layer(inputs, initial_state, kernel, recurrent_kernel, bias, bug=None):
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = bias[0], bias[1]
    h_tm1, outputs, steps = initial_state, [], []
    for t in range(inputs.shape[1]):
        matrix_x = inputs[:, t] @ kernel + input_bias
        x_z, x_r, x_h = np.split(matrix_x, 3, axis=-1)
        matrix_inner = h_tm1 @ recurrent_kernel + recurrent_bias
        recurrent_z, recurrent_r, recurrent_h = np.split(matrix_inner, 3, axis=-1)
        z = sigmoid(x_z + recurrent_z)
        r = sigmoid(x_r + recurrent_r)
        if bug == "recurrent_h_times_r_in_place":
            recurrent_h *= r
            hh = np.tanh(x_h + recurrent_h)
        else:
            hh = np.tanh(x_h + r * recurrent_h)
        if bug == "forward_z_weighs_candidate":
            h = (1 - z) * h_tm1 + z * hh
        else:
            h = z * h_tm1 + (1 - z) * hh
        steps.append({"x": inputs[:, t], "h_tm1": h_tm1, "z": z, "r": r, "hh": hh,
                      "recurrent_h": recurrent_h, "pre_z": x_z + recurrent_z})
        outputs.append(h)
        h_tm1 = h
    assert units == h_tm1.shape[-1]
    return np.stack(outputs, axis=1), h_tm1, (steps, kernel, recurrent_kernel, bias)


def gru_layer_backward(dout, cache, bug=None):
    steps, kernel, recurrent_kernel, bias = cache
    batch, timesteps, units = dout.shape
    grads = {"dx": np.zeros((batch, timesteps, kernel.shape[0]), dtype=dout.dtype),
             "dkernel": np.zeros_like(kernel), "drecurrent_kernel": np.zeros_like(recurrent_kernel),
             "dbias": np.zeros_like(bias)}
    dh_next = np.zeros((batch, units), dtype=dout.dtype)
    last = timesteps - 1 if bug == "loop_skips_last_step" else timesteps
    for t in reversed(range(last)):
        s = steps[t]
        if bug in ("bptt_truncated_2", ) and timesteps - t > 2:
            dh_next = np.zeros_like(dh_next)
        if bug in ("dh_carry_not_added", "dz_sign_and_carry_dropped"):
            dh_t = dout[:, t]
        else:
            dh_t = dout[:, t] + dh_next
        if bug == "forward_z_weighs_candidate":
            dz, dhh, dh_tm1 = dh_t * (s["hh"] - s["h_tm1"]), dh_t * s["z"], dh_t * (1 - s["z"])
        elif bug == "dz_sign_and_carry_dropped":
            dz, dhh, dh_tm1 = dh_t * (s["hh"] - s["h_tm1"]), dh_t * (1 - s["z"]), dh_t * s["z"]
        else:
            dz, dhh, dh_tm1 = dh_t * (s["h_tm1"] - s["hh"]), dh_t * (1 - s["z"]), dh_t * s["z"]
        if bug == "dhh_tanh_grad_miswritten":
            dhh_in = dhh * (1 - s["hh"]) ** 2
        else:
            dhh_in = dhh * (1 - s["hh"] ** 2)
        recurrent_h = s["recurrent_h"]
        if bug == "dr_recurrent_h_without_bias":
            recurrent_h = s["h_tm1"] @ recurrent_kernel[:, 2 * units:]
        dr = dhh_in * recurrent_h
        drecurrent_h = dhh_in if bug == "drecurrent_h_without_r" else dhh_in * s["r"]
        if bug == "dz_sigmoid_grad_of_preactivation":
            dz_in = dz * s["pre_z"] * (1 - s["pre_z"])
        else:
            dz_in = dz * s["z"] * (1 - s["z"])
        dr_in = dr * s["r"] * (1 - s["r"])
        if bug == "backward_blocks_r_z_h":
            dmatrix_x = np.concatenate([dr_in, dz_in, dhh_in], axis=-1)
            dmatrix_inner = np.concatenate([dr_in, dz_in, drecurrent_h], axis=-1)
        else:
            dmatrix_x = np.concatenate([dz_in, dr_in, dhh_in], axis=-1)
            dmatrix_inner = np.concatenate([dz_in, dr_in, drecurrent_h], axis=-1)
        grads["dkernel"] += s["x"].T @ dmatrix_x
        if bug == "drecurrent_kernel_assigned":
            grads["drecurrent_kernel"] = s["h_tm1"].T @ dmatrix_inner
        else:
            grads["drecurrent_kernel"] += s["h_tm1"].T @ dmatrix_inner
        grads["dbias"][0] += dmatrix_x.sum(axis=0)
        grads["dbias"][1] += dmatrix_inner.sum(axis=0)
        grads["dx"][:, t] = dmatrix_x @ kernel.T
        if bug == "dh_tm1_through_drecurrent_kernel":
            dh_next = dh_tm1 + dmatrix_inner @ grads["drecurrent_kernel"].T
        else:
            dh_next = dh_tm1 + dmatrix_inner @ recurrent_kernel.T
    if bug == "drecurrent_bias_over_T":
        grads["dbias"][1] /= timesteps
    grads["dh0"] = dh_next
    return grads


def _zrh(a, axis=0):
    """torch's blocks r, z, n -> Keras's z, r, h (and back: the swap is its own inverse)."""
    r, z, n = np.split(a, 3, axis=axis)
    return np.concatenate([z, r, n], axis=axis)


def to_user(cell, p):
    return {"kernel": _zrh(p["weight_ih"]).T, "recurrent_kernel": _zrh(p["weight_hh"]).T,
            "bias": np.stack([_zrh(p["bias_ih"]), _zrh(p["bias_hh"])])}


def to_canonical(cell, grads, p):
    out = {}
    if "dkernel" in grads:
        out["dweight_ih"] = _zrh(grads["dkernel"].T)
    if "drecurrent_kernel" in grads:
        out["dweight_hh"] = _zrh(grads["drecurrent_kernel"].T)
    if "dbias" in grads:
        out["dbias_ih"], out["dbias_hh"] = _zrh(grads["dbias"][0]), _zrh(grads["dbias"][1])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"}, forward_returns=("h", "last_output", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, kernel, recurrent_kernel, bias):
        return gru_layer(x, h0, kernel, recurrent_kernel, bias, bug)

    def backward(dout, cache):
        return gru_layer_backward(dout, cache, bug)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A Keras ``LSTM`` layer (return_sequences=True) ported to NumPy by hand, BPTT included, by
someone reading Keras's LSTMCell source. Batch-major x (N, T, D), states [h, c]:

    kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,), column blocks i, f, c, o
    z = x_t @ kernel + h_tm1 @ recurrent_kernel + bias
    i = sigmoid(z0); f = sigmoid(z1); c = f * c_tm1 + i * tanh(z2); o = sigmoid(z3)
    h = o * tanh(c)

The forward is the packed form (implementation=2); the backward slices the kernels per gate
as Keras's implementation=1 does (k_i = kernel[:, :units], ...). Keras's c block is torch's g;
its single bias is torch's bias_ih + bias_hh. forward(x, h0, c0, kernel, recurrent_kernel,
bias) -> (outputs, [h, c], cache). Third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "forward_hard_sigmoid": "forward_mistake",            # Keras 2.0's hard_sigmoid gates; backward consistent
    "forward_o_from_c_tm1": "forward_mistake",            # h = o * tanh(c_tm1); backward consistent
    "unit_forget_bias_in_forward": "forget_bias",         # z1 + 1.0 in forward and backward, not declared
    "dz_concat_ifoc": "gate_order",                       # dz = [dz_i, dz_f, dz_o, dz_c] for blocks i, f, c, o
    "drk_with_h_t": "wrong_time",                         # drecurrent_kernel from this step's h, not h_tm1
    "rk_i_slice_for_f": "wrong_weight",                   # recurrent_kernel[:, :units] used for f in dh_tm1
    "rk_c_untransposed": "weight_transposed",             # dz_c @ rk_c (square) in dh_tm1
    "dc_no_tanh_grad": "derivative_missing",              # dc = dc_next + dh * o
    "df_sigmoid_grad_twice": "derivative_twice",          # f * (1 - f) in df and in dz_f
    "dtanh_c_reversed": "wrong_sign",                     # tanh_c ** 2 - 1
    "di_grad_typo": "derivative_miswritten",              # i * (1 - i ** 2)
    "dz_c_sigmoid_grad": "derivative_wrong_function",     # cc * (1 - cc) for the tanh block
    "drecurrent_over_N": "reduction_scaled",              # drecurrent_kernel / N, a batch mean
    "cc_squared_in_place": "inplace_corruption",          # cc **= 2 on the cached candidate; dz_i reads it
    "dx_misses_o": "term_dropped",                        # dx sums the i, f, c blocks only
    "dbias_assigned": "carry_overwrites",                 # dbias = dz.sum(0) (= for +=)
    "dh_tm1_from_drk_f": "gradient_for_weight",           # dz_f @ drecurrent_kernel[:, f].T in dh_tm1
    "states_start_at_1": "loop_skips_step",               # for t in reversed(range(1, T))
    "c_tm1_zero_at_first_step": "unknown",                # df uses zeros for c_tm1 at t = 0 (c0 ignored there only)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forward_hard_sigmoid": "",
    "forward_o_from_c_tm1": "",
    "unit_forget_bias_in_forward": "",
    "dz_concat_ifoc": "go",
    "drk_with_h_t": "",
    "rk_i_slice_for_f": "",
    "rk_c_untransposed": "",
    "dc_no_tanh_grad": "ifg",
    "df_sigmoid_grad_twice": "f",
    "dtanh_c_reversed": "ifg",
    "di_grad_typo": "i",
    "dz_c_sigmoid_grad": "g",
    "drecurrent_over_N": "",
    "cc_squared_in_place": "i",
    "dx_misses_o": "",
    "dbias_assigned": "",
    "dh_tm1_from_drk_f": "",
    "states_start_at_1": "",
    "c_tm1_zero_at_first_step": "f",
}

ORDER = "ifco"


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def hard_sigmoid(v):
    return np.clip(0.2 * v + 0.5, 0.0, 1.0)


def lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, bug=None):
    """x (N, T, D) -> outputs (N, T, H), [h, c], cache."""
    units = recurrent_kernel.shape[0]
    act = hard_sigmoid if bug == "forward_hard_sigmoid" else sigmoid
    h_tm1, c_tm1 = h0, c0
    outputs, cache = [], []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h_tm1 @ recurrent_kernel + bias
        z0, z1, z2, z3 = (z[:, k * units:(k + 1) * units] for k in range(4))
        if bug == "unit_forget_bias_in_forward":
            z1 = z1 + 1.0
        i, f, cc, o = act(z0), act(z1), np.tanh(z2), act(z3)
        c = f * c_tm1 + i * cc
        tanh_c = np.tanh(c_tm1 if bug == "forward_o_from_c_tm1" else c)
        h = o * tanh_c
        cache.append({"x": x[:, t], "h_tm1": h_tm1, "c_tm1": c_tm1, "z": (z0, z1, z2, z3), "i": i, "f": f,
                      "cc": cc, "o": o, "tanh_c": tanh_c, "h": h})
        outputs.append(h)
        h_tm1, c_tm1 = h, c
    return np.stack(outputs, axis=1), [h_tm1, c_tm1], (cache, kernel, recurrent_kernel)


def _sigmoid_grad(y, pre, bug):
    """d act / d pre at the output y (pre: the pre-activation, for hard_sigmoid)."""
    if bug == "forward_hard_sigmoid":
        return np.where(np.abs(pre) < 2.5, 0.2, 0.0)
    return y * (1 - y)


def _dz(dh, dc_next, s, t, bug):
    """The four pre-activation gradients (dz_i, dz_f, dz_c, dz_o) and dc_tm1 of one step."""
    i, f, cc, o, tanh_c = s["i"], s["f"], s["cc"], s["o"], s["tanh_c"]
    z0, z1, _, z3 = s["z"]
    do = dh * tanh_c
    dz_o = do * _sigmoid_grad(o, z3, bug)
    if bug == "dc_no_tanh_grad":
        dc = dc_next + dh * o
    elif bug == "dtanh_c_reversed":
        dc = dc_next + dh * o * (tanh_c ** 2 - 1)
    elif bug == "forward_o_from_c_tm1":                  # tanh_c is tanh(c_tm1): no path from h to this c
        dc = dc_next
    else:
        dc = dc_next + dh * o * (1 - tanh_c ** 2)
    if bug == "cc_squared_in_place":
        cc2 = cc
        cc2 **= 2
        dz_c = dc * i * (1 - cc2)
    elif bug == "dz_c_sigmoid_grad":
        dz_c = dc * i * cc * (1 - cc)
    else:
        dz_c = dc * i * (1 - cc ** 2)
    c_tm1 = np.zeros_like(s["c_tm1"]) if bug == "c_tm1_zero_at_first_step" and t == 0 else s["c_tm1"]
    df = dc * c_tm1 * f * (1 - f) if bug == "df_sigmoid_grad_twice" else dc * c_tm1
    dz_f = df * _sigmoid_grad(f, z1, bug)
    di = dc * cc
    dz_i = di * i * (1 - i ** 2) if bug == "di_grad_typo" else di * _sigmoid_grad(i, z0, bug)
    dc_tm1 = dc * f
    if bug == "forward_o_from_c_tm1":                    # ... but one from h to c_tm1
        dc_tm1 = dc_tm1 + dh * o * (1 - tanh_c ** 2)
    return (dz_i, dz_f, dz_c, dz_o), dc_tm1


def _blocks(w, units):
    return dict(zip(ORDER, (w[:, k * units:(k + 1) * units] for k in range(4))))


def lstm_backward(doutputs, cache, bug=None):
    """doutputs (N, T, H) -> dx, dh0, dc0, dkernel, drecurrent_kernel, dbias."""
    steps, kernel, recurrent_kernel = cache
    N, T, units = doutputs.shape
    k, rk = _blocks(kernel, units), _blocks(recurrent_kernel, units)
    if bug == "rk_i_slice_for_f":
        rk["f"] = recurrent_kernel[:, :units]
    dkernel, drecurrent_kernel = np.zeros_like(kernel), np.zeros_like(recurrent_kernel)
    dbias = np.zeros(4 * units, dtype=doutputs.dtype)
    dx = np.zeros((N, T, kernel.shape[0]), dtype=doutputs.dtype)
    dh_tm1, dc_tm1 = np.zeros((N, units), doutputs.dtype), np.zeros((N, units), doutputs.dtype)
    first = 1 if bug == "states_start_at_1" else 0
    for t in reversed(range(first, T)):
        s = steps[t]
        dz, dc_tm1 = _dz(doutputs[:, t] + dh_tm1, dc_tm1, s, t, bug)
        dz = dict(zip(ORDER, dz))
        order = "ifoc" if bug == "dz_concat_ifoc" else ORDER
        dz_all = np.concatenate([dz[g] for g in order], axis=1)
        dkernel += s["x"].T @ dz_all
        drecurrent_kernel += (s["h"] if bug == "drk_with_h_t" else s["h_tm1"]).T @ dz_all
        if bug == "dbias_assigned":
            dbias = dz_all.sum(axis=0)
        else:
            dbias += dz_all.sum(axis=0)
        dx[:, t] = sum(dz[g] @ k[g].T for g in ("ifc" if bug == "dx_misses_o" else ORDER))
        paths = {g: dz[g] @ rk[g].T for g in ORDER}
        if bug == "rk_c_untransposed":
            paths["c"] = dz["c"] @ rk["c"]
        if bug == "dh_tm1_from_drk_f":
            paths["f"] = dz["f"] @ drecurrent_kernel[:, units:2 * units].T
        dh_tm1 = sum(paths.values())
    if bug == "drecurrent_over_N":
        drecurrent_kernel = drecurrent_kernel / N
    return dx, dh_tm1, dc_tm1, dkernel, drecurrent_kernel, dbias


def to_user(cell, p):
    """Canonical (torch rows i, f, g, o) -> Keras columns i, f, c, o (the same order)."""
    return {"kernel": p["weight_ih"].T.copy(), "recurrent_kernel": p["weight_hh"].T.copy(),
            "bias": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    out = {}
    if "dkernel" in grads:
        out["dweight_ih"] = grads["dkernel"].T
    if "drecurrent_kernel" in grads:
        out["dweight_hh"] = grads["drecurrent_kernel"].T
    if "dbias" in grads:
        out["dbias_ih"] = grads["dbias"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras_port", cells=("lstm",), axes="NTD",
                               forward_returns=("h", "states", "cache"), gate_order="ifco",
                               gate_letters={"c": "g"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, recurrent_kernel, bias):
        return lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, bug)

    def backward(doutputs, cache):
        return lstm_backward(doutputs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""An LSTM in TF's kernel layout from a notebook: the kernel, the bias, FORGET_BIAS and a
module-level CACHE list are globals from earlier cells; the sigmoid is the np.where stable
form, pre-activations are clipped to [-30, 30] (never reached on a probe), and each step's
cache is a dict appended to CACHE (cleared by hand before a new forward).

    z = [x_t, h_(t-1)] kernel + bias;  i, j, f, o = split(z, 4)
    c_t = sigmoid(f + FORGET_BIAS) c_(t-1) + sigmoid(i) tanh(j);  h_t = sigmoid(o) tanh(c_t)

make() returns closures that set the globals first. forget_bias = 1.0.
Held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "forget_bias_cell_skipped": "forget_bias",      # the FORGET_BIAS cell not run: 0.0 in forward and backward
    "df_grad_without_offset": "forget_bias",        # f' recomputed from the cached z_f without FORGET_BIAS
    "do_tanh_c_prev": "wrong_time",                 # do = dh * tanh(c_prev)
    "dc_carry_dropped": "carry_dropped",            # dc = dh * o * (1 - tc^2) only
    "dj_one_minus_j": "derivative_miswritten",      # (1 - j) for (1 - j^2)
    "dz_concat_order": "gate_order",                # np.concatenate([di, df, dj, do])
    "dkernel_over_N": "reduction_scaled",           # dkernel / N at the end
    "tc_squared_inplace": "inplace_corruption",     # tc **= 2 on the cached tanh(c), then do = dh * tc
    "dz_clipped": "gradient_clipped",               # np.clip(dz, -0.01, 0.01)
    "loop_runs_forward": "loop_direction",          # for t in range(T)
    "j_sigmoid": "forward_mistake",                 # the candidate through sigmoid, backward consistent
    "dtanh_c_flipped": "wrong_sign",                # (tc**2 - 1)
    "di_times_c_prev": "wrong_value",               # di = dc * c_prev for dc * j
    "upstream_last_only": "term_dropped",           # dh_t = dh[:, t] at the last step, dh_next alone before
}
TOUCHES = {
    "forget_bias_cell_skipped": "",
    "df_grad_without_offset": "f",
    "do_tanh_c_prev": "o",
    "dc_carry_dropped": "",
    "dj_one_minus_j": "g",
    "dz_concat_order": "fg",
    "dkernel_over_N": "",
    "tc_squared_inplace": "o",
    "dz_clipped": "",
    "loop_runs_forward": "",
    "j_sigmoid": "",
    "dtanh_c_flipped": "ifg",
    "di_times_c_prev": "i",
    "upstream_last_only": "",
}

# In[1]:
kernel = bias = None
FORGET_BIAS = 1.0
CACHE = []
BUG = None


# In[2]:
def sigmoid(z):
    z = np.clip(z, -30, 30)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def lstm_cell(x_t, h_prev, c_prev):
    xh = np.concatenate([x_t, h_prev], axis=1)
    z = np.clip(xh @ kernel + bias, -30, 30)
    z_i, z_j, z_f, z_o = np.split(z, 4, axis=1)
    i, f, o = sigmoid(z_i), sigmoid(z_f + FORGET_BIAS), sigmoid(z_o)
    j = sigmoid(z_j) if BUG == "j_sigmoid" else np.tanh(z_j)
    c = f * c_prev + i * j
    tc = np.tanh(c)
    h = o * tc
    CACHE.append({"xh": xh, "z_f": z_f, "i": i, "j": j, "f": f, "o": o, "c_prev": c_prev, "tc": tc})
    return h, c


# In[3]:
def lstm_forward(x, h0, c0):
    CACHE.clear()
    h, c, hs = h0, c0, []
    for t in range(x.shape[1]):
        h, c = lstm_cell(x[:, t], h, c)
        hs.append(h)
    return np.stack(hs, axis=1)


# In[4]:
def lstm_backward(dH):
    N, T, H = dH.shape
    D = kernel.shape[0] - H
    dkernel, dbias = np.zeros_like(kernel), np.zeros_like(bias)
    dx = np.zeros((N, T, D), dtype=dH.dtype)
    dh_next, dc_next = np.zeros((N, H), dtype=dH.dtype), np.zeros((N, H), dtype=dH.dtype)
    for t in (range(T) if BUG == "loop_runs_forward" else reversed(range(T))):
        s = CACHE[t]
        i, j, f, o, tc, c_prev = s["i"], s["j"], s["f"], s["o"], s["tc"], s["c_prev"]
        dh = (dH[:, t] if t == T - 1 else dh_next) if BUG == "upstream_last_only" else dH[:, t] + dh_next
        if BUG == "tc_squared_inplace":
            tc **= 2
            dc = dh * o * (1 - tc) + dc_next
        elif BUG == "dtanh_c_flipped":
            dc = dh * o * (tc ** 2 - 1) + dc_next
        elif BUG == "dc_carry_dropped":
            dc = dh * o * (1 - tc ** 2)
        else:
            dc = dh * o * (1 - tc ** 2) + dc_next
        do = dh * (np.tanh(c_prev) if BUG == "do_tanh_c_prev" else tc)
        di = dc * (c_prev if BUG == "di_times_c_prev" else j)
        dj = dc * i
        df = dc * c_prev
        f_grad = sigmoid(s["z_f"]) * (1 - sigmoid(s["z_f"])) if BUG == "df_grad_without_offset" else f * (1 - f)
        dz_i, dz_f, dz_o = di * i * (1 - i), df * f_grad, do * o * (1 - o)
        if BUG == "j_sigmoid":
            dz_j = dj * j * (1 - j)
        elif BUG == "dj_one_minus_j":
            dz_j = dj * (1 - j)
        else:
            dz_j = dj * (1 - j ** 2)
        if BUG == "dz_concat_order":
            dz = np.concatenate([dz_i, dz_f, dz_j, dz_o], axis=1)
        else:
            dz = np.concatenate([dz_i, dz_j, dz_f, dz_o], axis=1)
        if BUG == "dz_clipped":
            dz = np.clip(dz, -0.01, 0.01)
        dkernel += s["xh"].T @ dz
        dbias += dz.sum(axis=0)
        dxh = dz @ kernel.T
        dx[:, t], dh_next = dxh[:, :D], dxh[:, D:]
        dc_next = dc * f
    if BUG == "dkernel_over_N":
        dkernel = dkernel / N
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def use(cache_steps, k, bs):
        global kernel, bias, FORGET_BIAS, BUG
        kernel, bias, BUG = k, bs, bug
        FORGET_BIAS = 0.0 if bug == "forget_bias_cell_skipped" else 1.0
        if cache_steps is not None:
            CACHE[:] = cache_steps

    def forward(x, h0, c0, kernel_, bias_):
        use(None, kernel_, bias_)
        h = lstm_forward(x, h0, c0)
        return h, {"steps": list(CACHE), "kernel": kernel_, "bias": bias_}

    def backward(dh, cache):
        use(cache["steps"], cache["kernel"], cache["bias"])
        return lstm_backward(dh)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": 1.0}

"""A sentiment classifier's script (movie reviews, word vectors in, positive/negative out) whose
encoder is an LSTM written by hand in TensorFlow's kernel layout (tf_kernel), with TF's
forget_bias = 1.0 added to the forget gate at call time:

    z_t = concat([x_t, h_(t-1)]) @ kernel + bias         kernel (D+H, 4H), columns i, j, f, o
    i, j, f, o = sigmoid(z_i), tanh(z_j), sigmoid(z_f + forget_bias), sigmoid(z_o)
    c_t = f * c_(t-1) + i * j           h_t = o * tanh(c_t)

The classifier reads only the last state (logit = h_T @ w + b); the encoder returns every
state. Each step's values are kept in a dict ``step``; the backward walks the list of them.
Twenty-ninth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_left_out": "forget_bias",                # f = sigmoid(z_f): TF's +1.0 forgotten (forward; backward
                                                          # consistent, so also a forward_mistake)
    "forget_bias_on_input_gate": "forget_bias",           # i = sigmoid(z_i + 1.0), f = sigmoid(z_f)
    "dj_sigmoid_grad": "derivative_wrong_function",       # dz_j = dj * j * (1 - j)
    "do_times_c": "wrong_value",                          # do = dh * c (meant dh * tanh(c))
    "df_with_new_c": "wrong_time",                        # df = dc * c_t (meant c_(t-1))
    "dc_no_tanh_grad": "derivative_missing",              # dc = dc_next + dh * o
    "dc_carry_assigned": "carry_overwrites",              # dc = dc_next: the carry replaces the dh path
    "dc_prev_without_f": "term_dropped",                  # dc_next = dc (the factor f dropped)
    "dz_stacked_ifjo": "gate_order",                      # dz = [di, df, dj, do]: columns in the wrong order
    "di_grad_at_o": "derivative_wrong_point",             # dz_i = di * o * (1 - o) (also wrong_value)
    "only_last_dh": "term_dropped",                       # dh_next starts at dh[:, -1]; dh[:, t] for t < T-1 never added
    "clip_by_global_norm": "gradient_clipped",            # dkernel, dbias rescaled to global norm 1.0 inside the backward
    "df_twice_and_do_sign": "unknown",                    # two at once: sigmoid' twice in f and a flipped sign in o
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forget_bias_left_out": "",
    "forget_bias_on_input_gate": "",
    "dj_sigmoid_grad": "g",
    "do_times_c": "o",
    "df_with_new_c": "f",
    "dc_no_tanh_grad": "ifg",
    "dc_carry_assigned": "ifg",
    "dc_prev_without_f": "",
    "dz_stacked_ifjo": "fg",
    "di_grad_at_o": "i",
    "only_last_dh": "",
    "clip_by_global_norm": "",
    "df_twice_and_do_sign": "fo",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_encoder(x, h0, c0, kernel, bias, bug=None):
    """x (N, T, D) -> hs (N, T, H), steps."""
    h, c = h0, c0
    steps, hs = [], []
    for t in range(x.shape[1]):
        xh = np.concatenate([x[:, t, :], h], axis=1)
        z = xh @ kernel + bias
        z_i, z_j, z_f, z_o = np.split(z, 4, axis=1)
        if bug == "forget_bias_left_out":
            i, f = sigmoid(z_i), sigmoid(z_f)
        elif bug == "forget_bias_on_input_gate":
            i, f = sigmoid(z_i + FORGET_BIAS), sigmoid(z_f)
        else:
            i, f = sigmoid(z_i), sigmoid(z_f + FORGET_BIAS)
        j, o = np.tanh(z_j), sigmoid(z_o)
        c_prev = c
        c = f * c_prev + i * j
        tc = np.tanh(c)
        h = o * tc
        steps.append({"xh": xh, "c_prev": c_prev, "c": c, "tc": tc, "i": i, "j": j, "f": f, "o": o})
        hs.append(h)
    return np.stack(hs, axis=1), {"steps": steps, "kernel": kernel, "D": x.shape[2]}


def lstm_encoder_backward(dhs, cache, bug=None):
    steps, kernel, D = cache["steps"], cache["kernel"], cache["D"]
    N, T, H = dhs.shape
    dkernel, dbias = np.zeros_like(kernel), np.zeros(4 * H, dtype=dhs.dtype)
    dx = np.zeros((N, T, D), dtype=dhs.dtype)
    dh_next = dhs[:, -1].copy() if bug == "only_last_dh" else np.zeros((N, H), dtype=dhs.dtype)
    dc_next = np.zeros((N, H), dtype=dhs.dtype)
    for t in reversed(range(T)):
        s = steps[t]
        i, j, f, o, tc = s["i"], s["j"], s["f"], s["o"], s["tc"]
        dh = dh_next if bug == "only_last_dh" else dhs[:, t] + dh_next
        do = dh * (s["c"] if bug == "do_times_c" else tc)
        if bug == "dc_no_tanh_grad":
            dc = dc_next + dh * o
        elif bug == "dc_carry_assigned":
            dc = dc_next
        else:
            dc = dc_next + dh * o * (1 - tc ** 2)
        di, dj = dc * j, dc * i
        df = dc * (s["c"] if bug == "df_with_new_c" else s["c_prev"])
        dz_i = di * (o * (1 - o) if bug == "di_grad_at_o" else i * (1 - i))
        dz_j = dj * (j * (1 - j) if bug == "dj_sigmoid_grad" else 1 - j ** 2)
        dz_f = df * f * (1 - f)
        if bug == "df_twice_and_do_sign":
            dz_f = dz_f * f * (1 - f)
            dz_o = do * o * (o - 1)
        else:
            dz_o = do * o * (1 - o)
        blocks = [dz_i, dz_f, dz_j, dz_o] if bug == "dz_stacked_ifjo" else [dz_i, dz_j, dz_f, dz_o]
        dz = np.concatenate(blocks, axis=1)
        dkernel += s["xh"].T @ dz
        dbias += dz.sum(axis=0)
        dxh = dz @ kernel.T
        dx[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
        dc_next = dc if bug == "dc_prev_without_f" else dc * f
    if bug == "clip_by_global_norm":
        norm = np.sqrt((dkernel ** 2).sum() + (dbias ** 2).sum())
        if norm > 1.0:
            dkernel, dbias = dkernel / norm, dbias / norm
    return dx, dh_next, dc_next, dkernel, dbias


def classify(reviews_vecs, h0, c0, params):
    hs, cache = lstm_encoder(reviews_vecs, h0, c0, params["kernel"], params["bias"])
    logit = hs[:, -1] @ params["w"] + params["b"]
    return 1 / (1 + np.exp(-logit)), hs, cache


def train_step(vecs, labels, params, lr=0.05):
    N = vecs.shape[0]
    H = params["w"].shape[0]
    zeros = np.zeros((N, H))
    p, hs, cache = classify(vecs, zeros, zeros, params)
    dlogit = (p - labels) / N
    dhs = np.zeros_like(hs)
    dhs[:, -1] = dlogit[:, None] * params["w"]
    _, _, _, dkernel, dbias = lstm_encoder_backward(dhs, cache)
    params["kernel"] -= lr * dkernel
    params["bias"] -= lr * dbias
    params["w"] -= lr * hs[:, -1].T @ dlogit
    params["b"] -= lr * dlogit.sum()
    return -np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, kernel, bias):
        return lstm_encoder(x, h0, c0, kernel, bias, bug)

    def backward(dhs, cache):
        return lstm_encoder_backward(dhs, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

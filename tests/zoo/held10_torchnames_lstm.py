"""An LSTM from a "PyTorch LSTMCell from scratch in NumPy" blog post: torch's own names and
storage (weight_ih (4H, D), weight_hh (4H, H), bias_ih, bias_hh (4H,), gates i, f, g, o),
time-major input (T, N, D), a forward returning ``output, (h_n, c_n), cache`` as nn.LSTM does,
and a backward that returns its gradients in one list in a fixed order
[dx, dh0, dc0, dweight_ih, dweight_hh, dbias_ih, dbias_hh]:

    gates = x_t @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh      (N, 4H)
    i, f, g, o = gates.chunk(4)  ->  sigmoid, sigmoid, tanh, sigmoid
    c = f * c + i * g;  h = o * tanh(c)

The activated gates of a step are kept in one (N, 4H) array ``act``. Tenth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "o_block_uses_g_weights": "wrong_weight",            # dh_prev's o part through weight_hh's g block: do_pre @ W[2] for W[3]
    "f_block_untransposed": "weight_transposed",         # dh_prev's f part: df_pre @ W_f written df_pre @ W_f.T (W_f = weight_hh[H:2H])
    "dh_prev_from_dW_hh": "gradient_for_weight",         # dh_prev = dgates @ dweight_hh (accumulated so far)
    "skips_step_zero": "loop_skips_step",                # for t in range(T - 1, 0, -1)
    "dc_replaced_by_carry": "carry_overwrites",          # dc = dc_next for t < T-1 (dh's path into c lost there)
    "tanh_grad_sign_g": "wrong_sign",                    # dg_pre = dg * (g ** 2 - 1)
    "dh_mean_over_T": "reduction_scaled",                # dh = dh / T first
    "dW_ih_with_x_prev": "wrong_time",                   # dweight_ih += dgates.T @ x[t - 1]
    "o_sigmoid_grad_precedence": "derivative_miswritten",  # do_pre = do * o * 1 - o  (o * (1 - o) without brackets)
    "act_overwritten_in_place": "inplace_corruption",    # d = acts[t]; d[:, :H] = di_pre in place, then i (a view of d) read for dg
    "di_without_g": "term_dropped",                      # di = dc (the factor g left out)
    "backward_loop_forward": "loop_direction",           # for t in range(T)
    "forward_g_sigmoid": "forward_mistake",              # g = sigmoid(...) in the forward; backward consistent
    "do_with_c_and_dW_hh_over_N": "unknown",             # do = dh * c and dweight_hh / N
    "f_grad_quarter": "unknown",                         # df_pre = df * 0.25 (a constant: sigmoid' at 0 for every f)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "o_block_uses_g_weights": "",
    "f_block_untransposed": "",
    "dh_prev_from_dW_hh": "",
    "skips_step_zero": "",
    "dc_replaced_by_carry": "",
    "tanh_grad_sign_g": "g",
    "dh_mean_over_T": "",
    "dW_ih_with_x_prev": "",
    "o_sigmoid_grad_precedence": "o",
    "act_overwritten_in_place": "g",
    "di_without_g": "i",
    "backward_loop_forward": "",
    "forward_g_sigmoid": "",
    "do_with_c_and_dW_hh_over_N": "",
    "f_grad_quarter": "f",
}


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_forward(input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, bug=None):
    T = input.shape[0]
    H = h0.shape[1]
    h, c = h0, c0
    output, acts, hs, cs = [], [], [h0], [c0]
    for t in range(T):
        gates = input[t] @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
        act = np.empty_like(gates)
        act[:, :2 * H] = sigmoid(gates[:, :2 * H])
        act[:, 2 * H:3 * H] = sigmoid(gates[:, 2 * H:3 * H]) if bug == "forward_g_sigmoid" \
            else np.tanh(gates[:, 2 * H:3 * H])
        act[:, 3 * H:] = sigmoid(gates[:, 3 * H:])
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c = f * c + i * g
        h = o * np.tanh(c)
        output.append(h)
        acts.append(act)
        hs.append(h)
        cs.append(c)
    return np.stack(output), (h, c), (input, acts, hs, cs, weight_ih, weight_hh)


def lstm_backward(dh, cache, bug=None):
    input, acts, hs, cs, weight_ih, weight_hh = cache
    T = input.shape[0]
    H = weight_hh.shape[1]
    if bug == "dh_mean_over_T":
        dh = dh / T
    grads = [np.zeros_like(input), None, None, np.zeros_like(weight_ih), np.zeros_like(weight_hh),
             np.zeros(4 * H, dtype=input.dtype), np.zeros(4 * H, dtype=input.dtype)]
    dh_next, dc_next = np.zeros_like(hs[0]), np.zeros_like(cs[0])
    steps = range(T) if bug == "backward_loop_forward" else range(T - 1, 0 if bug == "skips_step_zero" else -1, -1)
    for t in steps:
        d = acts[t]
        i, f, g, o = d[:, :H], d[:, H:2 * H], d[:, 2 * H:3 * H], d[:, 3 * H:]
        dh_t = dh[t] + dh_next
        tanh_c = np.tanh(cs[t + 1])
        do = dh_t * (cs[t + 1] if bug == "do_with_c_and_dW_hh_over_N" else tanh_c)
        if bug == "dc_replaced_by_carry" and t < T - 1:
            dc = dc_next
        else:
            dc = dc_next + dh_t * o * (1 - tanh_c ** 2)
        di = dc if bug == "di_without_g" else dc * g
        df = dc * cs[t]
        dc_next = dc * f
        di_pre = di * i * (1 - i)
        df_pre = df * 0.25 if bug == "f_grad_quarter" else df * f * (1 - f)
        do_pre = do * o * 1 - o if bug == "o_sigmoid_grad_precedence" else do * o * (1 - o)
        d_i_block = d[:, :H]
        if bug == "act_overwritten_in_place":
            d_i_block[...] = di_pre                 # "reuse the buffer": the cached i is now di_pre
        dg = dc * i
        if bug == "forward_g_sigmoid":
            dg_pre = dg * g * (1 - g)
        elif bug == "tanh_grad_sign_g":
            dg_pre = dg * (g ** 2 - 1)
        else:
            dg_pre = dg * (1 - g ** 2)
        dgates = np.concatenate([di_pre, df_pre, dg_pre, do_pre], axis=1)
        grads[3] += dgates.T @ (input[t - 1] if bug == "dW_ih_with_x_prev" else input[t])
        grads[4] += dgates.T @ hs[t]
        grads[5] += dgates.sum(axis=0)
        grads[6] += dgates.sum(axis=0)
        grads[0][t] = dgates @ weight_ih
        if bug == "dh_prev_from_dW_hh":
            dh_next = dgates @ grads[4]
        else:
            W = weight_hh.reshape(4, H, H)
            blocks = [di_pre @ W[0], df_pre @ (W[1].T if bug == "f_block_untransposed" else W[1]),
                      dg_pre @ W[2], do_pre @ (W[2] if bug == "o_block_uses_g_weights" else W[3])]
            dh_next = sum(blocks)
    if bug == "do_with_c_and_dW_hh_over_N":
        grads[4] /= input.shape[1]
    grads[1], grads[2] = dh_next, dc_next
    return grads


def to_user(cell, p):
    return {"weight_ih": p["weight_ih"], "weight_hh": p["weight_hh"], "bias_ih": p["bias_ih"],
            "bias_hh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    return dict(grads)                          # the names are torch's already: dweight_ih, ...


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="torch_names_lstm", cells=("lstm",), axes="TND",
                               forward_returns=("h", "state", "cache"))


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
        return lstm_forward(input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, bug)

    def backward(grad_output, cache):
        return lstm_backward(grad_output, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""A sigmoid RNN in Karpathy's layout (x (T, D, 1), h0 (H, 1), Wxh (H, D), Whh (H, H),
bh (H, 1)) written by someone who squeezes the column vectors away: inside, every state
is a 1-D vector (H,), weight gradients come from np.outer, and the (.., 1) axes are put
back only on return:

    h_t = sigmoid(Wxh x_t + Whh h_(t-1) + bh)

Thirteenth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dsig_as_tanh": "derivative_wrong_function",          # ds = dh * (1 - h**2): tanh' for sigmoid'
    "dsig_missing": "derivative_missing",                  # ds = dh
    "dsig_typo_minus": "derivative_miswritten",            # ds = dh * h * 1 - h (parentheses lost)
    "dWhh_outer_reversed": "gradient_transposed",          # dWhh += np.outer(h_prev, ds)
    "dWhh_skips_h0_term": "term_dropped",                  # if t > 0: dWhh += ... (the h0 term of dWhh left out)
    "clip_every_step": "gradient_clipped",                 # np.clip(dh_total, -0.1, 0.1) before the step's backward
    "truncate_at_three": "truncated_bptt",                 # the carry is reset after 3 steps back
    "dhprev_reads_dh_t": "wrong_value",                    # dh_prev = Whh.T @ dh_total (ds's place taken by dh)
    "dWxh_x_next": "wrong_time",                           # np.outer(ds, xs[t + 1]) (last step: xs[t])
    "forward_sigmoid_of_negative": "forward_mistake",      # h = 1 / (1 + exp(a)); backward ds = -dh h (1 - h)
    "dbh_divided_T": "reduction_scaled",                   # dbh / T at the end
    "sig_grad_from_pre": "derivative_wrong_point",         # sigmoid' at the pre-activation a: a (1 - a)
    "carry_assigned_into_dh": "carry_overwrites",          # dh_total = dh_next (the step's own dh lost when a carry exists)
    "scaled_0p5_and_sign": "unknown",                      # dWxh *= -0.5 at the end
}

TOUCHES = {b: "" for b in BUGS}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def forward(xs, h0, Wxh, Whh, bh, bug=None):
    T = xs.shape[0]
    b = bh[:, 0]
    h = h0[:, 0]
    steps = {"x": [], "h": [], "hprev": [], "a": []}
    for t in range(T):
        x = xs[t, :, 0]
        a = Wxh @ x + Whh @ h + b
        steps["hprev"].append(h)
        h = 1.0 / (1.0 + np.exp(a)) if bug == "forward_sigmoid_of_negative" else sigmoid(a)
        steps["x"].append(x)
        steps["a"].append(a)
        steps["h"].append(h)
    return np.stack(steps["h"])[:, :, None], (steps, Wxh, Whh)


def backward(dhs, cache, bug=None):
    steps, Wxh, Whh = cache
    T = len(steps["h"])
    dWxh, dWhh = np.zeros_like(Wxh), np.zeros_like(Whh)
    dbh = np.zeros(Whh.shape[0], dtype=dhs.dtype)
    dxs = np.zeros((T, Wxh.shape[1]), dtype=dhs.dtype)
    dh_next = np.zeros(Whh.shape[0], dtype=dhs.dtype)
    for t in reversed(range(T)):
        h, hprev, a = steps["h"][t], steps["hprev"][t], steps["a"][t]
        if bug == "carry_assigned_into_dh" and t < T - 1:
            dh_total = dh_next
        else:
            dh_total = dhs[t, :, 0] + dh_next
        if bug == "clip_every_step":
            dh_total = np.clip(dh_total, -0.1, 0.1)
        if bug == "dsig_as_tanh":
            ds = dh_total * (1 - h ** 2)
        elif bug == "dsig_missing":
            ds = dh_total
        elif bug == "dsig_typo_minus":
            ds = dh_total * h * 1 - h
        elif bug == "forward_sigmoid_of_negative":
            ds = -dh_total * h * (1 - h)
        elif bug == "sig_grad_from_pre":
            ds = dh_total * a * (1 - a)
        else:
            ds = dh_total * h * (1 - h)
        x_for_grad = steps["x"][min(t + 1, T - 1)] if bug == "dWxh_x_next" else steps["x"][t]
        dWxh += np.outer(ds, x_for_grad)
        if bug == "dWhh_outer_reversed":
            dWhh += np.outer(hprev, ds)
        elif bug != "dWhh_skips_h0_term" or t > 0:
            dWhh += np.outer(ds, hprev)
        dbh += ds
        dxs[t] = Wxh.T @ ds
        dh_next = Whh.T @ (dh_total if bug == "dhprev_reads_dh_t" else ds)
        if bug == "truncate_at_three" and t == T - 3:
            dh_next = np.zeros_like(dh_next)
    if bug == "dbh_divided_T":
        dbh = dbh / T
    if bug == "scaled_0p5_and_sign":
        dWxh *= -0.5
    return dxs[:, :, None], dh_next[:, None], dWxh, dWhh, dbh[:, None]


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def fwd(x, h0, Wxh, Whh, bh):
        return forward(x, h0, Wxh, Whh, bh, bug)

    def bwd(dh, cache):
        return backward(dh, cache, bug)

    return fwd, bwd, {"cell": "rnn", "layout": "karpathy", "activation": "sigmoid"}

"""An LSTM written straight from a textbook's equations, every ⊙ spelled np.multiply and
every σ'(·) spelled out, in cs231n's layout: x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,),
gate blocks i, f, o, g, c0 = 0. One function per equation number, the step values kept
in a dict ``eq`` per step:

    (1) A = x_t Wx + h_(t-1) Wh + b          (2) i, f, o = σ(A_i), σ(A_f), σ(A_o)   g = tanh(A_g)
    (3) c_t = f ⊙ c_(t-1) + i ⊙ g            (4) h_t = o ⊙ tanh(c_t)

Twenty-seventh held-out zoo: written without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "eq2_g_sigma_prime": "derivative_wrong_function",    # dA_g = dg ⊙ g ⊙ (1 - g): σ' for tanh'
    "eq4_tanh_prime_twice": "derivative_twice",          # dc gets o ⊙ (1 - tanh²c) ⊙ (1 - tanh²c)
    "eq2_f_sign": "wrong_sign",                          # dA_f = df ⊙ f ⊙ (f - 1)
    "blocks_ifgo": "gate_order",                         # dA = [dA_i, dA_f, dA_g, dA_o] (torch's order) for i, f, o, g
    "Wh_o_block_untransposed": "weight_transposed",      # dh_prev's o block dA_o @ Wh[:, 2H:3H] without .T
    "dh_prev_without_g": "term_dropped",                 # dh_prev = dA[:, :3H] @ Wh[:, :3H].T: the g block left out
    "tanh_prime_at_c": "derivative_wrong_point",         # 1 - c² for 1 - tanh²(c)
    "dc_assigned": "carry_overwrites",                   # dc = dc_next; dc = multiply(dh, ...) (= for +=)
    "g_overwritten_by_ig": "inplace_corruption",         # np.multiply(i, g, out=g) in (3): the cached g becomes i ⊙ g
    "eq4_without_tanh": "forward_mistake",               # h_t = o ⊙ c_t; backward consistent
    "di_reads_f": "wrong_value",                         # di = dc ⊙ f (f read for g)
    "dx_from_dWx": "gradient_for_weight",                # dx_t = dA @ dWx.T (dWx, the running sum, for Wx)
    "db_mean_and_no_o_prime": "unknown",                 # db uses mean over the batch and dA_o = do (σ' left out)
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "eq2_g_sigma_prime": "g",
    "eq4_tanh_prime_twice": "ig",
    "eq2_f_sign": "",
    "blocks_ifgo": "go",
    "Wh_o_block_untransposed": "",
    "dh_prev_without_g": "",
    "tanh_prime_at_c": "ig",
    "dc_assigned": "",
    "g_overwritten_by_ig": "ig",
    "eq4_without_tanh": "",
    "di_reads_f": "i",
    "dx_from_dWx": "",
    "db_mean_and_no_o_prime": "",
}


def sigma(v):
    return 1.0 / (1.0 + np.exp(-v))


def eq1_to_4(x_t, h_prev, c_prev, Wx, Wh, b, bug):
    H = h_prev.shape[1]
    A = np.add(np.add(np.dot(x_t, Wx), np.dot(h_prev, Wh)), b)
    i, f, o = sigma(A[:, :H]), sigma(A[:, H:2 * H]), sigma(A[:, 2 * H:3 * H])
    g = np.tanh(A[:, 3 * H:])
    if bug == "g_overwritten_by_ig":
        c = np.add(np.multiply(f, c_prev), np.multiply(i, g, out=g))
    else:
        c = np.add(np.multiply(f, c_prev), np.multiply(i, g))
    tc = np.tanh(c)
    h = np.multiply(o, c) if bug == "eq4_without_tanh" else np.multiply(o, tc)
    return h, c, dict(x=x_t, h_prev=h_prev, c_prev=c_prev, i=i, f=f, o=o, g=g, c=c, tc=tc)


def lstm_forward(x, h0, Wx, Wh, b, bug=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h_all = np.zeros((N, T, H), dtype=x.dtype)
    h, c = h0, np.zeros_like(h0)
    steps = []
    for t in range(T):
        h, c, eq = eq1_to_4(x[:, t], h, c, Wx, Wh, b, bug)
        steps.append(eq)
        h_all[:, t] = h
    return h_all, (steps, Wx, Wh)


def lstm_backward(dh_all, cache, bug=None):
    steps, Wx, Wh = cache
    N, T, H = dh_all.shape
    dx = np.zeros((N, T, Wx.shape[0]), dtype=dh_all.dtype)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh_all.dtype)
    dh_next, dc_next = np.zeros((N, H), dtype=dh_all.dtype), np.zeros((N, H), dtype=dh_all.dtype)
    for t in reversed(range(T)):
        eq = steps[t]
        i, f, o, g, c, tc = eq["i"], eq["f"], eq["o"], eq["g"], eq["c"], eq["tc"]
        dh = np.add(dh_all[:, t], dh_next)
        if bug == "eq4_without_tanh":
            do = np.multiply(dh, c)
            dc_local = np.multiply(dh, o)
        else:
            do = np.multiply(dh, tc)
            tanh_prime = np.subtract(1, np.multiply(c, c)) if bug == "tanh_prime_at_c" else np.subtract(1, np.multiply(tc, tc))
            dc_local = np.multiply(np.multiply(dh, o), tanh_prime)
            if bug == "eq4_tanh_prime_twice":
                dc_local = np.multiply(dc_local, tanh_prime)
        if bug == "dc_assigned":
            dc = dc_next
            dc = dc_local
        else:
            dc = np.add(dc_next, dc_local)
        di = np.multiply(dc, f if bug == "di_reads_f" else g)
        df = np.multiply(dc, eq["c_prev"])
        dg = np.multiply(dc, i)
        dc_next = np.multiply(dc, f)
        dA_i = np.multiply(di, np.multiply(i, np.subtract(1, i)))
        if bug == "eq2_f_sign":
            dA_f = np.multiply(df, np.multiply(f, np.subtract(f, 1)))
        else:
            dA_f = np.multiply(df, np.multiply(f, np.subtract(1, f)))
        dA_o = do if bug == "db_mean_and_no_o_prime" else np.multiply(do, np.multiply(o, np.subtract(1, o)))
        if bug == "eq2_g_sigma_prime":
            dA_g = np.multiply(dg, np.multiply(g, np.subtract(1, g)))
        else:
            dA_g = np.multiply(dg, np.subtract(1, np.multiply(g, g)))
        if bug == "blocks_ifgo":
            dA = np.concatenate([dA_i, dA_f, dA_g, dA_o], axis=1)
        else:
            dA = np.concatenate([dA_i, dA_f, dA_o, dA_g], axis=1)
        dWx += np.dot(eq["x"].T, dA)
        dWh += np.dot(eq["h_prev"].T, dA)
        db += dA.mean(axis=0) if bug == "db_mean_and_no_o_prime" else dA.sum(axis=0)
        dx[:, t] = np.dot(dA, dWx.T) if bug == "dx_from_dWx" else np.dot(dA, Wx.T)
        if bug == "Wh_o_block_untransposed":
            dh_next = np.dot(dA[:, :2 * H], Wh[:, :2 * H].T) + np.dot(dA_o, Wh[:, 2 * H:3 * H]) \
                + np.dot(dA_g, Wh[:, 3 * H:].T)
        elif bug == "dh_prev_without_g":
            dh_next = np.dot(dA[:, :3 * H], Wh[:, :3 * H].T)
        else:
            dh_next = np.dot(dA, Wh.T)
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        return lstm_forward(x, h0, Wx, Wh, b, bug)

    def backward(dh, cache):
        return lstm_backward(dh, cache, bug)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

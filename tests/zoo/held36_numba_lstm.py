"""An LSTM from a notebook whose step kernels are written numba-style (``@njit`` on plain
loops over the batch, the units and the inputs, scalar math only, outputs written into
preallocated arrays); the notebook falls back to a no-op decorator when numba is missing,
which is what runs here. cs231n layout: x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,),
blocks i, f, o, g, c0 = 0. The forward kernel overwrites each pre-activation with its gate.

Held-out zoo: written without reading the diagnosis.
"""

import math

import numpy as np

BUGS = {
    "dgate_slots_o_g_swapped": "gate_order",         # dgates[o slot] = dg_pre, dgates[g slot] = do_pre
    "dc_next_dropped": "carry_dropped",              # dc = dh * o * (1 - tanh(c)^2) only
    "df_reads_c_t": "wrong_time",                    # df = dc * c[t] for c[t - 1]
    "dtanh_c_on_c": "derivative_wrong_point",        # 1 - c**2 for 1 - tanh(c)**2
    "dg_sigmoid_grad": "derivative_wrong_function",  # dg * g * (1 - g)
    "di_no_sigmoid_grad": "derivative_missing",      # dgates[i] = di
    "dWx_assigned": "carry_overwrites",              # dWx[k, j] = ... in the unit loop
    "db_over_N": "reduction_scaled",                 # db[j] += dgates[n, j] / N
    "dh_prev_from_dWh": "gradient_for_weight",       # dh_prev[n, k] += dgates[n, j] * dWh[k, j]
    "df_sign": "wrong_sign",                         # f * (f - 1) for f * (1 - f)
    "h_no_tanh": "forward_mistake",                  # h = o * c, backward consistent
    "shared_gate_buffer": "inplace_corruption",      # one gates workspace allocated before the loop
    "loop_to_one": "loop_skips_step",                # for t in range(T - 1, 0, -1)
    "truncate_every_4": "truncated_bptt",            # dh_next = dc_next = 0 every 4 steps back
}
TOUCHES = {
    "dgate_slots_o_g_swapped": "go",
    "dc_next_dropped": "",
    "df_reads_c_t": "f",
    "dtanh_c_on_c": "ig",
    "dg_sigmoid_grad": "g",
    "di_no_sigmoid_grad": "i",
    "dWx_assigned": "",
    "db_over_N": "",
    "dh_prev_from_dWh": "",
    "df_sign": "",
    "h_no_tanh": "",
    "shared_gate_buffer": "",
    "loop_to_one": "",
    "truncate_every_4": "",
}

def njit(fn):                                # the notebook's fallback for `from numba import njit`
    return fn


BUG = None


@njit
def sig(v):
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


@njit
def step_fwd(xt, hp, cp, Wx, Wh, b, gates, h, c):
    N, D = xt.shape
    H = hp.shape[1]
    for n in range(N):
        for j in range(4 * H):
            acc = b[j]
            for k in range(D):
                acc += xt[n, k] * Wx[k, j]
            for k in range(H):
                acc += hp[n, k] * Wh[k, j]
            gates[n, j] = acc
        for j in range(H):
            i = sig(gates[n, j])
            f = sig(gates[n, H + j])
            o = sig(gates[n, 2 * H + j])
            g = math.tanh(gates[n, 3 * H + j])
            gates[n, j], gates[n, H + j], gates[n, 2 * H + j], gates[n, 3 * H + j] = i, f, o, g
            c[n, j] = f * cp[n, j] + i * g
            h[n, j] = o * c[n, j] if BUG == "h_no_tanh" else o * math.tanh(c[n, j])


@njit
def step_bwd(dh, dc_next, xt, hp, cp, c, gates, Wx, Wh, dx, dh_prev, dc_prev, dWx, dWh, db):
    N, D = xt.shape
    H = hp.shape[1]
    dgates = np.zeros((N, 4 * H), dtype=dh.dtype)
    for n in range(N):
        for j in range(H):
            i, f, o, g = gates[n, j], gates[n, H + j], gates[n, 2 * H + j], gates[n, 3 * H + j]
            tc = c[n, j] if BUG == "h_no_tanh" else math.tanh(c[n, j])
            dtc = 1.0 if BUG == "h_no_tanh" else (1.0 - c[n, j] ** 2 if BUG == "dtanh_c_on_c" else 1.0 - tc * tc)
            dc = dh[n, j] * o * dtc
            if BUG != "dc_next_dropped":
                dc += dc_next[n, j]
            do = dh[n, j] * tc
            di = dc * g
            df = dc * (c[n, j] if BUG == "df_reads_c_t" else cp[n, j])
            dg = dc * i
            dc_prev[n, j] = dc * f
            dgates[n, j] = di if BUG == "di_no_sigmoid_grad" else di * i * (1 - i)
            dgates[n, H + j] = df * f * (f - 1) if BUG == "df_sign" else df * f * (1 - f)
            do_pre = do * o * (1 - o)
            dg_pre = dg * g * (1 - g) if BUG == "dg_sigmoid_grad" else dg * (1 - g * g)
            if BUG == "dgate_slots_o_g_swapped":
                do_pre, dg_pre = dg_pre, do_pre
            dgates[n, 2 * H + j] = do_pre
            dgates[n, 3 * H + j] = dg_pre
    for n in range(N):
        for j in range(4 * H):
            for k in range(D):
                if BUG == "dWx_assigned":
                    dWx[k, j] = xt[n, k] * dgates[n, j]
                else:
                    dWx[k, j] += xt[n, k] * dgates[n, j]
                dx[n, k] += dgates[n, j] * Wx[k, j]
            for k in range(H):
                dWh[k, j] += hp[n, k] * dgates[n, j]
                w = dWh[k, j] if BUG == "dh_prev_from_dWh" else Wh[k, j]
                dh_prev[n, k] += dgates[n, j] * w
            db[j] += dgates[n, j] / N if BUG == "db_over_N" else dgates[n, j]


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    H = h0.shape[1]
    hs = np.zeros((N, T + 1, H), dtype=x.dtype)
    cs = np.zeros((N, T + 1, H), dtype=x.dtype)
    hs[:, 0] = h0
    gates_all = []
    shared = np.zeros((N, 4 * H), dtype=x.dtype)
    for t in range(T):
        gates = shared if BUG == "shared_gate_buffer" else np.zeros((N, 4 * H), dtype=x.dtype)
        h, c = np.zeros((N, H), dtype=x.dtype), np.zeros((N, H), dtype=x.dtype)
        step_fwd(x[:, t], hs[:, t], cs[:, t], Wx, Wh, b, gates, h, c)
        hs[:, t + 1], cs[:, t + 1] = h, c
        gates_all.append(gates)
    return hs[:, 1:].copy(), (x, hs, cs, gates_all, Wx, Wh, b)


def lstm_backward(dh, cache):
    x, hs, cs, gates_all, Wx, Wh, b = cache
    N, T, D = x.shape
    H = Wh.shape[0]
    dx = np.zeros_like(x)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros((N, H), dtype=dh.dtype)
    dc_next = np.zeros((N, H), dtype=dh.dtype)
    for t in (range(T - 1, 0, -1) if BUG == "loop_to_one" else range(T - 1, -1, -1)):
        if BUG == "truncate_every_4" and (T - 1 - t) % 4 == 0:
            dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
        dh_prev, dc_prev = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        dxt = np.zeros((N, D), dtype=dh.dtype)
        step_bwd(dh[:, t] + dh_next, dc_next, x[:, t], hs[:, t], cs[:, t], cs[:, t + 1], gates_all[t], Wx, Wh,
                 dxt, dh_prev, dc_prev, dWx, dWh, db)
        dx[:, t] = dxt
        dh_next, dc_next = dh_prev, dc_prev
    return dx, dh_next, dWx, dWh, db


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        global BUG
        BUG = bug
        return lstm_forward(x, h0, Wx, Wh, b)

    def backward(dh, cache):
        global BUG
        BUG = bug
        return lstm_backward(dh, cache)

    return forward, backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0}

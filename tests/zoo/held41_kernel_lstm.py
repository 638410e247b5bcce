"""TF's BasicLSTMCell (one kernel (D+H, 4H) on concat([x, h]), bias (4H,), columns i, j, f,
o, forget_bias=1.0 added to f at call time, c0 an argument) re-done "without any library":
each example's row is a Python list, concat is list ``+``, the kernel product is
``vecmat`` over ``zip(*kernel)``, and the backward splits its concat gradient with slices.

    i, j, f, o = split(concat([x, h]) @ kernel + bias)
    c_t = sigmoid(f + forget_bias) c_(t-1) + sigmoid(i) tanh(j)    h_t = sigmoid(o) tanh(c_t)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

import math

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "forget_bias_left_out": "forget_bias",            # forward: sigmoid(f) with no forget_bias
    "do_tanh_c_prev": "wrong_time",                   # do = dh * tanh(c_(t-1))
    "dj_at_preact": "derivative_wrong_point",         # 1 - a_j ** 2 for 1 - tanh(a_j) ** 2
    "di_no_sigmoid_grad": "derivative_missing",       # da_i = di
    "do_tanh_grad": "derivative_wrong_function",      # (1 - o ** 2) for o (1 - o)
    "dtanh_c_twice": "derivative_twice",              # (1 - tc ** 2) ** 2
    "dh_carry_dropped": "carry_dropped",              # d = dh[t] only
    "dbias_assigned": "carry_overwrites",             # dbias = column sums of this step
    "last_step_skipped": "loop_skips_step",           # reversed(range(T - 1))
    "dh_clipped": "gradient_clipped",                 # the carried dh clipped to [-0.05, 0.05]
    "dkernel_over_N": "reduction_scaled",             # dkernel / N
    "dxh_from_dkernel": "gradient_for_weight",        # vecmat(dz, dkernel rows) in dxh
    "c_without_f": "forward_mistake",                 # c_t = c_(t-1) + i j (f computed, unused)
    "packed_i_f_j_o": "gate_order",                   # dz packed [di, df, dj, do]
}
TOUCHES = {
    "forget_bias_left_out": "", "do_tanh_c_prev": "o", "dj_at_preact": "g", "di_no_sigmoid_grad": "i",
    "do_tanh_grad": "o", "dtanh_c_twice": "ifg", "dh_carry_dropped": "", "dbias_assigned": "",
    "last_step_skipped": "", "dh_clipped": "", "dkernel_over_N": "", "dxh_from_dkernel": "",
    "c_without_f": "", "packed_i_f_j_o": "fg",
}


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def vecmat(v, M):
    """Row vector v (k,) times M (k, m)."""
    return [sum(a * b for a, b in zip(v, col)) for col in zip(*M)]


def lstm_forward(x, h0, c0, kernel, bias, bug=None):
    X, K, B = x.tolist(), kernel.tolist(), bias.tolist()
    N, T, H = len(X), len(X[0]), h0.shape[1]
    fb = 0.0 if bug == "forget_bias_left_out" else FORGET_BIAS
    hs, cs = [list(r) for r in h0.tolist()], [list(r) for r in c0.tolist()]
    tape, out = [], [[None] * T for _ in range(N)]
    for t in range(T):
        rows = []
        for n in range(N):
            xh = X[n][t] + hs[n]
            z = [v + b for v, b in zip(vecmat(xh, K), B)]
            i = [sigmoid(v) for v in z[:H]]
            j = [math.tanh(v) for v in z[H:2 * H]]
            f = [sigmoid(v + fb) for v in z[2 * H:3 * H]]
            o = [sigmoid(v) for v in z[3 * H:]]
            if bug == "c_without_f":
                c = [cp + ii * jj for cp, ii, jj in zip(cs[n], i, j)]
            else:
                c = [ff * cp + ii * jj for ff, cp, ii, jj in zip(f, cs[n], i, j)]
            tc = [math.tanh(v) for v in c]
            h = [oo * tt for oo, tt in zip(o, tc)]
            rows.append({"xh": xh, "z": z, "i": i, "j": j, "f": f, "o": o, "c_prev": cs[n], "c": c, "tc": tc})
            hs[n], cs[n] = h, c
            out[n][t] = h
        tape.append(rows)
    return np.array(out, dtype=x.dtype), (tape, K, x.dtype)


def lstm_backward(dh, cache, bug=None):
    tape, K, dtype = cache
    dH = dh.tolist()
    N, T, H = len(dH), len(dH[0]), len(dH[0][0])
    D = len(K) - H
    dK = [[0.0] * 4 * H for _ in range(D + H)]
    db = [0.0] * 4 * H
    dx = [[[0.0] * D for _ in range(T)] for _ in range(N)]
    dh_next, dc_next = [[0.0] * H for _ in range(N)], [[0.0] * H for _ in range(N)]
    for t in (reversed(range(T - 1)) if bug == "last_step_skipped" else reversed(range(T))):
        dz_rows = []
        for n in range(N):
            s = tape[t][n]
            d = list(dH[n][t]) if bug == "dh_carry_dropped" else [a + b for a, b in zip(dH[n][t], dh_next[n])]
            tc_o = [math.tanh(v) for v in s["c_prev"]] if bug == "do_tanh_c_prev" else s["tc"]
            do = [dd * tt for dd, tt in zip(d, tc_o)]
            dtc = [1 - tt * tt for tt in s["tc"]]
            if bug == "dtanh_c_twice":
                dtc = [v * v for v in dtc]
            dc = [dcn + dd * oo * g for dcn, dd, oo, g in zip(dc_next[n], d, s["o"], dtc)]
            di = [a * jj for a, jj in zip(dc, s["j"])]
            dj = [a * ii for a, ii in zip(dc, s["i"])]
            if bug == "c_without_f":
                df, dc_next[n] = [0.0] * H, dc
            else:
                df = [a * cp for a, cp in zip(dc, s["c_prev"])]
                dc_next[n] = [a * ff for a, ff in zip(dc, s["f"])]
            dzi = di if bug == "di_no_sigmoid_grad" else [a * ii * (1 - ii) for a, ii in zip(di, s["i"])]
            if bug == "dj_at_preact":
                dzj = [a * (1 - zz * zz) for a, zz in zip(dj, s["z"][H:2 * H])]
            else:
                dzj = [a * (1 - jj * jj) for a, jj in zip(dj, s["j"])]
            dzf = [a * ff * (1 - ff) for a, ff in zip(df, s["f"])]
            if bug == "do_tanh_grad":
                dzo = [a * (1 - oo * oo) for a, oo in zip(do, s["o"])]
            else:
                dzo = [a * oo * (1 - oo) for a, oo in zip(do, s["o"])]
            dz = dzi + dzf + dzj + dzo if bug == "packed_i_f_j_o" else dzi + dzj + dzf + dzo
            dz_rows.append(dz)
            for r, xv in enumerate(s["xh"]):
                dK[r] = [a + xv * g for a, g in zip(dK[r], dz)]
            W = dK if bug == "dxh_from_dkernel" else K
            dxh = [sum(a * b for a, b in zip(dz, row)) for row in W]
            dx[n][t], dh_next[n] = dxh[:D], dxh[D:]
            if bug == "dh_clipped":
                dh_next[n] = [max(-0.05, min(0.05, v)) for v in dh_next[n]]
        sums = [sum(c) for c in zip(*dz_rows)]
        db = sums if bug == "dbias_assigned" else [a + b for a, b in zip(db, sums)]
    if bug == "dkernel_over_N":
        dK = [[v / N for v in row] for row in dK]
    arr = lambda v: np.array(v, dtype=dtype)
    return arr(dx), arr(dh_next), arr(dc_next), arr(dK), arr(db)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (lambda *a: lstm_forward(*a, bug=bug), lambda d, c: lstm_backward(d, c, bug=bug),
            {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS})

"""An LSTM ported from C (``lstm_cell.c``) on TF's kernel layout: kernel (D+H, 4H) on [x, h],
bias (4H,), column blocks i, j, f, o at the offsets below, forget_bias = 1.0 added to the f
pre-activation in place in the ``z`` work buffer before the sigmoid (as TF's BasicLSTMCell
does). The port keeps the C's structure: one batch row at a time inside each step, one
``xh`` buffer and one ``z`` buffer reused for every row and step, a tape that ``memcpy``s
them per (row, step), macros for the activations' derivatives, and out-parameters that
the wrapper returns in the order ``lstm_bwd(.., dx, dh0, dc0, dkernel, dbias)``.

    #define OFF_I 0          #define OFF_J H          #define OFF_F (2*H)      #define OFF_O (3*H)
    #define DSIG(s)  ((s) * (1.0f - (s)))
    #define DTANH(t) (1.0f - (t) * (t))

Held-out zoo (held34): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from functools import partial

import numpy as np

FORGET_BIAS = 1.0
CLIP = 1.0

BUGS = {
    "tape_keeps_xh_pointer": "inplace_corruption",      # tape[n][t].xh = xh (the pointer, no memcpy)
    "forget_bias_again": "forget_bias",                 # f = sigm(ztape[OFF_F+k] + FORGET_BIAS): added twice
    "offsets_j_f_swapped": "gate_order",                # dz[OFF_F + k] = dj, dz[OFF_J + k] = df
    "dtanh_macro_unparenthesized": "derivative_miswritten",  # #define DTANH(t) 1.0f - t*t: dc*i*1 - j*j
    "df_c_of_this_step": "wrong_time",                  # df = dc * c[n][t + 1] * DSIG(f): c_t for c_(t-1)
    "dc_next_row_not_written": "carry_dropped",         # the dc_next[n] = dc * f line left out
    "dkernel_over_NT": "reduction_scaled",              # dkernel[..] *= 1.0f / (N * T)
    "clip_dc": "gradient_clipped",                      # dc = fminf(fmaxf(dc, -CLIP), CLIP)
    "memcpy_dh_from_offset_0": "wrong_value",           # memcpy(dh_next + n*H, dxh, H): dxh + D lost; relabelled from
                                                        # "unknown": d[x, h] read from the wrong end, as other zoos label it
    "dsig_of_tape_z": "derivative_wrong_point",         # di = dc * j * DSIG(ztape[OFF_I + k]): at z
    "dbias_assigned": "carry_overwrites",               # dbias[k] = dz[k]
    "out_params_dh0_dc0_swapped": "wrong_value",        # lstm_bwd(.., dx, dc0, dh0, ..) called with dh0, dc0
    "dc_next_f_twice": "derivative_twice",              # dc_next[n] = dc * f * f
    "dj_without_dtanh": "derivative_missing",           # dj = dc * i
}

TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "tape_keeps_xh_pointer": "",
    "forget_bias_again": "f",
    "offsets_j_f_swapped": "fg",
    "dtanh_macro_unparenthesized": "g",
    "df_c_of_this_step": "f",
    "dc_next_row_not_written": "",
    "dkernel_over_NT": "",
    "clip_dc": "ifg",
    "memcpy_dh_from_offset_0": "",
    "dsig_of_tape_z": "i",
    "dbias_assigned": "",
    "out_params_dh0_dc0_swapped": "",
    "dc_next_f_twice": "",
    "dj_without_dtanh": "g",
}


def sigm(v):
    return 1.0 / (1.0 + np.exp(-v))


def DSIG(s):
    return s * (1.0 - s)


def DTANH(t):
    return 1.0 - t * t


def lstm_fwd(x, h0, c0, kernel, bias, bug=None):
    """x (N, T, D), h0, c0 (N, H) -> h (N, T, H), tape."""
    N, T, D = x.shape
    H = h0.shape[1]
    OFF_I, OFF_J, OFF_F, OFF_O = 0, H, 2 * H, 3 * H
    hs = np.zeros((N, T + 1, H), dtype=x.dtype)
    cs = np.zeros((N, T + 1, H), dtype=x.dtype)
    hs[:, 0], cs[:, 0] = h0, c0
    xh = np.zeros(D + H, dtype=x.dtype)                  # float xh[D + H];  reused
    z = np.zeros(4 * H, dtype=x.dtype)                   # float z[4 * H];   reused
    tape = [[None] * T for _ in range(N)]
    for t in range(T):
        for n in range(N):
            xh[:D] = x[n, t]                                 # memcpy(xh, x + (n*T + t)*D, D)
            xh[D:] = hs[n, t]                                # memcpy(xh + D, hprev, H)
            z[:] = bias
            z += xh @ kernel                                 # sgemv
            z[OFF_F:OFF_F + H] += FORGET_BIAS
            i, j = sigm(z[OFF_I:OFF_I + H]), np.tanh(z[OFF_J:OFF_J + H])
            f, o = sigm(z[OFF_F:OFF_F + H]), sigm(z[OFF_O:OFF_O + H])
            cs[n, t + 1] = f * cs[n, t] + i * j
            hs[n, t + 1] = o * np.tanh(cs[n, t + 1])
            tape[n][t] = {"xh": xh if bug == "tape_keeps_xh_pointer" else xh.copy(), "z": z.copy()}
    return hs[:, 1:].copy(), {"tape": tape, "cs": cs, "kernel": kernel, "dims": (N, T, D, H)}


def lstm_bwd(dH, cache, bug=None):
    """dH (N, T, H) -> dx, dh0, dc0, dkernel, dbias (the wrapper's return order)."""
    tape, cs, kernel = cache["tape"], cache["cs"], cache["kernel"]
    N, T, D, H = cache["dims"]
    OFF_I, OFF_J, OFF_F, OFF_O = 0, H, 2 * H, 3 * H
    dx = np.zeros((N, T, D), dtype=dH.dtype)
    dkernel = np.zeros_like(kernel)
    dbias = np.zeros(4 * H, dtype=dH.dtype)
    dh_next = np.zeros((N, H), dtype=dH.dtype)
    dc_next = np.zeros((N, H), dtype=dH.dtype)
    dz = np.zeros(4 * H, dtype=dH.dtype)                 # float dz[4 * H];  reused
    for t in range(T - 1, -1, -1):
        for n in range(N):
            zt = tape[n][t]["z"]
            i, j = sigm(zt[OFF_I:OFF_I + H]), np.tanh(zt[OFF_J:OFF_J + H])
            f, o = sigm(zt[OFF_F:OFF_F + H]), sigm(zt[OFF_O:OFF_O + H])   # ztape holds z_f + FORGET_BIAS
            if bug == "forget_bias_again":
                f = sigm(zt[OFF_F:OFF_F + H] + FORGET_BIAS)
            tc = np.tanh(cs[n, t + 1])
            dh = dH[n, t] + dh_next[n]
            dc = dc_next[n] + dh * o * DTANH(tc)
            if bug == "clip_dc":
                dc = np.minimum(np.maximum(dc, -CLIP), CLIP)
            if bug == "dsig_of_tape_z":
                di = dc * j * DSIG(zt[OFF_I:OFF_I + H])
            else:
                di = dc * j * DSIG(i)
            if bug == "dtanh_macro_unparenthesized":
                dj = dc * i * 1.0 - j * j                   # dc * i * DTANH(j) with DTANH(t) 1.0f - t*t
            elif bug == "dj_without_dtanh":
                dj = dc * i
            else:
                dj = dc * i * DTANH(j)
            cprev = cs[n, t + 1] if bug == "df_c_of_this_step" else cs[n, t]
            df = dc * cprev * DSIG(f)
            do = dh * tc * DSIG(o)
            dz[OFF_I:OFF_I + H], dz[OFF_O:OFF_O + H] = di, do
            if bug == "offsets_j_f_swapped":
                dz[OFF_F:OFF_F + H], dz[OFF_J:OFF_J + H] = dj, df
            else:
                dz[OFF_J:OFF_J + H], dz[OFF_F:OFF_F + H] = dj, df
            dkernel += np.outer(tape[n][t]["xh"], dz)
            if bug == "dbias_assigned":
                dbias[:] = dz
            else:
                dbias += dz
            dxh = kernel @ dz                                # (D + H)
            dx[n, t] = dxh[:D]
            dh_next[n] = dxh[:H] if bug == "memcpy_dh_from_offset_0" else dxh[D:]
            if bug == "dc_next_f_twice":
                dc_next[n] = dc * f * f
            elif bug != "dc_next_row_not_written":
                dc_next[n] = dc * f
    if bug == "dkernel_over_NT":
        dkernel *= 1.0 / (N * T)
    if bug == "out_params_dh0_dc0_swapped":
        return dx, dc_next, dh_next, dkernel, dbias
    return dx, dh_next, dc_next, dkernel, dbias


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return (partial(lstm_fwd, bug=bug), partial(lstm_bwd, bug=bug),
            {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS})

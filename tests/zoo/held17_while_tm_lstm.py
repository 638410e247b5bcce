"""A time-major LSTM whose loops are while loops with a step counter (the forward breaks out
on the last step, the backward counts down), one weight W (4H, D+H) as torch stores it but
applied to xh = [x_t, h] with blocks in nicodjimenez's order g, i, f, o, and TF's forget bias
of 1.0 added to the f pre-activation (declared to the check as forget_bias=1.0):

    z = xh @ W.T + b                 zg, zi, zf, zo = split(z, 4)
    g = tanh(zg)   i = s(zi)   f = s(zf + 1.0)   o = s(zo)
    c = f * c + i * g                h = o * tanh(c)

xs (T, N, D), h0, c0 (N, H). The cache keeps the raw pre-activations z; the backward
recomputes the gates from them. Seventeenth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

FORGET_BIAS = 1.0

BUGS = {
    "forward_forget_bias_left_out": "forget_bias",        # f = s(zf) in the forward (the 1.0 forgotten); backward consistent
    "backward_f_without_bias": "forget_bias",             # the backward recomputes f = s(zf) without the 1.0
    "while_t_above_zero": "loop_skips_step",              # while t > 0: step 0 never visited
    "dz_blocks_giof": "gate_order",                       # dz = [dg, di, do, df] for blocks g, i, f, o
    "dzg_tanh_grad_at_c": "derivative_wrong_point",       # dzg = dg * (1 - tanh(c) ** 2) (also a wrong value: tanh(c) for g)
    "dW_h_cols_with_h_t": "wrong_time",                   # dW[:, D:] += dz.T @ h (this step's h for h_prev)
    "dh_prev_slice_off_by_one": "wrong_value",            # dh_prev = dxh[:, D - 1:D - 1 + H]
    "db_over_T": "reduction_scaled",                      # db / T at the end
    "dxh_from_dW": "gradient_for_weight",                 # dxh = dz @ dW (dW accumulated so far, for W)
    "dzo_no_sigmoid_grad": "derivative_missing",          # dzo = do
    "clip_dz_each_step": "gradient_clipped",              # dz = np.clip(dz, -0.02, 0.02)
    "carries_cut_after_2": "truncated_bptt",              # dh_next = dc_next = 0 once two steps have been walked back
    "forward_h_o_times_c": "forward_mistake",             # h = o * c (tanh forgotten); backward consistent
    "dc_carry_times_1_1": "unknown",                      # dc_next = 1.1 * dc * f: an arbitrary constant
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "forward_forget_bias_left_out": "",
    "backward_f_without_bias": "f",
    "while_t_above_zero": "",
    "dz_blocks_giof": "fo",
    "dzg_tanh_grad_at_c": "g",
    "dW_h_cols_with_h_t": "",
    "dh_prev_slice_off_by_one": "",
    "db_over_T": "",
    "dxh_from_dW": "",
    "dzo_no_sigmoid_grad": "o",
    "clip_dz_each_step": "",
    "carries_cut_after_2": "",
    "forward_h_o_times_c": "",
    "dc_carry_times_1_1": "",
}


def s(v):
    return 1.0 / (1.0 + np.exp(-v))


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    fb_forward = 0.0 if bug == "forward_forget_bias_left_out" else FORGET_BIAS
    fb_backward = 0.0 if bug in ("forward_forget_bias_left_out", "backward_f_without_bias") else FORGET_BIAS

    def forward(xs, h0, c0, W, b):
        T = xs.shape[0]
        h, c = h0, c0
        hs, tape = [], []
        t = 0
        while True:
            xh = np.concatenate([xs[t], h], axis=1)
            z = xh @ W.T + b
            zg, zi, zf, zo = np.split(z, 4, axis=1)
            g, i, f, o = np.tanh(zg), s(zi), s(zf + fb_forward), s(zo)
            c_prev = c
            c = f * c + i * g
            h = o * c if bug == "forward_h_o_times_c" else o * np.tanh(c)
            tape.append((xh, z, c_prev, c, h))
            hs.append(h)
            if t == T - 1:
                break
            t += 1
        return np.array(hs), (tape, W)

    def backward(dhs, cache):
        tape, W = cache
        T, N, H = dhs.shape
        D = W.shape[1] - H
        dW, db = np.zeros_like(W), np.zeros(4 * H, dtype=dhs.dtype)
        dxs = np.zeros((T, N, D), dtype=dhs.dtype)
        dh_next, dc_next = np.zeros((N, H), dhs.dtype), np.zeros((N, H), dhs.dtype)
        t, walked = T - 1, 0
        while (t > 0) if bug == "while_t_above_zero" else (t >= 0):
            xh, z, c_prev, c, h_t = tape[t]
            zg, zi, zf, zo = np.split(z, 4, axis=1)
            g, i, f, o = np.tanh(zg), s(zi), s(zf + fb_backward), s(zo)
            dh = dhs[t] + dh_next
            if bug == "forward_h_o_times_c":
                do = dh * c
                dc = dc_next + dh * o
            else:
                tc = np.tanh(c)
                do = dh * tc
                dc = dc_next + dh * o * (1 - tc ** 2)
            dg, di, df = dc * i, dc * g, dc * c_prev
            dzg = dg * (1 - np.tanh(c) ** 2) if bug == "dzg_tanh_grad_at_c" else dg * (1 - g ** 2)
            dzi, dzf = di * i * (1 - i), df * f * (1 - f)
            dzo = do if bug == "dzo_no_sigmoid_grad" else do * o * (1 - o)
            parts = [dzg, dzi, dzo, dzf] if bug == "dz_blocks_giof" else [dzg, dzi, dzf, dzo]
            dz = np.concatenate(parts, axis=1)
            if bug == "clip_dz_each_step":
                dz = np.clip(dz, -0.02, 0.02)
            dxh = dz @ (dW if bug == "dxh_from_dW" else W)
            dW[:, :D] += dz.T @ xh[:, :D]
            dW[:, D:] += dz.T @ (h_t if bug == "dW_h_cols_with_h_t" else xh[:, D:])
            db += dz.sum(axis=0)
            dxs[t] = dxh[:, :D]
            dh_next = dxh[:, D - 1:D - 1 + H] if bug == "dh_prev_slice_off_by_one" else dxh[:, D:]
            dc_next = dc * f
            if bug == "dc_carry_times_1_1":
                dc_next = 1.1 * dc_next
            walked += 1
            if bug == "carries_cut_after_2" and walked == 2:
                dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
            t -= 1
        if bug == "db_over_T":
            db = db / T
        return dxs, dh_next, dc_next, dW, db

    return forward, backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}


def _gifo(a, axis=0):
    i, f, g, o = np.split(a, 4, axis=axis)                # torch's i, f, g, o -> g, i, f, o (and back below)
    return np.concatenate([g, i, f, o], axis=axis)


def _ifgo(a, axis=0):
    g, i, f, o = np.split(a, 4, axis=axis)
    return np.concatenate([i, f, g, o], axis=axis)


def to_user(cell, p):
    return {"W": _gifo(np.concatenate([p["weight_ih"], p["weight_hh"]], axis=1)),
            "b": _gifo(p["bias_ih"] + p["bias_hh"])}


def to_canonical(cell, g, p):
    D = p["weight_ih"].shape[1]
    out = {}
    if "dW" in g:
        dW = _ifgo(g["dW"])
        out.update(dweight_ih=dW[:, :D], dweight_hh=dW[:, D:])
    if "db" in g:
        out["dbias_ih"] = _ifgo(g["db"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="while_time_major", cells=("lstm",), axes="TND",
                               gate_order="gifo")

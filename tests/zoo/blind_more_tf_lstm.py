"""More mistakes in a BasicLSTMCell-style layer, written fresh: kernel (D+H, 4H) on
concat([x_t, h_{t-1}]), columns i, j, f, o, TF's forget_bias (1.0) added to f's
pre-activation, c0 an argument.

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
TOUCHES: canonical gates (i, f, g, o) whose weight-gradient blocks are wrong with one step;
computed by blind_index.touched_gates.
"""

import numpy as np

FORGET_BIAS = 1.0

BUGS = {
    "fb_missing_in_backward": "forget_bias",          # backward recomputes f = sigmoid(pre_f) without the offset
    "fb_twice": "forget_bias",                        # offset put in the bias and added again
    "df_tanh_grad": "derivative_wrong_function",      # (1 - f**2) for the sigmoid forget gate
    "dj_no_grad": "derivative_missing",               # dj = dc * i
    "dc_no_h_path": "term_dropped",                   # dc = dc_next: the path through h_t left out
    "dh_carry_assigned": "carry_overwrites",          # dh_t = dh_next for t < T-1
    "dc_carry_never_set": "carry_dropped",            # dc_next never updated from dc * f
    "i_inplace": "inplace_corruption",                # i *= (1 - i) before dj reads i
    "df_c_t": "wrong_time",                           # df = dc * c_t * ... (for c_{t-1})
    "dkernel_mean_NT": "reduction_scaled",            # dkernel / (N * T)
    "backward_jifo": "gate_order",                    # backward packs d as j, i, f, o
    "dinx_from_dkernel": "gradient_for_weight",       # dinx = d @ dkernel.T
    "dtanh_c_twice": "derivative_twice",              # (1 - tanh(c)^2) applied twice in dc
    "do_sign": "wrong_sign",                          # o * (o - 1)
    "h_without_tanh": "forward_mistake",              # h = o * c, backward consistent
    "h_prev_wraps_at_t0": "wrong_time",  # (relabelled 2026-12-07 from unknown: one mistake) hs[t - 1] for h_{t-1} in dkernel: h_{T-1} at t = 0
    "dc_no_o_factor": "term_dropped",                 # dc = dc_next + dh * (1 - tanh(c)^2): the factor o left out
    "do_grad_constant_half": "unknown",               # o' as 0.5 * (1 - tanh(pre/2)^2) (the right constant is 0.25)
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "fb_missing_in_backward": "f",
    "fb_twice": "",
    "df_tanh_grad": "f",
    "dj_no_grad": "g",
    "dc_no_h_path": "ifg",
    "dh_carry_assigned": "",
    "dc_carry_never_set": "",
    "i_inplace": "g",
    "df_c_t": "f",
    "dkernel_mean_NT": "",
    "backward_jifo": "ig",
    "dinx_from_dkernel": "",
    "dtanh_c_twice": "ifg",
    "do_sign": "o",
    "h_without_tanh": "",
    "h_prev_wraps_at_t0": "",
    "dc_no_o_factor": "ifg",
    "do_grad_constant_half": "o",
}


def sigmoid(v):
    return 0.5 * (np.tanh(0.5 * v) + 1)


class MyLSTMLayer:
    def __init__(self, bug=None):
        assert bug is None or bug in BUGS, bug
        self.bug = bug

    def forward(self, x, h0, c0, kernel, bias):
        """x (N, T, D), h0, c0 (N, H) -> h (N, T, H), cache."""
        bug, H = self.bug, h0.shape[1]
        if bug == "fb_twice":
            bias = bias.copy()
            bias[2 * H:3 * H] += FORGET_BIAS
        h, c, steps, hs = h0, c0, [], []
        for t in range(x.shape[1]):
            inx = np.concatenate([x[:, t], h], axis=1)
            pre = inx @ kernel + bias
            i, j = sigmoid(pre[:, :H]), np.tanh(pre[:, H:2 * H])
            f, o = sigmoid(pre[:, 2 * H:3 * H] + FORGET_BIAS), sigmoid(pre[:, 3 * H:])
            c_prev = c
            c = f * c_prev + i * j
            h = o * c if bug == "h_without_tanh" else o * np.tanh(c)
            steps.append({"inx": inx, "pre": pre, "c_prev": c_prev, "c": c, "i": i, "j": j, "f": f, "o": o})
            hs.append(h)
        return np.stack(hs, axis=1), {"steps": steps, "hs": hs, "kernel": kernel, "D": x.shape[2]}

    def _step(self, s, dh_t, dc_next):
        """The gradient of the step's pre-activations (N, 4H) and of c_{t-1}."""
        bug, H = self.bug, dh_t.shape[1]
        i, j, o, c = s["i"], s["j"], s["o"], s["c"]
        f = sigmoid(s["pre"][:, 2 * H:3 * H]) if bug == "fb_missing_in_backward" else s["f"]
        if bug == "h_without_tanh":
            tc, dtc = c, 1
        else:
            tc = np.tanh(c)
            dtc = (1 - tc * tc) ** 2 if bug == "dtanh_c_twice" else 1 - tc * tc
        if bug == "dc_no_h_path":
            dc = dc_next
        elif bug == "dc_no_o_factor":
            dc = dc_next + dh_t * dtc
        else:
            dc = dc_next + dh_t * o * dtc
        if bug == "do_grad_constant_half":
            do = dh_t * tc * 0.5 * (1 - np.tanh(0.5 * s["pre"][:, 3 * H:]) ** 2)
        else:
            do = dh_t * tc * (o * (o - 1) if bug == "do_sign" else o * (1 - o))
        if bug == "i_inplace":
            i *= 1 - i                                # i(1 - i), written into the cached i
            di = dc * j * i
        else:
            di = dc * j * i * (1 - i)
        dj = dc * i if bug == "dj_no_grad" else dc * i * (1 - j * j)
        c_f = c if bug == "df_c_t" else s["c_prev"]
        df = dc * c_f * ((1 - f * f) if bug == "df_tanh_grad" else f * (1 - f))
        d = np.concatenate([{"i": di, "j": dj, "f": df, "o": do}[k]
                            for k in ("jifo" if bug == "backward_jifo" else "ijfo")], axis=1)
        return d, dc * f

    def backward(self, dh, cache):
        """dh (N, T, H) -> dx (N, T, D), dh0, dc0 (N, H), dkernel (D+H, 4H), dbias (4H,)."""
        bug, steps, kernel, D = self.bug, cache["steps"], cache["kernel"], cache["D"]
        N, T, H = dh.shape
        dkernel = np.zeros_like(kernel)
        dbias = np.zeros(4 * H, dtype=kernel.dtype)
        dx = np.zeros((N, T, D), dtype=kernel.dtype)
        dh_next = np.zeros((N, H), dtype=kernel.dtype)
        dc_next = np.zeros((N, H), dtype=kernel.dtype)
        for t in range(T - 1, -1, -1):
            s = steps[t]
            if bug == "dh_carry_assigned":
                dh_t = dh_next if t < T - 1 else dh[:, t]
            else:
                dh_t = dh[:, t] + dh_next
            d, dc_prev = self._step(s, dh_t, dc_next)
            inx = s["inx"]
            if bug == "h_prev_wraps_at_t0":                 # hs[t - 1] as h_{t-1}: at t = 0 that is h_{T-1}
                inx = np.concatenate([inx[:, :D], cache["hs"][t - 1]], axis=1)
            dkernel += inx.T @ d
            dbias += d.sum(axis=0)
            dinx = d @ (dkernel.T if bug == "dinx_from_dkernel" else kernel.T)
            dx[:, t], dh_next = dinx[:, :D], dinx[:, D:]
            if bug != "dc_carry_never_set":
                dc_next = dc_prev
        if bug == "dkernel_mean_NT":
            dkernel /= N * T
        return dx, dh_next, dc_next, dkernel, dbias



def make(bug=None):
    layer = MyLSTMLayer(bug)
    return layer.forward, layer.backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

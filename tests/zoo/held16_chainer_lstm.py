"""An LSTM ported from Chainer (``links.LSTM`` over ``functions.lstm``), time-major: one weight
W (4H, D+H) applied to [x_t, h_(t-1)] and a bias b (4H,), whose pre-activation is read the
way chainer.functions.lstm reads it: reshaped (N, H, 4), so the gates are interleaved per
unit in the order a, i, f, o (a, the candidate, first):

    lstm_in = [x_t, h_(t-1)] @ W.T + b;   r = lstm_in.reshape(N, H, 4)
    a = tanh(r[..., 0])   i = s(r[..., 1])   f = s(r[..., 2])   o = s(r[..., 3])
    c_t = a * i + f * c_(t-1)        h_t = o * tanh(c_t)

x (T, N, D), h0 and c0 (N, H) (a custom layout). The step backward follows Chainer's own
(gc, gh -> gc_prev, gx with the gradients stacked on the last axis). Sixteenth held-out zoo:
written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "stacked_i_before_a": "gate_order",                  # np.stack([gi, ga, gf, go], axis=2): i before a
    "gi_uses_tanh_c": "wrong_value",                     # gi = gc_total * co * s'(i): tanh(c_t) for a
    "ga_tanh_grad_at_co": "derivative_wrong_point",      # ga = gc_total * i * (1 - co * co): tanh' of c_t for a
    "gc_total_without_tanh_grad": "derivative_missing",  # gc_total = gc + gh * o
    "gh_next_sliced_from_front": "wrong_value",          # gh_next = gxh[:, :H] (the [x, h] columns confused)
    "gc_not_carried": "carry_dropped",                   # gc_total = gh * o * (1 - co * co): the c carry left out
    "gh_replaced_by_carry": "carry_overwrites",          # gh = gh_next for t < T - 1 (dh[t] thrown away)
    "gf_sigmoid_grad_twice": "derivative_twice",         # gf with f * (1 - f) twice
    "go_sigmoid_grad_sign": "wrong_sign",                # go = gh * co * o * (o - 1)
    "xh_rebuilt_with_h_t": "wrong_time",                 # [x_t, h_t] for [x_t, h_(t-1)] in gW
    "gb_batch_mean": "reduction_scaled",                 # gb += gx.mean(axis=0)
    "carries_cut_every_2": "truncated_bptt",             # gh_next and gc zeroed every 2 steps walked back
    "loop_stops_at_1": "loop_skips_step",                # for t in reversed(range(1, T))
    "forward_h_without_tanh": "forward_mistake",         # h = o * c; backward consistent
    "gf_c_t_and_go_no_sigmoid_grad": "unknown",          # gf with c_t for c_(t-1) and go without s'(o): two mistakes
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "stacked_i_before_a": "ig",
    "gi_uses_tanh_c": "i",
    "ga_tanh_grad_at_co": "g",
    "gc_total_without_tanh_grad": "ifg",
    "gh_next_sliced_from_front": "",
    "gc_not_carried": "",
    "gh_replaced_by_carry": "",
    "gf_sigmoid_grad_twice": "f",
    "go_sigmoid_grad_sign": "o",
    "xh_rebuilt_with_h_t": "",
    "gb_batch_mean": "",
    "carries_cut_every_2": "",
    "loop_stops_at_1": "",
    "forward_h_without_tanh": "",
    "gf_c_t_and_go_no_sigmoid_grad": "fo",
}

TO_USER = [2, 0, 1, 3]      # canonical blocks i, f, g, o -> Chainer's a, i, f, o
TO_CANON = [1, 2, 0, 3]     # Chainer's a, i, f, o -> canonical i, f, g, o


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _interleave(w, H):
    """Canonical (4H, ...) blocks i, f, g, o -> rows 4 j + k, k in a, i, f, o."""
    w = np.asarray(w).reshape((4, H) + w.shape[1:])[TO_USER]
    return np.swapaxes(w, 0, 1).reshape((4 * H,) + w.shape[2:])


def _deinterleave(w, H):
    w = np.swapaxes(np.asarray(w).reshape((H, 4) + w.shape[1:]), 0, 1)[TO_CANON]
    return w.reshape((4 * H,) + w.shape[2:])


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    return {"W": _interleave(np.concatenate([p["weight_ih"], p["weight_hh"]], axis=1), H),
            "b": _interleave(p["bias_ih"] + p["bias_hh"], H)}


def to_canonical(cell, grads, p):
    H, D = p["weight_hh"].shape[1], p["weight_ih"].shape[1]
    out = {}
    if "dW" in grads:
        W = _deinterleave(grads["dW"], H)
        out.update(dweight_ih=W[:, :D], dweight_hh=W[:, D:])
    if "db" in grads:
        out["dbias_ih"] = _deinterleave(grads["db"], H)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="chainer_lstm", cells=("lstm",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, c0, W, b):
        T, N, _ = x.shape
        H = h0.shape[1]
        h, c, hs, tape = h0, c0, [], []
        for t in range(T):
            xh = np.concatenate([x[t], h], axis=1)
            r = (xh @ W.T + b).reshape(N, H, 4)
            a, i, f, o = np.tanh(r[..., 0]), sigmoid(r[..., 1]), sigmoid(r[..., 2]), sigmoid(r[..., 3])
            c_prev, c = c, a * i + f * c
            h = o * c if bug == "forward_h_without_tanh" else o * np.tanh(c)
            tape.append((xh, c_prev, a, i, f, o, c, h))
            hs.append(h)
        return np.stack(hs), (tape, W, b, x.shape[2])

    def backward(dh, cache):
        tape, W, b, D = cache
        T, N, H = dh.shape
        gW, gb = np.zeros_like(W), np.zeros_like(b)
        gx_all = np.zeros((T, N, D), dtype=dh.dtype)
        gh_next = np.zeros((N, H), dtype=dh.dtype)
        gc = np.zeros((N, H), dtype=dh.dtype)
        last = 1 if bug == "loop_stops_at_1" else 0
        for k, t in enumerate(reversed(range(last, T))):
            xh, c_prev, a, i, f, o, c, h = tape[t]
            gh = gh_next if bug == "gh_replaced_by_carry" and t < T - 1 else dh[t] + gh_next
            if bug == "forward_h_without_tanh":
                co, dco = c, 1
            else:
                co = np.tanh(c)
                dco = 1 - co * co
            if bug == "gc_total_without_tanh_grad":
                gc_total = gc + gh * o
            elif bug == "gc_not_carried":
                gc_total = gh * o * dco
            else:
                gc_total = gc + gh * o * dco
            ga = gc_total * i * ((1 - co * co) if bug == "ga_tanh_grad_at_co" else (1 - a * a))
            gi = gc_total * (co if bug == "gi_uses_tanh_c" else a) * i * (1 - i)
            c_for_f = c if bug == "gf_c_t_and_go_no_sigmoid_grad" else c_prev
            gf = gc_total * c_for_f * f * (1 - f)
            if bug == "gf_sigmoid_grad_twice":
                gf = gf * f * (1 - f)
            if bug == "go_sigmoid_grad_sign":
                go = gh * co * o * (o - 1)
            elif bug == "gf_c_t_and_go_no_sigmoid_grad":
                go = gh * co
            else:
                go = gh * co * o * (1 - o)
            gc = gc_total * f
            parts = [gi, ga, gf, go] if bug == "stacked_i_before_a" else [ga, gi, gf, go]
            gx = np.stack(parts, axis=2).reshape(N, 4 * H)
            if bug == "xh_rebuilt_with_h_t":
                xh = np.concatenate([xh[:, :D], h], axis=1)
            gW += gx.T @ xh
            gb += gx.mean(axis=0) if bug == "gb_batch_mean" else gx.sum(axis=0)
            gxh = gx @ W
            gx_all[t] = gxh[:, :D]
            gh_next = gxh[:, :H] if bug == "gh_next_sliced_from_front" else gxh[:, D:]
            if bug == "carries_cut_every_2" and (k + 1) % 2 == 0:
                gh_next, gc = np.zeros_like(gh_next), np.zeros_like(gc)
        return gx_all, gh_next, gc, gW, gb

    return forward, backward, {"cell": "lstm", "layout": LAYOUT}

"""An RNN written as a small class that keeps its own cache, time-major as in seq2seq code:
x (T, N, D), h (T, N, H); Wxh (D, H), Whh (H, H), bh (H,).

    layer = RNNLayer(Wxh, Whh, bh); hs = layer.forward(x, h0); grads = layer.backward(dout)

``forward(x, h0, Wxh, Whh, bh)`` builds the object and hands it back as the cache;
``backward(dh, cache)`` calls ``cache.backward(dh)``. hs[0] holds h0 and hs[t + 1] holds h_t
(the classic off-by-one trap). Eighth held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dWhh_with_hs_t_plus_1": "wrong_time",             # dWhh += hs[t + 1].T @ dpre (h_t for h_(t-1))
    "dpre_from_hs_t": "wrong_time",                    # dpre = dh * (1 - hs[t] ** 2): tanh' one step early
    "Whh_not_transposed": "weight_transposed",         # dhnext = dpre @ self.Whh
    "dWhh_written_transposed": "gradient_transposed",  # dWhh += dpre.T @ hs[t]
    "dhnext_never_added": "carry_dropped",             # dh = dout[t] (the carry from t + 1 is not added)
    "loop_runs_forward": "loop_direction",             # for t in range(T)
    "dbh_mean_over_batch": "reduction_scaled",         # dbh += dpre.mean(axis=0)
    "one_h_buffer_cached": "inplace_corruption",       # h[...] = tanh(...) into one buffer appended every step
    "dx_through_dWxh": "gradient_for_weight",          # dx[t] = dpre @ dWxh.T (the running dWxh)
    "wildml_truncate_2": "truncated_bptt",             # WildML's loop: each output goes back at most 2 steps
    "clip_grads_at_half": "gradient_clipped",          # np.clip(d, -0.5, 0.5, out=d) on dWxh, dWhh, dbh
    "bias_added_twice": "forward_mistake",             # pre = ... + bh + bh; backward dbh = 2 * sum(dpre)
    "Whh_untransposed_and_dbh_mean": "unknown",        # Whh untransposed in dhnext AND dbh a mean over the batch
}

TOUCHES = {b: "" for b in BUGS}                        # computed: blind_index.touched_gates (an RNN: always "")


class RNNLayer:
    def __init__(self, Wxh, Whh, bh, bug=None):
        self.Wxh, self.Whh, self.bh = Wxh, Whh, bh
        self.bug = bug
        self.cache = None

    def forward(self, x, h0):
        T = x.shape[0]
        bias = self.bh + self.bh if self.bug == "bias_added_twice" else self.bh
        hs, outs = [h0], []
        buf = np.zeros_like(h0)
        for t in range(T):
            pre = x[t] @ self.Wxh + hs[t] @ self.Whh + bias
            if self.bug == "one_h_buffer_cached":
                buf[...] = np.tanh(pre)
                hs.append(buf)
            else:
                hs.append(np.tanh(pre))
            outs.append(hs[-1].copy())
        self.cache = (x, hs)
        return np.stack(outs)

    def backward(self, dout):
        if self.bug == "wildml_truncate_2":
            return self._backward_wildml(dout, truncate=2)
        x, hs = self.cache
        T = x.shape[0]
        dWxh, dWhh, dbh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.bh)
        dx = np.zeros_like(x)
        dhnext = np.zeros_like(hs[0])
        steps = range(T) if self.bug == "loop_runs_forward" else reversed(range(T))
        for t in steps:
            dh = dout[t] if self.bug == "dhnext_never_added" else dout[t] + dhnext
            h_for_grad = hs[t] if self.bug == "dpre_from_hs_t" else hs[t + 1]
            dpre = dh * (1 - h_for_grad ** 2)
            dWxh += x[t].T @ dpre
            if self.bug == "dWhh_with_hs_t_plus_1":
                dWhh += hs[t + 1].T @ dpre
            elif self.bug == "dWhh_written_transposed":
                dWhh += dpre.T @ hs[t]
            else:
                dWhh += hs[t].T @ dpre
            if self.bug in ("dbh_mean_over_batch", "Whh_untransposed_and_dbh_mean"):
                dbh += dpre.mean(axis=0)
            elif self.bug == "bias_added_twice":
                dbh += 2 * dpre.sum(axis=0)
            else:
                dbh += dpre.sum(axis=0)
            dx[t] = dpre @ (dWxh.T if self.bug == "dx_through_dWxh" else self.Wxh.T)
            if self.bug in ("Whh_not_transposed", "Whh_untransposed_and_dbh_mean"):
                dhnext = dpre @ self.Whh
            else:
                dhnext = dpre @ self.Whh.T
        if self.bug == "clip_grads_at_half":
            for d in (dWxh, dWhh, dbh):
                np.clip(d, -0.5, 0.5, out=d)
        return dx, dhnext, dWxh, dWhh, dbh

    def _backward_wildml(self, dout, truncate):
        """The WildML tutorial's loop: every output's delta goes back at most ``truncate`` steps."""
        x, hs = self.cache
        T = x.shape[0]
        dWxh, dWhh, dbh = np.zeros_like(self.Wxh), np.zeros_like(self.Whh), np.zeros_like(self.bh)
        dx, dh0 = np.zeros_like(x), np.zeros_like(hs[0])
        for t in reversed(range(T)):
            delta = dout[t] * (1 - hs[t + 1] ** 2)
            for step in range(t, max(-1, t - truncate - 1), -1):
                dWxh += x[step].T @ delta
                dWhh += hs[step].T @ delta
                dbh += delta.sum(axis=0)
                dx[step] += delta @ self.Wxh.T
                back = delta @ self.Whh.T
                if step == 0:
                    dh0 += back
                else:
                    delta = back * (1 - hs[step] ** 2)
        return dx, dh0, dWxh, dWhh, dbh


def to_user(cell, p):
    return {"Wxh": p["weight_ih"].T, "Whh": p["weight_hh"].T, "bh": p["bias_ih"] + p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dWxh": "dweight_ih", "dWhh": "dweight_hh"}
    out = {q: grads[u].T for u, q in names.items() if u in grads}
    if "dbh" in grads:
        out["dbias_ih"] = grads["dbh"]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="class_rnn_tnd", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wxh, Whh, bh):
        layer = RNNLayer(Wxh, Whh, bh, bug)
        return layer.forward(x, h0), layer

    def backward(dh, cache):
        return cache.backward(dh)

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}

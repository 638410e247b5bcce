"""An image-captioning model's script: CNN features projected to h0, caption words embedded,
an LSTM decoder over the words, a temporal affine layer to the vocabulary and a softmax loss.
The LSTM is written inside the model class as ``_lstm_forward`` / ``_lstm_backward`` in the
cs231n layout (x (N, T, D), Wx (D, 4H), Wh (H, 4H), b (4H,), blocks i, f, o, g, c0 = 0):

    a = x_t @ Wx + prev_h @ Wh + b;  ai, af, ao, ag = np.hsplit(a, 4)
    i, f, o, g = sigmoid(ai), sigmoid(af), sigmoid(ao), tanh(ag)
    next_c = f * prev_c + i * g      next_h = o * tanh(next_c)

Each step's cache is a tuple; the backward unpacks it. Twenty-ninth held-out zoo: written
without reading the diagnosis.
"""

import numpy as np

BUGS = {
    "df_without_prev_c": "term_dropped",                  # df = dc (the factor prev_c dropped)
    "dao_tanh_grad": "derivative_wrong_function",         # dao = do * (1 - o**2)
    "dc_tanh_grad_at_c": "derivative_wrong_point",        # dc += dnext_h * o * (1 - next_c**2): tanh' at c, not tanh(c)
    "dag_square_misplaced": "derivative_miswritten",      # dag = dg * (1 - g)**2
    "da_hstacked_ifgo": "gate_order",                     # da = np.hstack((dai, daf, dag, dao)): torch's order
    "Wh_f_block_for_i": "wrong_weight",                   # dprev_h uses Wh's f columns for the i block
    "db_over_NT": "reduction_scaled",                     # db /= N * T
    "i_times_g_in_place": "inplace_corruption",           # ig = i; ig *= g in the forward: the cached i is i * g
    "dprev_h_from_dWh": "gradient_for_weight",            # dprev_h = da @ dWh.T (the running gradient)
    "backward_loop_forward": "loop_direction",            # for t in range(T)
    "forward_c_without_i": "forward_mistake",             # next_c = f * prev_c + g; backward consistent (dai = 0)
    "dprev_c_times_i": "wrong_value",                     # dprev_c = dc * i (i read for f)
    "df_bare_and_Wh_untransposed": "unknown",             # two at once: df = dc and each (H, H) block of Wh used
                                                          # untransposed in dprev_h
}

TOUCHES = {                                               # computed: blind_index.touched_gates(module, bug)
    "df_without_prev_c": "f",
    "dao_tanh_grad": "o",
    "dc_tanh_grad_at_c": "ig",
    "dag_square_misplaced": "g",
    "da_hstacked_ifgo": "go",
    "Wh_f_block_for_i": "",
    "db_over_NT": "",
    "i_times_g_in_place": "ig",
    "dprev_h_from_dWh": "",
    "backward_loop_forward": "",
    "forward_c_without_i": "",
    "dprev_c_times_i": "",
    "df_bare_and_Wh_untransposed": "f",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class CaptioningLSTM:
    def __init__(self, params, bug=None):
        self.params, self.bug = params, bug

    def _step_forward(self, x, prev_h, prev_c, Wx, Wh, b):
        a = x @ Wx + prev_h @ Wh + b
        ai, af, ao, ag = np.hsplit(a, 4)
        i, f, o, g = sigmoid(ai), sigmoid(af), sigmoid(ao), np.tanh(ag)
        if self.bug == "i_times_g_in_place":
            ig = i
            ig *= g
            next_c = f * prev_c + ig
        elif self.bug == "forward_c_without_i":
            next_c = f * prev_c + g
        else:
            next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, i, f, o, g, next_c)

    def _step_backward(self, dnext_h, dnext_c, cache, Wx, Wh, dWh):
        bug = self.bug
        x, prev_h, prev_c, i, f, o, g, next_c = cache
        tanh_c = np.tanh(next_c)
        if bug == "dc_tanh_grad_at_c":
            dc = dnext_c + dnext_h * o * (1 - next_c ** 2)
        else:
            dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        do = dnext_h * tanh_c
        df = dc if bug in ("df_without_prev_c", "df_bare_and_Wh_untransposed") else dc * prev_c
        di = dc * g
        dg = dc * i
        dai = np.zeros_like(di) if bug == "forward_c_without_i" else di * i * (1 - i)
        if bug == "forward_c_without_i":
            dg = dc
        daf = df * f * (1 - f)
        dao = do * (1 - o ** 2) if bug == "dao_tanh_grad" else do * o * (1 - o)
        dag = dg * (1 - g) ** 2 if bug == "dag_square_misplaced" else dg * (1 - g ** 2)
        parts = (dai, daf, dag, dao) if bug == "da_hstacked_ifgo" else (dai, daf, dao, dag)
        da = np.hstack(parts)
        dWx, dWh_t, db = x.T @ da, prev_h.T @ da, da.sum(axis=0)
        dx = da @ Wx.T
        if bug == "Wh_f_block_for_i":
            H = prev_h.shape[1]
            Wh_used = Wh.copy()
            Wh_used[:, :H] = Wh[:, H:2 * H]
            dprev_h = da @ Wh_used.T
        elif bug == "dprev_h_from_dWh":
            dprev_h = da @ (dWh + dWh_t).T
        elif bug == "df_bare_and_Wh_untransposed":
            H = prev_h.shape[1]                           # per-block products, each block's (H, H) untransposed
            dprev_h = sum(da[:, k * H:(k + 1) * H] @ Wh[:, k * H:(k + 1) * H] for k in range(4))
        else:
            dprev_h = da @ Wh.T
        dprev_c = dc * (i if bug == "dprev_c_times_i" else f)
        return dx, dprev_h, dprev_c, dWx, dWh_t, db

    def _lstm_forward(self, x, h0, Wx, Wh, b):
        N, T, _ = x.shape
        H = h0.shape[1]
        h = np.zeros((N, T, H), dtype=x.dtype)
        prev_h, prev_c = h0, np.zeros_like(h0)
        caches = []
        for t in range(T):
            prev_h, prev_c, cache = self._step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
            h[:, t, :] = prev_h
            caches.append(cache)
        return h, (caches, Wx, Wh)

    def _lstm_backward(self, dh, cache):
        caches, Wx, Wh = cache
        N, T, H = dh.shape
        dx = np.zeros((N, T, Wx.shape[0]), dtype=dh.dtype)
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(4 * H, dtype=dh.dtype)
        dprev_h, dprev_c = np.zeros((N, H), dtype=dh.dtype), np.zeros((N, H), dtype=dh.dtype)
        for t in (range(T) if self.bug == "backward_loop_forward" else reversed(range(T))):
            dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = self._step_backward(
                dh[:, t, :] + dprev_h, dprev_c, caches[t], Wx, Wh, dWh)
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        if self.bug == "db_over_NT":
            db /= N * T
        return dx, dprev_h, dWx, dWh, db

    def loss(self, features, captions):
        p = self.params
        h0 = features @ p["W_proj"] + p["b_proj"]
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]
        x = p["W_embed"][captions_in]
        h, cache = self._lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])
        scores = h @ p["W_vocab"] + p["b_vocab"]
        mask = captions_out != 0
        probs = np.exp(scores - scores.max(axis=2, keepdims=True))
        probs /= probs.sum(axis=2, keepdims=True)
        N, T = captions_out.shape
        loss = -np.sum(mask * np.log(probs[np.arange(N)[:, None], np.arange(T), captions_out])) / N
        dscores = probs
        dscores[np.arange(N)[:, None], np.arange(T), captions_out] -= 1
        dscores *= mask[:, :, None] / N
        dh = dscores @ p["W_vocab"].T
        dx, dh0, dWx, dWh, db = self._lstm_backward(dh, cache)
        grads = {"Wx": dWx, "Wh": dWh, "b": db, "W_vocab": np.einsum("nth,ntv->hv", h, dscores),
                 "b_vocab": dscores.sum(axis=(0, 1)), "W_proj": features.T @ dh0, "b_proj": dh0.sum(axis=0)}
        W_embed_grad = np.zeros_like(p["W_embed"])
        np.add.at(W_embed_grad, captions_in, dx)
        grads["W_embed"] = W_embed_grad
        return loss, grads


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(x, h0, Wx, Wh, b):
        model = CaptioningLSTM({}, bug)
        h, cache = model._lstm_forward(x, h0, Wx, Wh, b)
        return h, (model, cache)

    def backward(dh, cache):
        model, inner = cache
        return model._lstm_backward(dh, inner)

    return forward, backward, {"cell": "lstm", "layout": "cs231n"}

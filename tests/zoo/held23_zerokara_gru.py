"""A GRU in the style of the Japanese "ゼロから作る Deep Learning ❷" appendix: a ``GRU`` cell
class with ``params``/``grads`` and a ``TimeGRU`` layer looping over per-step cell objects,
Wx (D, 3H), Wh (H, 3H), b (3H,) split into the blocks z, r, h, the update gate in the
book's convention (z keeps the candidate) and the reset applied before Wh (reset_before),
the backward in the book's sections reusing one variable ``dt``:

    z = s(x Wxz + h Whz + bz)    r = s(x Wxr + h Whr + br)
    h_hat = tanh(x Wxh + (r * h) Whh + bh)        h_next = (1 - z) * h + z * h_hat

The book's z is 1 - torch's z, so to_user negates that block. x (N, T, D), h0 (N, H) set as
the stateful layer's h. Twenty-third held-out zoo: written without reading the diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "dz_torch_sign": "wrong_sign",                    # dz = dh_next * h_prev - dh_next * h_hat
    "dhr_Whh_untransposed": "weight_transposed",      # dhr = np.dot(dt, Whh)
    "dWhh_without_r": "term_dropped",                 # dWhh = np.dot(h_prev.T, dt): the factor r left out
    "dWhr_with_stale_dt": "wrong_value",              # dWhr = np.dot(h_prev.T, dt) before dt is recomputed: z's dt
    "hstack_r_before_z": "gate_order",                # dWx, dWh, db = hstack((..r, ..z, ..h))
    "dr_with_h_next": "wrong_time",                   # dr = dhr * h_next (h_t for h_(t-1))
    "tanh_grad_twice": "derivative_twice",            # dh_hat *= 1 - h_hat ** 2, then dt = dh_hat * (1 - h_hat ** 2)
    "dh_prev_eq_for_plus_eq": "term_dropped",         # dh_prev = r * dhr (= for +=): the direct dh_next * (1 - z) term lost
    "dz_sigmoid_precedence": "derivative_miswritten",  # dt = dz * z * 1 - z (parentheses lost)
    "clip_grads_inside": "gradient_clipped",          # the book's clip_grads(self.grads, 0.25) called inside backward
    "layers_but_last": "loop_skips_step",             # for t, layer in reversed(list(enumerate(self.layers[:-1])))
    "forward_h_hat_without_r": "forward_mistake",     # h_hat = tanh(x Wxh + h Whh + bh) (reset unused); backward consistent
    "order_and_tanh_twice": "unknown",                # two mistakes: the r-before-z hstack and tanh' applied twice
}

TOUCHES = {
    "dz_torch_sign": "z",
    "dhr_Whh_untransposed": "r",
    "dWhh_without_r": "n",
    "dWhr_with_stale_dt": "r",
    "hstack_r_before_z": "rz",
    "dr_with_h_next": "r",
    "tanh_grad_twice": "rn",
    "dh_prev_eq_for_plus_eq": "",
    "dz_sigmoid_precedence": "z",
    "clip_grads_inside": "",
    "layers_but_last": "",
    "forward_h_hat_without_r": "",
    "order_and_tanh_twice": "",
}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def clip_grads(grads, max_norm):
    total_norm = 0
    for grad in grads:
        total_norm += np.sum(grad ** 2)
    total_norm = np.sqrt(total_norm)
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for grad in grads:
            grad *= rate


class GRU:
    def __init__(self, Wx, Wh, b, bug=None):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None
        self.bug = bug

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
        Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
        bz, br, bh = b[:H], b[H:2 * H], b[2 * H:]
        z = sigmoid(np.dot(x, Wxz) + np.dot(h_prev, Whz) + bz)
        r = sigmoid(np.dot(x, Wxr) + np.dot(h_prev, Whr) + br)
        if self.bug == "forward_h_hat_without_r":
            h_hat = np.tanh(np.dot(x, Wxh) + np.dot(h_prev, Whh) + bh)
        else:
            h_hat = np.tanh(np.dot(x, Wxh) + np.dot(r * h_prev, Whh) + bh)
        h_next = (1 - z) * h_prev + z * h_hat
        self.cache = (x, h_prev, z, r, h_hat, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
        Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
        x, h_prev, z, r, h_hat, h_next = self.cache
        bug = self.bug
        dh_hat = dh_next * z
        dh_prev = dh_next * (1 - z)
        # tanh
        if bug in ("tanh_grad_twice", "order_and_tanh_twice"):
            dh_hat *= 1 - h_hat ** 2
        dt = dh_hat * (1 - h_hat ** 2)
        dbh = np.sum(dt, axis=0)
        if bug == "dWhh_without_r" or bug == "forward_h_hat_without_r":
            dWhh = np.dot(h_prev.T, dt)
        else:
            dWhh = np.dot((r * h_prev).T, dt)
        dhr = np.dot(dt, Whh) if bug == "dhr_Whh_untransposed" else np.dot(dt, Whh.T)
        dWxh = np.dot(x.T, dt)
        dx = np.dot(dt, Wxh.T)
        if bug == "dh_prev_eq_for_plus_eq":
            dh_prev = r * dhr
        elif bug == "forward_h_hat_without_r":
            dh_prev += dhr
        else:
            dh_prev += r * dhr
        # update gate (z)
        if bug == "dz_torch_sign":
            dz = dh_next * h_prev - dh_next * h_hat
        else:
            dz = dh_next * h_hat - dh_next * h_prev
        dt = dz * z * 1 - z if bug == "dz_sigmoid_precedence" else dz * z * (1 - z)
        dbz = np.sum(dt, axis=0)
        dWhz = np.dot(h_prev.T, dt)
        dh_prev += np.dot(dt, Whz.T)
        dWxz = np.dot(x.T, dt)
        dx += np.dot(dt, Wxz.T)
        # reset gate (r)
        if bug == "dWhr_with_stale_dt":
            dWhr = np.dot(h_prev.T, dt)
        if bug == "forward_h_hat_without_r":
            dr = np.zeros_like(r)
        else:
            dr = dhr * (h_next if bug == "dr_with_h_next" else h_prev)
        dt = dr * r * (1 - r)
        dbr = np.sum(dt, axis=0)
        if bug != "dWhr_with_stale_dt":
            dWhr = np.dot(h_prev.T, dt)
        dh_prev += np.dot(dt, Whr.T)
        dWxr = np.dot(x.T, dt)
        dx += np.dot(dt, Wxr.T)
        if bug in ("hstack_r_before_z", "order_and_tanh_twice"):
            parts = ((dWxr, dWxz, dWxh), (dWhr, dWhz, dWhh), (dbr, dbz, dbh))
        else:
            parts = ((dWxz, dWxr, dWxh), (dWhz, dWhr, dWhh), (dbz, dbr, dbh))
        self.dWx, self.dWh, self.db = (np.hstack(p) for p in parts)
        self.grads[0][...] = self.dWx
        self.grads[1][...] = self.dWh
        self.grads[2][...] = self.db
        return dx, dh_prev


class TimeGRU:
    def __init__(self, Wx, Wh, b, stateful=False, bug=None):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful
        self.bug = bug

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype=xs.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        for t in range(T):
            layer = GRU(*self.params, bug=self.bug)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
        dxs = np.zeros((N, T, D), dtype=dhs.dtype)
        dh = np.zeros((N, H), dtype=dhs.dtype)
        grads = [0, 0, 0]
        layers = self.layers[:-1] if self.bug == "layers_but_last" else self.layers
        for t, layer in reversed(list(enumerate(layers))):
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        if self.bug == "clip_grads_inside":
            clip_grads(self.grads, 0.25)
        self.dh = dh
        return dxs


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    r, z, n = (slice(k * H, (k + 1) * H) for k in range(3))
    Wx = np.concatenate([-p["weight_ih"][z], p["weight_ih"][r], p["weight_ih"][n]], axis=0).T
    Wh = np.concatenate([-p["weight_hh"][z], p["weight_hh"][r], p["weight_hh"][n]], axis=0).T
    b = p["bias_ih"] + p["bias_hh"]
    return {"Wx": Wx, "Wh": Wh, "b": np.concatenate([-b[z], b[r], b[n]])}


def _canonical_rows(a, H):
    """Columns z, r, h of the user's (., 3H) gradient -> canonical rows r, z, n (z negated back)."""
    a = a.T if a.ndim == 2 else a
    return np.concatenate([a[H:2 * H], -a[:H], a[2 * H:]], axis=0)


def to_canonical(cell, grads, p):
    H = p["weight_hh"].shape[1]
    out = {}
    if "dWx" in grads:
        out["dweight_ih"] = _canonical_rows(grads["dWx"], H)
    if "dWh" in grads:
        out["dweight_hh"] = _canonical_rows(grads["dWh"], H)
    if "db" in grads:
        out["dbias_ih"] = _canonical_rows(grads["db"], H)
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="zerokara_gru", cells=("gru",), gate_order="zrh",
                               gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug

    def forward(xs, h0, Wx, Wh, b):
        layer = TimeGRU(Wx, Wh, b, stateful=True, bug=bug)
        layer.h = h0
        return layer.forward(xs), layer

    def backward(dhs, layer):
        dxs = layer.backward(dhs)
        return (dxs, layer.dh, *layer.grads)

    return forward, backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

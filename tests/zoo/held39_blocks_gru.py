"""A GRU with the reset gate applied after the recurrent matmul (torch's / Keras's
reset_after), batch-major x (N, T, D), Wx (D, 3H), Wh (H, 3H) with column blocks z, r, n
(Keras's storage order) and two biases bx, bh (3H,), as enterprise code: a ``GruGate``
IntEnum owning its column block, a ``GateBlocks`` value object with properties per gate,
activation strategies injected per gate, a frozen ``GruSettings`` and a ``GruService``.

    ax = x Wx + bx     ah = h Wh + bh
    z = sigmoid(ax_z + ah_z)   r = sigmoid(ax_r + ah_r)   n = tanh(ax_n + r * ah_n)
    h_t = (1 - z) n + z h_{t-1}

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field

import numpy as np

import harness
from harness.guard.layouts import reorder

Array = np.ndarray

BUGS = {
    "packer_uses_torch_enum": "gate_order",              # dax/dah packed in TorchGate order r, z, n
    "dz_sign": "wrong_sign",                             # dz = dh * (n - h_prev)
    "r_strategy_tanh": "derivative_wrong_function",      # backward strategy for R is Tanh
    "dh_prev_no_z_path": "term_dropped",                 # dh_prev starts at 0, not dh * z
    "dWh_from_h_t": "wrong_time",                        # h_t.T @ dah
    "Wh_n_block_not_transposed": "weight_transposed",    # dah_n @ Wh[:, n]
    "dah_n_without_r": "derivative_missing",             # dah_n = dan
    "z_in_place": "inplace_corruption",                  # z *= 1 - z in the cached blocks
    "loop_skips_first": "loop_skips_step",               # range(T - 1, 0, -1)
    "dWx_over_N": "reduction_scaled",                    # dWx / N
    "n_derivative_at_preact": "derivative_wrong_point",  # 1 - pre_n^2
    "dh_prev_r_via_z_block": "wrong_weight",             # dar @ Wh[:, z].T
    "recurrent_n_property_r_block": "wrong_value",       # StepRecord.recurrent_n slices the R block
    "forward_z_keeps_candidate": "forward_mistake",      # h_t = z n + (1 - z) h, backward consistent
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "packer_uses_torch_enum": "rz",
    "dz_sign": "z",
    "r_strategy_tanh": "r",
    "dh_prev_no_z_path": "",
    "dWh_from_h_t": "",
    "Wh_n_block_not_transposed": "",
    "dah_n_without_r": "n",
    "z_in_place": "rn",
    "loop_skips_first": "",
    "dWx_over_N": "",
    "n_derivative_at_preact": "rn",
    "dh_prev_r_via_z_block": "",
    "recurrent_n_property_r_block": "r",
    "forward_z_keeps_candidate": "",
}


class GruGate(enum.IntEnum):
    Z = 0
    R = 1
    N = 2

    def cols(self, H: int) -> slice:
        return slice(int(self) * H, (int(self) + 1) * H)


class TorchGate(enum.IntEnum):
    R = 0
    Z = 1
    N = 2


class Strategy(abc.ABC):
    @abc.abstractmethod
    def f(self, z: Array) -> Array: ...

    @abc.abstractmethod
    def df(self, a: Array) -> Array: ...


class SigmoidStrategy(Strategy):
    def f(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def df(self, a: Array) -> Array:
        return a * (1 - a)


class TanhStrategy(Strategy):
    def f(self, z: Array) -> Array:
        return np.tanh(z)

    def df(self, a: Array) -> Array:
        return 1 - a * a


@dataclass(frozen=True)
class GruSettings:
    hidden_size: int
    strategies: dict[GruGate, type[Strategy]]
    bug: str | None = None

    @property
    def keeps_previous_on_z(self) -> bool:
        return self.bug != "forward_z_keeps_candidate"


@dataclass
class StepRecord:
    settings: GruSettings
    x: Array
    h_prev: Array
    ah: Array                  # (N, 3H) recurrent pre-activation incl. bh
    acts: Array                # (N, 3H) z, r, n
    pre_n: Array
    h: Array

    def act(self, g: GruGate) -> Array:
        return self.acts[:, g.cols(self.settings.hidden_size)]

    @property
    def recurrent_n(self) -> Array:
        g = GruGate.R if self.settings.bug == "recurrent_n_property_r_block" else GruGate.N
        return self.ah[:, g.cols(self.settings.hidden_size)]


@dataclass
class GruCache:
    settings: GruSettings
    Wx: Array
    Wh: Array
    records: list[StepRecord] = field(default_factory=list)


class GruService:
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug

    def _settings(self, H: int, backward: bool) -> GruSettings:
        table: dict[GruGate, type[Strategy]] = {GruGate.Z: SigmoidStrategy, GruGate.R: SigmoidStrategy,
                                                GruGate.N: TanhStrategy}
        if backward and self.bug == "r_strategy_tanh":
            table[GruGate.R] = TanhStrategy
        return GruSettings(H, table, self.bug)

    def forward(self, x: Array, h0: Array, Wx: Array, Wh: Array, bx: Array, bh: Array):
        H = Wh.shape[0]
        st = self._settings(H, backward=False)
        cache, h = GruCache(st, Wx, Wh), h0
        for t in range(x.shape[1]):
            ax, ah = x[:, t] @ Wx + bx, h @ Wh + bh
            acts = np.empty_like(ax)
            for g in (GruGate.Z, GruGate.R):
                acts[:, g.cols(H)] = st.strategies[g]().f(ax[:, g.cols(H)] + ah[:, g.cols(H)])
            pre_n = ax[:, GruGate.N.cols(H)] + acts[:, GruGate.R.cols(H)] * ah[:, GruGate.N.cols(H)]
            acts[:, GruGate.N.cols(H)] = st.strategies[GruGate.N]().f(pre_n)
            z, n = acts[:, GruGate.Z.cols(H)], acts[:, GruGate.N.cols(H)]
            h_new = (1 - z) * n + z * h if st.keeps_previous_on_z else z * n + (1 - z) * h
            cache.records.append(StepRecord(st, x[:, t], h, ah, acts, pre_n, h_new))
            h = h_new
        return np.stack([r.h for r in cache.records], axis=1), cache

    def _pack(self, blocks: dict[GruGate, Array]) -> Array:
        order = [GruGate[g.name] for g in TorchGate] if self.bug == "packer_uses_torch_enum" else list(GruGate)
        return np.concatenate([blocks[g] for g in order], axis=1)

    def _step_backward(self, dh: Array, rec: StepRecord, cache: GruCache, st: GruSettings, grads: dict[str, Array]):
        bug, H, Wh = self.bug, st.hidden_size, cache.Wh
        if bug == "z_in_place":
            zz = rec.act(GruGate.Z)
            zz *= 1 - zz
        z, r, n = rec.act(GruGate.Z), rec.act(GruGate.R), rec.act(GruGate.N)
        h_prev = rec.h_prev
        if st.keeps_previous_on_z:
            dn, dz, dh_prev = dh * (1 - z), dh * (h_prev - n), dh * z
        else:
            dn, dz, dh_prev = dh * z, dh * (n - h_prev), dh * (1 - z)
        if bug == "dz_sign":
            dz = -dz
        if bug == "dh_prev_no_z_path":
            dh_prev = np.zeros_like(dh_prev)
        if bug == "n_derivative_at_preact":
            dan = dn * (1 - rec.pre_n ** 2)
        else:
            dan = dn * st.strategies[GruGate.N]().df(n)
        dr = dan * rec.recurrent_n
        dah_n = dan if bug == "dah_n_without_r" else dan * r
        daz = dz * (z if bug == "z_in_place" else st.strategies[GruGate.Z]().df(z))
        dar = dr * st.strategies[GruGate.R]().df(r)
        dax = self._pack({GruGate.Z: daz, GruGate.R: dar, GruGate.N: dan})
        dah = self._pack({GruGate.Z: daz, GruGate.R: dar, GruGate.N: dah_n})
        grads["dWx"] += rec.x.T @ dax
        grads["dbx"] += dax.sum(axis=0)
        grads["dWh"] += (rec.h if bug == "dWh_from_h_t" else h_prev).T @ dah
        grads["dbh"] += dah.sum(axis=0)
        for g in GruGate:
            block = Wh[:, g.cols(H)]
            if bug == "Wh_n_block_not_transposed" and g is GruGate.N:
                dh_prev = dh_prev + dah[:, g.cols(H)] @ block
            elif bug == "dh_prev_r_via_z_block" and g is GruGate.R:
                dh_prev = dh_prev + dah[:, g.cols(H)] @ Wh[:, GruGate.Z.cols(H)].T
            else:
                dh_prev = dh_prev + dah[:, g.cols(H)] @ block.T
        return dax @ cache.Wx.T, dh_prev

    def backward(self, dh: Array, cache: GruCache):
        N, T, H = dh.shape
        st = self._settings(H, backward=True)
        grads = {"dWx": np.zeros_like(cache.Wx), "dWh": np.zeros_like(cache.Wh),
                 "dbx": np.zeros(3 * H, dh.dtype), "dbh": np.zeros(3 * H, dh.dtype)}
        dx = np.zeros((N, T, cache.Wx.shape[0]), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[:, 0])
        stop = 0 if self.bug == "loop_skips_first" else -1
        for t in range(T - 1, stop, -1):
            dx[:, t], dh_next = self._step_backward(dh[:, t] + dh_next, cache.records[t], cache, st, grads)
        if self.bug == "dWx_over_N":
            grads["dWx"] = grads["dWx"] / N
        return dx, dh_next, grads["dWx"], grads["dWh"], grads["dbx"], grads["dbh"]


def to_user(cell, p):
    return {"Wx": reorder(p["weight_ih"], "rzn", "zrn", 0).T, "Wh": reorder(p["weight_hh"], "rzn", "zrn", 0).T,
            "bx": reorder(p["bias_ih"], "rzn", "zrn", 0), "bh": reorder(p["bias_hh"], "rzn", "zrn", 0)}


def to_canonical(cell, g, p):
    pairs = (("dWx", "dweight_ih", True), ("dWh", "dweight_hh", True), ("dbx", "dbias_ih", False),
             ("dbh", "dbias_hh", False))
    return {c: reorder(g[u].T if tr else g[u], "zrn", "rzn", 0) for u, c, tr in pairs if u in g}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="blocks_gru", cells=("gru",), axes="NTD",
                               gate_order="zrn")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    svc = GruService(bug)
    return svc.forward, svc.backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

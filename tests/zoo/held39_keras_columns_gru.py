"""A Keras-style GRU (reset_after, row blocks z, r, h, bias (2, 3H): input and recurrent)
in column-major arrays x (D, N, T), h (H, N), as enterprise code: an abstract ``GruCell``
with hook methods and a ``ResetAfterGruCell`` subclass overriding the candidate hooks, a
``GateId`` Enum, a strategy table per gate, a frozen ``KerasGruConfig`` with a factory
class method, a ``KernelBundle`` weight store with block accessors, injected.

    ax = K x + b[0]    ah = R h + b[1]     (K (3H, D), R (3H, H))
    z = sigmoid(ax_z + ah_z)   r = sigmoid(ax_r + ah_r)   hh = tanh(ax_h + r * ah_h)
    h_t = z h_{t-1} + (1 - z) hh

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

import harness

Array = np.ndarray

BUGS = {
    "inherited_reset_before_dr": "unknown",              # subclass keeps the base's dr = (R_h^T d) * h_prev
    "hh_strategy_sigmoid_backward": "derivative_wrong_function",  # backward table: H -> Sigmoid
    "R_z_block_not_transposed": "weight_transposed",     # dh_prev += R_z @ daz
    "carry_through_dR_r": "gradient_for_weight",         # dh_prev += dR_r^T @ dar
    "dK_h_previous_x": "wrong_time",                     # x<t-1> in the h rows of dK
    "dh_prev_without_R_r": "term_dropped",               # the reset gate's recurrent share left out
    "reset_product_in_place": "inplace_corruption",      # ah_h *= r in the cache before dr reads it
    "loop_skips_last": "loop_skips_step",                # range(T - 2, -1, -1)
    "dbias_over_N": "reduction_scaled",                  # dbias / N
    "hh_derivative_one_minus": "derivative_miswritten",  # (1 - hh)
    "config_clipnorm": "gradient_clipped",               # dh carry clipped elementwise at config.clipvalue
    "backward_paper_enum": "gate_order",                 # dz stacked in PaperGate order r, z, h
    "dK_assigned": "carry_overwrites",                   # dK = ... (= for +=)
    "dz_sigmoid_derivative_missing": "derivative_missing",  # daz = dz
    "recurrent_bias_outside_reset": "forward_mistake",   # hh = tanh(ax_h + r * (R_h h) + b[1]_h), consistent
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "inherited_reset_before_dr": "r",
    "hh_strategy_sigmoid_backward": "rn",
    "R_z_block_not_transposed": "",
    "carry_through_dR_r": "",
    "dK_h_previous_x": "",
    "dh_prev_without_R_r": "",
    "reset_product_in_place": "r",
    "loop_skips_last": "",
    "dbias_over_N": "",
    "hh_derivative_one_minus": "rn",
    "config_clipnorm": "",
    "backward_paper_enum": "rz",
    "dK_assigned": "",
    "dz_sigmoid_derivative_missing": "z",
    "recurrent_bias_outside_reset": "",
}


class GateId(enum.IntEnum):
    Z = 0
    R = 1
    H = 2


class PaperGate(enum.IntEnum):
    R = 0
    Z = 1
    H = 2


class Activation(abc.ABC):
    @abc.abstractmethod
    def __call__(self, v: Array) -> Array: ...

    @abc.abstractmethod
    def derivative(self, a: Array) -> Array: ...


class HardlessSigmoid(Activation):
    def __call__(self, v: Array) -> Array:
        return 1 / (1 + np.exp(-v))

    def derivative(self, a: Array) -> Array:
        return a * (1 - a)


class Tanh(Activation):
    def __call__(self, v: Array) -> Array:
        return np.tanh(v)

    def derivative(self, a: Array) -> Array:
        return 1 - a * a


@dataclass(frozen=True)
class KerasGruConfig:
    units: int
    clipvalue: float | None = None
    bias_inside_reset: bool = True
    bug: str | None = None

    @classmethod
    def from_kernel(cls, recurrent_kernel: Array, bug: str | None) -> KerasGruConfig:
        return cls(recurrent_kernel.shape[1], 0.05 if bug == "config_clipnorm" else None,
                   bug != "recurrent_bias_outside_reset", bug)

    def activations(self, backward: bool) -> dict[GateId, Activation]:
        table: dict[GateId, Activation] = {GateId.Z: HardlessSigmoid(), GateId.R: HardlessSigmoid(),
                                           GateId.H: Tanh()}
        if backward and self.bug == "hh_strategy_sigmoid_backward":
            table[GateId.H] = HardlessSigmoid()
        return table


@dataclass(frozen=True)
class KernelBundle:
    kernel: Array                   # (3H, D)
    recurrent_kernel: Array         # (3H, H)
    bias: Array                     # (2, 3H)

    @property
    def units(self) -> int:
        return self.recurrent_kernel.shape[1]

    def rows(self, g: GateId) -> slice:
        return slice(int(g) * self.units, (int(g) + 1) * self.units)

    def R(self, g: GateId) -> Array:
        return self.recurrent_kernel[self.rows(g)]

    @property
    def input_bias(self) -> Array:
        return self.bias[0][:, None]

    @property
    def recurrent_bias(self) -> Array:
        return self.bias[1][:, None]


@dataclass
class CellRecord:
    x: Array
    x_prev: Array
    h_prev: Array
    z: Array
    r: Array
    hh: Array
    ah_h: Array          # R_h h (+ b[1]_h when inside the reset)
    h: Array


class GruCell(abc.ABC):
    def __init__(self, config: KerasGruConfig, weights: KernelBundle) -> None:
        self.config, self.weights = config, weights
        self.act = config.activations(backward=False)
        self.act_back = config.activations(backward=True)

    @property
    def bug(self) -> str | None:
        return self.config.bug

    @abc.abstractmethod
    def candidate(self, ax_h: Array, h_prev: Array, r: Array) -> tuple[Array, Array]: ...

    def reset_grad(self, dax_h: Array, rec: CellRecord) -> Array:
        """Reset-before form: hh = tanh(ax_h + R_h (r h))."""
        return (self.weights.R(GateId.H).T @ dax_h) * rec.h_prev

    @abc.abstractmethod
    def recurrent_h_grad(self, dax_h: Array, rec: CellRecord) -> Array: ...

    def step(self, x: Array, x_prev: Array, h_prev: Array) -> CellRecord:
        w = self.weights
        ax = w.kernel @ x + w.input_bias
        ah = w.recurrent_kernel @ h_prev + w.recurrent_bias
        z = self.act[GateId.Z](ax[w.rows(GateId.Z)] + ah[w.rows(GateId.Z)])
        r = self.act[GateId.R](ax[w.rows(GateId.R)] + ah[w.rows(GateId.R)])
        hh, ah_h = self.candidate(ax[w.rows(GateId.H)], h_prev, r)
        return CellRecord(x, x_prev, h_prev, z, r, hh, ah_h, z * h_prev + (1 - z) * hh)

    def _stack(self, blocks: dict[GateId, Array]) -> Array:
        order: Sequence[GateId] = ([GateId[p.name] for p in PaperGate] if self.bug == "backward_paper_enum"
                                   else list(GateId))
        return np.concatenate([blocks[g] for g in order], axis=0)

    def step_backward(self, dh: Array, rec: CellRecord, grads: dict[str, Array]) -> tuple[Array, Array]:
        bug, w = self.bug, self.weights
        dhh = dh * (1 - rec.z)
        dz = dh * (rec.h_prev - rec.hh)
        dh_prev = dh * rec.z
        hh_slope = 1 - rec.hh if bug == "hh_derivative_one_minus" else self.act_back[GateId.H].derivative(rec.hh)
        dax_h = dhh * hh_slope
        dah_h = self.recurrent_h_grad(dax_h, rec)
        dr = self.reset_grad(dax_h, rec)
        daz = dz if bug == "dz_sigmoid_derivative_missing" else dz * self.act_back[GateId.Z].derivative(rec.z)
        dar = dr * self.act_back[GateId.R].derivative(rec.r)
        dax = self._stack({GateId.Z: daz, GateId.R: dar, GateId.H: dax_h})
        dah = self._stack({GateId.Z: daz, GateId.R: dar, GateId.H: dah_h})
        dK = dax @ rec.x.T
        if bug == "dK_h_previous_x":
            dK[w.rows(GateId.H)] = dax_h @ rec.x_prev.T
        if bug == "dK_assigned":
            grads["dkernel"] = dK
        else:
            grads["dkernel"] += dK
        grads["drecurrent_kernel"] += dah @ rec.h_prev.T
        grads["dbias"][0] += dax.sum(axis=1)
        grads["dbias"][1] += dah.sum(axis=1)
        if not self.config.bias_inside_reset:              # b[1]_h sits outside r * (R_h h)
            grads["dbias"][1][w.rows(GateId.H)] += (dax_h - dah_h).sum(axis=1)
        for g in GateId:
            d = dah[w.rows(g)]
            if g is GateId.Z and bug == "R_z_block_not_transposed":
                dh_prev = dh_prev + w.R(g) @ d
            elif g is GateId.R and bug == "carry_through_dR_r":
                dh_prev = dh_prev + grads["drecurrent_kernel"][w.rows(g)].T @ d
            elif g is GateId.R and bug == "dh_prev_without_R_r":
                continue
            else:
                dh_prev = dh_prev + w.R(g).T @ d
        return w.kernel.T @ dax, dh_prev


class ResetAfterGruCell(GruCell):
    def candidate(self, ax_h: Array, h_prev: Array, r: Array) -> tuple[Array, Array]:
        w = self.weights
        ah_h = w.R(GateId.H) @ h_prev
        if self.config.bias_inside_reset:
            ah_h = ah_h + w.recurrent_bias[w.rows(GateId.H)]
            return self.act[GateId.H](ax_h + r * ah_h), ah_h
        return self.act[GateId.H](ax_h + r * ah_h + w.recurrent_bias[w.rows(GateId.H)]), ah_h

    def reset_grad(self, dax_h: Array, rec: CellRecord) -> Array:
        if self.bug == "inherited_reset_before_dr":
            return super().reset_grad(dax_h, rec)
        return dax_h * rec.ah_h

    def recurrent_h_grad(self, dax_h: Array, rec: CellRecord) -> Array:
        if self.bug == "reset_product_in_place":
            rh = rec.ah_h
            rh *= rec.r
            return dax_h * rec.r
        return dax_h * rec.r


@dataclass
class LayerState:
    cell: GruCell
    records: list[CellRecord] = field(default_factory=list)


class KerasGruLayer:
    CELL: ClassVar[type] = ResetAfterGruCell

    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug

    def forward(self, x: Array, h0: Array, kernel: Array, recurrent_kernel: Array, bias: Array):
        cfg = KerasGruConfig.from_kernel(recurrent_kernel, self.bug)
        cell = self.CELL(cfg, KernelBundle(kernel, recurrent_kernel, bias))
        state, h, T = LayerState(cell), h0, x.shape[2]
        for t in range(T):
            state.records.append(cell.step(x[:, :, t], x[:, :, t - 1], h))
            h = state.records[-1].h
        return np.stack([r.h for r in state.records], axis=2), state

    def backward(self, dh: Array, state: LayerState):
        cell, w = state.cell, state.cell.weights
        grads = {"dkernel": np.zeros_like(w.kernel), "drecurrent_kernel": np.zeros_like(w.recurrent_kernel),
                 "dbias": np.zeros_like(w.bias)}
        T = dh.shape[2]
        dx = np.zeros((w.kernel.shape[1],) + dh.shape[1:], dtype=dh.dtype)
        carry = np.zeros_like(dh[:, :, 0])
        clip = cell.config.clipvalue
        last = T - 2 if self.bug == "loop_skips_last" else T - 1
        for t in range(last, -1, -1):
            dx[:, :, t], carry = cell.step_backward(dh[:, :, t] + carry, state.records[t], grads)
            if clip is not None:
                carry = np.clip(carry, -clip, clip)
        if self.bug == "dbias_over_N":
            grads["dbias"] = grads["dbias"] / dh.shape[1]
        return dx, carry, grads["dkernel"], grads["drecurrent_kernel"], grads["dbias"]


def _zrh(a):
    H = a.shape[0] // 3
    return np.concatenate([a[H:2 * H], a[:H], a[2 * H:]])      # torch r, z, n <-> z, r, h (its own inverse)


def to_user(cell, p):
    return {"kernel": _zrh(p["weight_ih"]), "recurrent_kernel": _zrh(p["weight_hh"]),
            "bias": np.stack([_zrh(p["bias_ih"]), _zrh(p["bias_hh"])])}


def to_canonical(cell, g, p):
    out = {}
    if "dkernel" in g:
        out["dweight_ih"] = _zrh(g["dkernel"])
    if "drecurrent_kernel" in g:
        out["dweight_hh"] = _zrh(g["drecurrent_kernel"])
    if "dbias" in g:
        out.update(dbias_ih=_zrh(g["dbias"][0]), dbias_hh=_zrh(g["dbias"][1]))
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="keras_columns_gru", cells=("gru",), axes="DNT",
                               gate_order="zrh", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    layer = KerasGruLayer(bug)
    return layer.forward, layer.backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

"""A time-major LSTM with one (W, U, b) triple per gate, written as enterprise code: a
``GateKind`` Enum, frozen ``GateSpec`` dataclasses (activation strategy and offset per gate),
a ``ParameterStore`` built from the flat argument list and injected into a ``GatedCell``,
properties for derived step values, and a registry of cell classes (``"lstm"`` and a
coupled-gate variant). TF's forget_bias (1.0) is the forget spec's offset.

    a_q = x_t W_q + h_{t-1} U_q + b_q (+ 1 for f)    x (T, N, D), W_q (D, H), U_q (H, H)
    c_t = f c_{t-1} + i g                            h_t = o tanh(c_t)

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

FORGET_BIAS = 1.0

BUGS = {
    "offset_on_input_spec": "forget_bias",               # the 1.0 offset given to the I spec, not F
    "U_g_not_transposed": "weight_transposed",           # dh_prev += da_g @ U_g
    "dx_W_f_for_i": "wrong_weight",                      # dx += da_i @ W_f.T
    "f_spec_tanh_in_backward": "derivative_wrong_function",  # backward spec table: F -> Tanh
    "dU_from_h_t": "wrong_time",                         # dU_q += h_t.T @ da_q
    "db_o_assigned": "carry_overwrites",                 # grads[db_o] = ... (= for +=)
    "dU_time_mean": "reduction_scaled",                  # dU_q / T
    "config_window": "truncated_bptt",                   # carries reset every config.window steps
    "dc_next_dropped": "carry_dropped",                  # dc = dh o tanh'(c)
    "di_derivative_twice": "derivative_twice",           # i (1 - i) applied in di and by the spec
    "tanh_c_property_in_place": "inplace_corruption",    # np.tanh(self.c, out=self.c) in the property
    "g_derivative_one_minus_g": "derivative_miswritten",  # (1 - g) for (1 - g^2)
    "tanh_grad_sign": "wrong_sign",                      # (tanh(c)^2 - 1)
    "coupled_cell_registered": "forward_mistake",        # registry maps "lstm" to the coupled cell (1 - f)
    "store_reads_ifog": "gate_order",                    # ParameterStore.from_flat reads o, g slots swapped
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "offset_on_input_spec": "",
    "U_g_not_transposed": "",
    "dx_W_f_for_i": "",
    "f_spec_tanh_in_backward": "f",
    "dU_from_h_t": "",
    "db_o_assigned": "",
    "dU_time_mean": "",
    "config_window": "",
    "dc_next_dropped": "",
    "di_derivative_twice": "i",
    "tanh_c_property_in_place": "ifg",
    "g_derivative_one_minus_g": "g",
    "tanh_grad_sign": "ifg",
    "coupled_cell_registered": "",
    "store_reads_ifog": "",
}


class GateKind(enum.Enum):
    I = "i"
    F = "f"
    G = "g"
    O = "o"


STORAGE_ORDER: tuple[GateKind, ...] = (GateKind.I, GateKind.F, GateKind.G, GateKind.O)


class Squash(abc.ABC):
    @abc.abstractmethod
    def value(self, z: Array) -> Array: ...

    @abc.abstractmethod
    def slope(self, a: Array) -> Array: ...


class Logistic(Squash):
    def value(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def slope(self, a: Array) -> Array:
        return a * (1 - a)


class HyperbolicTangent(Squash):
    def value(self, z: Array) -> Array:
        return np.tanh(z)

    def slope(self, a: Array) -> Array:
        return 1 - a * a


class SloppyTangent(HyperbolicTangent):
    def slope(self, a: Array) -> Array:
        return 1 - a


@dataclass(frozen=True)
class GateSpec:
    kind: GateKind
    squash: Squash
    offset: float = 0.0


def gate_specs(bug: str | None, backward: bool) -> dict[GateKind, GateSpec]:
    off_i, off_f = (FORGET_BIAS, 0.0) if bug == "offset_on_input_spec" else (0.0, FORGET_BIAS)
    g_squash = SloppyTangent() if backward and bug == "g_derivative_one_minus_g" else HyperbolicTangent()
    f_squash = HyperbolicTangent() if backward and bug == "f_spec_tanh_in_backward" else Logistic()
    return {GateKind.I: GateSpec(GateKind.I, Logistic(), off_i), GateKind.F: GateSpec(GateKind.F, f_squash, off_f),
            GateKind.G: GateSpec(GateKind.G, g_squash), GateKind.O: GateSpec(GateKind.O, Logistic())}


@dataclass(frozen=True)
class ParameterStore:
    W: dict[GateKind, Array]
    U: dict[GateKind, Array]
    b: dict[GateKind, Array]

    @classmethod
    def from_flat(cls, flat: Sequence[Array], order: Sequence[GateKind]) -> ParameterStore:
        W, U, b = {}, {}, {}
        for k, q in enumerate(order):
            W[q], U[q], b[q] = flat[3 * k], flat[3 * k + 1], flat[3 * k + 2]
        return cls(W, U, b)

    @property
    def input_size(self) -> int:
        return self.W[GateKind.I].shape[0]


@dataclass(frozen=True)
class CellConfig:
    window: int | None = None
    bug: str | None = None

    @property
    def read_order(self) -> tuple[GateKind, ...]:
        if self.bug == "store_reads_ifog":
            return (GateKind.I, GateKind.F, GateKind.O, GateKind.G)
        return STORAGE_ORDER


@dataclass
class StepValues:
    x: Array
    h_prev: Array
    c_prev: Array
    acts: dict[GateKind, Array]
    c: Array
    bug: str | None = None

    @property
    def tanh_c(self) -> Array:
        if self.bug == "tanh_c_property_in_place":
            return np.tanh(self.c, out=self.c)
        return np.tanh(self.c)

    @property
    def h(self) -> Array:
        return self.acts[GateKind.O] * np.tanh(self.c)


class GatedCell:
    def __init__(self, store: ParameterStore, config: CellConfig) -> None:
        self.store, self.config = store, config
        self.specs = gate_specs(config.bug, backward=False)

    @property
    def bug(self) -> str | None:
        return self.config.bug

    def _activations(self, x: Array, h: Array) -> dict[GateKind, Array]:
        s = self.store
        return {q: sp.squash.value(x @ s.W[q] + h @ s.U[q] + s.b[q] + sp.offset) for q, sp in self.specs.items()}

    def _input_share(self, acts: dict[GateKind, Array]) -> Array:
        return acts[GateKind.I]

    def step(self, x: Array, h: Array, c: Array) -> StepValues:
        acts = self._activations(x, h)
        c_new = acts[GateKind.F] * c + self._input_share(acts) * acts[GateKind.G]
        return StepValues(x, h, c, acts, c_new, self.bug)

    def _d_input_gate(self, dc: Array, v: StepValues) -> tuple[Array, Array]:
        """(d i, extra d f) of the cell update's input share."""
        return dc * v.acts[GateKind.G], np.zeros_like(dc)

    def step_backward(self, dh: Array, dc_next: Array, v: StepValues, grads: dict[str, Array],
                      specs: dict[GateKind, GateSpec]) -> tuple[Array, Array, Array]:
        bug, s, a = self.bug, self.store, v.acts
        d_act = {GateKind.O: dh * v.tanh_c}
        tanh_grad = v.tanh_c ** 2 - 1 if bug == "tanh_grad_sign" else 1 - v.tanh_c ** 2
        dc = dh * a[GateKind.O] * tanh_grad
        if bug != "dc_next_dropped":
            dc = dc + dc_next
        d_act[GateKind.I], df_extra = self._d_input_gate(dc, v)
        d_act[GateKind.F] = dc * v.c_prev + df_extra
        d_act[GateKind.G] = dc * self._input_share(a)
        if bug == "di_derivative_twice":
            d_act[GateKind.I] = d_act[GateKind.I] * a[GateKind.I] * (1 - a[GateKind.I])
        dx = np.zeros_like(v.x)
        dh_prev = np.zeros_like(v.h_prev)
        h_for_dU = v.h if bug == "dU_from_h_t" else v.h_prev
        for q in STORAGE_ORDER:
            da = d_act[q] * specs[q].squash.slope(a[q])
            grads["dW_" + q.value] += v.x.T @ da
            grads["dU_" + q.value] += h_for_dU.T @ da
            if bug == "db_o_assigned" and q is GateKind.O:
                grads["db_o"] = da.sum(axis=0)
            else:
                grads["db_" + q.value] += da.sum(axis=0)
            W = s.W[GateKind.F] if bug == "dx_W_f_for_i" and q is GateKind.I else s.W[q]
            dx += da @ W.T
            dh_prev += da @ (s.U[q] if bug == "U_g_not_transposed" and q is GateKind.G else s.U[q].T)
        return dx, dh_prev, dc * a[GateKind.F]


class CoupledCell(GatedCell):
    """c_t = f c_{t-1} + (1 - f) g: the input gate is unused."""

    def _input_share(self, acts: dict[GateKind, Array]) -> Array:
        return 1 - acts[GateKind.F]

    def _d_input_gate(self, dc: Array, v: StepValues) -> tuple[Array, Array]:
        return np.zeros_like(dc), -dc * v.acts[GateKind.G]


CELL_REGISTRY: dict[str, type[GatedCell]] = {"lstm": GatedCell, "coupled": CoupledCell}


@dataclass
class Tape:
    cell: GatedCell
    steps: list[StepValues] = field(default_factory=list)


class LstmRunner:
    WINDOW: ClassVar[int] = 4

    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug
        self.config = CellConfig(window=self.WINDOW if bug == "config_window" else None, bug=bug)

    def forward(self, x: Array, h0: Array, c0: Array, *flat: Array) -> tuple[Array, Tape]:
        kind = "coupled" if self.bug == "coupled_cell_registered" else "lstm"
        cell = CELL_REGISTRY[kind](ParameterStore.from_flat(flat, self.config.read_order), self.config)
        tape, h, c = Tape(cell), h0, c0
        for t in range(x.shape[0]):
            v = cell.step(x[t], h, c)
            tape.steps.append(v)
            h, c = v.h, v.c
        return np.stack([v.h for v in tape.steps]), tape

    def backward(self, dh: Array, tape: Tape) -> tuple[Array, ...]:
        cell, store = tape.cell, tape.cell.store
        specs = gate_specs(self.bug, backward=True)
        grads: dict[str, Array] = {}
        for q in STORAGE_ORDER:
            grads.update({"dW_" + q.value: np.zeros_like(store.W[q]), "dU_" + q.value: np.zeros_like(store.U[q]),
                          "db_" + q.value: np.zeros_like(store.b[q])})
        T = dh.shape[0]
        dx = np.zeros(dh.shape[:2] + (store.input_size,), dtype=dh.dtype)
        dh_next, dc_next = np.zeros_like(dh[0]), np.zeros_like(dh[0])
        for k, t in enumerate(range(T - 1, -1, -1)):
            if self.config.window and k % self.config.window == 0:
                dh_next, dc_next = np.zeros_like(dh_next), np.zeros_like(dc_next)
            dx[t], dh_next, dc_next = cell.step_backward(dh[t] + dh_next, dc_next, tape.steps[t], grads, specs)
        if self.bug == "dU_time_mean":
            for q in STORAGE_ORDER:
                grads["dU_" + q.value] = grads["dU_" + q.value] / T
        order = self.config.read_order
        flat = [grads[p + q.value] for q in order for p in ("dW_", "dU_", "db_")]
        return (dx, dh_next, dc_next, *flat)


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    out = {}
    for k, q in enumerate("ifgo"):
        rows = slice(k * H, (k + 1) * H)
        out["W_" + q] = p["weight_ih"][rows].T
        out["U_" + q] = p["weight_hh"][rows].T
        out["b_" + q] = p["bias_ih"][rows] + p["bias_hh"][rows]
    return out


def to_canonical(cell, g, p):
    out = {}
    if all("dW_" + q in g for q in "ifgo"):
        out["dweight_ih"] = np.concatenate([g["dW_" + q].T for q in "ifgo"])
    if all("dU_" + q in g for q in "ifgo"):
        out["dweight_hh"] = np.concatenate([g["dU_" + q].T for q in "ifgo"])
    if all("db_" + q in g for q in "ifgo"):
        out["dbias_ih"] = np.concatenate([g["db_" + q] for q in "ifgo"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="injected_lstm", cells=("lstm",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    runner = LstmRunner(bug)
    return runner.forward, runner.backward, {"cell": "lstm", "layout": LAYOUT, "forget_bias": FORGET_BIAS}

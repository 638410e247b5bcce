"""An LSTM in the cs231n layout (blocks i, f, o, g; c0 = 0) written as enterprise code: a
``Gate`` IntEnum whose order is the storage order, a mapping from Gate to an activation
strategy object, a frozen ``LstmConfig``, a ``StepState`` dataclass with properties for the
gate views and derived values (tanh(c)), and a ``GateGradientAssembler`` that packs the gate
gradients back into one (N, 4H) array.

    i, f, o = sigmoid(a_i, a_f, a_o)   g = tanh(a_g)   a = x Wx + h Wh + b
    c_t = f c_{t-1} + i g              h_t = o tanh(c_t)

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Array = np.ndarray

BUGS = {
    "strategy_map_o_tanh": "derivative_wrong_function",  # backward strategy table wires TANH to Gate.O
    "cell_tanh_grad_at_c": "derivative_wrong_point",     # 1 - c^2 for 1 - tanh(c)^2
    "dc_carry_dropped": "carry_dropped",                 # dc = dh o (1 - tanh^2) only
    "df_from_c_t": "wrong_time",                         # df = dc * c_t
    "dc_prev_without_f": "derivative_missing",           # dc_prev = dc
    "do_reads_c": "wrong_value",                         # do = dh * c for dh * tanh(c)
    "carry_through_dWh": "gradient_for_weight",          # dh_prev = dA @ dWh.T
    "dWx_assigned": "carry_overwrites",                  # grads.dWx = x.T @ dA
    "tanh_c_property_from_c_prev": "wrong_time",         # StepState.tanh_c computed from c_prev
    "forget_derivative_one_minus_f": "derivative_miswritten",  # (1 - f) for f (1 - f)
    "sigmoid_derivative_in_place": "inplace_corruption",  # strategy writes a (1 - a) into the cached gates
    "db_batch_mean": "reduction_scaled",                 # db = dA.mean(0)
    "assembler_sorts_gates": "gate_order",               # packs in sorted(Gate, key=name): f, g, i, o
    "g_derivative_twice": "derivative_twice",            # dg already times (1 - g^2), the table again
    "h_without_tanh": "forward_mistake",                 # h = o * c, backward consistent
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "strategy_map_o_tanh": "o",
    "cell_tanh_grad_at_c": "ig",
    "dc_carry_dropped": "",
    "df_from_c_t": "f",
    "dc_prev_without_f": "",
    "do_reads_c": "o",
    "carry_through_dWh": "",
    "dWx_assigned": "",
    "tanh_c_property_from_c_prev": "",
    "forget_derivative_one_minus_f": "",
    "sigmoid_derivative_in_place": "",
    "db_batch_mean": "",
    "assembler_sorts_gates": "",
    "g_derivative_twice": "g",
    "h_without_tanh": "",
}


class Gate(enum.IntEnum):
    I = 0
    F = 1
    O = 2
    G = 3

    def block(self, H: int) -> slice:
        return slice(int(self) * H, (int(self) + 1) * H)


class GateActivation(abc.ABC):
    @abc.abstractmethod
    def forward(self, z: Array) -> Array: ...

    @abc.abstractmethod
    def derivative(self, a: Array) -> Array: ...


class Sigmoid(GateActivation):
    def __init__(self, in_place: bool = False) -> None:
        self.in_place = in_place

    def forward(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def derivative(self, a: Array) -> Array:
        if self.in_place:
            a *= 1 - a
            return a
        return a * (1 - a)


class OneMinusSigmoid(Sigmoid):
    def derivative(self, a: Array) -> Array:
        return 1 - a


class Tanh(GateActivation):
    def forward(self, z: Array) -> Array:
        return np.tanh(z)

    def derivative(self, a: Array) -> Array:
        return 1 - a * a


def strategy_table(bug: str | None, backward: bool) -> Mapping[Gate, GateActivation]:
    sig = Sigmoid(in_place=backward and bug == "sigmoid_derivative_in_place")
    table: dict[Gate, GateActivation] = {Gate.I: sig, Gate.F: sig, Gate.O: sig, Gate.G: Tanh()}
    if backward and bug == "strategy_map_o_tanh":
        table[Gate.O] = Tanh()
    if backward and bug == "forget_derivative_one_minus_f":
        table[Gate.F] = OneMinusSigmoid()
    return table


@dataclass(frozen=True)
class LstmConfig:
    hidden_size: int
    squash_cell_output: bool = True
    bug: str | None = None

    @classmethod
    def from_weights(cls, Wh: Array, bug: str | None) -> LstmConfig:
        return cls(Wh.shape[0], bug != "h_without_tanh", bug)


@dataclass
class StepState:
    config: LstmConfig
    x: Array
    h_prev: Array
    c_prev: Array
    gates: Array                       # (N, 4H) activations in Gate order
    c: Array

    def gate(self, g: Gate) -> Array:
        return self.gates[:, g.block(self.config.hidden_size)]

    @property
    def tanh_c(self) -> Array:
        if not self.config.squash_cell_output:
            return self.c
        src = self.c_prev if self.config.bug == "tanh_c_property_from_c_prev" else self.c
        return np.tanh(src)

    @property
    def tanh_c_grad(self) -> Array:
        if not self.config.squash_cell_output:
            return np.ones_like(self.c)
        if self.config.bug == "cell_tanh_grad_at_c":
            return 1 - self.c ** 2
        return 1 - self.tanh_c ** 2

    @property
    def h(self) -> Array:
        squashed = np.tanh(self.c) if self.config.squash_cell_output else self.c
        return self.gate(Gate.O) * squashed


class GateGradientAssembler:
    def __init__(self, bug: str | None) -> None:
        self.bug = bug

    def order(self) -> Sequence[Gate]:
        return sorted(Gate, key=lambda g: g.name) if self.bug == "assembler_sorts_gates" else list(Gate)

    def assemble(self, per_gate: Mapping[Gate, Array]) -> Array:
        return np.concatenate([per_gate[g] for g in self.order()], axis=1)


@dataclass
class Gradients:
    dWx: Array
    dWh: Array
    db: Array


@dataclass
class LstmCache:
    config: LstmConfig
    Wx: Array
    Wh: Array
    states: list[StepState] = field(default_factory=list)


class LstmLayer:
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug
        self.forward_table = strategy_table(bug, backward=False)
        self.assembler = GateGradientAssembler(bug)

    def _activate(self, a: Array, H: int) -> Array:
        out = np.empty_like(a)
        for g in Gate:
            out[:, g.block(H)] = self.forward_table[g].forward(a[:, g.block(H)])
        return out

    def forward(self, x: Array, h0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, LstmCache]:
        config = LstmConfig.from_weights(Wh, self.bug)
        cache = LstmCache(config, Wx, Wh)
        h, c = h0, np.zeros_like(h0)
        for t in range(x.shape[1]):
            gates = self._activate(x[:, t] @ Wx + h @ Wh + b, config.hidden_size)
            H = config.hidden_size
            c_new = gates[:, Gate.F.block(H)] * c + gates[:, Gate.I.block(H)] * gates[:, Gate.G.block(H)]
            state = StepState(config, x[:, t], h, c, gates, c_new)
            cache.states.append(state)
            h, c = state.h, c_new
        return np.stack([s.h for s in cache.states], axis=1), cache

    def _step_backward(self, dh: Array, dc_next: Array, s: StepState, cache: LstmCache, grads: Gradients,
                       table: Mapping[Gate, GateActivation]) -> tuple[Array, Array, Array]:
        i, o, g = (s.gate(q) for q in (Gate.I, Gate.O, Gate.G))
        d_act: dict[Gate, Array] = {Gate.O: dh * (s.c if self.bug == "do_reads_c" else s.tanh_c)}
        dc_local = dh * o * s.tanh_c_grad
        dc = dc_local if self.bug == "dc_carry_dropped" else dc_local + dc_next
        d_act[Gate.F] = dc * (s.c if self.bug == "df_from_c_t" else s.c_prev)
        d_act[Gate.I] = dc * g
        d_act[Gate.G] = dc * i
        if self.bug == "g_derivative_twice":
            d_act[Gate.G] = d_act[Gate.G] * (1 - g * g)
        d_pre = {q: d_act[q] * table[q].derivative(s.gate(q)) for q in Gate}
        dA = self.assembler.assemble(d_pre)
        if self.bug == "dWx_assigned":
            grads.dWx = s.x.T @ dA
        else:
            grads.dWx += s.x.T @ dA
        grads.dWh += s.h_prev.T @ dA
        grads.db += dA.mean(axis=0) if self.bug == "db_batch_mean" else dA.sum(axis=0)
        dc_prev = dc if self.bug == "dc_prev_without_f" else dc * s.gate(Gate.F)
        Wh_for_carry = grads.dWh if self.bug == "carry_through_dWh" else cache.Wh
        return dA @ cache.Wx.T, dA @ Wh_for_carry.T, dc_prev

    def backward(self, dh: Array, cache: LstmCache) -> tuple[Array, ...]:
        table = strategy_table(self.bug, backward=True)
        grads = Gradients(np.zeros_like(cache.Wx), np.zeros_like(cache.Wh), np.zeros(cache.Wh.shape[1], dh.dtype))
        dx = np.zeros(dh.shape[:2] + (cache.Wx.shape[0],), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[:, 0])
        dc_next = np.zeros_like(dh[:, 0])
        for t in reversed(range(dh.shape[1])):
            dx[:, t], dh_next, dc_next = self._step_backward(dh[:, t] + dh_next, dc_next, cache.states[t], cache,
                                                             grads, table)
        return dx, dh_next, grads.dWx, grads.dWh, grads.db


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    layer = LstmLayer(bug)
    return layer.forward, layer.backward, {"cell": "lstm", "layout": "cs231n", "forget_bias": 0.0}

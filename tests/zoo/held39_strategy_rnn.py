"""A tanh RNN (cs231n layout) written as enterprise-style object-oriented code: an abstract
``ActivationStrategy`` with concrete strategies in a registry, a frozen ``RnnConfig``
dataclass, a ``WeightStore`` protocol injected into the cell, a ``GradientAccumulator``,
a ``CellFactory`` building the cell from the config, and small single-purpose methods.

    h_t = tanh(x_t Wx + h_{t-1} Wh + b)        x (N, T, D), h0 (N, H), Wx (D, H), Wh (H, H)

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

Array = np.ndarray

BUGS = {
    "tanh_derivative_one_minus_a": "derivative_miswritten",   # TanhStrategy.derivative: 1 - a
    "cached_tanh_override": "derivative_wrong_point",         # subclass overrides: 1 - tanh(a)**2 on the output
    "backward_strategy_misresolved": "derivative_wrong_function",  # backward looks up "sigmoid": a (1 - a)
    "runner_applies_derivative_too": "derivative_twice",      # runner multiplies by tanh' before the cell does
    "cell_skips_derivative": "derivative_missing",            # _local_gradient returns dh unchanged
    "Wh_not_transposed": "weight_transposed",                 # dh_prev = da @ Wh
    "dWh_transposed": "gradient_transposed",                  # dWh += da.T @ h_prev
    "dWh_from_h_t": "wrong_time",                             # dWh += h_t.T @ da
    "no_carry": "carry_dropped",                              # runner never adds dh_next
    "accumulator_assigns_dWx": "carry_overwrites",            # self.dWx = dWx instead of +=
    "db_batch_mean": "reduction_scaled",                      # db = da.mean(axis=0)
    "backward_iterates_forward": "loop_direction",            # for t in range(T) in the backward
    "config_clip_in_backward": "gradient_clipped",            # np.clip(dh_next, -clip, clip) per step
    "registry_tanh_is_sigmoid": "forward_mistake",            # "tanh" key registered to the sigmoid strategy
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


# ---------------------------------------------------------------- activations (strategy pattern)
class ActivationStrategy(abc.ABC):
    """Computes an activation and its derivative expressed through the activation's output."""
    key: ClassVar[str] = ""

    @abc.abstractmethod
    def apply(self, z: Array) -> Array: ...

    @abc.abstractmethod
    def derivative(self, a: Array) -> Array: ...


_ACTIVATIONS: dict[str, type[ActivationStrategy]] = {}


def register_activation(key: str) -> Callable[[type[ActivationStrategy]], type[ActivationStrategy]]:
    def deco(cls: type[ActivationStrategy]) -> type[ActivationStrategy]:
        cls.key = key
        _ACTIVATIONS[key] = cls
        return cls
    return deco


@register_activation("tanh")
class TanhStrategy(ActivationStrategy):
    def __init__(self, bug: str | None = None) -> None:
        self._bug = bug

    def apply(self, z: Array) -> Array:
        return np.tanh(z)

    def derivative(self, a: Array) -> Array:
        if self._bug == "tanh_derivative_one_minus_a":
            return 1 - a
        return 1 - a * a


class CachedTanhStrategy(TanhStrategy):
    """A 'faster' tanh someone subclassed; its derivative override is the mistake."""

    def derivative(self, a: Array) -> Array:
        return 1 - np.tanh(a) ** 2


@register_activation("sigmoid")
class SigmoidStrategy(ActivationStrategy):
    def __init__(self, bug: str | None = None) -> None:
        self._bug = bug

    def apply(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def derivative(self, a: Array) -> Array:
        return a * (1 - a)


def resolve_activation(key: str, bug: str | None) -> ActivationStrategy:
    if bug == "cached_tanh_override" and key == "tanh":
        return CachedTanhStrategy(bug)
    if bug == "registry_tanh_is_sigmoid" and key == "tanh":
        key = "sigmoid"
    return _ACTIVATIONS[key](bug)


# ---------------------------------------------------------------- configuration and weights
@dataclass(frozen=True)
class RnnConfig:
    activation: str = "tanh"
    gradient_clip: float | None = None
    bug: str | None = None

    @property
    def backward_activation(self) -> str:
        return "sigmoid" if self.bug == "backward_strategy_misresolved" else self.activation


class WeightStore(abc.ABC):
    @property
    @abc.abstractmethod
    def input_to_hidden(self) -> Array: ...

    @property
    @abc.abstractmethod
    def hidden_to_hidden(self) -> Array: ...

    @property
    @abc.abstractmethod
    def bias(self) -> Array: ...


@dataclass(frozen=True)
class ArrayWeightStore(WeightStore):
    Wx: Array
    Wh: Array
    b: Array

    @property
    def input_to_hidden(self) -> Array:
        return self.Wx

    @property
    def hidden_to_hidden(self) -> Array:
        return self.Wh

    @property
    def bias(self) -> Array:
        return self.b


@dataclass
class StepRecord:
    x: Array
    h_prev: Array
    h: Array


@dataclass
class GradientAccumulator:
    dWx: Array
    dWh: Array
    db: Array
    bug: str | None = None

    @classmethod
    def zeros_like(cls, store: WeightStore, bug: str | None) -> GradientAccumulator:
        return cls(np.zeros_like(store.input_to_hidden), np.zeros_like(store.hidden_to_hidden),
                   np.zeros_like(store.bias), bug)

    def add(self, dWx: Array, dWh: Array, db: Array) -> None:
        if self.bug == "accumulator_assigns_dWx":
            self.dWx = dWx
        else:
            self.dWx += dWx
        self.dWh += dWh
        self.db += db

    def as_tuple(self) -> tuple[Array, Array, Array]:
        return self.dWx, self.dWh, self.db


# ---------------------------------------------------------------- the cell
class RecurrentCell(abc.ABC):
    @abc.abstractmethod
    def step(self, x: Array, h_prev: Array) -> StepRecord: ...

    @abc.abstractmethod
    def step_backward(self, dh: Array, record: StepRecord, grads: GradientAccumulator) -> tuple[Array, Array]: ...


class ElmanCell(RecurrentCell):
    def __init__(self, config: RnnConfig, weights: WeightStore) -> None:
        self._config = config
        self._weights = weights
        self._forward_act = resolve_activation(config.activation, config.bug)
        self._backward_act = resolve_activation(config.backward_activation, config.bug)

    @property
    def bug(self) -> str | None:
        return self._config.bug

    def _pre_activation(self, x: Array, h_prev: Array) -> Array:
        w = self._weights
        return x @ w.input_to_hidden + h_prev @ w.hidden_to_hidden + w.bias

    def step(self, x: Array, h_prev: Array) -> StepRecord:
        return StepRecord(x, h_prev, self._forward_act.apply(self._pre_activation(x, h_prev)))

    def local_derivative(self, record: StepRecord) -> Array:
        return self._backward_act.derivative(record.h)

    def _local_gradient(self, dh: Array, record: StepRecord) -> Array:
        if self.bug == "cell_skips_derivative":
            return dh
        return dh * self.local_derivative(record)

    def _bias_gradient(self, da: Array) -> Array:
        return da.mean(axis=0) if self.bug == "db_batch_mean" else da.sum(axis=0)

    def _recurrent_weight_gradient(self, da: Array, record: StepRecord) -> Array:
        if self.bug == "dWh_transposed":
            return da.T @ record.h_prev
        if self.bug == "dWh_from_h_t":
            return record.h.T @ da
        return record.h_prev.T @ da

    def _carry(self, da: Array) -> Array:
        Wh = self._weights.hidden_to_hidden
        return da @ Wh if self.bug == "Wh_not_transposed" else da @ Wh.T

    def step_backward(self, dh: Array, record: StepRecord, grads: GradientAccumulator) -> tuple[Array, Array]:
        da = self._local_gradient(dh, record)
        grads.add(record.x.T @ da, self._recurrent_weight_gradient(da, record), self._bias_gradient(da))
        return da @ self._weights.input_to_hidden.T, self._carry(da)


class CellFactory:
    _builders: ClassVar[dict[str, type[RecurrentCell]]] = {"elman": ElmanCell}

    @classmethod
    def build(cls, kind: str, config: RnnConfig, weights: WeightStore) -> RecurrentCell:
        return cls._builders[kind](config, weights)


# ---------------------------------------------------------------- the sequence runner
@dataclass
class SequenceCache:
    records: list[StepRecord] = field(default_factory=list)
    cell: ElmanCell | None = None
    weights: WeightStore | None = None


class SequenceRunner:
    def __init__(self, config: RnnConfig) -> None:
        self._config = config

    @property
    def bug(self) -> str | None:
        return self._config.bug

    def forward(self, x: Array, h0: Array, Wx: Array, Wh: Array, b: Array) -> tuple[Array, SequenceCache]:
        weights = ArrayWeightStore(Wx, Wh, b)
        cell = CellFactory.build("elman", self._config, weights)
        cache = SequenceCache(cell=cell, weights=weights)
        h = h0
        for t in range(x.shape[1]):
            record = cell.step(x[:, t], h)
            cache.records.append(record)
            h = record.h
        return np.stack([r.h for r in cache.records], axis=1), cache

    def _time_steps(self, T: int) -> range:
        return range(T) if self.bug == "backward_iterates_forward" else range(T - 1, -1, -1)

    def _clip(self, g: Array) -> Array:
        clip = self._config.gradient_clip
        return g if clip is None else np.clip(g, -clip, clip)

    def backward(self, dh: Array, cache: SequenceCache) -> tuple[Array, ...]:
        cell, T = cache.cell, dh.shape[1]
        grads = GradientAccumulator.zeros_like(cache.weights, self.bug)
        dx = np.zeros(dh.shape[:2] + (cache.weights.input_to_hidden.shape[0],), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[:, 0])
        for t in self._time_steps(T):
            record = cache.records[t]
            dh_t = dh[:, t] if self.bug == "no_carry" else dh[:, t] + dh_next
            if self.bug == "runner_applies_derivative_too":
                dh_t = dh_t * cell.local_derivative(record)
            dx[:, t], dh_next = cell.step_backward(dh_t, record, grads)
            dh_next = self._clip(dh_next)
        return (dx, dh_next) + grads.as_tuple()


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    clip = 0.05 if bug == "config_clip_in_backward" else None
    runner = SequenceRunner(RnnConfig(activation="tanh", gradient_clip=clip, bug=bug))
    return runner.forward, runner.backward, {"cell": "rnn", "layout": "cs231n", "activation": "tanh"}

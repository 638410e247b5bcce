"""A ReLU RNN in torch's weight names, time-major, as enterprise code: an ``ActivationKind``
Enum, a registry of ``Nonlinearity`` strategy classes keyed by it, a frozen ``LayerSpec``
with a ``from_weights`` factory and derived sizes as properties, a ``ParameterStore`` and a
``GradientStore`` injected into a ``RecurrentLayer`` built by a ``LayerFactory``.

    h_t = relu(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)    x (T, N, D), h0 (N, H)

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

import harness

Array = np.ndarray

BUGS = {
    "identity_derivative": "derivative_missing",          # the registry resolves the backward to Identity's 1
    "mask_from_h_prev": "wrong_time",                     # relu mask taken from h_{t-1}
    "derivative_from_tanh_kind": "derivative_wrong_function",  # spec.backward_kind recomputed as TANH: 1 - h^2
    "mask_inverted": "derivative_miswritten",             # (h <= 0) for (h > 0)
    "W_hh_transposed_in_carry": "weight_transposed",      # dh_prev = da @ W_hh.T
    "dW_hh_transposed": "gradient_transposed",            # dW_hh += h_prev.T @ da
    "carry_through_dW_hh": "gradient_for_weight",         # dh_prev = da @ grads.dW_hh
    "upstream_dropped": "term_dropped",                   # dh_t = dh_next only
    "spec_truncation": "truncated_bptt",                  # carry reset beyond spec.bptt_window steps
    "loop_skips_last": "loop_skips_step",                 # range(T - 2, -1, -1)
    "dW_ih_time_mean": "reduction_scaled",                # dW_ih / T
    "db_ih_assigned": "carry_overwrites",                 # grads.db_ih = da.sum(0)
    "record_x_next": "wrong_time",                        # StepRecord built with x_{t+1} (last wraps)
    "relu_registered_leaky": "forward_mistake",           # RELU maps to LeakyReLU(0.1), both ways
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


class ActivationKind(enum.Enum):
    RELU = "relu"
    TANH = "tanh"
    IDENTITY = "identity"


class Nonlinearity(abc.ABC):
    @abc.abstractmethod
    def __call__(self, z: Array) -> Array: ...

    @abc.abstractmethod
    def grad(self, out: Array) -> Array: ...


class ReLU(Nonlinearity):
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug

    def __call__(self, z: Array) -> Array:
        return np.maximum(z, 0)

    def grad(self, out: Array) -> Array:
        if self.bug == "mask_inverted":
            return (out <= 0).astype(out.dtype)
        return (out > 0).astype(out.dtype)


class LeakyReLU(ReLU):
    slope: ClassVar[float] = 0.1

    def __call__(self, z: Array) -> Array:
        return np.where(z > 0, z, self.slope * z)

    def grad(self, out: Array) -> Array:
        return np.where(out > 0, 1, self.slope).astype(out.dtype)


class Tanh(Nonlinearity):
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug

    def __call__(self, z: Array) -> Array:
        return np.tanh(z)

    def grad(self, out: Array) -> Array:
        return 1 - out ** 2


class Identity(Nonlinearity):
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug

    def __call__(self, z: Array) -> Array:
        return z

    def grad(self, out: Array) -> Array:
        return np.ones_like(out)


class NonlinearityRegistry:
    _table: ClassVar[dict[ActivationKind, type[Nonlinearity]]] = {
        ActivationKind.RELU: ReLU, ActivationKind.TANH: Tanh, ActivationKind.IDENTITY: Identity}

    @classmethod
    def create(cls, kind: ActivationKind, bug: str | None) -> Nonlinearity:
        if bug == "relu_registered_leaky" and kind is ActivationKind.RELU:
            return LeakyReLU(bug)
        return cls._table[kind](bug)


@dataclass(frozen=True)
class LayerSpec:
    input_size: int
    hidden_size: int
    kind: ActivationKind = ActivationKind.RELU
    bptt_window: int | None = None
    bug: str | None = None

    @classmethod
    def from_weights(cls, W_ih: Array, kind: ActivationKind, bug: str | None) -> LayerSpec:
        window = 3 if bug == "spec_truncation" else None
        return cls(W_ih.shape[1], W_ih.shape[0], kind, window, bug)

    @property
    def backward_kind(self) -> ActivationKind:
        if self.bug == "identity_derivative":
            return ActivationKind.IDENTITY
        if self.bug == "derivative_from_tanh_kind":
            return ActivationKind.TANH
        return self.kind


@dataclass(frozen=True)
class ParameterStore:
    W_ih: Array
    W_hh: Array
    b_ih: Array
    b_hh: Array

    @property
    def bias(self) -> Array:
        return self.b_ih + self.b_hh


@dataclass
class GradientStore:
    dW_ih: Array
    dW_hh: Array
    db_ih: Array
    db_hh: Array

    @classmethod
    def for_params(cls, p: ParameterStore) -> GradientStore:
        return cls(*(np.zeros_like(a) for a in (p.W_ih, p.W_hh, p.b_ih, p.b_hh)))


@dataclass(frozen=True)
class StepRecord:
    x: Array
    h_prev: Array
    h: Array


@dataclass
class LayerCache:
    layer: RecurrentLayer
    records: list[StepRecord] = field(default_factory=list)


class RecurrentLayer:
    def __init__(self, spec: LayerSpec, params: ParameterStore) -> None:
        self.spec, self.params = spec, params
        self.act = NonlinearityRegistry.create(spec.kind, spec.bug)
        self.act_backward = NonlinearityRegistry.create(spec.backward_kind, spec.bug)

    @property
    def bug(self) -> str | None:
        return self.spec.bug

    def step(self, x: Array, h_prev: Array) -> Array:
        p = self.params
        return self.act(x @ p.W_ih.T + h_prev @ p.W_hh.T + p.bias)

    def _local(self, dh: Array, rec: StepRecord) -> Array:
        at = rec.h_prev if self.bug == "mask_from_h_prev" else rec.h
        return dh * self.act_backward.grad(at)

    def _accumulate(self, grads: GradientStore, da: Array, rec: StepRecord) -> None:
        grads.dW_ih += da.T @ rec.x
        grads.dW_hh += rec.h_prev.T @ da if self.bug == "dW_hh_transposed" else da.T @ rec.h_prev
        if self.bug == "db_ih_assigned":
            grads.db_ih = da.sum(axis=0)
        else:
            grads.db_ih += da.sum(axis=0)
        grads.db_hh += da.sum(axis=0)

    def _carry(self, da: Array, grads: GradientStore) -> Array:
        if self.bug == "W_hh_transposed_in_carry":
            return da @ self.params.W_hh.T
        if self.bug == "carry_through_dW_hh":
            return da @ grads.dW_hh
        return da @ self.params.W_hh

    def step_backward(self, dh: Array, rec: StepRecord, grads: GradientStore) -> tuple[Array, Array]:
        da = self._local(dh, rec)
        self._accumulate(grads, da, rec)
        return da @ self.params.W_ih, self._carry(da, grads)


class LayerFactory:
    @staticmethod
    def create(params: ParameterStore, kind: ActivationKind, bug: str | None) -> RecurrentLayer:
        return RecurrentLayer(LayerSpec.from_weights(params.W_ih, kind, bug), params)


class Service:
    """The facade the tests call: forward(x, h0, W_ih, W_hh, b_ih, b_hh), backward(dh, cache)."""

    def __init__(self, kind: ActivationKind = ActivationKind.RELU, bug: str | None = None) -> None:
        self.kind, self.bug = kind, bug

    def forward(self, x: Array, h0: Array, W_ih: Array, W_hh: Array, b_ih: Array, b_hh: Array):
        layer = LayerFactory.create(ParameterStore(W_ih, W_hh, b_ih, b_hh), self.kind, self.bug)
        cache, h, T = LayerCache(layer), h0, x.shape[0]
        for t in range(T):
            h_new = layer.step(x[t], h)
            x_rec = x[(t + 1) % T] if self.bug == "record_x_next" else x[t]
            cache.records.append(StepRecord(x_rec, h, h_new))
            h = h_new
        return np.stack([r.h for r in cache.records]), cache

    def _steps(self, T: int) -> range:
        return range(T - 2, -1, -1) if self.bug == "loop_skips_last" else range(T - 1, -1, -1)

    def backward(self, dh: Array, cache: LayerCache):
        layer = cache.layer
        grads = GradientStore.for_params(layer.params)
        T = dh.shape[0]
        dx = np.zeros((T,) + dh.shape[1:2] + (layer.spec.input_size,), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[0])
        window = layer.spec.bptt_window
        for k, t in enumerate(self._steps(T)):
            if window is not None and k % window == 0:
                dh_next = np.zeros_like(dh_next)
            dh_t = dh_next if self.bug == "upstream_dropped" else dh[t] + dh_next
            dx[t], dh_next = layer.step_backward(dh_t, cache.records[t], grads)
        if self.bug == "dW_ih_time_mean":
            grads.dW_ih = grads.dW_ih / T
        return dx, dh_next, grads.dW_ih, grads.dW_hh, grads.db_ih, grads.db_hh


def to_user(cell, p):
    return {"W_ih": np.array(p["weight_ih"]), "W_hh": np.array(p["weight_hh"]),
            "b_ih": np.array(p["bias_ih"]), "b_hh": np.array(p["bias_hh"])}


def to_canonical(cell, g, p):
    pairs = (("dW_ih", "dweight_ih"), ("dW_hh", "dweight_hh"), ("db_ih", "dbias_ih"), ("db_hh", "dbias_hh"))
    return {c: g[u] for u, c in pairs if u in g}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="service_rnn", cells=("rnn",), axes="TND")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    svc = Service(ActivationKind.RELU, bug)
    return svc.forward, svc.backward, {"cell": "rnn", "layout": LAYOUT, "activation": "relu"}

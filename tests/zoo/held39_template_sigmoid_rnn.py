"""A sigmoid RNN in column-major arrays (the course's (n_x, m, T_x)) built around the template
method pattern: an abstract ``RecurrentUnit`` whose ``backward_step`` calls small hooks
(``activation``, ``activation_grad``, ``carry``, ...), a ``SigmoidUnit`` subclass, a frozen
``UnitConfig`` dataclass and a ``Parameters`` dict wrapper injected through the constructor.

    h<t> = sigmoid(Wxh x<t> + Whh h<t-1> + bh)       x (D, N, T), h0 (H, N), bh (H, 1)

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

import harness

Array = np.ndarray

BUGS = {
    "grad_at_preactivation": "derivative_wrong_point",   # override evaluates s(1 - s) at z
    "grad_one_minus_s": "derivative_miswritten",         # (1 - s)
    "grad_hook_not_overridden": "derivative_wrong_function",  # the base class's tanh default 1 - s^2 inherited
    "Whh_not_transposed": "weight_transposed",           # carry = Whh @ dz
    "dWhh_transposed": "gradient_transposed",            # dWhh += h_prev @ dz.T
    "carry_not_added": "carry_dropped",                  # dh = dh_upstream[:, :, t]
    "loop_stops_at_one": "loop_skips_step",              # range(T - 1, 0, -1)
    "db_over_NT": "reduction_scaled",                    # db / (N * T)
    "global_norm_clip": "gradient_clipped",              # carry rescaled to norm <= config.max_norm
    "dWxh_previous_input": "wrong_time",                 # x<t-1> in dWxh (t = 0 wraps)
    "grad_sign_flipped": "wrong_sign",                   # s (s - 1)
    "grad_in_sequence_too": "derivative_twice",          # the sequence applies the hook, then the unit again
    "db_from_dh": "wrong_value",                         # db += dh.sum: the gradient before the derivative
    "bias_subtracted": "forward_mistake",                # z = ... - bh, db consistent with it
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


@dataclass(frozen=True)
class UnitConfig:
    max_norm: float | None = None
    bias_sign: float = 1.0
    bug: str | None = None


class Parameters:
    """A read-only view of the parameter dict handed to the layer."""

    def __init__(self, weights: Mapping[str, Array]) -> None:
        self._w: dict[str, Array] = dict(weights)

    @property
    def Wxh(self) -> Array:
        return self._w["Wxh"]

    @property
    def Whh(self) -> Array:
        return self._w["Whh"]

    @property
    def bh(self) -> Array:
        return self._w["bh"]

    def zeros(self) -> dict[str, Array]:
        return {"d" + k: np.zeros_like(v) for k, v in self._w.items()}


@dataclass(frozen=True)
class Step:
    x: Array
    h_prev: Array
    z: Array
    h: Array


class RecurrentUnit(abc.ABC):
    """Template: subclasses provide the activation; the gradient hook defaults to tanh's."""

    def __init__(self, params: Parameters, config: UnitConfig) -> None:
        self.params, self.config = params, config

    @property
    def bug(self) -> str | None:
        return self.config.bug

    @abc.abstractmethod
    def activation(self, z: Array) -> Array: ...

    def activation_grad(self, step: Step) -> Array:
        return 1 - step.h ** 2

    def pre_activation(self, x: Array, h_prev: Array) -> Array:
        p = self.params
        return p.Wxh @ x + p.Whh @ h_prev + self.config.bias_sign * p.bh

    def forward_step(self, x: Array, h_prev: Array) -> Step:
        z = self.pre_activation(x, h_prev)
        return Step(x, h_prev, z, self.activation(z))

    def carry(self, dz: Array) -> Array:
        Whh = self.params.Whh
        return Whh @ dz if self.bug == "Whh_not_transposed" else Whh.T @ dz

    def backward_step(self, dh: Array, step: Step, x_for_dW: Array, grads: dict[str, Array]) -> tuple[Array, Array]:
        dz = dh * self.activation_grad(step)
        grads["dWxh"] += dz @ x_for_dW.T
        grads["dWhh"] += step.h_prev @ dz.T if self.bug == "dWhh_transposed" else dz @ step.h_prev.T
        src = dh if self.bug == "db_from_dh" else dz
        grads["dbh"] += self.config.bias_sign * src.sum(axis=1, keepdims=True)
        return self.params.Wxh.T @ dz, self.carry(dz)


class SigmoidUnit(RecurrentUnit):
    def activation(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def activation_grad(self, step: Step) -> Array:
        if self.bug == "grad_hook_not_overridden":
            return super().activation_grad(step)
        if self.bug == "grad_at_preactivation":
            return step.z * (1 - step.z)
        if self.bug == "grad_one_minus_s":
            return 1 - step.h
        if self.bug == "grad_sign_flipped":
            return step.h * (step.h - 1)
        return step.h * (1 - step.h)


UNITS = {"sigmoid": SigmoidUnit}


class Sequence:
    def __init__(self, unit_name: str = "sigmoid", bug: str | None = None) -> None:
        self.unit_name, self.bug = unit_name, bug

    def _config(self) -> UnitConfig:
        return UnitConfig(max_norm=0.1 if self.bug == "global_norm_clip" else None,
                          bias_sign=-1.0 if self.bug == "bias_subtracted" else 1.0, bug=self.bug)

    def forward(self, x: Array, h0: Array, parameters: Mapping[str, Array]):
        unit = UNITS[self.unit_name](Parameters(parameters), self._config())
        steps: list[Step] = []
        h = h0
        for t in range(x.shape[2]):
            steps.append(unit.forward_step(x[:, :, t], h))
            h = steps[-1].h
        return np.stack([s.h for s in steps], axis=2), (unit, steps, x)

    def _clip(self, g: Array, unit: RecurrentUnit) -> Array:
        max_norm = unit.config.max_norm
        if max_norm is None:
            return g
        norm = np.sqrt(np.sum(g * g))
        return g * (max_norm / norm) if norm > max_norm else g

    def backward(self, dh: Array, cache):
        unit, steps, x = cache
        T = dh.shape[2]
        grads = unit.params.zeros()
        dx = np.zeros_like(x)
        carry = np.zeros_like(dh[:, :, 0])
        ts = range(T - 1, 0, -1) if self.bug == "loop_stops_at_one" else range(T - 1, -1, -1)
        for t in ts:
            d = dh[:, :, t] if self.bug == "carry_not_added" else dh[:, :, t] + carry
            if self.bug == "grad_in_sequence_too":
                d = d * unit.activation_grad(steps[t])
            x_for_dW = x[:, :, t - 1] if self.bug == "dWxh_previous_input" else x[:, :, t]
            dx[:, :, t], carry = unit.backward_step(d, steps[t], x_for_dW, grads)
            carry = self._clip(carry, unit)
        if self.bug == "db_over_NT":
            grads["dbh"] = grads["dbh"] / (dh.shape[1] * T)
        return {"dx": dx, "dh0": carry, **grads}


def to_user(cell, p):
    return {"Wxh": np.array(p["weight_ih"]), "Whh": np.array(p["weight_hh"]),
            "bh": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {c: g[u] for u, c in (("dWxh", "dweight_ih"), ("dWhh", "dweight_hh")) if u in g}
    if "dbh" in g:
        out["dbias_ih"] = g["dbh"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="template_rnn", cells=("rnn",), axes="DNT",
                               weights_as="dict")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    seq = Sequence("sigmoid", bug)
    return seq.forward, seq.backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

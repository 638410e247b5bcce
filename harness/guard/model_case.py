"""The model check_model and check_training run: what it computes (ModelSpec: cell, layers,
head, loss, reduction) and its arrays (ModelCase: the probe's weights plus seeded head weights
and targets), validated against the probe's sizes."""

import dataclasses

import numpy as np

from .. import validate
from ..errors import HarnessError
from ..probe import _positive_int

HEADS = (None, "linear", "linear+sigmoid")
LOSSES = ("squared_error", "half_squared_error", "mean_squared_error", "softmax_cross_entropy")
REDUCTIONS = ("sum", "mean")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the model computes (no arrays)."""
    cell: str
    layers: int
    options: dict
    bias: bool
    hidden_size: int
    head: object
    head_bias: bool
    output_size: int
    loss: str
    loss_steps: object          # None (every step) or a tuple of step indices, negative allowed
    reduction: str
    dtype: str

    def steps(self, T):
        """The loss's steps as indices 0..T-1, or None when they do not all exist (distinct) at T."""
        if self.loss_steps is None:
            return list(range(T))
        if any(not -T <= s < T for s in self.loss_steps):
            return None
        steps = [s % T for s in self.loss_steps]
        return steps if len(set(steps)) == len(steps) else None

    def scale(self, N, n_steps, O):
        """The loss's constant factor: 1 for a sum, 1/(N*T') for a mean, 1/(N*T'*O) for mse."""
        if self.loss == "mean_squared_error":
            return 1.0 / (N * n_steps * O)
        return 1.0 / (N * n_steps) if self.reduction == "mean" else 1.0

    def describe(self):
        steps = "every step" if self.loss_steps is None else f"steps {list(self.loss_steps)}"
        head = "none (the top layer's states are the outputs)" if self.head is None else (
            f"{self.head} ({'with' if self.head_bias else 'without'} bias)")
        red = "mean over all selected elements" if self.loss == "mean_squared_error" else self.reduction
        return f"head {head}, O={self.output_size}; loss {self.loss} on {steps}, {red}"


@dataclasses.dataclass(frozen=True)
class ModelCase:
    """One model and its arrays: canonical params (head included), inputs and targets."""
    spec: ModelSpec
    probe: object               # the recurrent part, from make_probe (its initial states are unused)
    params: dict
    x: np.ndarray
    target: np.ndarray

    def cut(self, k):
        return dataclasses.replace(self, x=self.x[:, :k], target=self.target[:, :k])

    def as_float64(self):
        tgt = self.target if self.spec.loss == "softmax_cross_entropy" else self.target.astype(np.float64)
        return dataclasses.replace(self, params={k: v.astype(np.float64) for k, v in self.params.items()},
                                   x=self.x.astype(np.float64), target=tgt)


def _choice(name, value, allowed):
    try:
        ok = value in allowed
    except TypeError:
        ok = False
    if not ok:
        raise HarnessError(f"{name}: expected one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def head_checks(head, head_bias, loss, reduction):
    """The head's and the loss's arguments: names from their lists, and only what applies."""
    _choice("head", head, HEADS)
    _choice("loss", loss, LOSSES)
    _choice("reduction", reduction, REDUCTIONS)
    validate.flag("head_bias", head_bias)
    if head is None and not head_bias:
        raise HarnessError("head_bias: False applies only with a head, and head is None; drop head_bias or "
                           "pass head='linear'")
    if loss == "mean_squared_error" and reduction != "sum":
        raise HarnessError(f"reduction: {reduction!r} does not apply to loss 'mean_squared_error', which is "
                           "already a mean over every element; drop reduction or use loss='squared_error'")


def output_size_of(head, output_size, width, what):
    """O: the head's output size, or ``width`` (``what`` the top layer outputs) without a head."""
    if head is None and output_size not in (None, width):
        raise HarnessError(f"output_size: expected None or {what} when head is None (the top layer's outputs "
                           f"are the model's), got {output_size!r}")
    if head is not None and output_size is None:
        raise HarnessError(f"output_size: expected a positive integer (the head's O) when head={head!r}, got None")
    return width if head is None else _positive_int("output_size", output_size)


def make_spec(probe, head, output_size, head_bias, loss, loss_steps, reduction):
    """Validate the model's arguments against the probe's sizes; a one-line HarnessError if wrong."""
    head_checks(head, head_bias, loss, reduction)
    H, T = probe.sizes["H"], probe.sizes["T"]
    O = output_size_of(head, output_size, H, f"hidden_size={H}")
    if loss_steps is not None:
        if isinstance(loss_steps, (int, np.integer)) or not all(
                isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in loss_steps) or not len(loss_steps):
            raise HarnessError(f"loss_steps: expected None or a non-empty list of step indices, got {loss_steps!r}")
        loss_steps = tuple(int(s) for s in loss_steps)
    spec = ModelSpec(probe.cell, probe.layers, probe.options, probe.bias, H, head, bool(head_bias), O, loss,
                     loss_steps, reduction, probe.dtype)
    if spec.steps(T) is None:
        raise HarnessError(f"loss_steps: expected distinct step indices in {-T}..{T - 1} (steps={T}), "
                           f"got {list(loss_steps)}")
    return spec


def make_case(probe, head, output_size, head_bias, loss, loss_steps, reduction):
    """The case: the probe's weights and inputs plus seeded head weights and targets."""
    spec = make_spec(probe, head, output_size, head_bias, loss, loss_steps, reduction)
    params, target = seeded_head_and_target(probe, spec, spec.hidden_size)
    return ModelCase(spec, probe, params, probe.x, target)


def seeded_head_and_target(probe, spec, width):
    """The probe's weights plus seeded head weights ((O, width): width is what the head reads),
    and targets where the outputs can reach (in [0, 1] behind a sigmoid, else [-1, 1])."""
    rng = np.random.default_rng([probe.seed, 1])
    N, T, O, head = probe.sizes["N"], probe.sizes["T"], spec.output_size, spec.head
    params = dict(probe.params)
    if head is not None:
        params["head.weight"] = rng.uniform(-1 / np.sqrt(width), 1 / np.sqrt(width), (O, width)).astype(probe.dtype)
        if spec.head_bias:
            params["head.bias"] = rng.uniform(-0.5, 0.5, O).astype(probe.dtype)
    if spec.loss == "softmax_cross_entropy":
        return params, rng.integers(0, O, size=(N, T))
    in_unit = head == "linear+sigmoid" or (head is None and probe.options.get("activation") == "sigmoid")
    return params, rng.uniform(0.0 if in_unit else -1.0, 1.0, size=(N, T, O)).astype(probe.dtype)

"""A TF1 GRUCell-style GRU (reset applied before the recurrent matmul), time-major, its
weights a dict of per-gate (W, U, b) in (in, out) orientation, as enterprise code: a
``Gate`` Enum (Z, R, H), a ``WeightRepository`` protocol with a dict-backed implementation
injected into the cell, an abstract ``GruCellBase`` with a ``candidate`` hook overridden by
subclasses, a cell registry, frozen ``CellOptions`` and ``StepRecord`` properties.

    z = sigmoid(x W_z + h U_z + b_z)   r = sigmoid(x W_r + h U_r + b_r)
    hh = tanh(x W_h + (r * h) U_h + b_h)      h_t = (1 - z) hh + z h_{t-1}

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

import harness

Array = np.ndarray

BUGS = {
    "reset_hidden_property_h_t": "wrong_time",           # StepRecord.reset_hidden = r * h_t in dU_h
    "dU_h_plain_h_prev": "wrong_value",                  # dU_h += h_prev.T @ dhh (r left out)
    "dr_via_U_r": "wrong_weight",                        # d(r h) = dhh @ U_r.T
    "dh_prev_no_reset_path": "term_dropped",             # d(r h) * r not added to dh_prev
    "U_z_not_transposed": "weight_transposed",           # dh_prev += dz_pre @ U_z
    "dU_r_transposed": "gradient_transposed",            # dU_r += dr_pre.T @ h_prev
    "z_derivative_one_minus_z": "derivative_miswritten",  # (1 - z)
    "carry_dropped": "carry_dropped",                    # dh_t = dh[t]
    "dh_prev_assigned": "carry_overwrites",              # dh_prev = dz_pre @ U_z.T (= for +=)
    "options_truncate": "truncated_bptt",                # options.truncate = 3 steps back
    "candidate_derivative_twice": "derivative_twice",    # (1 - hh^2) in dhh and again in dhh_pre
    "backward_forward_in_time": "loop_direction",        # for t in range(T)
    "db_time_mean": "reduction_scaled",                  # db_q / T
    "registry_resolves_reset_after": "forward_mistake",  # the "gru" key builds the reset-after subclass
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "reset_hidden_property_h_t": "n",
    "dU_h_plain_h_prev": "n",
    "dr_via_U_r": "r",
    "dh_prev_no_reset_path": "",
    "U_z_not_transposed": "",
    "dU_r_transposed": "r",
    "z_derivative_one_minus_z": "z",
    "carry_dropped": "",
    "dh_prev_assigned": "",
    "options_truncate": "",
    "candidate_derivative_twice": "rn",
    "backward_forward_in_time": "",
    "db_time_mean": "",
    "registry_resolves_reset_after": "",
}


class Gate(enum.Enum):
    Z = "z"
    R = "r"
    H = "h"


class WeightRepository(abc.ABC):
    @abc.abstractmethod
    def W(self, g: Gate) -> Array: ...

    @abc.abstractmethod
    def U(self, g: Gate) -> Array: ...

    @abc.abstractmethod
    def b(self, g: Gate) -> Array: ...


class DictWeightRepository(WeightRepository):
    def __init__(self, weights: Mapping[str, Array]) -> None:
        self._weights = dict(weights)

    def W(self, g: Gate) -> Array:
        return self._weights["W_" + g.value]

    def U(self, g: Gate) -> Array:
        return self._weights["U_" + g.value]

    def b(self, g: Gate) -> Array:
        return self._weights["b_" + g.value]

    def zero_gradients(self) -> dict[str, Array]:
        return {"d" + k: np.zeros_like(v) for k, v in self._weights.items()}


@dataclass(frozen=True)
class CellOptions:
    truncate: int | None = None
    bug: str | None = None


@dataclass
class StepRecord:
    x: Array
    h_prev: Array
    z: Array
    r: Array
    hh: Array
    h: Array
    recurrent: Array | None = None          # h_prev U_h (reset-after subclass)
    bug: str | None = None

    @property
    def reset_hidden(self) -> Array:
        return self.r * (self.h if self.bug == "reset_hidden_property_h_t" else self.h_prev)


def sigmoid(v: Array) -> Array:
    return 1 / (1 + np.exp(-v))


class GruCellBase(abc.ABC):
    def __init__(self, repo: DictWeightRepository, options: CellOptions) -> None:
        self.repo, self.options = repo, options

    @property
    def bug(self) -> str | None:
        return self.options.bug

    def gate(self, g: Gate, x: Array, h: Array) -> Array:
        return sigmoid(x @ self.repo.W(g) + h @ self.repo.U(g) + self.repo.b(g))

    @abc.abstractmethod
    def candidate(self, x: Array, h: Array, r: Array) -> tuple: ...

    @abc.abstractmethod
    def candidate_backward(self, dhh_pre: Array, rec: StepRecord, grads: dict[str, Array]) -> tuple:
        """-> (d r, share of dh_prev)"""

    def step(self, x: Array, h: Array) -> StepRecord:
        z, r = self.gate(Gate.Z, x, h), self.gate(Gate.R, x, h)
        hh, recurrent = self.candidate(x, h, r)
        return StepRecord(x, h, z, r, hh, (1 - z) * hh + z * h, recurrent, self.bug)

    def step_backward(self, dh: Array, rec: StepRecord, grads: dict[str, Array]):
        bug, repo = self.bug, self.repo
        z, r, hh, h_prev = rec.z, rec.r, rec.hh, rec.h_prev
        dhh = dh * (1 - z)
        if bug == "candidate_derivative_twice":
            dhh = dhh * (1 - hh ** 2)
        dz = dh * (h_prev - hh)
        dhh_pre = dhh * (1 - hh ** 2)
        dz_pre = dz * ((1 - z) if bug == "z_derivative_one_minus_z" else z * (1 - z))
        dr, dh_prev_share = self.candidate_backward(dhh_pre, rec, grads)
        dr_pre = dr * r * (1 - r)
        for g, d in ((Gate.Z, dz_pre), (Gate.R, dr_pre)):
            grads["dW_" + g.value] += rec.x.T @ d
            grads["db_" + g.value] += d.sum(axis=0)
        grads["dU_z"] += h_prev.T @ dz_pre
        grads["dU_r"] += dr_pre.T @ h_prev if bug == "dU_r_transposed" else h_prev.T @ dr_pre
        grads["dW_h"] += rec.x.T @ dhh_pre
        grads["db_h"] += dhh_pre.sum(axis=0)
        dx = dz_pre @ repo.W(Gate.Z).T + dr_pre @ repo.W(Gate.R).T + dhh_pre @ repo.W(Gate.H).T
        dh_prev = dh * z + dh_prev_share
        if bug == "dh_prev_assigned":
            dh_prev = dz_pre @ repo.U(Gate.Z).T
        else:
            dh_prev += dz_pre @ (repo.U(Gate.Z) if bug == "U_z_not_transposed" else repo.U(Gate.Z).T)
        dh_prev += dr_pre @ repo.U(Gate.R).T
        return dx, dh_prev


class ResetBeforeCell(GruCellBase):
    def candidate(self, x: Array, h: Array, r: Array) -> tuple:
        repo = self.repo
        return np.tanh(x @ repo.W(Gate.H) + (r * h) @ repo.U(Gate.H) + repo.b(Gate.H)), None

    def candidate_backward(self, dhh_pre: Array, rec: StepRecord, grads: dict[str, Array]) -> tuple:
        bug, repo = self.bug, self.repo
        grads["dU_h"] += (rec.h_prev if bug == "dU_h_plain_h_prev" else rec.reset_hidden).T @ dhh_pre
        d_rh = dhh_pre @ (repo.U(Gate.R) if bug == "dr_via_U_r" else repo.U(Gate.H)).T
        share = np.zeros_like(d_rh) if bug == "dh_prev_no_reset_path" else d_rh * rec.r
        return d_rh * rec.h_prev, share


class ResetAfterCell(GruCellBase):
    def candidate(self, x: Array, h: Array, r: Array) -> tuple:
        repo = self.repo
        recurrent = h @ repo.U(Gate.H)
        return np.tanh(x @ repo.W(Gate.H) + r * recurrent + repo.b(Gate.H)), recurrent

    def candidate_backward(self, dhh_pre: Array, rec: StepRecord, grads: dict[str, Array]) -> tuple:
        d_rec = dhh_pre * rec.r
        grads["dU_h"] += rec.h_prev.T @ d_rec
        return dhh_pre * rec.recurrent, d_rec @ self.repo.U(Gate.H).T


CELLS: dict[str, type[GruCellBase]] = {"gru": ResetBeforeCell, "gru_reset_after": ResetAfterCell}


@dataclass
class Tape:
    cell: GruCellBase
    records: list[StepRecord] = field(default_factory=list)


class GruLayer:
    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug
        self.options = CellOptions(truncate=3 if bug == "options_truncate" else None, bug=bug)

    def forward(self, x: Array, h0: Array, weights: Mapping[str, Array]):
        key = "gru_reset_after" if self.bug == "registry_resolves_reset_after" else "gru"
        cell = CELLS[key](DictWeightRepository(weights), self.options)
        tape, h = Tape(cell), h0
        for t in range(x.shape[0]):
            tape.records.append(cell.step(x[t], h))
            h = tape.records[-1].h
        return np.stack([r.h for r in tape.records]), tape

    def backward(self, dh: Array, tape: Tape):
        cell, T = tape.cell, dh.shape[0]
        grads = cell.repo.zero_gradients()
        dx = np.zeros(dh.shape[:2] + (cell.repo.W(Gate.Z).shape[0],), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[0])
        steps = range(T) if self.bug == "backward_forward_in_time" else range(T - 1, -1, -1)
        for k, t in enumerate(steps):
            if self.options.truncate is not None and k >= self.options.truncate:
                dh_next = np.zeros_like(dh_next)
            dh_t = dh[t] if self.bug == "carry_dropped" else dh[t] + dh_next
            dx[t], dh_next = cell.step_backward(dh_t, tape.records[t], grads)
        if self.bug == "db_time_mean":
            grads = {k: v / T if k.startswith("db_") else v for k, v in grads.items()}
        return {"dx": dx, "dh0": dh_next, **grads}


def to_user(cell, p):
    H = p["weight_hh"].shape[1]
    out = {}
    for k, q in enumerate("rzh"):
        rows = slice(k * H, (k + 1) * H)
        out.update({"W_" + q: p["weight_ih"][rows].T, "U_" + q: p["weight_hh"][rows].T,
                    "b_" + q: p["bias_ih"][rows] + p["bias_hh"][rows]})
    return {k: out[k] for k in ("W_z", "U_z", "b_z", "W_r", "U_r", "b_r", "W_h", "U_h", "b_h")}


def to_canonical(cell, g, p):
    out = {}
    for name, pre, tr in (("dweight_ih", "dW_", True), ("dweight_hh", "dU_", True), ("dbias_ih", "db_", False)):
        if all(pre + q in g for q in "rzh"):
            out[name] = np.concatenate([g[pre + q].T if tr else g[pre + q] for q in "rzh"])
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="repo_gru", cells=("gru",), axes="TND",
                               weights_as="dict", gate_letters={"h": "n"})


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    layer = GruLayer(bug)
    return layer.forward, layer.backward, {"cell": "gru", "layout": LAYOUT, "reset_after": False}

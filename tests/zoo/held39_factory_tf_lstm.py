"""A BasicLSTMCell-style LSTM (tf_kernel layout: kernel (D+H, 4H) on concat([x, h]), columns
i, j, f, o, TF's forget_bias 1.0 added to f, c0 an argument) as enterprise code: a cell
registry with ``@register_cell``, a frozen ``CellConfig`` with derived properties, a
``KernelStore`` injected into the cell, a ``GateName`` Enum with a column map, per-gate
activation strategies and a ``CellFactory.from_config``.

Held-out zoo (held39): written without reading the diagnosis; ``bug`` plants one mistake.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

Array = np.ndarray

FORGET_BIAS = 1.0

BUGS = {
    "forget_offset_wrong_field": "forget_bias",          # config.f_offset reads cell_clip (None -> 0.0)
    "backward_f_without_offset": "forget_bias",          # backward recomputes f = sigmoid(a_f), no offset
    "enum_paper_order_in_backward": "gate_order",        # Enum declared i, f, j, o; dz packed in Enum order
    "j_backward_sigmoid_strategy": "derivative_wrong_function",  # j's derivative taken as j (1 - j)
    "dc_assigned_twice": "carry_overwrites",             # dc = dc_next; dc = dh o tanh' (= for +=)
    "dkernel_concat_h_t": "wrong_time",                  # concat([x_t, h_t]) in dkernel
    "tanh_c_derivative_missing": "derivative_missing",   # dc = dc_next + dh * o
    "o_derivative_at_preact": "derivative_wrong_point",  # a_o (1 - a_o)
    "dbias_batch_mean": "reduction_scaled",              # dbias = dz.mean(0)
    "config_clips_dz": "gradient_clipped",               # np.clip(dz, -clip, clip) from config.grad_clip
    "backward_walks_forward": "loop_direction",          # for t in range(T)
    "di_dj_swapped": "wrong_value",                      # di = dc * i, dj = dc * j
    "dh_carry_not_added": "carry_dropped",               # dh_t = dh[:, t]
    "j_strategy_sigmoid_both": "forward_mistake",        # j wired to Sigmoid in forward and backward
}
TOUCHES = {                                           # computed: blind_index.touched_gates(module, bug)
    "forget_offset_wrong_field": "",
    "backward_f_without_offset": "f",
    "enum_paper_order_in_backward": "fg",
    "j_backward_sigmoid_strategy": "g",
    "dc_assigned_twice": "",
    "dkernel_concat_h_t": "",
    "tanh_c_derivative_missing": "ifg",
    "o_derivative_at_preact": "o",
    "dbias_batch_mean": "",
    "config_clips_dz": "",
    "backward_walks_forward": "",
    "di_dj_swapped": "ig",
    "dh_carry_not_added": "",
    "j_strategy_sigmoid_both": "",
}


class GateName(enum.Enum):
    I = "i"
    J = "j"
    F = "f"
    O = "o"


class PaperGateName(enum.Enum):
    I = "i"
    F = "f"
    J = "j"
    O = "o"


COLUMN_OF: dict[str, int] = {"i": 0, "j": 1, "f": 2, "o": 3}   # the kernel's storage order


class Activation(abc.ABC):
    @abc.abstractmethod
    def __call__(self, z: Array) -> Array: ...

    @abc.abstractmethod
    def grad(self, a: Array) -> Array: ...


class Sigmoid(Activation):
    def __call__(self, z: Array) -> Array:
        return 1 / (1 + np.exp(-z))

    def grad(self, a: Array) -> Array:
        return a * (1 - a)


class Tanh(Activation):
    def __call__(self, z: Array) -> Array:
        return np.tanh(z)

    def grad(self, a: Array) -> Array:
        return 1 - a * a


@dataclass(frozen=True)
class CellConfig:
    kind: str = "basic_lstm"
    forget_bias: float = FORGET_BIAS
    cell_clip: float | None = None
    grad_clip: float | None = None
    bug: str | None = None

    @property
    def f_offset(self) -> float:
        if self.bug == "forget_offset_wrong_field":
            return self.cell_clip or 0.0
        return self.forget_bias

    def strategies(self, backward: bool) -> dict[str, Activation]:
        table: dict[str, Activation] = {"i": Sigmoid(), "j": Tanh(), "f": Sigmoid(), "o": Sigmoid()}
        if self.bug == "j_strategy_sigmoid_both" or (backward and self.bug == "j_backward_sigmoid_strategy"):
            table["j"] = Sigmoid()
        return table


@dataclass(frozen=True)
class KernelStore:
    kernel: Array
    bias: Array

    @property
    def hidden_size(self) -> int:
        return self.kernel.shape[1] // 4

    @property
    def input_size(self) -> int:
        return self.kernel.shape[0] - self.hidden_size

    def columns(self, gate: str) -> slice:
        k, H = COLUMN_OF[gate], self.hidden_size
        return slice(k * H, (k + 1) * H)


@dataclass
class StepTape:
    xh: Array
    xh_next: Array | None
    c_prev: Array
    a: Array
    acts: dict[str, Array]
    c: Array
    tanh_c: Array


_CELLS: dict[str, type[LstmCellBase]] = {}


def register_cell(kind: str) -> Callable[[type[LstmCellBase]], type[LstmCellBase]]:
    def deco(cls):
        _CELLS[kind] = cls
        return cls
    return deco


class LstmCellBase(abc.ABC):
    def __init__(self, config: CellConfig, store: KernelStore) -> None:
        self.config, self.store = config, store

    @abc.abstractmethod
    def step(self, x: Array, h: Array, c: Array) -> StepTape: ...

    @abc.abstractmethod
    def step_backward(self, dh: Array, dc_next: Array, tape: StepTape, grads: dict[str, Array]): ...


@register_cell("basic_lstm")
class BasicLstmCell(LstmCellBase):
    @property
    def bug(self) -> str | None:
        return self.config.bug

    def step(self, x: Array, h: Array, c: Array) -> StepTape:
        st, table = self.store, self.config.strategies(backward=False)
        xh = np.concatenate([x, h], axis=1)
        a = xh @ st.kernel + st.bias
        pre = {q.value: a[:, st.columns(q.value)] for q in GateName}
        pre["f"] = pre["f"] + self.config.f_offset
        acts = {k: table[k](v) for k, v in pre.items()}
        c_new = acts["f"] * c + acts["i"] * acts["j"]
        return StepTape(xh, None, c, a, acts, c_new, np.tanh(c_new))

    def _gate_order(self):
        return PaperGateName if self.bug == "enum_paper_order_in_backward" else GateName

    def step_backward(self, dh: Array, dc_next: Array, tape: StepTape, grads: dict[str, Array]):
        st, bug, table = self.store, self.bug, self.config.strategies(backward=True)
        acts = dict(tape.acts)
        if bug == "backward_f_without_offset":
            acts["f"] = Sigmoid()(tape.a[:, st.columns("f")])
        i, j, f, o = acts["i"], acts["j"], acts["f"], acts["o"]
        d_act = {"o": dh * tape.tanh_c}
        if bug == "dc_assigned_twice":
            dc = dc_next
            dc = dh * o * (1 - tape.tanh_c ** 2)
        elif bug == "tanh_c_derivative_missing":
            dc = dc_next + dh * o
        else:
            dc = dc_next + dh * o * (1 - tape.tanh_c ** 2)
        d_act["f"] = dc * tape.c_prev
        d_act["i"], d_act["j"] = (dc * i, dc * j) if bug == "di_dj_swapped" else (dc * j, dc * i)
        dz = {k: d_act[k] * table[k].grad(acts[k]) for k in d_act}
        if bug == "o_derivative_at_preact":
            a_o = tape.a[:, st.columns("o")]
            dz["o"] = d_act["o"] * a_o * (1 - a_o)
        d = np.concatenate([dz[q.value] for q in self._gate_order()], axis=1)
        if self.config.grad_clip is not None:
            d = np.clip(d, -self.config.grad_clip, self.config.grad_clip)
        xh = tape.xh_next if bug == "dkernel_concat_h_t" else tape.xh
        grads["kernel"] += xh.T @ d
        grads["bias"] += d.mean(axis=0) if bug == "dbias_batch_mean" else d.sum(axis=0)
        dxh = d @ st.kernel.T
        D = st.input_size
        return dxh[:, :D], dxh[:, D:], dc * f


class CellFactory:
    @staticmethod
    def from_config(config: CellConfig, store: KernelStore) -> LstmCellBase:
        return _CELLS[config.kind](config, store)


@dataclass
class RnnTape:
    cell: LstmCellBase
    tapes: list[StepTape] = field(default_factory=list)


class DynamicRnn:
    CLIP: ClassVar[float] = 0.02

    def __init__(self, bug: str | None = None) -> None:
        self.bug = bug
        self.config = CellConfig(grad_clip=self.CLIP if bug == "config_clips_dz" else None, bug=bug)

    def forward(self, x: Array, h0: Array, c0: Array, kernel: Array, bias: Array) -> tuple[Array, RnnTape]:
        cell = CellFactory.from_config(self.config, KernelStore(kernel, bias))
        tape, h, c = RnnTape(cell), h0, c0
        for t in range(x.shape[1]):
            st = cell.step(x[:, t], h, c)
            tape.tapes.append(st)
            h, c = st.acts["o"] * st.tanh_c, st.c
            st.xh_next = np.concatenate([x[:, t], h], axis=1)
        hs = np.stack([s.acts["o"] * s.tanh_c for s in tape.tapes], axis=1)
        return hs, tape

    def backward(self, dh: Array, tape: RnnTape):
        store = tape.cell.store
        grads = {"kernel": np.zeros_like(store.kernel), "bias": np.zeros_like(store.bias)}
        N, T, _ = dh.shape
        dx = np.zeros((N, T, store.input_size), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[:, 0])
        dc_next = np.zeros_like(dh[:, 0])
        steps = range(T) if self.bug == "backward_walks_forward" else range(T - 1, -1, -1)
        for t in steps:
            dh_t = dh[:, t] if self.bug == "dh_carry_not_added" else dh[:, t] + dh_next
            dx[:, t], dh_next, dc_next = tape.cell.step_backward(dh_t, dc_next, tape.tapes[t], grads)
        return dx, dh_next, dc_next, grads["kernel"], grads["bias"]


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    rnn = DynamicRnn(bug)
    return rnn.forward, rnn.backward, {"cell": "lstm", "layout": "tf_kernel", "forget_bias": FORGET_BIAS}

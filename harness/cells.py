"""What the harness knows about each cell: gates, states, options, canonical parameters.

The canonical parameter layout is PyTorch's, flattened over layers:
``weight_ih_l{k}`` (G*H, D_k), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}`` (G*H,),
``bias_hh_l{k}`` (G*H,), where D_0 = input size and D_k = H above.

A ``Structure`` adds what torch and TF add on top (harness.cells.Structure): a reverse
direction (names ending ``_reverse``, torch's), a projection ``weight_hr_l{k}`` (P, H)
(torch's proj_size; h then has P units and weight_hh is (G*H, P)), and peepholes
``weight_ci_l{k}``, ``weight_cf_l{k}``, ``weight_co_l{k}`` (H,) each (TF1's w_i_diag,
w_f_diag, w_o_diag; torch has none). Layer k > 0 then reads D_k = M inputs, what the layer
below outputs: P (or H), twice that for two directions concatenated; one direction's
own P for "separate" stacks (TF1's bidirectional_dynamic_rnn with MultiRNNCells).
"""

import math
from dataclasses import dataclass

import numpy as np

from reference_impls.bidirectional import MERGES, STACKINGS
from reference_impls.stack import CELLS

from .errors import HarnessError

GATES = {name: cell.gates for name, cell in CELLS.items()}
STATES = {name: cell.states for name, cell in CELLS.items()}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def check_cell(cell):
    if cell not in CELLS:
        raise HarnessError(f"cell: expected one of {', '.join(CELLS)}, got {cell!r}")
    return cell


def num_gates(cell):
    return len(GATES[cell])


@dataclass(frozen=True)
class Structure:
    """How a stack is built beyond its cell (the defaults: a plain unidirectional stack)."""
    directions: int = 1             # 2: bidirectional
    merge: str = "concat"           # how two directions make the layer's output (reference_impls.bidirectional)
    stacking: str = "interleaved"   # "separate": each direction its own stack, merged at the top only
    proj_size: int = 0              # LSTM projection P (0: none)
    peepholes: bool = False         # LSTM peepholes

    @property
    def plain(self):
        return self == Structure()

    def state_size(self, hidden_size):
        """The size of h: P with a projection, else H."""
        return self.proj_size or hidden_size

    def output_size(self, hidden_size):
        """What a layer outputs per step (M): its h, or the merge of two directions' h."""
        Hs = self.state_size(hidden_size)
        return 2 * Hs if self.directions == 2 and self.merge in ("concat", "none") else Hs

    def input_size(self, layer, input_size, hidden_size):
        if layer == 0:
            return input_size
        if self.stacking == "separate":
            return self.state_size(hidden_size)
        return self.output_size(hidden_size)

    def describe(self):
        parts = []
        if self.directions == 2:
            parts.append(f"bidirectional (merge {self.merge}"
                         + (", separate stacks per direction" if self.stacking == "separate" else "") + ")")
        if self.proj_size:
            parts.append(f"projection P={self.proj_size}")
        if self.peepholes:
            parts.append("peepholes")
        return ", ".join(parts)


def check_structure(cell, bidirectional=False, merge="concat", stacking="interleaved", proj_size=0,
                    peepholes=False):
    """A validated Structure (one line naming the argument for anything wrong)."""
    if not isinstance(bidirectional, bool):
        raise HarnessError(f"bidirectional: expected True or False, got {bidirectional!r}")
    if not isinstance(peepholes, bool):
        raise HarnessError(f"peepholes: expected True or False, got {peepholes!r}")
    if merge not in MERGES:
        raise HarnessError(f"merge: expected one of {', '.join(MERGES)}, got {merge!r}")
    if stacking not in STACKINGS:
        raise HarnessError(f"stacking: expected one of {', '.join(STACKINGS)}, got {stacking!r}")
    if isinstance(proj_size, bool) or not isinstance(proj_size, int) or proj_size < 0:
        raise HarnessError(f"proj_size: expected a non-negative integer (0: no projection), got {proj_size!r}")
    for name, value, default in (("merge", merge, "concat"), ("stacking", stacking, "interleaved")):
        if value != default and not bidirectional:
            raise HarnessError(f"{name}: {value!r} applies to two directions only, and bidirectional is False; "
                               "drop it or add bidirectional=True (--bidirectional)")
    for name, value in (("proj_size", proj_size), ("peepholes", peepholes)):
        if value and cell != "lstm":
            raise HarnessError(f"{name}: only the LSTM has a projection and peepholes, got cell {cell!r}")
    return Structure(2 if bidirectional else 1, merge, stacking, int(proj_size), bool(peepholes))


def structure_of(cell, params, merge="concat", stacking=None):
    """The Structure that canonical ``params`` have: two directions when ``_reverse`` names
    exist, the projection from ``weight_hr_l0``, peepholes from ``weight_ci_l0``. With two
    directions and more than one layer, what layer 1 reads tells the kinds apart: 2P inputs
    (concatenated: interleaved) or P (separate stacks, or a Keras merge sum/mul/ave:
    ``merge`` and ``stacking`` say which; stacking defaults to "separate" for a
    concatenating merge and "interleaved" otherwise)."""
    directions = 2 if any(k.endswith("_reverse") for k in params) else 1
    w_hr = params.get("weight_hr_l0")
    proj = int(np.shape(w_hr)[0]) if w_hr is not None else 0
    peep = "weight_ci_l0" in params
    P = proj or int(np.shape(params["weight_hh_l0"])[1])
    reads = np.shape(params["weight_ih_l1"])[1] if directions == 2 and "weight_ih_l1" in params else None
    if reads == P:
        stacking = stacking or ("separate" if merge in ("concat", "none") else "interleaved")
    elif reads is not None and reads != 2 * P:
        raise HarnessError(f"weights: weight_ih_l1 reads {reads} inputs, expected {P} or {2 * P} "
                           f"(two directions of {P} units)")
    if directions == 1:
        return check_structure(cell, False, proj_size=proj, peepholes=peep)
    return check_structure(cell, True, merge, stacking or "interleaved", proj, peep)


def param_name(name, layer, direction=0):
    """The canonical (torch) name: weight_ih -> weight_ih_l1 or weight_ih_l1_reverse."""
    return f"{name}_l{layer}" + ("_reverse" if direction else "")


def layer_param_shapes(cell, layer, input_size, hidden_size, bias, structure=None):
    """{name: shape} of one layer's parameters (one direction), without the ``_l{k}`` suffix."""
    st = structure or Structure()
    G, H = num_gates(cell), hidden_size
    D = st.input_size(layer, input_size, H) if structure is not None else (input_size if layer == 0 else H)
    Hs = st.state_size(H)
    shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, Hs)}
    if bias:
        shapes.update(bias_ih=(G * H,), bias_hh=(G * H,))
    if st.proj_size:
        shapes["weight_hr"] = (st.proj_size, H)
    if st.peepholes:
        shapes.update(weight_ci=(H,), weight_cf=(H,), weight_co=(H,))
    return shapes


def param_shapes(cell, layers, input_size, hidden_size, bias, structure=None):
    """{canonical name: shape} for a whole stack (torch's order: layer, then direction)."""
    directions = structure.directions if structure is not None else 1
    return {param_name(name, k, d): shape
            for k in range(layers) for d in range(directions)
            for name, shape in layer_param_shapes(cell, k, input_size, hidden_size, bias, structure).items()}


def split_layer(params, layer, direction=0):
    """The parameters of one layer (and direction), names without the ``_l{k}[_reverse]`` suffix."""
    suffix = param_name("", layer, direction)
    return {k[: -len(suffix)]: v for k, v in params.items() if k.endswith(suffix)}


def _clip(name, value):
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not math.isfinite(v) or v <= 0:
        raise HarnessError(f"{name}: expected a positive number (or None for no clipping), got {value!r}")
    return v


def cell_options(cell, activation="tanh", forget_bias=0.0, reset_after=True, cell_clip=None, proj_clip=None):
    """The options the reference cell takes, validated. The LSTM's clips (TF1 LSTMCell's
    cell_clip, proj_clip) appear only when set."""
    clips = {k: _clip(k, v) for k, v in (("cell_clip", cell_clip), ("proj_clip", proj_clip)) if v is not None}
    if clips and cell != "lstm":
        raise HarnessError(f"{', '.join(clips)}: only the LSTM clips (TF1 LSTMCell), got cell {cell!r}")
    if cell == "rnn":
        if activation not in ACTIVATIONS:
            raise HarnessError(f"activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        return {"activation": activation}
    if cell == "lstm":
        try:
            fb = float(forget_bias)
        except (TypeError, ValueError):
            fb = float("nan")
        if not math.isfinite(fb):
            raise HarnessError(f"forget_bias: expected a finite number, got {forget_bias!r}")
        return {"forget_bias": fb, **clips}
    return {"reset_after": bool(reset_after)}

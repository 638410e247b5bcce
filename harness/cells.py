"""What the harness knows about each cell: gates, states, options, canonical parameters.

The canonical parameter layout is PyTorch's, flattened over layers:
``weight_ih_l{k}`` (G*H, D_k), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}`` (G*H,),
``bias_hh_l{k}`` (G*H,), where D_0 = input size and D_k = H above.
"""

import math

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


def layer_param_shapes(cell, layer, input_size, hidden_size, bias):
    """{name: shape} of one layer's parameters, without the ``_l{k}`` suffix."""
    G, H = num_gates(cell), hidden_size
    D = input_size if layer == 0 else H
    shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, H)}
    if bias:
        shapes.update(bias_ih=(G * H,), bias_hh=(G * H,))
    return shapes


def param_shapes(cell, layers, input_size, hidden_size, bias):
    """{canonical name: shape} for a whole stack."""
    return {f"{name}_l{k}": shape
            for k in range(layers)
            for name, shape in layer_param_shapes(cell, k, input_size, hidden_size, bias).items()}


def split_layer(params, layer):
    """The parameters of one layer, names without the ``_l{k}`` suffix."""
    suffix = f"_l{layer}"
    return {k[: -len(suffix)]: v for k, v in params.items() if k.endswith(suffix)}


def cell_options(cell, activation="tanh", forget_bias=0.0, reset_after=True):
    """The options the reference cell takes, validated."""
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
        return {"forget_bias": fb}
    return {"reset_after": bool(reset_after)}

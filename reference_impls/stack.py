"""Stacks of recurrent layers: layer l's hidden states are layer l+1's inputs.

    x (N, T, D) -> layer 0 -> h^0 (N, T, H) -> layer 1 -> ... -> h^{L-1} = outputs

Backward runs the layers top-down: the top layer's upstream gradient is the loss's
gradient of the outputs; layer l's upstream gradient is layer l+1's ``dx``. A
gradient on the final states (``dh_n``, ``dc_n``) joins at the last step.

Each cell module (``rnn``, ``lstm``, ``gru``) is driven through the same four calls,
listed in ``CELLS``:

    forward(x, state0, params, **options) -> (states, cache)
        state0: tuple of (N, H) arrays, (h0,) or (h0, c0);
        params: {"weight_ih", "weight_hh", ["bias_ih", "bias_hh"]};
        states: {"h": (N, T, H)[, "c": (N, T, H)]}.
    backward(dh, dstate_n, cache) -> grads
        dh (N, T, H) upstream gradient; dstate_n {"c": (N, H)} for the LSTM;
        grads as the cell's own backward returns them.
    step_param_grads(grads, cache) -> {"d<param>": (T, *shape)}
    step_param_factors(grads, cache) -> the same, weights kept as factors
        {"d<weight>": (left (T, N, R), ((rows, right (T, N, C)), ...)), "d<bias>": (T, R)}:
        step t's contribution is left[t][:, rows].T @ right[t] (see fast.rnn)
    gate_values(cache) -> (N, T, G*H) activated gates, or None for the Elman RNN
"""

from dataclasses import dataclass
from typing import Callable

from . import lstm_proj
from .fast import gru, lstm, rnn


@dataclass(frozen=True)
class Cell:
    """How the stack drives one cell module."""
    states: tuple          # names of the recurrent states, ("h",) or ("h", "c")
    gates: tuple           # gate blocks along the G*H rows of the weights, in order
    forward: Callable
    backward: Callable
    step_param_grads: Callable
    gate_values: Callable
    step_param_factors: Callable = None    # None: step_param_grads only (LSTM_PROJ)


def _rnn_forward(x, state0, params, activation="tanh"):
    h, cache = rnn.rnn_forward(x, state0[0], **params, activation=activation)
    return {"h": h}, cache


def _lstm_forward(x, state0, params, forget_bias=0.0):
    h, c, cache = lstm.lstm_forward(x, state0[0], state0[1], **params, forget_bias=forget_bias)
    return {"h": h, "c": c}, cache


def _gru_forward(x, state0, params, reset_after=True):
    h, cache = gru.gru_forward(x, state0[0], **params, reset_after=reset_after)
    return {"h": h}, cache


CELLS = {
    "rnn": Cell(("h",), ("",), _rnn_forward,
                lambda dh, dn, cache: rnn.rnn_backward(dh, cache),
                rnn.rnn_step_param_grads, lambda cache: None, rnn.rnn_step_param_factors),
    "lstm": Cell(("h", "c"), ("i", "f", "g", "o"), _lstm_forward,
                 lambda dh, dn, cache: lstm.lstm_backward(dh, cache, dc_n=dn.get("c")),
                 lstm.lstm_step_param_grads, lstm.lstm_gates, lstm.lstm_step_param_factors),
    "gru": Cell(("h",), ("r", "z", "n"), _gru_forward,
                lambda dh, dn, cache: gru.gru_backward(dh, cache),
                gru.gru_step_param_grads, gru.gru_gates, gru.gru_step_param_factors),
}


def _lstm_proj_forward(x, state0, params, forget_bias=0.0, cell_clip=None, proj_clip=None):
    h, c, caches = lstm_proj.forward(x, state0[0], state0[1], params, forget_bias, cell_clip, proj_clip)
    return {"h": h, "c": c}, caches


# The LSTM with peepholes, clipping or a projection (TF1 LSTMCell, torch proj_size): its
# textbook form is what runs (there is no fast copy of it).
LSTM_PROJ = Cell(("h", "c"), ("i", "f", "g", "o"), _lstm_proj_forward,
                 lambda dh, dn, caches: lstm_proj.backward(dh, caches, dc_n=dn.get("c")),
                 lstm_proj.step_param_grads, lstm_proj.gate_values)
LSTM_EXTRAS = ("cell_clip", "proj_clip")      # options only LSTM_PROJ takes


def cell_spec(cell, params, options):
    """(Cell, the options it takes) for one layer: the LSTM with peephole or projection
    weights in ``params``, or a clip in ``options``, runs LSTM_PROJ."""
    if cell == "lstm" and (any(n in params for n in lstm_proj.EXTRAS)
                           or any(options.get(k) is not None for k in LSTM_EXTRAS)):
        return LSTM_PROJ, options
    return CELLS[cell], {k: v for k, v in options.items() if k not in LSTM_EXTRAS}


def stack_forward(cell, x, state0, layer_params, **options):
    """Run L layers of ``cell`` over the sequence.

    Args:
        cell: "rnn", "lstm" or "gru".
        x: inputs, (N, T, D).
        state0: dict state name -> (L, N, H) initial states, {"h": ...[, "c": ...]}.
        layer_params: list of L dicts of parameters, one per layer.
        options: passed to every layer (activation, forget_bias, reset_after).

    Returns:
        states: list of L dicts {"h": (N, T, H)[, "c": (N, T, H)]}.
        caches: list of L caches for ``stack_backward``.
    """
    spec = CELLS[cell]
    states, caches = [], []
    inp = x
    for layer, params in enumerate(layer_params):
        s0 = tuple(state0[name][layer] for name in spec.states)
        layer_states, cache = spec.forward(inp, s0, params, **options)
        states.append(layer_states)
        caches.append(cache)
        inp = layer_states["h"]
    return states, caches


def stack_backward(cell, dout, dstate_n, caches):
    """Backpropagate through the whole stack, top layer first.

    Args:
        cell: "rnn", "lstm" or "gru".
        dout: gradient of the top layer's outputs, (N, T, H).
        dstate_n: dict state name -> (L, N, H) gradient of the final states.
        caches: from ``stack_forward``.

    Returns:
        grads: list of L dicts, layer 0 first. Each holds what the cell's backward
            returns, plus ``dh_upstream`` (N, T, H): the upstream gradient the layer got.
    """
    spec = CELLS[cell]
    grads = [None] * len(caches)
    dh = dout
    for layer in reversed(range(len(caches))):
        dh = dh.copy()                                      # never write into the caller's array
        dh[:, -1] += dstate_n["h"][layer]
        dn = {name: dstate_n[name][layer] for name in spec.states if name != "h"}
        g = spec.backward(dh, dn, caches[layer])
        g["dh_upstream"] = dh
        grads[layer] = g
        dh = g["dx"]
    return grads


"""Keras 3 <-> canonical weights: one table for SimpleRNN/LSTM/GRU layers and their cells.

Keras holds one layer as ``[kernel, recurrent_kernel(, bias)]`` (the order of
``layer.get_weights()``, the same for the layer and its cell):

    kernel            (D, G*H)   = weight_ih.T, gate blocks along the columns
    recurrent_kernel  (H, G*H)   = weight_hh.T, same column order
    bias              (G*H,)     = bias_ih + bias_hh                  SimpleRNN, LSTM, GRU(reset_after=False)
                      (2, G*H)   = rows [bias_ih, bias_hh]            GRU(reset_after=True)

Gate blocks: LSTM i, f, c(=g), o is torch's order; GRU z, r, h(=n) puts z FIRST where
torch has r, z, n. The single bias is exact: for the RNN and LSTM only the sum matters,
and in the reset-before GRU b_hh_n lies outside the reset product. Keras has no
call-time LSTM forget_bias (``unit_forget_bias`` only initialises), so a forget_bias is
folded into the f block of the bias; without a bias there is nowhere to put it and the
conversion is refused. Reading back splits a single bias as bias_ih = bias, bias_hh = 0.
"""

from dataclasses import dataclass

import numpy as np

from ..cells import num_gates
from ..errors import LayoutError
from . import expect_shape


@dataclass(frozen=True)
class KerasSpec:
    layer: str        # Keras layer class
    cell: str         # Keras cell class
    order: tuple      # Keras's gate blocks, as indices into the canonical (torch) blocks


TABLE = {
    "rnn": KerasSpec("SimpleRNN", "SimpleRNNCell", (0,)),
    "lstm": KerasSpec("LSTM", "LSTMCell", (0, 1, 2, 3)),   # i, f, c(=g), o: torch's i, f, g, o
    "gru": KerasSpec("GRU", "GRUCell", (1, 0, 2)),         # z, r, h(=n) from torch's r, z, n
}
FORGET_BLOCK = 1      # the LSTM's f block (canonical order)
NAMES = ("kernel", "recurrent_kernel", "bias")


def bias_form(cell, options, bias):
    """How Keras holds the biases: None (use_bias=False), "sum" (one vector
    bias_ih + bias_hh) or "stack" (GRU reset_after=True: rows bias_ih, bias_hh)."""
    if not bias:
        return None
    return "stack" if cell == "gru" and options.get("reset_after", True) else "sum"


def keras_shapes(cell, input_size, hidden_size, options, bias):
    """Shapes of ``layer.get_weights()``, in order."""
    GH = num_gates(cell) * hidden_size
    shapes = [(input_size, GH), (hidden_size, GH)]
    form = bias_form(cell, options, bias)
    if form:
        shapes.append((2, GH) if form == "stack" else (GH,))
    return shapes


def _forget_bias(cell, options, form):
    fb = options.get("forget_bias", 0.0) if cell == "lstm" else 0.0
    if fb and form is None:
        raise LayoutError(f"forget_bias={fb}: Keras's LSTM has no call-time forget-gate offset "
                          "(unit_forget_bias only initialises the bias) and with use_bias=False "
                          "there is no bias to fold it into")
    return fb


def _blocks(a, order, axis=0):
    """``a`` with its gate blocks along ``axis`` rearranged: block j of the result is block order[j]."""
    parts = np.split(np.asarray(a), len(order), axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


def _inverse(order):
    return tuple(int(i) for i in np.argsort(order))


def _canonical_sizes(cell, p):
    """(D, H, bias) of one canonical layer, every shape checked."""
    G = num_gates(cell)
    if "weight_ih" not in p or "weight_hh" not in p:
        raise LayoutError(f"layer params: expected weight_ih and weight_hh, got {sorted(p)}")
    wih, whh = np.shape(p["weight_ih"]), np.shape(p["weight_hh"])
    if len(whh) != 2 or len(wih) != 2:
        raise LayoutError(f"weight_ih/weight_hh: expected 2-D arrays, got shapes {wih} and {whh}")
    H = whh[1]
    expect_shape("weight_hh", (G * H, H), whh, f"the canonical {cell} layout (G*H, H)")
    D = wih[0] if wih[1] == G * H != wih[0] else wih[1]           # name a transposed weight_ih as such
    expect_shape("weight_ih", (G * H, D), wih, f"the canonical {cell} layout (G*H, D)")
    has = [n for n in ("bias_ih", "bias_hh") if n in p]
    if len(has) == 1:
        raise LayoutError(f"layer params: expected both bias_ih and bias_hh or neither, got only {has[0]}")
    for name in has:
        expect_shape(name, (G * H,), np.shape(p[name]), f"the canonical {cell} layout (G*H,)")
    return D, H, bool(has)


def to_keras_weights(cell, layer_params, options):
    """One canonical layer -> ``[kernel, recurrent_kernel(, bias)]`` for a Keras layer or cell."""
    spec, p = TABLE[cell], layer_params
    lacks = [what for n, what in (("weight_hr", "projection (torch proj_size, TF1 num_proj)"),
                                  ("weight_ci", "peepholes (TF1 use_peepholes)")) if n in p]
    lacks += [k for k in ("cell_clip", "proj_clip") if k in options]
    if lacks:
        raise LayoutError(f"Keras's {spec.layer} has no {', '.join(lacks)}; no exact Keras form")
    D, H, bias = _canonical_sizes(cell, p)
    form = bias_form(cell, options, bias)
    fb = _forget_bias(cell, options, form)
    out = [_blocks(p["weight_ih"], spec.order).T, _blocks(p["weight_hh"], spec.order).T]
    if form == "stack":
        out.append(np.stack([_blocks(p["bias_ih"], spec.order), _blocks(p["bias_hh"], spec.order)]))
    elif form == "sum":
        b = np.asarray(p["bias_ih"]) + np.asarray(p["bias_hh"])
        if fb:
            b[FORGET_BLOCK * H:(FORGET_BLOCK + 1) * H] += fb
        out.append(_blocks(b, spec.order))
    out = [np.ascontiguousarray(a) for a in out]
    for name, expected, a in zip(NAMES, keras_shapes(cell, D, H, options, bias), out):
        expect_shape(name, expected, a.shape, f"Keras {spec.layer}")
    return out


def _read(cell, arrays, options, adjoint):
    """Keras arrays -> canonical. adjoint=False: weights (a single bias becomes bias_ih,
    bias_hh = 0, forget_bias taken back out); adjoint=True: gradients (a single bias's
    gradient is the gradient of both bias_ih and bias_hh)."""
    spec, arrays = TABLE[cell], [np.asarray(a) for a in arrays]
    if len(arrays) not in (2, 3) or np.ndim(arrays[1]) != 2 or np.ndim(arrays[0]) != 2:
        raise LayoutError(f"Keras {spec.layer} weights: expected [kernel (D, G*H), recurrent_kernel "
                          f"(H, G*H)(, bias)], got shapes {[a.shape for a in arrays]}")
    D, H = arrays[0].shape[0], arrays[1].shape[0]
    bias = len(arrays) == 3
    for name, expected, a in zip(NAMES, keras_shapes(cell, D, H, options, bias), arrays):
        expect_shape(name, expected, a.shape, f"Keras {spec.layer}({_describe(cell, options)})")
    inv = _inverse(spec.order)
    p = {"weight_ih": _blocks(arrays[0].T, inv), "weight_hh": _blocks(arrays[1].T, inv)}
    form = bias_form(cell, options, bias)
    fb = 0.0 if adjoint else _forget_bias(cell, options, form)
    if form == "stack":
        p["bias_ih"], p["bias_hh"] = _blocks(arrays[2][0], inv), _blocks(arrays[2][1], inv)
    elif form == "sum":
        b = _blocks(arrays[2], inv)
        p["bias_ih"] = b.copy()
        p["bias_hh"] = b.copy() if adjoint else np.zeros_like(b)
        if fb:
            p["bias_ih"][FORGET_BLOCK * H:(FORGET_BLOCK + 1) * H] -= fb
    return {k: np.ascontiguousarray(v) for k, v in p.items()}


def _describe(cell, options):
    return ", ".join(f"{k}={v}" for k, v in options.items()) if cell == "gru" else ""


def from_keras_weights(cell, weights, options):
    """``layer.get_weights()`` -> one canonical layer (suffix-free names)."""
    return _read(cell, weights, options, adjoint=False)


def grads_from_keras(cell, grads, options):
    """Gradients of ``[kernel, recurrent_kernel(, bias)]`` -> canonical gradients: the adjoint
    of ``to_keras_weights`` (a summed bias passes its gradient to bias_ih and bias_hh)."""
    return _read(cell, grads, options, adjoint=True)


def load_weights(target, cell, layer_params, options):
    """Assign one canonical layer to a built Keras layer or cell, checking every shape."""
    arrays = to_keras_weights(cell, layer_params, options)
    variables = list(target.weights)
    if len(variables) != len(arrays):
        raise LayoutError(f"{type(target).__name__} holds {len(variables)} weights "
                          f"{[tuple(v.shape) for v in variables]}, the canonical layer converts to "
                          f"{len(arrays)} {[a.shape for a in arrays]} (use_bias differs?)")
    for v, a in zip(variables, arrays):
        if tuple(v.shape) != a.shape:
            raise LayoutError(f"{getattr(v, 'path', v.name)}: Keras {type(target).__name__} expects shape "
                              f"{tuple(v.shape)}, the converted canonical weight has {a.shape}")
        v.assign(a.astype(v.dtype))
    return target


def parts(layer):
    """A Bidirectional layer's two layers (forward, backward), or the layer itself."""
    return [layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") else [layer]


def to_keras(params, layers, cell, options):
    """Load canonical stack parameters (``weight_ih_l0`` ..., ``_reverse`` for the backward
    layer of a Bidirectional) into a list of built Keras layers (or Bidirectional layers)."""
    from ..cells import split_layer
    for k, layer in enumerate(layers):
        for d, part in enumerate(parts(layer)):
            load_weights(part, cell, split_layer(params, k, d), options)
    return layers


def from_keras(layers, cell, options):
    """Canonical stack parameters (copied arrays) from a list of Keras layers, cells or
    Bidirectional layers."""
    from ..cells import param_name
    return {param_name(name, k, d): value for k, layer in enumerate(layers) for d, part in enumerate(parts(layer))
            for name, value in from_keras_weights(cell, part.get_weights(), options).items()}

"""PyTorch <-> canonical weights. The canonical layout *is* torch's, so the table only
renames: fused modules (nn.RNN/LSTM/GRU) keep the ``_l{k}`` suffix, cells
(nn.RNNCell/LSTMCell/GRUCell) and single-layer modules hold one layer.

Two things torch cannot express are refused, never approximated: an LSTM
``forget_bias`` without biases to fold it into, and a GRU with the reset gate applied
before the recurrent matmul (``reset_after=False``).
"""

import numpy as np

from ..errors import LayoutError

# cell -> (fused module class name, cell class name)
CLASSES = {"rnn": ("RNN", "RNNCell"), "lstm": ("LSTM", "LSTMCell"), "gru": ("GRU", "GRUCell")}
CELL_OF_CLASS = {cls: cell for cell, pair in CLASSES.items() for cls in pair}


def torch_name(canonical, kind, layer):
    """Name of a canonical parameter (without suffix) in a torch module of ``kind``.

    kind: "fused" (nn.RNN with all layers), "layer" (one-layer nn.RNN) or "cell".
    """
    return f"{canonical}_l{layer}" if kind == "fused" else (
        f"{canonical}_l0" if kind == "layer" else canonical)


def fold_options(cell, layer_params, options):
    """Canonical parameters of one layer as torch must hold them (forget_bias folded in)."""
    p = dict(layer_params)
    if cell == "lstm" and options.get("forget_bias", 0.0):
        if "bias_ih" not in p:
            raise LayoutError("forget_bias: torch's LSTM has no forget-gate offset and this "
                              "layer has no bias to fold it into (bias=False)")
        H = p["bias_ih"].shape[0] // 4
        p["bias_ih"] = p["bias_ih"].copy()
        p["bias_ih"][H:2 * H] += options["forget_bias"]       # gate rows i, f, g, o
    if cell == "gru" and not options.get("reset_after", True):
        raise LayoutError("reset_after=False: torch's GRU applies the reset gate after the "
                          "recurrent matmul; a reset-before GRU (TF1 GRUCell) has no exact torch form")
    return p


def load_layer(module, layer_params, kind, layer=0):
    """Copy one layer's canonical parameters into a torch module, checking every shape."""
    import torch
    named = dict(module.named_parameters())
    with torch.no_grad():
        for canonical, value in layer_params.items():
            name = torch_name(canonical, kind, layer)
            if name not in named:
                raise LayoutError(f"{type(module).__name__} has no parameter {name!r} "
                                  f"(for canonical {canonical!r}); bias settings differ?")
            target = named[name]
            if tuple(target.shape) != tuple(value.shape):
                raise LayoutError(f"{name}: torch expects shape {tuple(target.shape)}, "
                                  f"canonical weight has {tuple(value.shape)}")
            target.copy_(torch.as_tensor(np.asarray(value), dtype=target.dtype))


def to_torch(params, module):
    """Load canonical parameters (``weight_ih_l0`` ...) into a torch RNN/LSTM/GRU module or cell."""
    cls = type(module).__name__
    if cls not in CELL_OF_CLASS:
        raise LayoutError(f"module: expected a torch RNN, LSTM, GRU or one of their cells, got {cls}")
    kind = "cell" if cls.endswith("Cell") else "fused"
    layers = 1 if kind == "cell" else module.num_layers
    for k in range(layers):
        suffix = f"_l{k}"
        layer = {n[: -len(suffix)]: v for n, v in params.items() if n.endswith(suffix)}
        load_layer(module, layer, kind, k)
    return module


def from_torch(module):
    """Canonical parameters (float64 NumPy arrays, copied) from a torch module or cell."""
    cls = type(module).__name__
    if cls not in CELL_OF_CLASS:
        raise LayoutError(f"module: expected a torch RNN, LSTM, GRU or one of their cells, got {cls}")
    if getattr(module, "bidirectional", False) or getattr(module, "proj_size", 0):
        raise LayoutError(f"{cls}: bidirectional and proj_size modules are not supported")
    out = {}
    for name, p in module.named_parameters():
        canonical = name if not cls.endswith("Cell") else f"{name}_l0"
        out[canonical] = p.detach().cpu().numpy().astype(np.float64, copy=True)
    return out


def from_state_dict(state_dict):
    """Canonical parameters (copies, dtype kept) from a fused module's state_dict (names already canonical)."""
    out = {}
    for name, value in state_dict.items():
        if name.endswith("_reverse") or "weight_hr" in name:
            raise LayoutError(f"{name}: bidirectional and projected layers are not supported")
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        out[name if "_l" in name else f"{name}_l0"] = np.array(arr, copy=True)                  # dtype kept
    return out

"""PyTorch <-> canonical weights. The canonical layout *is* torch's, so the table only
renames: fused modules (nn.RNN/LSTM/GRU) keep the ``_l{k}`` suffix, cells
(nn.RNNCell/LSTMCell/GRUCell) and single-layer modules hold one layer.

Bidirectional modules hold the reverse direction under the same names with
``_reverse`` appended (canonical too); ``proj_size`` adds ``weight_hr_l{k}`` (P, H).

What torch cannot express is refused, never approximated: an LSTM ``forget_bias``
without biases to fold it into, a GRU with the reset gate applied before the recurrent
matmul (``reset_after=False``), and the LSTM's peepholes (TF1 ``use_peepholes``), which
no torch module has.
"""

import numpy as np

from ..errors import LayoutError

# cell -> (fused module class name, cell class name)
CLASSES = {"rnn": ("RNN", "RNNCell"), "lstm": ("LSTM", "LSTMCell"), "gru": ("GRU", "GRUCell")}
CELL_OF_CLASS = {cls: cell for cell, pair in CLASSES.items() for cls in pair}


PEEPHOLES = ("weight_ci", "weight_cf", "weight_co")


def torch_name(canonical, kind, layer, direction=0):
    """Name of a canonical parameter (without suffix) in a torch module of ``kind``.

    kind: "fused" (nn.RNN with all layers), "layer" (one-layer nn.RNN) or "cell".
    direction 1: the reverse direction of a bidirectional module (``_reverse``).
    """
    rev = "_reverse" if direction else ""
    return f"{canonical}_l{layer}{rev}" if kind == "fused" else (
        f"{canonical}_l0{rev}" if kind == "layer" else canonical)


def fold_options(cell, layer_params, options):
    """Canonical parameters of one layer as torch must hold them (forget_bias folded in)."""
    p = dict(layer_params)
    if any(n in p for n in PEEPHOLES):
        raise LayoutError("peepholes: torch's LSTM has none (TF1 LSTMCell use_peepholes: w_i_diag, w_f_diag, "
                          "w_o_diag); no exact torch form")
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


def load_layer(module, layer_params, kind, layer=0, direction=0):
    """Copy one layer's canonical parameters into a torch module, checking every shape."""
    import torch
    named = dict(module.named_parameters())
    with torch.no_grad():
        for canonical, value in layer_params.items():
            name = torch_name(canonical, kind, layer, direction)
            if name not in named:
                raise LayoutError(f"{type(module).__name__} has no parameter {name!r} "
                                  f"(for canonical {canonical!r}); bias settings differ?")
            target = named[name]
            if tuple(target.shape) != tuple(value.shape):
                raise LayoutError(f"{name}: torch expects shape {tuple(target.shape)}, "
                                  f"canonical weight has {tuple(value.shape)}")
            target.copy_(torch.as_tensor(np.asarray(value), dtype=target.dtype))


def _directions(module):
    return 2 if getattr(module, "bidirectional", False) else 1


def to_torch(params, module):
    """Load canonical parameters (``weight_ih_l0`` ..., ``_reverse`` for a bidirectional
    module's second direction, ``weight_hr_l0`` for proj_size) into a torch RNN/LSTM/GRU
    module or cell."""
    from ..cells import split_layer
    cls = type(module).__name__
    if cls not in CELL_OF_CLASS:
        raise LayoutError(f"module: expected a torch RNN, LSTM, GRU or one of their cells, got {cls}")
    kind = "cell" if cls.endswith("Cell") else "fused"
    layers = 1 if kind == "cell" else module.num_layers
    for k in range(layers):
        for d in range(_directions(module)):
            layer = split_layer(params, k, d)
            fold_options(CELL_OF_CLASS[cls], layer, {})             # refuses peepholes
            load_layer(module, layer, kind, k, d)
    return module


def from_torch(module):
    """Canonical parameters (float64 NumPy arrays, copied) from a torch module or cell;
    bidirectional and proj_size modules included (their names are canonical already)."""
    cls = type(module).__name__
    if cls not in CELL_OF_CLASS:
        raise LayoutError(f"module: expected a torch RNN, LSTM, GRU or one of their cells, got {cls}")
    out = {}
    for name, p in module.named_parameters():
        canonical = name if not cls.endswith("Cell") else f"{name}_l0"
        out[canonical] = p.detach().cpu().numpy().astype(np.float64, copy=True)
    return out


def from_state_dict(state_dict):
    """Canonical parameters (copies, dtype kept) from a module's state_dict: a fused module's
    names are canonical already (``_reverse`` and ``weight_hr`` included); a cell's get ``_l0``."""
    out = {}
    for name, value in state_dict.items():
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        out[name if "_l" in name else f"{name}_l0"] = np.array(arr, copy=True)                  # dtype kept
    return out

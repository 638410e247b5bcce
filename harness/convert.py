"""Saved weights between frameworks, through the canonical layout:

    torch state_dict (.pt, .pth)  <->  canonical (.npz)  <->  Keras 3 weights (.weights.h5)

Loaded safely: torch files with ``weights_only=True``, .npz with ``allow_pickle=False``,
Keras files read as plain HDF5 datasets. A canonical .npz holds the canonical names
(``weight_ih_l0`` ...) plus ``meta.cell``, ``meta.forget_bias`` and ``meta.reset_after``,
which say what the weights compute. A conversion that has no exact form (a reset-before
GRU into torch, an LSTM forget_bias into a bias-less layer) is refused with the reason.
"""

import os
import re

import numpy as np

from .cells import split_layer
from .errors import HarnessError, LayoutError
from .report import atomic_path

CELL_OF_GATES = {1: "rnn", 4: "lstm", 3: "gru"}
KERAS_CELL = {"simple_rnn": "rnn", "lstm": "lstm", "gru": "gru"}


def kind_of(path):
    """'torch', 'keras' or 'npz', from the file name."""
    name = os.fspath(path).lower()
    if name.endswith((".pt", ".pth")):
        return "torch"
    if name.endswith(".h5"):
        return "keras"
    if name.endswith(".npz"):
        return "npz"
    raise HarnessError(f"path: expected a .pt/.pth (torch state_dict), .weights.h5 (Keras) or .npz "
                       f"(canonical) file, got {os.fspath(path)!r}")


def infer_cell(params):
    """rnn / lstm / gru from the gate count of weight_hh_l0 (G*H, H)."""
    w = params.get("weight_hh_l0")
    if w is None or w.ndim != 2 or not w.shape[1] or w.shape[0] % w.shape[1] \
            or w.shape[0] // w.shape[1] not in CELL_OF_GATES:
        raise LayoutError(f"weights: expected weight_hh_l0 of shape (G*H, H) with G = 1, 3 or 4, got "
                          f"{None if w is None else w.shape}; pass --cell if the names differ")
    return CELL_OF_GATES[w.shape[0] // w.shape[1]]


def _check_stack(params, cell):
    """Every layer has the canonical names and shapes (harness.cells), else a LayoutError."""
    from .cells import param_shapes
    from .probe import check_params
    L = layers_of(params)
    D, H = params["weight_ih_l0"].shape[1], params["weight_hh_l0"].shape[1]
    try:
        check_params(params, param_shapes(cell, L, D, H, "bias_ih_l0" in params))
    except HarnessError as exc:
        raise LayoutError(str(exc).replace("params", "weights", 1)) from None


def layers_of(params):
    return 1 + max(int(m.group(1)) for k in params for m in [re.search(r"_l(\d+)$", k)] if m)


# ---- readers: file -> (canonical params, meta) -------------------------------------------

def read(path, cell=None, reset_after=None):
    kind = kind_of(path)
    if not os.path.exists(path):
        raise HarnessError(f"input: no such file {os.fspath(path)!r}")
    try:
        params, meta = {"torch": _read_torch, "keras": _read_keras, "npz": _read_npz}[kind](path, cell)
        meta.setdefault("cell", cell or infer_cell(params))
        _check_stack(params, meta["cell"])
    except (HarnessError, LayoutError):
        raise
    except (KeyError, ValueError, TypeError, AttributeError, OSError, ZeroDivisionError) as exc:
        raise HarnessError(f"input: {os.fspath(path)!r} does not hold RNN/LSTM/GRU weights in a form gradharness "
                           f"reads ({type(exc).__name__}: {exc})") from exc
    if reset_after is not None:
        meta["reset_after"] = reset_after
    return params, meta


def _read_torch(path, cell):
    import torch
    from .layouts.torch_layout import from_state_dict
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:                                   # a pickle that is not plain tensors
        raise HarnessError(f"input: {os.fspath(path)!r} is not a torch state_dict loadable with "
                           f"weights_only=True ({type(exc).__name__}: {exc})") from exc
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    if not isinstance(state, dict):
        raise HarnessError(f"input: {os.fspath(path)!r} holds a {type(state).__name__}, not a state_dict")
    return from_state_dict(state), {"forget_bias": 0.0, "reset_after": True}


def _read_npz(path, cell):
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError) as exc:                       # object arrays need pickle: refused
        raise HarnessError(f"input: {os.fspath(path)!r} is not a plain .npz of numeric arrays "
                           f"(loaded with allow_pickle=False: {exc})") from exc
    meta = {k[5:]: v.item() for k, v in arrays.items() if k.startswith("meta.")}
    params = {k: v for k, v in arrays.items() if not k.startswith("meta.")}
    bad = sorted(k for k, v in params.items() if not np.issubdtype(v.dtype, np.floating))
    if bad:
        raise HarnessError(f"input: {os.fspath(path)!r}: {', '.join(bad)} not floating-point arrays")
    meta.setdefault("forget_bias", 0.0)
    meta.setdefault("reset_after", True)
    return params, meta


def _read_keras(path, cell):
    import h5py
    from .layouts.keras_layout import from_keras_weights
    with h5py.File(path, "r") as f:
        groups = [(name, g) for name, g in f["layers"].items() if "cell" in g and "vars" in g["cell"]]
        groups.sort(key=lambda item: int(re.search(r"_(\d+)$", item[0]).group(1)) if re.search(r"_(\d+)$", item[0]) else 0)
        if not groups:
            raise HarnessError(f"input: {os.fspath(path)!r} holds no Keras SimpleRNN/LSTM/GRU layer")
        kinds = {KERAS_CELL.get(re.sub(r"_\d+$", "", name)) for name, _ in groups}
        if cell is None and len(kinds) > 1:
            raise HarnessError(f"input: {os.fspath(path)!r} mixes layer kinds {sorted(map(str, kinds))}; "
                               "a canonical stack has one cell type")
        params, meta = {}, {"forget_bias": 0.0}
        for k, (name, group) in enumerate(groups):
            this = cell or KERAS_CELL.get(re.sub(r"_\d+$", "", name))
            if this is None:
                raise HarnessError(f"input: cannot tell the cell of Keras layer {name!r}; pass --cell")
            weights = [group["cell"]["vars"][i][()] for i in sorted(group["cell"]["vars"], key=int)]
            options = {"reset_after": len(weights) == 3 and weights[2].ndim == 2} if this == "gru" else {}
            meta.update(cell=this, **options)
            for n, v in from_keras_weights(this, weights, options).items():
                params[f"{n}_l{k}"] = v
    return params, meta


# ---- writers: (canonical params, meta) -> file ---------------------------------------------

def write(path, params, meta):
    kind = kind_of(path)
    with atomic_path(path, suffix=".weights.h5" if kind == "keras" else os.path.splitext(path)[1]) as tmp:
        {"torch": _write_torch, "keras": _write_keras, "npz": _write_npz}[kind](tmp, params, meta)
    return path


def _write_npz(path, params, meta):
    extra = {f"meta.{k}": np.asarray(v) for k, v in meta.items()}
    with open(path, "wb") as f:
        np.savez(f, **params, **extra)


def _write_torch(path, params, meta):
    import torch
    from .layouts.torch_layout import fold_options
    cell, state = meta["cell"], {}
    for k in range(layers_of(params)):
        layer = fold_options(cell, split_layer(params, k), _options(meta))
        state.update({f"{n}_l{k}": torch.tensor(np.asarray(v)) for n, v in layer.items()})
    torch.save(state, path)


def _write_keras(path, params, meta):
    from .backends._tf import import_keras
    from .layouts.keras_layout import TABLE, load_weights
    keras = import_keras()
    cell, options = meta["cell"], _options(meta)
    L = layers_of(params)
    D = params["weight_ih_l0"].shape[1]
    H = params["weight_hh_l0"].shape[1]
    kwargs = {"reset_after": options["reset_after"]} if cell == "gru" else {}
    layers = [getattr(keras.layers, TABLE[cell].layer)(H, return_sequences=True, dtype="float64",
                                                       use_bias="bias_ih_l0" in params, **kwargs) for _ in range(L)]
    model = keras.Sequential([keras.Input((None, D), dtype="float64")] + layers)
    for k, layer in enumerate(layers):
        load_weights(layer.cell, cell, split_layer(params, k), options)
    model.save_weights(path)


def _options(meta):
    cell = meta["cell"]
    if cell == "lstm":
        return {"forget_bias": float(meta.get("forget_bias", 0.0))}
    if cell == "gru":
        return {"reset_after": bool(meta.get("reset_after", True))}
    return {"activation": "tanh"}


def convert(src, dst, cell=None, reset_after=None):
    """Convert ``src`` into ``dst`` (formats from the file names). Returns (params, meta)."""
    params, meta = read(src, cell, reset_after)
    write(dst, params, meta)
    return params, meta

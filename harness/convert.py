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
import warnings

import numpy as np

from . import validate
from .cells import split_layer
from .errors import HarnessError, LayoutError
from .safewrite import atomic_path

CELL_OF_GATES = {1: "rnn", 4: "lstm", 3: "gru"}
KERAS_CELL = {"simple_rnn": "rnn", "lstm": "lstm", "gru": "gru"}


def kind_of(path, name="input"):
    """'torch', 'keras' or 'npz', from the file name."""
    text = os.fspath(path).lower()
    if text.endswith((".pt", ".pth")):
        return "torch"
    if text.endswith(".h5"):
        return "keras"
    if text.endswith(".npz"):
        return "npz"
    raise HarnessError(f"{name}: expected a .pt/.pth (torch state_dict), .weights.h5 (Keras) or .npz "
                       f"(canonical) file, got {os.fspath(path)!r}; the format follows the file name")


def infer_cell(params, path):
    """rnn / lstm / gru from the gate count of weight_hh_l0 (G*H, H)."""
    w = params.get("weight_hh_l0")
    if w is None:
        raise HarnessError(f"input: {os.fspath(path)!r} holds {_names(params)}; expected the canonical names "
                           "weight_ih_l0, weight_hh_l0, ... (an nn.RNN/LSTM/GRU's state_dict)" + _prefix_hint(params))
    if w.ndim != 2 or not w.shape[1] or w.shape[0] % w.shape[1] or w.shape[0] // w.shape[1] not in CELL_OF_GATES:
        raise LayoutError(f"weights: expected weight_hh_l0 of shape (G*H, H) with G = 1 (rnn), 3 (gru) or 4 "
                          f"(lstm), got {w.shape}")
    return CELL_OF_GATES[w.shape[0] // w.shape[1]]


def _names(params):
    keys = list(params)
    if not keys:
        return "no arrays at all"
    return "arrays named " + ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")


def _prefix_hint(params):
    """"...: the recurrent weights are under 'rnn.'" when a whole model's state_dict was saved."""
    prefixes = sorted({k[: k.index("weight_ih_l0")] for k in params if k.endswith("weight_ih_l0") and
                       k != "weight_ih_l0"})
    if not prefixes:
        return ""
    return (f"; the recurrent weights are under {prefixes[0]!r}: save model.{prefixes[0].rstrip('.')}"
            ".state_dict() instead")


def _check_stack(params, cell, path):
    """Every layer has the canonical names and shapes (harness.cells), else a LayoutError."""
    from .cells import param_shapes
    from .probe import check_params
    if "weight_hh_l0" not in params:
        infer_cell(params, path)                                # raises, naming what the file holds
    if "weight_ih_l0" not in params:
        raise LayoutError(f"weights: expected weight_ih_l0 beside weight_hh_l0, got {_names(params)}")
    L = layers_of(params)
    D, H = params["weight_ih_l0"].shape[1], params["weight_hh_l0"].shape[1]
    try:
        check_params(params, param_shapes(cell, L, D, H, "bias_ih_l0" in params))
    except HarnessError as exc:
        raise LayoutError(str(exc).replace("params", "weights", 1)) from None


def layers_of(params):
    return 1 + max(int(m.group(1)) for k in params for m in [re.search(r"_l(\d+)$", k)] if m)


# ---- readers: file -> (canonical params, meta) -------------------------------------------

def read(path, cell=None, reset_after=None, allow_nonfinite=False):
    """(canonical params, meta) from a weights file; one HarnessError line for anything else."""
    kind = kind_of(path)
    if cell is not None:
        validate.cell(cell)
    if not os.path.exists(path):
        raise HarnessError(f"input: expected an existing file, got {os.fspath(path)!r} (no such file)")
    if os.path.isdir(path):
        raise HarnessError(f"input: expected a file, got {os.fspath(path)!r}, which is a directory")
    try:
        params, meta = {"torch": _read_torch, "keras": _read_keras, "npz": _read_npz}[kind](path, cell)
        meta.setdefault("cell", cell or infer_cell(params, path))
        validate.cell(meta["cell"])
        _check_stack(params, meta["cell"], path)
    except (HarnessError, LayoutError):
        raise
    except (KeyError, ValueError, TypeError, AttributeError, OSError, ZeroDivisionError, IndexError) as exc:
        raise HarnessError(f"input: {os.fspath(path)!r} does not hold RNN/LSTM/GRU weights in a form gradharness "
                           f"reads ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    if reset_after is not None:
        if meta["cell"] != "gru":
            raise HarnessError(f"--reset-before: applies to the GRU only, and {os.fspath(path)!r} holds "
                               f"{meta['cell']} weights; drop it")
        meta["reset_after"] = reset_after
    validate.finite("forget_bias", meta.get("forget_bias", 0.0), f"{os.fspath(path)!r} stores it as meta.forget_bias")
    if not allow_nonfinite:
        for k, v in params.items():
            if not np.all(np.isfinite(v)):
                raise HarnessError(f"input: {os.fspath(path)!r}: {k} holds {int(v.size - np.isfinite(v).sum())} "
                                   "NaN/Inf value(s); expected finite weights (pass --allow-nonfinite to "
                                   "convert them anyway)")
    return params, meta


def _read_torch(path, cell):
    import torch
    from .layouts.torch_layout import from_state_dict
    from .pickle_scan import describe
    what = describe(path)                                       # read without unpickling anything
    if what:
        raise HarnessError(f"input: {os.fspath(path)!r} holds {what}: save the weights with "
                           "torch.save(model.state_dict(), path); gradharness never unpickles code")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:                                           # torch's own message advises an unsafe load
        raise HarnessError(f"input: {os.fspath(path)!r} is not a torch file of plain tensors (torch.load with "
                           "weights_only=True cannot read it: corrupt, truncated or another format); save the "
                           "weights with torch.save(model.state_dict(), path)") from None
    if not isinstance(state, dict):
        raise HarnessError(f"input: {os.fspath(path)!r} holds a {type(state).__name__}, not a state_dict; save "
                           "the weights with torch.save(model.state_dict(), path)")
    bad = [f"{k}: {type(v).__name__}" for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise HarnessError(f"input: {os.fspath(path)!r} holds a dict of non-tensors ({', '.join(bad[:3])}); "
                           "expected a state_dict of tensors: torch.save(model.state_dict(), path)")
    odd = [f"{k}: {v.dtype}" for k, v in state.items() if not v.is_floating_point() or v.dtype == torch.bfloat16]
    if odd:
        raise HarnessError(f"input: {os.fspath(path)!r} holds tensors NumPy cannot take as weights "
                           f"({', '.join(odd[:3])}); expected float16/32/64: save model.double().state_dict()")
    return from_state_dict(state), {"forget_bias": 0.0, "reset_after": True}


def _read_npz(path, cell):
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (ValueError, OSError, EOFError) as exc:             # object arrays need pickle: refused
        raise HarnessError(f"input: {os.fspath(path)!r} is not a plain .npz of numeric arrays (loaded with "
                           f"allow_pickle=False: {' '.join(str(exc).split())[:120]})") from None
    except Exception:                                          # a zip that is not an npz at all
        raise HarnessError(f"input: {os.fspath(path)!r} is not a readable .npz archive") from None
    meta = {k[5:]: v.item() if v.size == 1 else v for k, v in arrays.items() if k.startswith("meta.")}
    params = {k: v for k, v in arrays.items() if not k.startswith("meta.")}
    if not params:
        raise HarnessError(f"input: {os.fspath(path)!r} holds no weights ({_names(arrays)}); expected the "
                           "canonical names weight_ih_l0, weight_hh_l0, ... (as gradharness convert writes them)")
    bad = sorted(k for k, v in params.items() if not np.issubdtype(v.dtype, np.floating))
    if bad:
        raise HarnessError(f"input: {os.fspath(path)!r}: {', '.join(bad)} not floating-point arrays")
    meta.setdefault("forget_bias", 0.0)
    meta.setdefault("reset_after", True)
    return params, meta


def _read_keras(path, cell):
    import h5py
    from .layouts.keras_layout import from_keras_weights
    if not h5py.is_hdf5(path):
        raise HarnessError(f"input: {os.fspath(path)!r} is not an HDF5 file; expected a Keras 3 "
                           "model.save_weights('....weights.h5') file")
    with h5py.File(path, "r") as f:
        if "layers" not in f:
            raise HarnessError(f"input: {os.fspath(path)!r} has no 'layers' group; expected a Keras 3 "
                               "model.save_weights('....weights.h5') file")
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
    kind = kind_of(path, "output")
    with atomic_path(path, suffix=".weights.h5" if kind == "keras" else os.path.splitext(path)[1],
                     name="output") as tmp:
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


def convert(src, dst, cell=None, reset_after=None, allow_nonfinite=False):
    """Convert ``src`` into ``dst`` (formats from the file names). Returns (params, meta)."""
    kind_of(dst, "output")                                      # before reading anything
    params, meta = read(src, cell, reset_after, allow_nonfinite)
    write(dst, params, meta)
    return params, meta

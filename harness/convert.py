"""Saved weights between frameworks, through the canonical layout:

    torch state_dict (.pt, .pth)  <->  canonical (.npz)  <->  Keras 3 weights (.weights.h5)
    TF1 Saver checkpoint (.ckpt prefix)  <->  canonical  <->  TF2 object checkpoint (to="tf2")

Loaded safely: torch files with ``weights_only=True``, .npz with ``allow_pickle=False``,
Keras files read as plain HDF5 datasets, checkpoints with ``tf.train.load_checkpoint``
(harness.checkpoints). A canonical .npz holds the canonical names (``weight_ih_l0`` ...,
``_reverse`` for a second direction, ``weight_hr`` and ``weight_c{i,f,o}`` for the LSTM's
projection and peepholes) plus ``meta.*`` entries (cell, forget_bias, reset_after,
merge, stacking, cell_clip, proj_clip), which say what the weights compute. A conversion
that has no exact form (a reset-before GRU into torch, an LSTM forget_bias into a
bias-less layer, peepholes or clips into torch or Keras, a projection into Keras,
separate per-direction stacks into torch or Keras, a Keras merge sum/mul/ave of a stack
into torch or TF1) is refused with the reason.
"""

import os
import re
import warnings

import numpy as np

from . import checkpoints, validate
from .cells import param_name, split_layer, structure_of
from .errors import HarnessError, LayoutError
from .safewrite import atomic_path, write_atomic

KINDS = ("torch", "keras", "npz", "tf1", "tf2")
CELL_OF_GATES = {1: "rnn", 4: "lstm", 3: "gru"}
KERAS_CELL = {"simple_rnn": "rnn", "lstm": "lstm", "gru": "gru"}


def kind_of(path, name="input", to=None):
    """'torch', 'keras', 'npz' or 'tf1' (a checkpoint: read as TF1 or TF2 by its contents),
    from the file name; ``to`` ("tf2", ...) names the output kind outright."""
    if to is not None:
        if to not in KINDS:
            raise HarnessError(f"to: expected one of {', '.join(KINDS)}, got {to!r}")
        return to
    text = os.fspath(path).lower()
    if text.endswith((".pt", ".pth")):
        return "torch"
    if text.endswith(".h5"):
        return "keras"
    if text.endswith(".npz"):
        return "npz"
    if checkpoints.is_checkpoint(path):
        return "tf1"
    raise HarnessError(f"{name}: expected a .pt/.pth (torch state_dict), .weights.h5 (Keras), .npz "
                       f"(canonical) or .ckpt (TF checkpoint) file, got {os.fspath(path)!r}; the format follows "
                       "the file name")


def infer_cell(params, path):
    """rnn / lstm / gru from the gate count of weight_hh_l0 (G*H, H), or (G*H, P) with a
    projection weight_hr_l0 (P, H)."""
    w = params.get("weight_hh_l0")
    if w is None:
        raise HarnessError(f"input: {os.fspath(path)!r} holds {_names(params)}; expected the canonical names "
                           "weight_ih_l0, weight_hh_l0, ... (an nn.RNN/LSTM/GRU's state_dict)" + _prefix_hint(params))
    w_hr = params.get("weight_hr_l0")
    H = w_hr.shape[1] if getattr(w_hr, "ndim", 0) == 2 else (w.shape[1] if w.ndim == 2 else 0)
    if w.ndim != 2 or not H or w.shape[0] % H or w.shape[0] // H not in CELL_OF_GATES:
        raise LayoutError(f"weights: expected weight_hh_l0 of shape (G*H, H) with G = 1 (rnn), 3 (gru) or 4 "
                          f"(lstm), got {w.shape}")
    return CELL_OF_GATES[w.shape[0] // H]


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


def _check_stack(params, cell, path, meta):
    """Every layer has the canonical names and shapes (harness.cells), else a LayoutError;
    returns the stack's Structure (its merge and stacking also written into ``meta``)."""
    from .cells import num_gates, param_shapes
    from .probe import check_params
    if "weight_hh_l0" not in params:
        infer_cell(params, path)                                # raises, naming what the file holds
    if "weight_ih_l0" not in params:
        raise LayoutError(f"weights: expected weight_ih_l0 beside weight_hh_l0, got {_names(params)}")
    L = layers_of(params)
    D, H = params["weight_ih_l0"].shape[1], params["weight_hh_l0"].shape[0] // num_gates(cell)
    try:
        structure = structure_of(cell, params, meta.get("merge", "concat"), meta.get("stacking"))
        check_params(params, param_shapes(cell, L, D, H, "bias_ih_l0" in params, structure))
    except HarnessError as exc:
        raise LayoutError(str(exc).replace("params", "weights", 1)) from None
    if structure.directions == 2:
        meta.update(merge=structure.merge, stacking=structure.stacking)
    return structure


def layers_of(params):
    return 1 + max(int(m.group(1)) for k in params for m in [re.search(r"_l(\d+)$", k)] if m)


# ---- readers: file -> (canonical params, meta) -------------------------------------------

def read(path, cell=None, reset_after=None, allow_nonfinite=False, scope=None, **meta_given):
    """(canonical params, meta) from a weights file; one HarnessError line for anything else.
    ``scope`` picks one model of a TF1 checkpoint; ``meta_given`` (forget_bias, merge, stacking,
    cell_clip, proj_clip) states what a format does not store."""
    kind = kind_of(path)
    if cell is not None:
        validate.cell(cell)
    if kind != "tf1" and not os.path.exists(path):
        raise HarnessError(f"input: expected an existing file, got {os.fspath(path)!r} (no such file)")
    if kind != "tf1" and os.path.isdir(path):
        raise HarnessError(f"input: expected a file, got {os.fspath(path)!r}, which is a directory")
    try:
        if kind == "tf1":
            params, meta = checkpoints.read_checkpoint(path, scope)
        else:
            params, meta = {"torch": _read_torch, "keras": _read_keras, "npz": _read_npz}[kind](path, cell)
        meta.setdefault("cell", cell or infer_cell(params, path))
        validate.cell(meta["cell"])
        meta.update({k: v for k, v in meta_given.items() if v is not None})
        _check_stack(params, meta["cell"], path, meta)
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


def _keras_groups(f):
    """[(layer name, [forward vars group(, backward vars group)])] in layer order."""
    groups = []
    for name, g in f["layers"].items():
        if "cell" in g and "vars" in g["cell"]:
            groups.append((name, [g["cell"]["vars"]]))
        elif "forward_layer" in g and "backward_layer" in g:                  # Bidirectional
            groups.append((name, [g[part]["cell"]["vars"] for part in ("forward_layer", "backward_layer")]))
    number = lambda item: int(m.group(1)) if (m := re.search(r"_(\d+)$", item[0])) else 0
    return sorted(groups, key=number)


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
        groups = _keras_groups(f)
        if not groups:
            raise HarnessError(f"input: {os.fspath(path)!r} holds no Keras SimpleRNN/LSTM/GRU layer")
        params, meta = {}, {"forget_bias": 0.0}
        for k, (name, parts) in enumerate(groups):
            for d, group in enumerate(parts):
                weights = [group[i][()] for i in sorted(group, key=int)]
                G = weights[1].shape[1] // weights[1].shape[0] if len(weights) > 1 and weights[1].ndim == 2 else 0
                this = cell or KERAS_CELL.get(re.sub(r"_\d+$", "", name)) or CELL_OF_GATES.get(G)
                if this is None or meta.get("cell", this) != this:
                    raise HarnessError(f"input: {os.fspath(path)!r} mixes layer kinds or holds a layer whose cell "
                                       f"cannot be told ({name!r}); a canonical stack has one cell type (--cell)")
                options = {"reset_after": len(weights) == 3 and weights[2].ndim == 2} if this == "gru" else {}
                meta.update(cell=this, **options)
                for n, v in from_keras_weights(this, weights, options).items():
                    params[param_name(n, k, d)] = v
    return params, meta


# ---- writers: (canonical params, meta) -> file ---------------------------------------------

def write(path, params, meta, to=None):
    kind = kind_of(path, "output", to)
    if kind in ("tf1", "tf2"):
        return _write_checkpoint(path, params, meta, kind)
    with atomic_path(path, suffix=".weights.h5" if kind == "keras" else os.path.splitext(path)[1],
                     name="output") as tmp:
        {"torch": _write_torch, "keras": _write_keras, "npz": _write_npz}[kind](tmp, params, meta)
    return path


def _write_npz(path, params, meta):
    extra = {f"meta.{k}": np.asarray(v) for k, v in meta.items() if v is not None}
    with open(path, "wb") as f:
        np.savez(f, **params, **extra)


def _structure(params, meta):
    return structure_of(meta["cell"], params, meta.get("merge", "concat"), meta.get("stacking"))


def _refuse_reads_p(structure, layers, target):
    """A bidirectional stack whose layer 1 reads one direction's P units (separate stacks, or a
    Keras merge sum/mul/ave) where ``target`` feeds every layer the concatenation (2P)."""
    if structure.directions == 2 and layers > 1 and structure.stacking == "separate":
        raise LayoutError(f"stacking=separate: {target} feeds every layer both directions of the layer below (2P "
                          "inputs); separate per-direction stacks (TF1 bidirectional_dynamic_rnn with MultiRNNCells) "
                          f"have no {target} form")


def _write_torch(path, params, meta):
    import torch
    from .layouts.torch_layout import fold_options
    cell, state, L = meta["cell"], {}, layers_of(params)
    structure = _structure(params, meta)
    _refuse_reads_p(structure, L, "torch")
    if structure.directions == 2 and structure.merge not in ("concat", "none") and L > 1:
        raise LayoutError(f"merge={structure.merge}: torch's bidirectional modules concatenate the two directions; "
                          "a stack merged by sum/mul/ave (Keras) has no torch form")
    clips = [k for k in ("cell_clip", "proj_clip") if meta.get(k) is not None]
    if clips:
        raise LayoutError(f"{', '.join(clips)}: TF1 LSTMCell's clipping has no torch form")
    H = params["weight_hh_l0"].shape[0] // {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    if structure.proj_size and structure.proj_size >= H:
        raise LayoutError(f"proj_size={structure.proj_size}: torch requires proj_size < hidden_size ({H})")
    for k in range(L):
        for d in range(structure.directions):
            layer = fold_options(cell, split_layer(params, k, d), _options(meta))
            state.update({param_name(n, k, d): torch.tensor(np.asarray(v)) for n, v in layer.items()})
    torch.save(state, path)


def keras_model(params, meta):
    """A built Keras 3 model holding the canonical stack (Bidirectional layers for two directions)."""
    from .backends._tf import import_keras
    from .layouts.keras_layout import TABLE, to_keras
    keras = import_keras()
    cell, options, L = meta["cell"], _options(meta), layers_of(params)
    structure = _structure(params, meta)
    _refuse_reads_p(structure, L, "Keras")
    D = params["weight_ih_l0"].shape[1]
    H = params["weight_hh_l0"].shape[0] // {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    dtype = str(params["weight_ih_l0"].dtype)
    kwargs = {"reset_after": options["reset_after"]} if cell == "gru" else {}
    layers = []
    for _ in range(L):
        layer = getattr(keras.layers, TABLE[cell].layer)(H, return_sequences=True, dtype=dtype,
                                                         use_bias="bias_ih_l0" in params, **kwargs)
        if structure.directions == 2:
            merge = None if structure.merge == "none" else structure.merge
            layer = keras.layers.Bidirectional(layer, merge_mode=merge, dtype=dtype)
        layers.append(layer)
    model = keras.Sequential([keras.Input((None, D), dtype=dtype)] + layers)
    to_keras(params, layers, cell, options)
    return model


def _write_keras(path, params, meta):
    keras_model(params, meta).save_weights(path)


def _write_checkpoint(path, params, meta, kind):
    """A TF1 Saver or TF2 object checkpoint: its files are written beside ``path`` under a
    temporary prefix, then renamed, so an interrupted write leaves what was there."""
    import tempfile
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".gradharness-", dir=folder)
    try:
        prefix = os.path.join(tmp, "ckpt")
        if kind == "tf1":
            checkpoints.write_tf1(prefix, params, meta, layers_of(params))
        else:
            checkpoints.write_tf2(prefix, keras_model(params, meta))
        for name in os.listdir(tmp):
            if name.startswith("ckpt."):
                os.replace(os.path.join(tmp, name), os.fspath(path) + name[len("ckpt"):])
    finally:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    base = os.path.basename(os.fspath(path))
    write_atomic(os.path.join(folder, "checkpoint"),
                 f'model_checkpoint_path: "{base}"\nall_model_checkpoint_paths: "{base}"\n', name="output")
    return path


def _options(meta):
    cell = meta["cell"]
    if cell == "lstm":
        clips = {k: meta[k] for k in ("cell_clip", "proj_clip") if meta.get(k) is not None}
        return {"forget_bias": float(meta.get("forget_bias", 0.0)), **clips}
    if cell == "gru":
        return {"reset_after": bool(meta.get("reset_after", True))}
    return {"activation": "tanh"}


def convert(src, dst, cell=None, reset_after=None, allow_nonfinite=False, to=None, **meta_given):
    """Convert ``src`` into ``dst`` (formats from the file names, or ``to``: torch, keras, npz,
    tf1, tf2). ``meta_given``: scope (which model of a TF1 checkpoint), forget_bias, merge,
    stacking, cell_clip, proj_clip (what a format does not store). Returns (params, meta)."""
    kind_of(dst, "output", to)                                  # before reading anything
    params, meta = read(src, cell, reset_after, allow_nonfinite, **meta_given)
    write(dst, params, meta, to)
    return params, meta

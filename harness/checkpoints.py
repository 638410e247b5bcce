"""TensorFlow checkpoints of recurrent layers <-> canonical weights.

Two kinds, told apart by their contents (read with ``tf.train.load_checkpoint``, which
runs no code):

TF1 Saver checkpoints (``tf.compat.v1.train.Saver().save(sess, "model.ckpt")``), as the
tutorials' code writes them: variables named by scope, such as
``model/rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel`` (dynamic_rnn over a
MultiRNNCell), ``bidirectional_rnn/fw/multi_rnn_cell/cell_1/gru_cell/gates/kernel`` (two
separate stacks) or ``stack_bidirectional_rnn/cell_1/bidirectional_rnn/bw/lstm_cell/kernel``
(tf.contrib's interleaved stack). Every variable ending in a TF1 cell's own variable is
taken (optimizer slots such as ``kernel/Adagrad`` and other layers are not); the layer is
the last ``cell_<k>`` of its path, the direction its ``fw``/``bw``. A checkpoint holding
more than one recurrent model (an encoder and a decoder) needs ``scope`` to pick one.
TF1 adds the LSTM's ``forget_bias`` at call time and stores no clip: they are not in the
variables. What gradharness writes carries them as ``gradharness/forget_bias`` (and
``gradharness/cell_clip``, ``gradharness/proj_clip``), extra entries that Saver.restore
ignores; a checkpoint without them is read with TF1's default forget_bias 1.0 unless
told otherwise.

TF2 object checkpoints (``tf.train.Checkpoint(model=model).write(...)``, tf_keras's
``model.save_weights`` in the TF format) of Keras RNN layers: keys such as
``model/_functional/_operations/1/forward_layer/cell/kernel/.ATTRIBUTES/VARIABLE_VALUE``;
the cell is read off the gate count, the layers ordered by their paths.
"""

import os
import re

import numpy as np

from .cells import param_name, split_layer, structure_of
from .errors import HarnessError, LayoutError
from .layouts import keras_layout, tf_layout

TF1_DIRS = {"basic_rnn_cell": "rnn", "basic_lstm_cell": "lstm", "lstm_cell": "lstm", "gru_cell": "gru"}
TF1_VARS = "kernel|bias|w_f_diag|w_i_diag|w_o_diag|projection/kernel|gates/kernel|gates/bias|candidate/kernel|candidate/bias"
TF1_PATTERN = re.compile(rf"^(?P<path>(?:.*/)?)(?P<dir>{'|'.join(TF1_DIRS)})/(?P<var>{TF1_VARS})$")
TF2_PATTERN = re.compile(r"^(?P<path>.*?)(?:(?P<dir>forward_layer|backward_layer)/)?cell/"
                         r"(?P<var>kernel|recurrent_kernel|bias)/\.ATTRIBUTES/VARIABLE_VALUE$")
OBJECT_GRAPH = "_CHECKPOINTABLE_OBJECT_GRAPH"
META = "gradharness/"


def is_checkpoint(path):
    """A checkpoint prefix (``model.ckpt``, whose ``model.ckpt.index`` exists) or its .index file."""
    path = os.fspath(path)
    return path.endswith(".ckpt") or path.endswith(".index") or os.path.exists(path + ".index")


def _prefix(path):
    path = os.fspath(path)
    return path[:-len(".index")] if path.endswith(".index") else path


def read_checkpoint(path, scope=None):
    """(canonical params, meta) from a TF1 Saver or TF2 object checkpoint."""
    from .backends._tf import import_tensorflow
    tf = import_tensorflow()
    prefix = _prefix(path)
    if not os.path.exists(prefix + ".index"):
        raise HarnessError(f"input: no such checkpoint {prefix!r} (expected {prefix + '.index'!r} and its data files)")
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as exc:          # a damaged or foreign file: TF's own message
        raise HarnessError(f"input: {prefix!r} is not a TensorFlow checkpoint ({type(exc).__name__}: {exc})") from exc
    names = reader.get_variable_to_shape_map()
    if OBJECT_GRAPH in names:
        return _read_tf2(reader, names, prefix)
    return _read_tf1(reader, names, prefix, scope)


# ---- TF1 Saver checkpoints -------------------------------------------------------------------

def _where(path):
    """(scope, layer, direction) of a TF1 variable path (without the cell's own part)."""
    parts = path.strip("/").split("/") if path else []
    direction = 1 if "bw" in parts else 0
    layers = [int(m.group(1)) for p in parts for m in [re.fullmatch(r"cell_(\d+)", p)] if m]
    cut = next((i for i, p in enumerate(parts) if p in ("fw", "bw", "multi_rnn_cell") or re.fullmatch(r"cell_\d+", p)),
               len(parts))
    return "/".join(parts[:cut]), (layers[-1] if layers else 0), direction


def _read_tf1(reader, names, prefix, scope):
    found = {}
    for name in names:
        m = TF1_PATTERN.match(name)
        if not m:
            continue
        where_scope, k, d = _where(m["path"])
        found.setdefault(where_scope, {}).setdefault((k, d), {})[m["var"]] = (m["dir"], name)
    if not found:
        raise HarnessError(f"input: {prefix!r} holds no TF1 RNN cell variables (…/basic_lstm_cell/kernel and the like)")
    if scope is None and len(found) > 1:
        raise HarnessError(f"input: {prefix!r} holds several recurrent models (scopes {sorted(found)}); "
                           "pass scope= (--scope) to choose one")
    chosen = found.get(scope if scope is not None else next(iter(found)))
    if chosen is None:
        raise HarnessError(f"scope: expected one of {sorted(found)}, got {scope!r}")
    kinds = {TF1_DIRS[d] for layer in chosen.values() for d, _ in layer.values()}
    if len(kinds) != 1:
        raise HarnessError(f"input: {prefix!r} mixes cell kinds {sorted(kinds)}; a canonical stack has one")
    cell = kinds.pop()
    params = {}
    for (k, d), layer in sorted(chosen.items()):
        peep, proj = "w_i_diag" in layer, "projection/kernel" in layer
        arrays = [reader.get_tensor(layer[v][1]) for v in tf_layout.variable_names(cell, peep, proj)
                  if v in layer]
        if len(arrays) != len(tf_layout.variable_names(cell, peep, proj)):
            raise HarnessError(f"input: layer {k} ({'bw' if d else 'fw'}) of {prefix!r} lacks some of "
                               f"{tf_layout.variable_names(cell, peep, proj)}; it has {sorted(layer)}")
        cols = arrays[-1].shape[1] if proj else arrays[0].shape[1] // len(tf_layout.TABLE[cell][0][2])
        for n, v in tf_layout.from_tf_weights(cell, arrays, arrays[0].shape[0] - cols, peep, proj).items():
            params[param_name(n, k, d)] = v
    dirs = {d for layer in chosen.values() for d, _ in layer.values()}
    meta = {"cell": cell, "forget_bias": 1.0, "tf_scope": scope if scope is not None else next(iter(found)),
            "tf_cell": dirs.pop(), "tf_multi": any("multi_rnn_cell" in n for layer in chosen.values()
                                                   for _, n in layer.values())}
    if cell == "gru":
        meta["reset_after"] = False
    for key in ("forget_bias", "cell_clip", "proj_clip"):
        if META + key in names:
            meta[key] = float(reader.get_tensor(META + key))
    return params, meta


def tf1_names(cell, structure, layers, meta):
    """{(layer, direction): the TF name prefix of that cell's variables} as TF1 code names
    them: dynamic_rnn over a MultiRNNCell ("rnn/multi_rnn_cell/cell_0/..."); bidirectional_
    dynamic_rnn over two cells (one layer) or two MultiRNNCells (separate stacks); tf.contrib's
    stack_bidirectional_dynamic_rnn. A checkpoint read before gives its own scope, cell class
    and MultiRNNCell use back (meta tf_scope, tf_cell, tf_multi), so its names come out as they were."""
    extras = structure.proj_size or structure.peepholes or meta.get("cell_clip") or meta.get("proj_clip")
    cell_dir = {"rnn": "basic_rnn_cell", "lstm": "lstm_cell" if extras else "basic_lstm_cell", "gru": "gru_cell"}[cell]
    if meta.get("tf_cell") in TF1_DIRS and TF1_DIRS[meta["tf_cell"]] == cell and not (extras and cell == "lstm"):
        cell_dir = meta["tf_cell"]
    two, scope = structure.directions == 2, meta.get("tf_scope")
    multi = meta.get("tf_multi", not two) or layers > 1
    out = {}
    for k in range(layers):
        for d in range(structure.directions):
            way = "bw" if d else "fw"
            if not two:
                path = (scope or "rnn") + (f"/multi_rnn_cell/cell_{k}" if multi else "")
            elif structure.stacking == "separate" or layers == 1:
                path = f"{scope or 'bidirectional_rnn'}/{way}" + (f"/multi_rnn_cell/cell_{k}" if multi else "")
            else:
                path = f"{scope or 'stack_bidirectional_rnn'}/cell_{k}/bidirectional_rnn/{way}"
            out[(k, d)] = f"{path}/{cell_dir}".lstrip("/")
    return out


def write_tf1(path, params, meta, layers):
    """A TF1 Saver checkpoint (``path`` is its prefix: path.index, path.data-00000-of-00001 and
    a ``checkpoint`` state file beside it), written with TF's own SaveV2 op."""
    from .backends._tf import import_tensorflow
    tf = import_tensorflow()
    cell = meta["cell"]
    structure = structure_of(cell, params, meta.get("merge", "concat"), meta.get("stacking"))
    if structure.directions == 2 and structure.merge not in ("concat", "none") and layers > 1:
        raise LayoutError(f"merge={structure.merge}: TF1's bidirectional RNNs concatenate the two directions; "
                          "a stack merged by sum/mul/ave (Keras) has no TF1 form")
    options = _tf_options(meta)
    tensors = {}
    for (k, d), name in tf1_names(cell, structure, layers, meta).items():
        arrays = tf_layout.to_tf_weights(cell, split_layer(params, k, d), options)
        peep, proj = structure.peepholes, bool(structure.proj_size)
        tensors.update({f"{name}/{v}": a for v, a in zip(tf_layout.variable_names(cell, peep, proj), arrays)})
    dtype = next(iter(tensors.values())).dtype
    if cell == "lstm":
        for key in ("forget_bias", "cell_clip", "proj_clip"):
            if meta.get(key) is not None:
                tensors[META + key] = np.asarray(float(meta[key]), dtype=dtype)
    keys = sorted(tensors)
    tf.raw_ops.SaveV2(prefix=os.fspath(path), tensor_names=keys, shape_and_slices=[""] * len(keys),
                      tensors=[tf.constant(tensors[k]) for k in keys])


def _tf_options(meta):
    opts = {"forget_bias": float(meta.get("forget_bias", 0.0))} if meta["cell"] == "lstm" else {}
    if meta["cell"] == "gru":
        opts["reset_after"] = bool(meta.get("reset_after", True))
    opts.update({k: meta[k] for k in ("cell_clip", "proj_clip") if meta.get(k) is not None})
    return opts


# ---- TF2 object checkpoints (Keras layers) ---------------------------------------------------

def _natural(path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def _read_tf2(reader, names, prefix):
    layers = {}
    for name in names:
        m = TF2_PATTERN.match(name)
        if m:
            d = 1 if m["dir"] == "backward_layer" else 0
            layers.setdefault(m["path"], {}).setdefault(d, {})[m["var"]] = reader.get_tensor(name)
    if not layers:
        raise HarnessError(f"input: {prefix!r} is a TF2 object checkpoint without Keras RNN layers "
                           "(…/cell/kernel, …/cell/recurrent_kernel)")
    params, cell, options = {}, None, {}
    for k, path in enumerate(sorted(layers, key=_natural)):
        for d, v in sorted(layers[path].items()):
            G = v["recurrent_kernel"].shape[1] // v["recurrent_kernel"].shape[0]
            this = {1: "rnn", 4: "lstm", 3: "gru"}.get(G)
            if this is None or cell not in (None, this):
                raise HarnessError(f"input: {prefix!r}: layer {path!r} is not a SimpleRNN/LSTM/GRU of the stack's kind")
            cell = this
            options = {"reset_after": v.get("bias", np.zeros(1)).ndim == 2} if cell == "gru" else {}
            arrays = [v["kernel"], v["recurrent_kernel"]] + ([v["bias"]] if "bias" in v else [])
            for n, a in keras_layout.from_keras_weights(cell, arrays, options).items():
                params[param_name(n, k, d)] = a
    return params, {"cell": cell, "forget_bias": 0.0, **options}


def write_tf2(path, model):
    """A TF2 object checkpoint of a built Keras model: ``tf.train.Checkpoint(model=model)``."""
    from .backends._tf import import_tensorflow
    tf = import_tensorflow()
    tf.train.Checkpoint(model=model).write(os.fspath(path))

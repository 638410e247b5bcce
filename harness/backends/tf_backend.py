"""TensorFlow's TF1 legacy cells (tf.compat.v1.nn.rnn_cell, from tf_keras) as a backend, in
three drivers of a MultiRNNCell stack (named for an RNN; the LSTM and GRU alike):

    tf.BasicRNNCell-loop         one MultiRNNCell (weights shared) called step by step in a
                                 Python loop under a GradientTape, as the TF1 code of seed
                                 000 does: every layer's state at every step, its total
                                 adjoint (the gradient w.r.t. the state tensor counts every
                                 consumer), and each step's contribution to every weight
                                 gradient, formed from the gradient of a zero offset on the
                                 step's pre-activation (the framework's own numbers)
    tf.BasicRNNCell-static_rnn   tf.compat.v1.nn.static_rnn on one MultiRNNCell: top-layer
                                 outputs, final states of every layer, total gradients (and
                                 the gate values when L == 1: only then is every input known)
    tf.BasicRNNCell-dynamic_rnn  the same through tf.compat.v1.nn.dynamic_rnn (batch-major)

Cells: BasicRNNCell (rnn), BasicLSTMCell and LSTMCell (lstm; LSTMCell only as -loop),
GRUCell (gru, reset-before only). The LSTM state is LSTMStateTuple(c, h): c FIRST; it is
read by field name, never by position. Cells are built eagerly with the probe's dtype
(``build()`` without a dtype makes float32 variables), then loaded through
harness.layouts.tf_layout; gradients come back through its adjoint. Gate values ("gates")
are recomputed as the cell's call() computes them, from the cell's OWN variables and
forget_bias and this backend's own states, then put in canonical order (TF's LSTM columns
are i, j(=g), f, o; its GRU's r, u(=z) and the candidate n): a conversion mistake shows
there at the gate it breaks, from the first step on. Cells are built anew
for every run: reusing built cells saved only a quarter of the time (measured) and would
keep TF variables alive between runs.
"""

import contextlib
import logging
import sys
import warnings

import numpy as np

from .. import cells, threads
from ..errors import LayoutError
from ..layouts import tf_layout as layout
from ..trace import Trace, add_weight_steps, time_major
from . import BackendError
from ._tf import (ACTIVATIONS, ZeroOffsets, add_gates, add_input_grads, add_state_steps, dot, drain,
                  import_tensorflow, legacy_rnn_cell, step_inputs, step_terms, watched_inputs)

CLASSES = {"rnn": ("BasicRNNCell",), "lstm": ("BasicLSTMCell", "LSTMCell"), "gru": ("GRUCell",)}
DRIVERS = ("loop", "static_rnn", "dynamic_rnn")
ONLY_LOOP = {"LSTMCell"}         # same layout and math as BasicLSTMCell: the loop suffices


def import_framework():
    """tf.compat.v1.nn.rnn_cell with its classes usable, or BackendUnavailable in one line."""
    return legacy_rnn_cell()


def backend_names(cell):
    return [f"tf.{cls}-{driver}" for cls in CLASSES[cell] for driver in DRIVERS
            if cls not in ONLY_LOOP or driver == "loop"]


def _parse(name):
    cls, driver = name[len("tf."):].rsplit("-", 1)
    return cls, driver


def unsupported(name, probe):
    """Why backend ``name`` cannot run ``probe`` exactly, or None."""
    act = probe.options.get("activation")
    if probe.cell == "rnn" and act not in ACTIVATIONS:
        return f"{name} offers the activations {', '.join(ACTIVATIONS)} (activation={act})"
    try:
        layout.to_tf_weights(probe.cell, probe.layer_params(0), probe.options)
        layout.cell_kwargs(probe.cell, probe.options)
    except LayoutError as exc:
        return f"{name}: {exc}"
    return None


def run(name, probe):
    """Run backend ``name`` on ``probe`` and return its Trace."""
    rnn_cell = import_framework()
    tf = import_tensorflow()
    cls, driver = _parse(name)
    trace = Trace(name)
    with _quiet(tf), threads.budget("tensorflow"):
        if driver == "loop":
            _run_loop(tf, rnn_cell, cls, probe, trace)
        else:
            _run_fused(tf, rnn_cell, cls, driver, probe, trace)
    return trace


@contextlib.contextmanager
def _quiet(tf):
    """Silence the legacy API's deprecation noise here only: the cells' UserWarnings and the
    TF-logging warnings of MultiRNNCell, static_rnn and dynamic_rnn."""
    logger = tf.get_logger()
    level = logger.level
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`tf\.nn\.rnn_cell\.\w+` is deprecated", category=UserWarning)
        logger.setLevel(logging.ERROR)
        try:
            yield
        finally:
            logger.setLevel(level)


def _cells(tf, rnn_cell, cls, probe, layer, count):
    """``count`` built cells of layer ``layer``, loaded with its canonical weights."""
    s = probe.sizes
    D = s["D"] if layer == 0 else s["H"]
    kwargs = layout.cell_kwargs(probe.cell, probe.options)
    if probe.cell == "rnn":
        kwargs["activation"] = ACTIVATIONS[probe.options["activation"]]
    built = []
    for _ in range(count):
        cell = getattr(rnn_cell, cls)(s["H"], dtype=tf.as_dtype(probe.dtype), **kwargs)
        cell.build(tf.TensorShape([None, D]))        # eagerly, outside tf.function; dtype given
        built.append(layout.load_weights(cell, probe.cell, probe.layer_params(layer), probe.options))
    return built


def _stacks(tf, rnn_cell, cls, probe, count):
    """``count`` pairs (MultiRNNCell, its L cells), all holding identical weights."""
    per_layer = [_cells(tf, rnn_cell, cls, probe, k, count) for k in range(probe.layers)]
    layers = [[per_layer[k][i] for k in range(probe.layers)] for i in range(count)]
    return [(rnn_cell.MultiRNNCell(cells), cells) for cells in layers]


def _to_tf_state(rnn_cell, probe, s0):
    """The MultiRNNCell state: a tuple over layers of h, or of LSTMStateTuple(c, h)."""
    if probe.cell == "lstm":
        return tuple(rnn_cell.LSTMStateTuple(c=c, h=h) for c, h in zip(s0["c"], s0["h"]))
    return tuple(s0["h"])


def _from_tf_state(probe, layer_state):
    """One layer's TF state -> {state name: tensor}, by field name (LSTMStateTuple is (c, h))."""
    if probe.cell == "lstm":
        return {"h": layer_state.h, "c": layer_state.c}
    return {"h": layer_state}


def _final_loss(tf, probe, final):
    return sum(dot(tf, v, probe.dstate_n[s][k])
               for k, st in enumerate(final) for s, v in _from_tf_state(probe, st).items())


def _layer_grads(probe, layer, grads):
    D = probe.sizes["D"] if layer == 0 else probe.sizes["H"]
    return layout.grads_from_tf(probe.cell, [g.numpy() for g in grads], D, probe.bias)


def _run_loop(tf, rnn_cell, cls, probe, trace):
    """One MultiRNNCell called step by step over the sequence unbound once, its weights shared
    by every step; every bias_add of the cells gets a zero offset (``_bias_add_offsets``)."""
    L = probe.layers
    stack, cells = _stacks(tf, rnn_cell, cls, probe, 1)[0]
    slots = {(k, j): len(blocks) * probe.sizes["H"] for k in range(L) for j, blocks in enumerate(_bias_blocks(probe))}
    kept = {}
    with tf.GradientTape() as tape:
        xs, s0 = step_inputs(tf, probe, tape)
        offsets = ZeroOffsets(tf, probe, slots, tape)
        state, tops = _to_tf_state(rnn_cell, probe, s0), []
        with _bias_add_offsets(cells[0]) as queue:
            for t, inp in enumerate(xs):
                queue.extend(offsets.at(key, t) for key in slots)
                out, state = stack(inp, state)
                if queue:
                    raise BackendError(f"{cls}: called bias_add {len(slots) - len(queue)} times in one step, "
                                       f"expected {len(slots)} (one per weight block of every layer)")
                for k in range(L):
                    kept.update({(s, k, t): v for s, v in _from_tf_state(probe, state[k]).items()})
                tops.append(out)
        loss = step_terms(tf, probe, tops) + _final_loss(tf, probe, state)
    weights = [list(c.weights) for c in cells]
    dx, ds0, dkept, dz, dw = tape.gradient(loss, [xs, s0, list(kept.values()), offsets.sources(), weights])
    del tape, tops, state
    seqs = add_state_steps(trace, probe, kept, dkept)     # (T + 1, N, H), the initial state in front
    da = offsets.unpack(dz)
    del offsets, dz
    inputs = probe.x.transpose(1, 0, 2)                    # (T, N, D) view: step t is x[:, t]
    for k in range(L):
        h_prev = seqs[("h", k)][:-1]
        add_gates(tf, probe, trace, gate_values, k, cells[k], inputs, h_prev)
        _add_layer_steps(probe, trace, k, [da[(k, j)] for j in range(len(_bias_blocks(probe)))], inputs, h_prev)
        for name, value in _layer_grads(probe, k, dw[k]).items():
            trace.add_total(f"d{name}", k, value)
        inputs = seqs[("h", k)][1:]
    add_input_grads(trace, drain(dx), ds0, time_axis=0)


def _bias_blocks(probe):
    """The canonical gate blocks in the columns of each bias of a layer (tf_layout.TABLE's
    order, the order the cell calls bias_add in): ((0,),) for the RNN, ((0, 2, 1, 3),) for
    the LSTM (i, j, f, o), ((0, 1), (2,)) for the GRU (gates r, u; candidate)."""
    return [blocks for _, kind, blocks in layout.TABLE[probe.cell] if kind == "bias"]


def _add_layer_steps(probe, trace, layer, da_slots, inputs, h_prev):
    """Per-step weight contributions of one layer from TF's pre-activation gradients, one
    (T, N, width) array per bias_add in TF's column order. A TF1 kernel multiplies
    concat([x_t, h_{t-1}]) (the GRU's candidate kernel concat([x_t, r_t * h_{t-1}])), so the
    same dL/da_t pairs with x_t (weight_ih) and with h_{t-1} (weight_hh)."""
    H = probe.sizes["H"]
    T, N = inputs.shape[0], inputs.shape[1]
    da = np.empty((T, N, cells.num_gates(probe.cell) * H), dtype=da_slots[0].dtype)
    for blocks, part in zip(_bias_blocks(probe), da_slots):
        for j, b in enumerate(blocks):
            da[:, :, b * H:(b + 1) * H] = part[:, :, j * H:(j + 1) * H]
    hn_in = None
    if probe.cell == "gru":                            # the candidate reads r_t * h_{t-1}
        r = trace.values.sequences[("gates", layer)][:, :, :H]
        hn_in = r * h_prev
    add_weight_steps(trace, layer, da, da, inputs, h_prev, hn_in, probe.bias)


@contextlib.contextmanager
def _bias_add_offsets(cell):
    """While the enclosed code runs, every tf.nn.bias_add that the TF1 cells' module calls
    returns its result plus the next zero offset of the yielded queue (the caller fills it
    step by step). Only that module's own name ``tf`` is replaced, by a view of TensorFlow
    that differs in this one function, and it is put back on exit. bias_add's result is
    the gate pre-activation of every TF1 cell (``x h`` kernel product plus bias, before
    LSTMCell's forget_bias, which is a constant), so the offset's gradient is dL/da_t."""
    module = sys.modules[type(cell).__module__]
    real = getattr(module, "tf", None)
    if real is None or not hasattr(real, "nn"):
        raise BackendError(f"{type(cell).__name__}: its module {module.__name__} does not call TensorFlow "
                           "as tf.nn.bias_add; this version of the TF1 cells is not supported")
    queue = []

    def bias_add(value, bias, *args, **kwargs):
        if not queue:
            raise BackendError(f"{type(cell).__name__}: called bias_add more often than once per weight "
                               "block and step; this version of the TF1 cells is not supported")
        return real.nn.bias_add(value, bias, *args, **kwargs) + queue.pop(0)

    module.tf = _View(real, nn=_View(real.nn, bias_add=bias_add))
    try:
        yield queue
    finally:
        module.tf = real


class _View:
    """A module seen with some attributes replaced."""

    def __init__(self, real, **replaced):
        self._real, self._replaced = real, replaced

    def __getattr__(self, name):
        return self._replaced[name] if name in self._replaced else getattr(self._real, name)


def _run_fused(tf, rnn_cell, cls, driver, probe, trace):
    L, T = probe.layers, probe.sizes["T"]
    stack, cells = _stacks(tf, rnn_cell, cls, probe, 1)[0]
    with tf.GradientTape() as tape:
        x, s0 = watched_inputs(tf, probe, tape)
        init = _to_tf_state(rnn_cell, probe, s0)
        if driver == "static_rnn":
            outs, final = tf.compat.v1.nn.static_rnn(stack, tf.unstack(x, axis=1), initial_state=init)
            out = tf.stack(outs, axis=1)                              # (N, T, H)
        else:
            out, final = tf.compat.v1.nn.dynamic_rnn(stack, x, initial_state=init)   # batch-major
        loss = dot(tf, out, probe.dout) + _final_loss(tf, probe, final)
    dx, ds0, dw = tape.gradient(loss, [x, s0, [list(c.weights) for c in cells]])
    trace.add_steps("h", L - 1, out.numpy())
    if L == 1:                       # the top layer's input is x only in a one-layer stack
        h = time_major(out.numpy())
        h_prev = np.concatenate([probe.state0["h"][0][None], h[:-1]])
        add_gates(tf, probe, trace, gate_values, 0, cells[0], time_major(probe.x), h_prev)
    for k in range(L):
        for s, value in _from_tf_state(probe, final[k]).items():
            trace.values.setdefault((s, k, T - 1), value.numpy())
        for name, value in _layer_grads(probe, k, dw[k]).items():
            trace.add_total(f"d{name}", k, value)
    add_input_grads(trace, dx, ds0)
    trace.note = (f"{trace.backend} exposes the top layer's outputs at every step and every layer's "
                  f"final state; per-step adjoints and weight contributions, the states of lower "
                  f"layers (and the LSTM's c) before the last step, and the gate values of a stack "
                  f"of more than one layer (they need every layer's input), are not observable in "
                  f"one {driver} call")


def gate_values(tf, cell, tf_cell, inputs, h_prev):
    """The activated gates of one TF1 cell's step, (N, G*H), computed as its call() does
    from its own variables (``tf_cell.weights``, in tf_layout.TABLE's order) and its own
    forget_bias and activation, in canonical order: LSTM i, f, g, o; GRU r, z, n."""
    w = list(tf_cell.weights)
    xh = tf.concat([inputs, h_prev], 1)
    if cell == "lstm":                       # columns i, j(=g), f, o; forget_bias added at call time
        a = tf.nn.bias_add(tf.matmul(xh, w[0]), w[1])
        i, j, f, o = tf.split(a, 4, axis=1)
        fb = tf.constant(tf_cell._forget_bias, dtype=f.dtype)
        return tf.concat([tf.sigmoid(i), tf.sigmoid(f + fb), tf_cell._activation(j), tf.sigmoid(o)], 1)
    r, u = tf.split(tf.sigmoid(tf.nn.bias_add(tf.matmul(xh, w[0]), w[1])), 2, axis=1)   # r, u(=z)
    candidate = tf.nn.bias_add(tf.matmul(tf.concat([inputs, r * h_prev], 1), w[2]), w[3])  # reset before
    return tf.concat([r, u, tf_cell._activation(candidate)], 1)

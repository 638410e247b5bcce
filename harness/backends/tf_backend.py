"""TensorFlow's TF1 legacy cells (tf.compat.v1.nn.rnn_cell, from tf_keras) as a backend, in
three drivers of a MultiRNNCell stack (named for an RNN; the LSTM and GRU alike):

    tf.BasicRNNCell-loop         T MultiRNNCells with identical but untied weights (one per
                                 step) called step by step in a Python loop under a
                                 GradientTape, as the TF1 code of seed 000 does: every
                                 layer's state at every step, its total adjoint (the
                                 gradient w.r.t. the state tensor counts every consumer), and
                                 each step's contribution to every weight gradient
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
import warnings

import numpy as np

from ..errors import LayoutError
from ..layouts import tf_layout as layout
from ..trace import Trace
from ._tf import ACTIVATIONS, add_gates, add_input_grads, dot, import_tensorflow, legacy_rnn_cell, watched_inputs

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
    with _quiet(tf):
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
    """Untied unroll: stacks[t] holds its own copy of every layer's weights."""
    L, T = probe.layers, probe.sizes["T"]
    stacks = _stacks(tf, rnn_cell, cls, probe, T)
    kept = {}
    with tf.GradientTape() as tape:
        x, s0 = watched_inputs(tf, probe, tape)
        state, loss = _to_tf_state(rnn_cell, probe, s0), 0.0
        for t in range(T):
            out, state = stacks[t][0](x[:, t], state)
            for k in range(L):
                kept.update({(s, k, t): v for s, v in _from_tf_state(probe, state[k]).items()})
            loss = loss + dot(tf, out, probe.dout[:, t])
        loss = loss + _final_loss(tf, probe, state)
    weights = [[list(c.weights) for c in cells] for _, cells in stacks]
    dx, ds0, dkept, dw = tape.gradient(loss, [x, s0, list(kept.values()), weights])
    for ((s, k, t), value), grad in zip(kept.items(), dkept):
        trace.values[(s, k, t)] = value.numpy()
        trace.values[(f"d{s}_total", k, t)] = grad.numpy()
    hs = {(k, t): v for (s, k, t), v in kept.items() if s == "h"}
    add_gates(tf, probe, trace, gate_values, lambda t, k: stacks[t][1][k], x, s0, hs, range(L))
    for k in range(L):
        per_step = [_layer_grads(probe, k, dw[t][k]) for t in range(T)]
        for name in per_step[0]:
            stacked = np.stack([g[name] for g in per_step])
            trace.add_steps(f"d{name}", k, stacked, time_axis=0)
            trace.add_total(f"d{name}", k, stacked.sum(axis=0))
    add_input_grads(trace, dx, ds0)


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
        hs = {(0, t): out[:, t] for t in range(T)}
        add_gates(tf, probe, trace, gate_values, lambda t, k: cells[k], x, s0, hs, range(L))
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

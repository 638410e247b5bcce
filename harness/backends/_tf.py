"""Import TensorFlow once, in the state both TF backends need.

The TF1 cells (tf.compat.v1.nn.rnn_cell.*) exist only when TF_USE_LEGACY_KERAS=1 is set
when TensorFlow's lazy rnn_cell module is first accessed (the flag is read then, not at
``import tensorflow``); Keras 3 layers are used through ``import keras``, which works
either way. So: set the variable before that first access; if rnn_cell was already
loaded without it, say so in one line with the fix. The lazy module is handed out either
way and fails only when a class is accessed, so that is what is checked.
"""

import os
import sys

import numpy as np

from ..errors import BackendUnavailable

INSTALL = "pip install 'tensorflow-cpu==2.21.0' 'tf-keras==2.21.0'"
TOO_LATE = ("the TF1 cells (tf.compat.v1.nn.rnn_cell) were already loaded in this process without "
            "TF_USE_LEGACY_KERAS=1, so they are not available with Keras 3; fix: set "
            "TF_USE_LEGACY_KERAS=1 in the environment before Python starts")


def import_tensorflow():
    """TensorFlow, with the legacy-Keras flag set when we are first to load it."""
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")       # the Keras backend uses GradientTape
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise BackendUnavailable(f"backends: 'tf' needs TensorFlow, which is not installed; "
                                 f"install it with: {INSTALL}") from exc
    return tf


def legacy_rnn_cell():
    """tf.compat.v1.nn.rnn_cell with its classes usable, or a one-line BackendUnavailable."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")          # read at the first access below
    tf = import_tensorflow()
    try:
        import tf_keras  # noqa: F401  (the legacy cells live there)
    except ImportError as exc:
        raise BackendUnavailable(f"backends: the TF1 cells need tf_keras, which is not installed; "
                                 f"install it with: {INSTALL}") from exc
    try:
        rnn_cell = tf.compat.v1.nn.rnn_cell
        rnn_cell.BasicRNNCell                                   # the lazy module fails only here
    except AttributeError:
        raise BackendUnavailable(TOO_LATE) from None
    return rnn_cell


def import_keras():
    """Keras 3 on the TensorFlow backend."""
    import_tensorflow()
    try:
        import keras
    except ImportError as exc:
        raise BackendUnavailable(f"backends: 'keras' needs Keras 3 with TensorFlow; install it with: {INSTALL}") from exc
    return keras


# ---- helpers both TensorFlow-based backends (TF1 cells, Keras 3) use ------------------

# The activation names both take; "linear" is the identity.
ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "identity": "linear"}


def watched_inputs(tf, probe, tape):
    """x (N, T, D) and the initial states, state name -> [L x (N, H)], as watched tensors."""
    x = tf.constant(probe.x)
    s0 = {s: [tf.constant(v[k]) for k in range(probe.layers)] for s, v in probe.state0.items()}
    tape.watch([x] + [t for v in s0.values() for t in v])
    return x, s0


def dot(tf, a, b):
    """<a, b> for a tensor a and a NumPy array b: one term of the probe's loss."""
    return tf.reduce_sum(a * tf.constant(b))


def add_input_grads(trace, dx, ds0, time_axis=1):
    """dL/dx per step and dL/d(initial state) per layer into the trace."""
    trace.add_steps("dx", 0, np.asarray(dx), time_axis=time_axis)
    for s, grads in ds0.items():
        for k, g in enumerate(grads):
            trace.add_total(f"d{s}0", k, g.numpy())


def add_gates(tf, probe, trace, gate_values, layer, cell, inputs, prev):
    """("gates", layer, t) for every step, all steps in one call: ``gate_values(tf, cell_kind,
    cell, inputs, h_prev)`` fed the layer's input at every step (T, N, D) and its h_{t-1}
    (T, N, H), both as the backend computed them. Values only: computed outside any tape.
    The Elman RNN has no gates."""
    if probe.cell == "rnn":
        return
    T, N = inputs.shape[0], inputs.shape[1]
    gates = gate_values(tf, probe.cell, cell, tf.reshape(inputs, (T * N, -1)), tf.reshape(prev, (T * N, -1)))
    trace.add_steps("gates", layer, np.asarray(gates).reshape(T, N, -1), time_axis=0)


def stacked(values):
    """T tensors (N, ...) -> one NumPy array (T, N, ...)."""
    return np.stack([np.asarray(v) for v in values])


def drain(tensors, out=None):
    """A list of T tensors (N, ...) -> one NumPy array (T, N, ...) (or into ``out``),
    releasing each tensor from the list as soon as it is copied."""
    for t, v in enumerate(tensors):
        a = np.asarray(v)
        if out is None:
            out = np.empty((len(tensors),) + a.shape, dtype=a.dtype)
        out[t] = a
        tensors[t] = None
    return out


def add_state_steps(trace, probe, kept, grads):
    """Every layer's states at every step and their total adjoints into the trace.

    kept: {(state, layer, step): tensor}, grads: their gradients in the same order; both
    are emptied as they are copied. Returns {(state, layer): (T + 1, N, H)} with the initial
    state in front, so that [:-1] is h_{t-1} of every step and [1:] h_t, without a copy."""
    T = probe.sizes["T"]
    values, adjoints = {}, {}
    for i, (s, k, t) in enumerate(list(kept)):
        v, g = np.asarray(kept.pop((s, k, t))), np.asarray(grads[i])
        grads[i] = None
        if (s, k) not in values:
            values[(s, k)] = np.empty((T + 1,) + v.shape, dtype=v.dtype)
            values[(s, k)][0] = probe.state0[s][k]
            adjoints[(s, k)] = np.empty((T,) + g.shape, dtype=g.dtype)
        values[(s, k)][t + 1], adjoints[(s, k)][t] = v, g
    for (s, k), buf in values.items():
        trace.add_steps(s, k, buf[1:], time_axis=0)
        trace.add_steps(f"d{s}_total", k, adjoints[(s, k)], time_axis=0)
    return values


def step_inputs(tf, probe, tape):
    """x as T watched (N, D) tensors, one per step (no tensor of the whole sequence and no
    slicing of one per step), and the initial states, state name -> [L x (N, H)], watched."""
    xs = [tf.constant(probe.x[:, t]) for t in range(probe.sizes["T"])]
    s0 = {s: [tf.constant(v[k]) for k in range(probe.layers)] for s, v in probe.state0.items()}
    tape.watch(xs + [t for v in s0.values() for t in v])
    return xs, s0


def step_terms(tf, probe, tops):
    """<outputs, dout> as one term per step: no stacked copy of the outputs or of dout."""
    return tf.add_n([dot(tf, out, probe.dout[:, t]) for t, out in enumerate(tops)])


class ZeroOffsets:
    """Zeros added to a step's pre-activations, so that the tape's gradient of them is the
    step's pre-activation gradient dL/da_t, computed by TensorFlow itself.

    ``slots``: {key: width}; ``at(key, t)`` hands out step t's zero (N, width), a fresh
    watched tensor; ``unpack(grads)`` turns the gradients of ``sources()`` into
    {key: (T, N, width)}.
    """

    def __init__(self, tf, probe, slots, tape):
        self.tf, self.tape = tf, tape
        self.zero = {key: tf.zeros((probe.sizes["N"], width), dtype=probe.dtype) for key, width in slots.items()}
        self.steps = {key: [] for key in slots}

    def at(self, key, t):
        z = self.tf.identity(self.zero[key])
        self.tape.watch(z)
        self.steps[key].append(z)
        return z

    def sources(self):
        return [z for key in self.steps for z in self.steps[key]]

    def unpack(self, grads, out=None):
        """{key: (T, N, width)} from the gradients of ``sources()`` (emptied as they are
        copied); ``out``: {key: array} to write into (e.g. views of one larger array)."""
        out, i = dict(out or {}), 0
        for key, zs in self.steps.items():
            part = grads[i:i + len(zs)]
            grads[i:i + len(zs)] = [None] * len(zs)
            out[key] = drain(part, out.get(key))
            i += len(zs)
        return out

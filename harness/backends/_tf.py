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


def add_input_grads(trace, dx, ds0):
    """dL/dx per step and dL/d(initial state) per layer into the trace."""
    trace.add_steps("dx", 0, dx.numpy())
    for s, grads in ds0.items():
        for k, g in enumerate(grads):
            trace.add_total(f"d{s}0", k, g.numpy())


def add_gates(tf, probe, trace, gate_values, cell_at, x, s0, hs, layers):
    """("gates", k, t) for k in ``layers`` and every step: ``gate_values(tf, cell, cell_at(t, k),
    input, h_prev)`` fed layer k's input at t (x_t or the layer below's h_t) and its h_{t-1},
    both as the backend computed them (``hs``: (layer, step) -> h). Values only: computed
    outside any tape. The Elman RNN has no gates."""
    if probe.cell == "rnn":
        return
    for k in layers:
        for t in range(probe.sizes["T"]):
            inp = x[:, t] if k == 0 else hs[(k - 1, t)]
            prev = s0["h"][k] if t == 0 else hs[(k, t - 1)]
            trace.values[("gates", k, t)] = np.array(gate_values(tf, probe.cell, cell_at(t, k), inp, prev))

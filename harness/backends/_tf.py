"""Import TensorFlow once, in the state both TF backends need.

The TF1 cells (tf.compat.v1.nn.rnn_cell.*) exist only when TF_USE_LEGACY_KERAS=1 is set
before TensorFlow first loads Keras; Keras 3 layers are used through ``import keras``,
which works either way. So: set the variable if TensorFlow has not been imported yet;
if it has been imported without it, say so in one line with the fix.
"""

import os
import sys

from ..errors import BackendUnavailable

INSTALL = "pip install 'tensorflow-cpu==2.21.0' 'tf-keras==2.21.0'"
TOO_LATE = ("TensorFlow was imported before gradharness could set TF_USE_LEGACY_KERAS=1, "
            "so the TF1 cells (tf.compat.v1.nn.rnn_cell) are not available with Keras 3; "
            "fix: set TF_USE_LEGACY_KERAS=1 in the environment, or import harness before tensorflow")


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
    """tf.compat.v1.nn.rnn_cell, or a one-line BackendUnavailable saying how to get it."""
    tf = import_tensorflow()
    try:
        import tf_keras  # noqa: F401  (the legacy cells live there)
    except ImportError as exc:
        raise BackendUnavailable(f"backends: the TF1 cells need tf_keras, which is not installed; "
                                 f"install it with: {INSTALL}") from exc
    try:
        return tf.compat.v1.nn.rnn_cell
    except AttributeError as exc:
        raise BackendUnavailable(TOO_LATE) from exc


def import_keras():
    """Keras 3 on the TensorFlow backend."""
    import_tensorflow()
    try:
        import keras
    except ImportError as exc:
        raise BackendUnavailable(f"backends: 'keras' needs Keras 3 with TensorFlow; install it with: {INSTALL}") from exc
    return keras

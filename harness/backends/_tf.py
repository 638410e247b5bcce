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

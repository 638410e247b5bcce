"""NumPy reference cells with hand-written backpropagation through time.

NumPy only: nothing here imports a deep-learning framework. These files are meant
to be read as the model of correct BPTT.

Dimension alphabet, used in every docstring:

    N  batch size
    T  number of time steps
    D  input size (of the layer: the input size for layer 0, H above it)
    H  hidden size
    G  number of gate blocks: 1 for the Elman RNN, 4 for the LSTM, 3 for the GRU

Conventions (PyTorch's): arrays are batch-major, ``x`` is (N, T, D); every weight
is stored (out, in) and applied as ``x @ W.T``; ``weight_ih`` is (G*H, D),
``weight_hh`` is (G*H, H), ``bias_ih`` and ``bias_hh`` are (G*H,).

Naming: ``d<name>`` is dL/d<name> and has the shape of ``<name>``. The upstream
gradient ``dh`` handed to a backward function is the gradient of the loss with
respect to each step's output *from outside the recurrence* (the loss, the layer
above); the total adjoint, recurrent carry included, is returned as ``dh_total``.
"""

from . import fast, stack

__all__ = ["fast", "stack"]

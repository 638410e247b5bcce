"""NumPy reference cells with hand-written backpropagation through time.

NumPy only: nothing here imports a deep-learning framework. ``rnn.py``, ``lstm.py`` and
``gru.py`` are the textbook: each cell as a step forward and a step backward with one
line per local derivative, and sequence functions looping over them; they are meant to
be read as the model of correct BPTT, and the diagnosis plants mistakes into their named
lines. ``fast/`` holds the same BPTT written for speed (what comparisons run), tested
equal to the textbook; ``stack.py`` stacks layers. ``lstm_proj.py`` is the textbook LSTM
with peepholes, clipping and a projection (TF1's LSTMCell, torch's proj_size; it runs as
written, no fast copy); ``bidirectional.py`` runs layers in two directions over padded
batches of variable-length sequences, and stacks of them.

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

from . import bidirectional, fast, gru, lstm, lstm_proj, rnn, stack

__all__ = ["rnn", "lstm", "gru", "lstm_proj", "fast", "stack", "bidirectional"]

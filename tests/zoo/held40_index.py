"""The fortieth held-out zoo ("held40"): user-style BPTT with planted mistakes, leaning to
old-NumPy code from pre-2017 tutorials: np.matrix objects (np.asmatrix, the old np.mat) where
``*`` is the matrix product and np.multiply the elementwise one, ``.T``, ``.A`` and ``.A1`` to
get arrays back, column-vector matrices, Python-2 habits (float() casts, ``range(len(...))``):

- held40_mat_rnn: a tanh RNN (cs231n) on (N, H) matrix rows, a (1, H) bias row, ``.A1`` for db.
- held40_colmat_relu_rnn: a ReLU RNN on (H, N) column matrices, x (D, N, T), a params dict and
  a 0./1. mask matrix, ``range(len(...))[::-1]``.
- held40_minchar_sigmoid_rnn: min-char-rnn with a sigmoid (karpathy) on (n, 1) column matrices
  and dicts keyed by t.
- held40_mat_lstm: an LSTM (cs231n, i, f, o, g, no forget bias) on matrix rows, gate blocks
  sliced off one (N, 4H) matrix and np.hstack'ed back.
- held40_hstack_lstm: a BasicLSTMCell-style LSTM (tf_kernel, forget_bias 1.0) with
  ``np.hstack([x_t, h]) * kernel`` per step.
- held40_colmat_tm_lstm: colah's LSTM on column matrices, time-major x (T, D, N), Wf, Wi, Wc,
  Wo (H, H + D) on np.vstack([h, x]) in a parameters dict.
- held40_mat_gru: a reset-after GRU (torch's form) on matrix rows, time-major, Wx (D, 3H),
  Wh (H, 3H) and two 1-D biases made rows.
- held40_colmat_gru: a reset-before GRU (TF1 GRUCell's form) on column matrices, x (D, N, T),
  Wz, Wr, Wc (H, H + D) on np.vstack([h, x]) / np.vstack([r * h, x]).
- held40_perex_gru: a reset-after GRU with torch's per-gate names, min-char-rnn style, one
  example at a time on (n, 1) column matrices.

Written without reading the diagnosis. Each module: BUGS, TOUCHES, make(bug) (see blind_index).
"""

from . import (held40_colmat_gru, held40_colmat_relu_rnn, held40_colmat_tm_lstm, held40_hstack_lstm, held40_mat_gru,
               held40_mat_lstm, held40_mat_rnn, held40_minchar_sigmoid_rnn, held40_perex_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held40_mat_rnn, held40_colmat_relu_rnn, held40_minchar_sigmoid_rnn, held40_mat_lstm, held40_hstack_lstm,
    held40_colmat_tm_lstm, held40_mat_gru, held40_colmat_gru, held40_perex_gru)}


def cases():
    """Every (module name, bug, cause) of the held40 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The forty-first held-out zoo ("held41"): user-style BPTT with planted mistakes, leaning to
pure-Python code written "from scratch without NumPy" (lists of lists, nested list
comprehensions for matrix products, math.tanh / math.exp, zip(*M) for transposes,
hand-written matvec / outer / add helpers, np.array only at the boundary of forward and
backward), in styles the earlier zoos do not have. Mistakes include the ones this style
invites (an index order swapped in a comprehension, zip(*M) forgotten or applied twice,
accumulators aliased with [[0.0] * n] * m, a cached row list written in place) besides the
usual BPTT ones.

- held41_lists_rnn: a tanh RNN (cs231n) on lists of rows, ``matmul`` over ``zip(*B)``, a
  hand-indexed triple loop for dWh.
- held41_matvec_relu_rnn: a ReLU RNN (karpathy, one example at a time) on flat lists with
  matvec / outer / vadd / madd helpers and ``list(zip(*W))`` transposes.
- held41_cols_sigmoid_rnn: a sigmoid RNN in the course's column-major shapes (x (n_x, m, T_x),
  custom DNT layout, parameters dict) with step functions and an ``elementwise`` helper.
- held41_lists_lstm: an LSTM (cs231n, i f o g, c0 = 0, forget_bias 0) sliced per gate from
  list rows, the backward per (example, unit) in scalars, gate gradients glued with list +.
- held41_kernel_lstm: TF's BasicLSTMCell (tf_kernel, i j f o, forget_bias 1.0) per example,
  concat as list +, ``vecmat`` over the kernel's columns, a per-row tape.
- held41_tm_lstm: a time-major LSTM (custom TND layout) with one (W, U, b) per gate in the maths
  orientation, scalar loops over (example, unit), carries kept as lists of rows.
- held41_lists_gru: a reset-after GRU (custom NTD layout, torch's equations, one (W, U, b) per
  gate in (in, out) orientation plus bhn) with mm / emap / eadd / emul helpers.
- held41_tm_gru: a time-major reset-before GRU (TF1 GRUCell form, custom TND layout, dict of
  W_/U_/b_ per gate) one example at a time with ``dot = sum(map(mul, u, v))``.
- held41_cols_gru: a column-state reset-after GRU (custom DNT layout) with stacked W, U (3H, ...)
  in z, r, n order, two biases, blocks sliced from lists and stacked back with list +.
"""

from . import (
    held41_cols_gru,
    held41_cols_sigmoid_rnn,
    held41_kernel_lstm,
    held41_lists_gru,
    held41_lists_lstm,
    held41_lists_rnn,
    held41_matvec_relu_rnn,
    held41_tm_gru,
    held41_tm_lstm,
)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held41_lists_rnn, held41_matvec_relu_rnn, held41_cols_sigmoid_rnn, held41_lists_lstm, held41_kernel_lstm,
    held41_tm_lstm, held41_lists_gru, held41_tm_gru, held41_cols_gru)}


def cases():
    """Every (module name, bug, cause) of the held41 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

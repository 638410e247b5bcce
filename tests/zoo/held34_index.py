"""The thirty-fourth held-out zoo ("held34"): user-style BPTT with planted mistakes, leaning to
code ported to NumPy from other languages, in styles the earlier zoos do not have:

- held34_octave_rnn: an Octave script's tanh RNN, column-major (n_h, m) states in one
  preallocated (n_h, m, T + 1) array with h0 on page 1, 1-based loop counters kept, a
  backward returning many outputs (custom layout, x (D, N, T)).
- held34_r_lists_sigmoid_rnn: an R script's sigmoid RNN in lists of column matrices, one
  example at a time (karpathy layout), with Map / Reduce / lapply / rev and R's
  negative-index drops translated.
- held34_c_flat_relu_rnn: a C file's ReLU RNN on flat row-major buffers reached through
  index macros, explicit loops over steps, rows and units, two swapped work rows for the
  carry (tf_kernel layout).
- held34_matlab_cbt_lstm: a MATLAB custom layer's LSTM in the "CBT" format (x (D, N, T)),
  InputWeights / RecurrentWeights / Bias in a struct, a 1-based ``idx(k)`` block helper,
  vertcat of the gate gradients, ForgetGateOffset 1 (forget_bias 1.0).
- held34_fortran_lstm: a Fortran 90 LSTM behind cs231n's signature: column-major copies,
  states declared ``hs(nh, nb, 0:nt)``, DO loops over steps, batch columns and units with
  the gate offsets written out, one reused work column (cs231n layout, forget_bias 0).
- held34_c_rows_tf_lstm: a C LSTM on TF's kernel one batch row at a time, with reused
  ``xh`` and ``z`` buffers memcpy'd to a tape, DSIG / DTANH macros, forget_bias 1.0 added in
  place, out-parameters returned by a wrapper (tf_kernel layout).
- held34_julia_dot_gru: a Julia script's reset-after GRU on a vector of (D, N) matrices
  (time-major x (T, D, N)), a NamedTuple of per-gate matrices with (H, 1) bias columns,
  broadcast dots and in-place ``.=`` on preallocated buffers.
- held34_r_array_gru: an R script's reset-before GRU on ``array(dim = c(N, D, T))`` with
  examples in rows, an unnamed R list of parameters (z, r, h order) in and out, sweep and
  colSums (custom layout, x (N, D, T), weights as a list).
- held34_octave_ctb_gru: an Octave port of MATLAB's gruLayer with
  ResetGateMode "recurrent-bias-after-multiplication" in the "CTB" format (x (D, T, N)),
  W / R / b / Rb stacked r, z, h with rIdx / zIdx / hIdx, reshape'd slices (reset after).

Every module exposes ``BUGS``, ``TOUCHES`` and ``make(bug=None)`` as blind_index describes;
``tests/zoo/verify.py held34`` checks them.
"""

from . import (
    held34_c_flat_relu_rnn,
    held34_c_rows_tf_lstm,
    held34_fortran_lstm,
    held34_julia_dot_gru,
    held34_matlab_cbt_lstm,
    held34_octave_ctb_gru,
    held34_octave_rnn,
    held34_r_array_gru,
    held34_r_lists_sigmoid_rnn,
)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held34_octave_rnn, held34_r_lists_sigmoid_rnn, held34_c_flat_relu_rnn, held34_matlab_cbt_lstm,
    held34_fortran_lstm, held34_c_rows_tf_lstm, held34_julia_dot_gru, held34_r_array_gru, held34_octave_ctb_gru)}


def cases():
    """Every (module name, bug, cause) of the held34 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

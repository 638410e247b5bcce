"""The thirty-seventh held-out zoo ("held37"): user-style BPTT with planted mistakes, leaning to
generated or symbolic code: derivatives derived with sympy and pasted (cse's x0, x1, ... in
expanded form), lambdify output exec'd from pasted sources, per-gate code assembled from
string templates and exec'd, and backwards that multiply out each step's Jacobian blocks.

- held37_cse_rnn: a tanh RNN (cs231n) whose step backward is pasted sympy cse output and whose
  weight gradients are einsums after the loop over an (N, T + 1, H) state array.
- held37_lambdify_relu_rnn: a ReLU RNN (karpathy) whose relu / drelu are pasted lambdify
  sources (reduce(maximum, ...), select(...)) exec'd into a NumPy namespace.
- held37_jacobian_sigmoid_rnn: a time-major sigmoid RNN (custom TND, W (H, D), U (H, H)) whose
  backward forms every chain product J_k ... J_(t+1) of the blocks diag(s') U, with sympy's
  exp(-a)/(1 + exp(-a))**2 pasted.
- held37_template_lstm: a cs231n LSTM (forget_bias 0) whose step functions are generated from
  per-gate string templates and a gate table, compiled and exec'd.
- held37_cse_tf_lstm: a tf_kernel LSTM (i, j, f, o; forget_bias 1.0) whose step backward is
  pasted sympy cse output of the expanded gate gradients.
- held37_jacblocks_tm_lstm: a time-major LSTM (custom TND, stacked per-gate W (4, D, H),
  U (4, H, H); forget_bias 1.0) carrying (dh, dc) through written-out Jacobian blocks.
- held37_cse_gru: a reset-after GRU (custom NTD, one matrix per gate, bhn apart) whose step
  backward is pasted sympy cse output in expanded form.
- held37_template_cols_gru: a reset-before GRU on column vectors (custom DNT, parameters dict)
  whose step code is assembled from per-gate row templates and exec'd in a namespace per step.
- held37_lambdify_tm_gru: a time-major torch-port GRU (weight_ih / weight_hh, reset after)
  whose partial derivatives are pasted lambdify helpers in a table (argument list, expression).
"""

from . import (held37_cse_gru, held37_cse_rnn, held37_cse_tf_lstm, held37_jacblocks_tm_lstm,
               held37_jacobian_sigmoid_rnn, held37_lambdify_relu_rnn, held37_lambdify_tm_gru,
               held37_template_cols_gru, held37_template_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held37_cse_rnn, held37_lambdify_relu_rnn, held37_jacobian_sigmoid_rnn, held37_template_lstm,
    held37_cse_tf_lstm, held37_jacblocks_tm_lstm, held37_cse_gru, held37_template_cols_gru,
    held37_lambdify_tm_gru)}


def cases():
    """Every (module name, bug, cause) of the held37 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

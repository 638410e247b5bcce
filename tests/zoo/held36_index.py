"""The thirty-sixth held-out zoo ("held36"): user-style BPTT with planted mistakes, leaning to
Jupyter-notebook code (globals from earlier cells read inside the functions, caches kept at
module level and cleared by hand, mutable default arguments, per-step results memoized in
dicts keyed by t or with functools.lru_cache, numerically careful helpers), in styles the
earlier zoos do not have:

- held36_nbglobals_rnn: a tanh RNN (cs231n) whose weights, sizes and a CACHE list are module
  globals, one tuple appended per step and ``CACHE.clear()`` by hand;
- held36_lrucache_relu_rnn: a time-major ReLU RNN with a params dict whose pre-activations,
  states and both backward recursions (dL/dh_t, dL/da_t) are lru_cache'd functions of t;
- held36_mutdefault_sigmoid_rnn: a karpathy-layout sigmoid RNN with hs={} / ps={} / grads={}
  mutable defaults, act/dact globals, the np.where stable sigmoid and a wide np.clip;
- held36_numba_lstm: a cs231n LSTM (forget_bias 0) whose step kernels are numba-style
  @njit loops over the batch, the units and the inputs on preallocated arrays;
- held36_nbcells_tf_lstm: a tf_kernel LSTM (forget_bias 1.0) with kernel, bias, FORGET_BIAS
  and a CACHE list of per-step dicts as globals, clipped pre-activations;
- held36_memo_cols_lstm: a column-major (D, N, T) LSTM (forget_bias 1.0) with per-gate W/U/b,
  global hs/cs/gates dicts keyed by t and a logaddexp sigmoid;
- held36_globaldict_cols_gru: a column-major reset-before GRU reading a global params dict
  ``P`` and memo dicts Hs, Z, R, N_ keyed by t;
- held36_tape_default_gru: a batch-first reset-after GRU on torch's stacked weights with a
  ``_tape=[]`` and an ``_acc={}`` mutable default cleared by hand, sigmoid via tanh;
- held36_lru_keras_gru: a time-major Keras-form reset-after GRU (z, r, h; bias (2, 3H)) whose
  step is an lru_cache'd function of t reading the notebook's globals.

Every module exposes ``BUGS``, ``TOUCHES`` and ``make(bug=None)`` as blind_index describes.
"""

from . import (held36_globaldict_cols_gru, held36_lru_keras_gru, held36_lrucache_relu_rnn, held36_memo_cols_lstm,
               held36_mutdefault_sigmoid_rnn, held36_nbcells_tf_lstm, held36_nbglobals_rnn, held36_numba_lstm,
               held36_tape_default_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held36_nbglobals_rnn, held36_lrucache_relu_rnn, held36_mutdefault_sigmoid_rnn, held36_numba_lstm,
    held36_nbcells_tf_lstm, held36_memo_cols_lstm, held36_globaldict_cols_gru, held36_tape_default_gru,
    held36_lru_keras_gru)}


def cases():
    """Every (module name, bug, cause) of the held36 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The eighth held-out zoo ("held8"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have: a time-major RNN class that keeps its own cache, a two-bias RNN
whose weight gradients are vectorised over time, a char-RNN-tutorial ReLU RNN on [h, x], a
sigmoid RNN in the Deep Learning book's notation with time as the last axis (N, D, T), an
LSTM in colah's notation (per-gate weights on [h, x]), a Keras-order (i, f, c, o) LSTM whose
backward stacks the gate gradients with np.hstack, a time-major LSTM with a list of
namedtuples and TF's forget bias, a GRU from torch's nn.GRU docs with state_dict names, a
GRU in Cho et al.'s convention (h = (1 - u) h_prev + u h~) with column vectors (T, D, N),
and a GRU with one flat parameter vector and tanh written with np.exp. Written without
reading the diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow,
localize, model_candidates, by_numbers, naming}.py) or its results, to measure it.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held8
"""

from . import (held8_class_tnd_rnn, held8_cho_gru, held8_colah_lstm, held8_dlbook_sigmoid_rnn, held8_flat_theta_gru,
               held8_hx_relu_rnn, held8_keras_ifco_lstm, held8_namedtuple_lstm, held8_statedict_gru,
               held8_twobias_vec_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held8_class_tnd_rnn, held8_twobias_vec_rnn, held8_hx_relu_rnn, held8_dlbook_sigmoid_rnn, held8_colah_lstm,
    held8_keras_ifco_lstm, held8_namedtuple_lstm, held8_statedict_gru, held8_cho_gru, held8_flat_theta_gru)}


def cases():
    """Every (module name, bug, cause) of the eighth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

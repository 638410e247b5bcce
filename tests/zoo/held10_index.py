"""The tenth held-out zoo ("held10"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an np.dot RNN with column states, time-major (T, D, N); a recursive
backward through a tanh written as 2 sigmoid(2a) - 1; a ReLU RNN keeping its states in a list
and np.vstack; an LSTM keeping its gates in one (T, 4, N, H) array; a PyTorch-from-scratch
LSTMCell port with weight_ih / weight_hh / bias_ih / bias_hh and a backward returning a list; an
LSTM with the forget bias b_f kept apart from the other biases and forget_bias=1; a GRU with
per-unit Python loops; a TF1-style GRU (u, c) with one dict of cache per step, time-major; a
MATLAB-port GRU with (N, D, T) data, column states and a params list), written without reading
the diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize,
model_candidates, by_numbers, naming}.py) or its results, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held10
"""

from . import (held10_dot_cols_rnn, held10_gates4_lstm, held10_matlab_gru, held10_recursive_rnn, held10_sepbf_lstm,
               held10_tf1dict_gru, held10_torchnames_lstm, held10_unitloop_gru, held10_vstack_relu_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held10_dot_cols_rnn, held10_recursive_rnn, held10_vstack_relu_rnn, held10_gates4_lstm, held10_torchnames_lstm,
    held10_sepbf_lstm, held10_unitloop_gru, held10_tf1dict_gru, held10_matlab_gru)}


def cases():
    """Every (module name, bug, cause) of the tenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The fourth held-out zoo ("held4"): user-style BPTT with planted mistakes in styles the earlier
zoos do not have (a column-major course-style GRU with the course's update gate and a
parameters dict, a d2l-style GRU with a params list, a hand port of Keras's GRU with
reset_after and its (2, 3H) bias, an LSTM written like Karpathy's batched-LSTM gist, an LSTM
written like nicodjimenez's lstm.py one example at a time, a hand port of torch's nn.RNN with
both biases, time-major) and in the built-in layouts with cell options the earlier zoos do not
use (a cs231n LSTM with a forget bias, a ReLU RNN on cs231n, a sigmoid RNN on karpathy, a
tf_kernel LSTM with per-step dicts), written without reading the diagnosis (harness/guard/
{grammar/, diagnose, mutants, model_diagnose, narrow, localize, model_candidates, by_numbers,
naming}.py) or its results on earlier zoos, to measure it on code it was never tuned to.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held4
"""

from . import (held4_course_gru, held4_cs231n_lstm_fb, held4_cs231n_relu_rnn, held4_d2l_gru, held4_gist_lstm,
               held4_karpathy_sigmoid_rnn, held4_keras_gru, held4_nico_lstm, held4_tf_lstm_dicts,
               held4_torchcell_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held4_course_gru, held4_d2l_gru, held4_keras_gru, held4_gist_lstm, held4_nico_lstm, held4_cs231n_lstm_fb,
    held4_tf_lstm_dicts, held4_torchcell_rnn, held4_cs231n_relu_rnn, held4_karpathy_sigmoid_rnn)}


def cases():
    """Every (module name, bug, cause) of the fourth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

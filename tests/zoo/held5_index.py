"""The fifth held-out zoo ("held5"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an einsum RNN, time-major; a tf_kernel RNN keeping a list of
states; a min-char-rnn run in two chained halves; a Graves-notation LSTM with per-gate
weights as a list; a cs231n LSTM looping over its gates; a port of TF1's BasicLSTMCell with
forget_bias 1.0; a course-style GRU with per-gate W, U, b in a dict; torch's nn.GRU ported
as a class; TF1's GRUCell in the cs231n style), written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize,
model_candidates, by_numbers, naming}.py) or its results, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held5
"""

from . import (held5_course_dict_gru, held5_einsum_rnn, held5_gateloop_lstm, held5_graves_lstm,
               held5_karpathy_halves_rnn, held5_tf1_basic_lstm, held5_tf1_cs231n_gru, held5_tf_states_rnn,
               held5_torch_class_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held5_einsum_rnn, held5_tf_states_rnn, held5_karpathy_halves_rnn, held5_graves_lstm, held5_gateloop_lstm,
    held5_tf1_basic_lstm, held5_course_dict_gru, held5_torch_class_gru, held5_tf1_cs231n_gru)}


def cases():
    """Every (module name, bug, cause) of the fifth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

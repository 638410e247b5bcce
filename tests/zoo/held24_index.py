"""The twenty-fourth held-out zoo ("held24"): homework- and exam-style BPTT with planted
mistakes, in styles the earlier zoos do not have (a train_step RNN with forward and BPTT in
one function, a softmax read-out sigmoid RNN whose full backward starts from dscores, a
course-notation ReLU RNN on TF's kernel, an LSTM with its gates np.stack'ed along a new
axis, a tf_kernel LSTM with forget_bias and the sigmoid written through tanh, a
channels-first LSTM with a twelve-array weight list, a time-major expit GRU with the states
in a Python list, a row-at-a-time GRU with np.outer, a homework-class GRU with d2l names),
written without reading the diagnosis (harness/guard/{grammar/, diagnose, mutants,
model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its results.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held24
"""

from . import (held24_chanfirst_list_lstm, held24_expit_list_gru, held24_homework_class_gru, held24_ngnotes_relu_rnn,
               held24_readout_sigmoid_rnn, held24_rows_gru, held24_stack4_lstm, held24_tanhsig_lstm,
               held24_trainstep_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held24_trainstep_rnn, held24_readout_sigmoid_rnn, held24_ngnotes_relu_rnn, held24_stack4_lstm,
    held24_tanhsig_lstm, held24_chanfirst_list_lstm, held24_expit_list_gru, held24_rows_gru,
    held24_homework_class_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-fourth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The eighteenth held-out zoo ("held18"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have (an RNN as a generator/coroutine pair, a tanh RNN written with
sinh/cosh, a time-major sigmoid RNN accumulating with np.tensordot, a Karpathy-layout ReLU
RNN that pops a stack of step records, a stateful Keras-style LSTM class, a TF1 LSTMCell port
with forget_bias=1.0, an LSTM with its states in dicts keyed by t, an np.split GRU with a
dsig() helper, a time-major GRU with a (T, N, 3H) gate buffer the backward overwrites, and a
"GRU from scratch" blog GRU whose z weights the new candidate), written without reading the
diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize,
model_candidates, by_numbers, naming}.py) or its results on earlier zoos.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held18
"""

from . import (held18_blog_gru, held18_buffer_gru, held18_gen_rnn, held18_sinhcosh_rnn, held18_split_gru,
               held18_stack_relu_rnn, held18_stateful_lstm, held18_tdict_lstm, held18_tensordot_sig_rnn,
               held18_tf1cell_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held18_gen_rnn, held18_sinhcosh_rnn, held18_tensordot_sig_rnn, held18_stack_relu_rnn, held18_stateful_lstm,
    held18_tf1cell_lstm, held18_tdict_lstm, held18_split_gru, held18_buffer_gru, held18_blog_gru)}


def cases():
    """Every (module name, bug, cause) of the eighteenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

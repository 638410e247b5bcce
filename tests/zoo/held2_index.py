"""The second held-out zoo ("held2"): user-style BPTT with planted mistakes in styles the
first zoos do not have (d2l's from-scratch RNN, an object-oriented LSTM layer, TF1's
GRUCell) and fresh mistakes in the built-in layouts, written without reading the diagnosis
(harness/guard/{grammar,diagnose,mutants,model_diagnose,narrow}.py) or its results, to
measure it at the end of its development.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held2
"""

from . import (held2_d2l_rnn, held2_more_cs231n_lstm, held2_more_cs231n_rnn, held2_more_karpathy_rnn,
               held2_more_tf_lstm, held2_more_tf_rnn, held2_oop_lstm, held2_tf1_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held2_d2l_rnn, held2_oop_lstm, held2_tf1_gru, held2_more_cs231n_rnn, held2_more_cs231n_lstm,
    held2_more_tf_rnn, held2_more_tf_lstm, held2_more_karpathy_rnn)}


def cases():
    """Every (module name, bug, cause) of the second held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

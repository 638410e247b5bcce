"""The third held-out zoo ("held3"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (a hand port of torch's nn.LSTM with its own weight names and a
time-major (h, c) tuple, a hand port of Keras's LSTM, a cs231n-style GRU with the blocks
z, r, n and torch's reset-after form, the binary-adder tutorial's bias-free sigmoid RNN) and
fresh mistakes in the built-in layouts (cs231n rnn and lstm, tf_kernel rnn and lstm,
karpathy), written without reading the diagnosis (harness/guard/{grammar/, diagnose,
mutants, model_diagnose, narrow, localize}.py) or its results on earlier zoos, to measure
it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held3
"""

from . import (held3_binary_adder, held3_cs231n_gru, held3_kerasport_lstm, held3_more_cs231n_lstm,
               held3_more_cs231n_rnn, held3_more_karpathy_rnn, held3_more_tf_lstm, held3_more_tf_rnn,
               held3_torchport_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held3_torchport_lstm, held3_kerasport_lstm, held3_cs231n_gru, held3_binary_adder, held3_more_cs231n_rnn,
    held3_more_cs231n_lstm, held3_more_tf_rnn, held3_more_tf_lstm, held3_more_karpathy_rnn)}


def cases():
    """Every (module name, bug, cause) of the third held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

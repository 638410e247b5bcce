"""The fourteenth held-out zoo ("held14"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have (a WildML-style RNN with states in a (T + 1, N, H) array and
the tutorial's double-loop BPTT; a cs231n RNN computing tanh as 2 sigmoid(2a) - 1; a
karpathy-layout ReLU RNN class with mask lists; a lax.scan-style LSTM with a
rematerializing step_bwd and Haiku's forget bias; a tf_kernel LSTM kept in Python lists and
walked back with enumerate(reversed(...)); a batch-first torch nn.LSTM port with per-gate
weight splits; a reset-after GRU in one flat theta unpacked into views; a reset-before GRU
in one (N, 3H) gate array addressed with slices; a channels-first (N, D, T) GRU with a list
of per-gate parameters), written without reading the diagnosis (harness/guard/{grammar/,
diagnose, mutants, model_diagnose, narrow, localize, model_candidates, by_numbers,
naming}.py) or its results on earlier zoos, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held14
"""

from . import (held14_chanfirst_gru, held14_flatviews_gru, held14_karpathy_relu_rnn, held14_lists_tf_lstm,
               held14_scan_lstm, held14_sigform_rnn, held14_slices_gru, held14_torchbf_lstm, held14_wildml_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held14_wildml_rnn, held14_sigform_rnn, held14_karpathy_relu_rnn, held14_scan_lstm, held14_lists_tf_lstm,
    held14_torchbf_lstm, held14_flatviews_gru, held14_slices_gru, held14_chanfirst_gru)}


def cases():
    """Every (module name, bug, cause) of the fourteenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

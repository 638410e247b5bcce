"""The twenty-sixth held-out zoo ("held26"): user-style BPTT with planted mistakes, leaning to
code ported between frameworks by engineers and to research prototypes: an RNN as typed pure
functions with a NamedTuple of parameters (cs231n), a ReLU RNN with tuple-keyed parameter
dicts (karpathy), a sigmoid RNN around one reused Linear object (tf_kernel), a time-major
LSTM ported from TF's LSTMCell with forget_bias 1, an LSTM on a cuDNN-canonical flat parameter
buffer with two biases per gate, an LSTM with a config dataclass, gate-slice properties and a
padding mask, a GRU ported from torch's chunked Python cell, a Wikipedia-equation reset-before
GRU with a custom_vjp-style registered backward, and a time-major GRU whose backward is built
from a table of VJP rules. Written without reading the diagnosis (harness/guard/{grammar/,
diagnose, mutants, model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py)
or its results on any zoo.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held26
"""

from . import (held26_config_lstm, held26_cudnn_flat_lstm, held26_linear_sigmoid_rnn, held26_rules_gru,
               held26_tfcell_tm_lstm, held26_torchchunk_gru, held26_tuplekey_relu_rnn, held26_typed_pure_rnn,
               held26_wiki_vjp_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held26_typed_pure_rnn, held26_tuplekey_relu_rnn, held26_linear_sigmoid_rnn, held26_tfcell_tm_lstm,
    held26_cudnn_flat_lstm, held26_config_lstm, held26_torchchunk_gru, held26_wiki_vjp_gru, held26_rules_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-sixth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

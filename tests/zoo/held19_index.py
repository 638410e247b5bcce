"""The nineteenth held-out zoo ("held19"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an einsum-everywhere cs231n RNN, a preallocated time-major sigmoid
RNN with its recurrent matrix stored transposed, a Karpathy-layout ReLU RNN as a Cell class
hierarchy, an LSTM composed of gate_forward/gate_backward over a list in o, f, i, g order, a
tf_kernel LSTM with forget_bias and a Carry namedtuple, a cs231n LSTM on preallocated
(T, N, 4H) gate arrays, a GRU with a dict of augmented [x, h, 1] matrices, a reset-after GRU
as a RecurrentCell/GRUCell hierarchy, a time-major GRU with nine per-gate arrays), written
without reading the diagnosis or its results on earlier zoos.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held19
"""

from . import (held19_actsarray_lstm, held19_augdict_gru, held19_carrytuple_tf_lstm, held19_cellclass_relu_rnn,
               held19_cellhier_gru, held19_einsum_rnn, held19_gatelist_lstm, held19_prealloc_sigmoid_rnn,
               held19_timemajor_pergate_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held19_einsum_rnn, held19_prealloc_sigmoid_rnn, held19_cellclass_relu_rnn, held19_gatelist_lstm,
    held19_carrytuple_tf_lstm, held19_actsarray_lstm, held19_augdict_gru, held19_cellhier_gru,
    held19_timemajor_pergate_gru)}


def cases():
    """Every (module name, bug, cause) of the nineteenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

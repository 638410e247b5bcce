"""The twelfth held-out zoo ("held12"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (a cs231n RNN kept as a list of per-step dicts, a ReLU RNN with
np.matmul on explicit (N, 1, H) rows and einsum gradients, a sigmoid RNN in TF's kernel
layout walked back with zip(reversed(...)), an LSTM built from a Gate helper class, a
TF-kernel LSTM whose state is one (N, 2H) array [c, h], a time-major LSTM with the bias
folded into its weight as a column, a Deep-Learning-book GRU (u, r, h~) on column vectors,
a GRU whose backward is a tape of closures over a gate dict, and a per-example GRU with
Karpathy's hs[-1] = h0 dicts), written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize, ...}.py) or
its results, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held12
"""

from . import (held12_biascol_tm_lstm, held12_dlbook_gru, held12_gateclass_lstm, held12_matmul3d_relu_rnn,
               held12_packedstate_lstm, held12_perexample_gru, held12_stepdicts_rnn, held12_tape_gatedict_gru,
               held12_zipstates_sigmoid_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held12_stepdicts_rnn, held12_matmul3d_relu_rnn, held12_zipstates_sigmoid_rnn, held12_gateclass_lstm,
    held12_packedstate_lstm, held12_biascol_tm_lstm, held12_dlbook_gru, held12_tape_gatedict_gru,
    held12_perexample_gru)}


def cases():
    """Every (module name, bug, cause) of the twelfth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The fifteenth held-out zoo ("held15"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an RNN chained from PyTorch-like Function classes with
ctx.save_for_backward, a cs231n RNN whose backward carries first and then computes every
weight gradient at once with einsum, a min-char-rnn sigmoid RNN that caches its local
derivatives in the forward, an LSTM whose gates come from one helper and a W_k/U_k/b_k dict
with setdefault-accumulated gradients, a time-major LSTM keeping a NumPy structured array of
named records, a TF1 BasicLSTMCell port with forget_bias and (c, h) state tuples, a
"minimal"-notation time-major GRU with a list of states, a column GRU with z and r stacked on
[h; x], a GRU built as a linked list of step nodes), written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize, ...}.py) or its
results on earlier zoos, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held15
"""

from . import (held15_basiccell_lstm, held15_cachedderiv_sigmoid_rnn, held15_funcs_rnn, held15_gatehelper_lstm,
               held15_hxstack_gru, held15_minimal_gru, held15_nodes_gru, held15_records_lstm, held15_twopass_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held15_funcs_rnn, held15_twopass_rnn, held15_cachedderiv_sigmoid_rnn, held15_gatehelper_lstm,
    held15_records_lstm, held15_basiccell_lstm, held15_minimal_gru, held15_hxstack_gru, held15_nodes_gru)}


def cases():
    """Every (module name, bug, cause) of the fifteenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

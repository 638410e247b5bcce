"""The ninth held-out zoo ("held9"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an RNN with its bias folded into the weight as a column of ones,
a gradient-checkpointing sigmoid RNN that recomputes its pre-activations from the stored h,
a Fortran-order ReLU RNN with column states (T, H, N), a numpy "Module" LSTM class with
params/grads dicts and zero_grad() on TF's kernel, an LSTM with its gate weights as one
3-D array (4, H, D+H) and a two-pass backward, a Karpathy-style LSTM with per-step dicts
keyed by t, a functional scan GRU with pure step functions, a GRU with (3, D, H) and
(3, H, H) weight tensors, a GRU whose gates are computed in a loop over gate names),
written without reading the diagnosis (harness/guard/{grammar/, diagnose, mutants,
model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its results,
to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held9
"""

from . import held9_bias_column_rnn, held9_checkpoint_rnn, held9_fortran_relu_rnn, held9_module_lstm, \
    held9_tensor3_lstm, held9_karpathy_dict_lstm, held9_scan_gru, \
    held9_tensor3_gru, held9_gateloop_gru

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held9_bias_column_rnn, held9_checkpoint_rnn, held9_fortran_relu_rnn, held9_module_lstm,
    held9_tensor3_lstm, held9_karpathy_dict_lstm, held9_scan_gru,
    held9_tensor3_gru, held9_gateloop_gru)}


def cases():
    """Every (module name, bug, cause) of the ninth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

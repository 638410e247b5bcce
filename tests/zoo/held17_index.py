"""The seventeenth held-out zoo ("held17"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have (a JAX-style RNN whose pure step returns its own vjp closure, a
channels-first (N, D, T) sigmoid RNN layer object, a cs231n RNN with one pre-activation array
and reshaped weight gradients, an LSTM with a list of eight matrices and one bias, a
time-major while-loop LSTM with one [x, h] weight in g, i, f, o order and forget bias 1.0, a
Deep-Learning-with-Python style LSTM with per-step dicts, a tf_kernel LSTM on kernel views
with (N, T + 1, H) state arrays, a Cho-names GRU with torch's keep-old update gate and the
reset before, a reset-after GRU with its biases as a ones-column row of each kernel, a GRU
with an explicit batch loop and np.outer), written without reading the diagnosis.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held17
"""

from . import (held17_batchloop_gru, held17_cho_names_gru, held17_dlwp_lstm, held17_kviews_tf_lstm,
               held17_layer_ndt_sigmoid_rnn, held17_list8_lstm, held17_ones_column_gru, held17_preact_batched_rnn,
               held17_vjp_rnn, held17_while_tm_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held17_vjp_rnn, held17_layer_ndt_sigmoid_rnn, held17_preact_batched_rnn, held17_list8_lstm,
    held17_while_tm_lstm, held17_dlwp_lstm, held17_kviews_tf_lstm, held17_cho_names_gru,
    held17_ones_column_gru, held17_batchloop_gru)}


def cases():
    """Every (module name, bug, cause) of the seventeenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

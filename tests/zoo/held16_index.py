"""The sixteenth held-out zoo ("held16"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an RNN dataclass holding its weights and a history list with
np.outer per example; a min-char-rnn whose dh_next flows through a pre-allocated (T+1, H, 1)
gradient buffer; a time-major sigmoid Elman RNN with a read-out outside the check; colah's
LSTM with [h, x] and four matrices; a Chainer LSTM port with interleaved a, i, f, o gates; a
tf_kernel LSTM with a forget_bias=1.0 helper recomputed from pre-activations; a Gluon GRUCell
port in TNC layout; a reset-before GRU with einsum outer products and per-gate lists; a
Keras-kernel GRU with the input projection computed once for all steps), written without
reading the diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow,
localize, model_candidates, by_numbers, naming}.py) or its results, to measure it honestly.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held16
"""

from . import (held16_chainer_lstm, held16_colah_lstm, held16_dataclass_rnn, held16_einsum_gru, held16_elman_rnn,
               held16_gluon_gru, held16_gradbuf_rnn, held16_preproj_gru, held16_tfforget_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held16_dataclass_rnn, held16_gradbuf_rnn, held16_elman_rnn, held16_colah_lstm, held16_chainer_lstm,
    held16_tfforget_lstm, held16_gluon_gru, held16_einsum_gru, held16_preproj_gru)}


def cases():
    """Every (module name, bug, cause) of the sixteenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

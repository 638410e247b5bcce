"""The twenty-ninth held-out zoo ("held29"): a recurrent layer's hand-written backward embedded
in a task's training script, the way people write one for a project: a char-level language
model with an embedding lookup feeding a cs231n RNN, a time-series forecaster with a
time-major ReLU RNN in a dict, a name generator in min-char-rnn style, a bit-parity sigmoid
RNN class on TF's kernel, a sentiment classifier's tf_kernel LSTM with forget_bias = 1.0, a
d2l-style seq2seq encoder LSTM with a params list, an image-captioning model's cs231n LSTM,
an activity-recognition GRU with mean pooling and the u = 1 - z convention (reset before),
a translation encoder GRU ported from torch (time-major, reset after) and a keyword-spotting
GRU on (T, D, N) column blocks. Written without reading the diagnosis (harness/guard/
{grammar/, diagnose, mutants, model_diagnose, narrow, localize, model_candidates, by_numbers,
naming}.py) or its results on earlier zoos.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held29
"""

from . import (held29_activity_pool_gru, held29_captioning_lstm, held29_charlm_rnn, held29_forecaster_relu_rnn,
               held29_kws_cols_gru, held29_namegen_rnn, held29_parity_sigmoid_rnn, held29_sentiment_tf_lstm,
               held29_seq2seq_d2l_lstm, held29_translate_enc_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held29_charlm_rnn, held29_forecaster_relu_rnn, held29_namegen_rnn, held29_parity_sigmoid_rnn,
    held29_sentiment_tf_lstm, held29_seq2seq_d2l_lstm, held29_captioning_lstm, held29_activity_pool_gru,
    held29_translate_enc_gru, held29_kws_cols_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-ninth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

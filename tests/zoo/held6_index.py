"""The sixth held-out zoo ("held6"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have: a torch-like LSTMCell class (chunk(4), .grad, time-major), an LSTM
whose weight gradients come after the loop from stacked gate gradients (einsum), a
min-char-rnn-style GRU one example at a time, a whole-sequence stacked RNN backward with no
step function, the sequence-models course's column-major LSTM (parameters dict, Wf/Wi/Wc/Wo),
a TF1 LSTMCell port (tf_kernel, i, j, f, o, forget_bias 0), a Keras 2 GRU with
reset_after=False, a cs231n-style ReLU RNN masking with its pre-activation, and an LSTM
keeping h and c as one (2, N, H) state (forget bias 1.0). Written without reading the
diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize,
model_candidates, by_numbers, naming}.py) or any diagnosis of these mutants. "[own]" in a
module's BUGS comments marks mistakes of the writer's own invention.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held6
"""

from . import (held6_course_lstm_dnt, held6_cs231n_relu_rnn, held6_einsum_lstm, held6_karpathy_gru,
               held6_keras_gru_rb, held6_stacked_rnn, held6_stacked_state_lstm, held6_tf1_lstmcell,
               held6_torchcell_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held6_torchcell_lstm, held6_einsum_lstm, held6_karpathy_gru, held6_stacked_rnn, held6_course_lstm_dnt,
    held6_tf1_lstmcell, held6_keras_gru_rb, held6_cs231n_relu_rnn, held6_stacked_state_lstm)}


def cases():
    """Every (module name, bug, cause) of the sixth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

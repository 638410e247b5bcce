"""The thirtieth held-out zoo ("held30"): user-style BPTT with planted mistakes, leaning to
auto-graded assignment templates filled in by students: a cs231n RNN composed from the
course's affine/tanh layer helpers, a time-major ReLU RNN from a homework skeleton with a
params dict and a grads dict, a karpathy-layout sigmoid RNN from a lab handout with the
course's dsigmoid helper, a tf_kernel LSTM with TF's forget_bias from a BasicLSTMCell
homework, a cs231n LSTM with per-step cache dicts between START/END CODE HERE markers, an
autograder-skeleton time-major LSTM with f, i, o, c blocks and (T+1) state arrays, a lab's
column-vector LSTM on [h; x] with i, o, g, f rows, a nine-array dict GRU (reset before)
built from starter-code linear helpers, a column-vector torch-layout GRU checked against
nn.GRU, and a d2l-exercise time-major GRU on Keras kernels (reset_after). Written without
reading the diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow,
localize, model_candidates, by_numbers, naming}.py) or its results on earlier zoos.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held30
"""

from . import (held30_autograder_fioc_lstm, held30_d2l_ex_keras_gru, held30_helpers_dict_gru,
               held30_hw_tf_fb_lstm, held30_lab_colvec_iogf_lstm, held30_lab_colvec_torch_gru,
               held30_lab_sigmoid_karpathy_rnn, held30_layerutils_cs231n_rnn, held30_skeleton_relu_rnn,
               held30_todo_cs231n_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held30_layerutils_cs231n_rnn, held30_skeleton_relu_rnn, held30_lab_sigmoid_karpathy_rnn,
    held30_hw_tf_fb_lstm, held30_todo_cs231n_lstm, held30_autograder_fioc_lstm, held30_lab_colvec_iogf_lstm,
    held30_helpers_dict_gru, held30_lab_colvec_torch_gru, held30_d2l_ex_keras_gru)}


def cases():
    """Every (module name, bug, cause) of the thirtieth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

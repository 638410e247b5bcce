"""The twenty-first held-out zoo ("held21"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have -- a cs231n RNN whose backward runs in micro-batches, a ReLU RNN
ported from TF1's dynamic_rnn (TensorArray and while_loop helpers) on the tf_kernel layout, a
C-style scalar-loop sigmoid RNN in (T, D, N) columns, a GRU from the ONNX operator spec (z, r,
h; W, R, B with a direction axis), the sequence-models course quiz's GRU (Gamma_u on the
candidate, one example at a time), a GRU built from a home-made ops mini-framework, an LSTM in
the notation of the "numerical example" blog post (a, i, f, o; f_(t+1) in the state carry), an
o, f, i, g LSTM on [h, x] with forget_bias 1.0, and an LSTM with word-named gates and
defaultdict gradients -- written without reading the diagnosis (harness/guard/{grammar/,
diagnose, mutants, model_diagnose, narrow, localize, model_candidates, by_numbers,
naming}.py) or its results on earlier zoos, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held21
"""

from . import (held21_dynrnn_relu_rnn, held21_gatenames_lstm, held21_gomez_lstm, held21_microbatch_rnn,
               held21_ofig_lstm, held21_onnx_gru, held21_opsgru, held21_quiz_gru, held21_scalarloop_sigmoid_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held21_microbatch_rnn, held21_dynrnn_relu_rnn, held21_scalarloop_sigmoid_rnn, held21_onnx_gru,
    held21_quiz_gru, held21_opsgru, held21_gomez_lstm, held21_ofig_lstm, held21_gatenames_lstm)}


def cases():
    """Every (module name, bug, cause) of the twenty-first held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

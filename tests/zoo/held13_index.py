"""The thirteenth held-out zoo ("held13"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (a micrograd-like Param-class RNN with a hand-written backward per
op; a sigmoid RNN in Karpathy's layout that squeezes states to 1-D vectors; a ReLU RNN in TF's
kernel layout with the bias folded into the matrix on [x, h, 1]; an LSTM whose step backward
returns a tuple and whose driver accumulates with np.add.at; a Graves-form LSTM with 8 matrices
and 4 biases in a SimpleNamespace, time-major, forget_bias 1.0; a time-major LSTM keeping h
and c in one (2, T+1, N, H) array; a Keras user's GRU with per-gate kernels and recurrent
biases (reset_after); a GRU in Cho's convention (z takes the new candidate) with column
vectors, time-major), written without reading the diagnosis (harness/guard/{grammar/,
diagnose, mutants, model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py)
or its results, to measure it in its current state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held13
"""

from . import (held13_addat_lstm, held13_augkernel_relu_rnn, held13_cho_cols_gru, held13_kerasgate_gru,
               held13_ns8_lstm, held13_param_rnn, held13_squeezed_sigmoid_rnn, held13_stackedstate_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held13_param_rnn, held13_squeezed_sigmoid_rnn, held13_augkernel_relu_rnn, held13_addat_lstm,
    held13_ns8_lstm, held13_stackedstate_lstm, held13_kerasgate_gru, held13_cho_cols_gru)}


def cases():
    """Every (module name, bug, cause) of the thirteenth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

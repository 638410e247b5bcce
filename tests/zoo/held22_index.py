"""The twenty-second held-out zoo ("held22"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have, leaning to code written by engineers and researchers: a
cs231n LSTM that projects every step's input before the loop and forms the weight gradients
after it, a time-major LSTM with h and c in one (2, N, H) state walked back with np.flip and
a forget bias, a tf_kernel LSTM run one sequence at a time on 1-D vectors, a GRU whose
backward fills one flat gradient vector through reshaped views, a time-major torch-named GRU
with a (b_ih, b_hh) tuple and a two-pass backward with np.einsum, a Keras-kernel GRU on a
preallocated (T, 5, N, H) workspace, a karpathy RNN whose backward is explicit Jacobians, a
ReLU Elman RNN with (H, N) column states and np.matmul, and a tf_kernel RNN written with
itertools.accumulate and functools.reduce. Written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize,
model_candidates, by_numbers, naming}.py) or its results, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held22
"""

from . import (held22_accumulate_rnn, held22_colmat_relu_rnn, held22_flatgrad_gru, held22_flip_lstm,
               held22_jacobian_rnn, held22_prexw_lstm, held22_rowwise_tf_lstm, held22_twopass_gru,
               held22_workspace_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held22_prexw_lstm, held22_flip_lstm, held22_rowwise_tf_lstm, held22_flatgrad_gru, held22_twopass_gru,
    held22_workspace_gru, held22_jacobian_rnn, held22_colmat_relu_rnn, held22_accumulate_rnn)}


def cases():
    """Every (module name, bug, cause) of the twenty-second held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

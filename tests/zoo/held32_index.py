"""The thirty-second held-out zoo ("held32"): user-style BPTT written to be fast in NumPy by an
experienced user, with planted mistakes, in styles the earlier zoos do not have: a cs231n RNN
kept in 2-D (N*T, .) rows with stride-T step views and one-matmul weight gradients, a
time-major ReLU RNN with torch's weight names whose backward runs in chunks with one
tensordot per chunk, a karpathy-layout sigmoid RNN taken in log space (logaddexp) over
(H, T) column blocks, an i, f, o | g LSTM with one in-place sigmoid over a 3H slab and
forget_bias, a tf_kernel LSTM around a preallocated [x, h] design buffer with einsum_path,
a gate-stacked (4, D, H) broadcast-matmul LSTM with sliding-window state pairs and a dict
backward, a TF1-form GRU with an in-place sigmoid slab and einsum weight gradients, a
time-major torch-weights GRU reading its state pairs from sliding_window_view, and a
reset-before GRU on one augmented (D+H+1, 3H) kernel with two design tensors. Written
without reading the diagnosis (harness/guard/{grammar/, diagnose, mutants, model_diagnose,
narrow, localize, model_candidates, by_numbers, naming}.py) or its results on earlier zoos.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held32
"""

from . import (held32_augbuf_gru, held32_chunked_relu_rnn, held32_designbuf_tf_lstm, held32_flatrows_rnn,
               held32_gatestack_lstm, held32_logspace_sigmoid_rnn, held32_sigslab_lstm, held32_slab_gru,
               held32_window_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held32_flatrows_rnn, held32_chunked_relu_rnn, held32_logspace_sigmoid_rnn, held32_sigslab_lstm,
    held32_designbuf_tf_lstm, held32_gatestack_lstm, held32_slab_gru, held32_window_gru, held32_augbuf_gru)}


def cases():
    """Every (module name, bug, cause) of the thirty-second held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

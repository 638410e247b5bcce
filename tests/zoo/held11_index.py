"""The eleventh held-out zoo ("held11"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have (an RNN as a layer object with forward_step / backward_step on the
karpathy layout, a time-major sigmoid RNN whose states sit in a (T + 1, N, H) array with h0 in
the last row, a batch-last ReLU RNN written with np.tensordot, a tf_kernel LSTM with one
(N, 4H) gate gradient and one matmul per step, a time-major LSTM with out= arguments and the
weight gradients after the loop, a cs231n LSTM played back from a tape of closures, a GRU
with one weight per gate and pinyin names, a time-major GRU with one matmul over [x, h] for
both gates and its weights in a list, a GRU written in the interpolation form
h + (1 - z)(n - h)), written without reading the diagnosis (harness/guard/{grammar/, diagnose,
mutants, model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its
results, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held11
"""

from . import (held11_interp_gru, held11_layer_rnn, held11_negidx_sigmoid_rnn, held11_onematmul_tf_lstm,
               held11_pinyin_gru, held11_tape_cs231n_lstm, held11_tensordot_relu_rnn, held11_timemajor_out_lstm,
               held11_zrcat_gru)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held11_layer_rnn, held11_negidx_sigmoid_rnn, held11_tensordot_relu_rnn, held11_onematmul_tf_lstm,
    held11_timemajor_out_lstm, held11_tape_cs231n_lstm, held11_pinyin_gru, held11_zrcat_gru, held11_interp_gru)}


def cases():
    """Every (module name, bug, cause) of the eleventh held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The twentieth held-out zoo ("held20"): user-style BPTT with planted mistakes, leaning to
RNN and LSTM code ported from other languages and libraries, in styles the earlier zoos do
not have: a Caffe layer with data/diff blobs (ReLU RNN), a Theano scan with a backward scan
(Karpathy's layout), TF1's static_rnn with a sigmoid BasicRNNCell (tf_kernel), MXNet Gluon's
LSTMCell, the ONNX LSTM operator (i, o, f, c; W, R, B; time-major), the Theano tutorial's
LSTM in TF's kernel layout with forget_bias 1.0, PaddlePaddle's dynamic_gru (u, r, c,
origin_mode, reset before), torch's C++ gru_cell with its fused backward's workspace, and
Julia Flux's GRUv3 (column vectors, (D, N, T)). Written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize, ...}.py) or
its results on earlier zoos, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held20
"""

from . import (held20_aten_gru, held20_caffe_relu_rnn, held20_flux_gru, held20_gluon_lstm, held20_onnx_lstm,
               held20_paddle_gru, held20_static_sigmoid_rnn, held20_theano_scan_rnn, held20_theano_tf_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held20_caffe_relu_rnn, held20_theano_scan_rnn, held20_static_sigmoid_rnn, held20_gluon_lstm, held20_onnx_lstm,
    held20_theano_tf_lstm, held20_paddle_gru, held20_aten_gru, held20_flux_gru)}


def cases():
    """Every (module name, bug, cause) of the twentieth held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The twenty-third held-out zoo ("held23"): user-style BPTT with planted mistakes in styles
the earlier zoos do not have, leaning to code from Q&A threads and Chinese, Japanese and
Korean tutorials: a Zhihu-answer RNN with U, W and the states in a dict keyed by t (error
terms delta_t first, weight gradients summed afterwards), a Stack Overflow time-major ReLU
RNN with preallocated arrays and a dh_next buffer, an annotated min-char-rnn turned sigmoid
(karpathy layout), a CSDN cs231n RNN writing each dprev_h back into dh, a zero-kara
("ゼロから作る Deep Learning ❷") TimeLSTM in f, g, i, o order and TimeGRU with the book's
update convention (reset before), a CSDN LSTM with one helper per gate and the cell state C
(time-major, forget_bias 1.0, gradients returned in a dict), a Korean tf_kernel LSTM port
recomputing its gates from cached pre-activations, a Korean GRU straight from torch's
documentation with twelve per-gate weights, and an einsum-everywhere time-major GRU in
z, r, n order; written without reading the diagnosis (harness/guard/{grammar/, diagnose,
mutants, model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its
results on earlier zoos, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held23
"""

from . import (held23_csdn_cs231n_rnn, held23_csdn_gatehelper_lstm, held23_einsum_tm_gru,
               held23_korean_tfkernel_lstm, held23_korean_torchdocs_gru, held23_so_relu_rnn,
               held23_zerokara_gru, held23_zerokara_lstm, held23_zhihu_rnn, held23_zhushi_sigmoid_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held23_zhihu_rnn, held23_so_relu_rnn, held23_zhushi_sigmoid_rnn, held23_csdn_cs231n_rnn,
    held23_zerokara_lstm, held23_csdn_gatehelper_lstm, held23_korean_tfkernel_lstm,
    held23_korean_torchdocs_gru, held23_zerokara_gru, held23_einsum_tm_gru)}


def cases():
    """Every (module name, bug, cause) of the twenty-third held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

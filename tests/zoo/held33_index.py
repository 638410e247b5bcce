"""The thirty-third held-out zoo ("held33"): user-style BPTT with planted mistakes in code
that walks batches and sequences in unusual ways: a cs231n RNN with the loop over the
examples outside the loop over time, a karpathy RNN whose backward walks a precomputed index
list, a time-major sigmoid RNN run in chunks with the state carried between chunks, a
tf_kernel LSTM (forget_bias 1.0) whose backward walks flipped copies of dh and the tape
forward, a micro-batched f, i, o, g LSTM with forget_bias, a cs231n LSTM run in windows
with (h, c) carried across them, a GRU kept in flat (N*T) rows reached through an index
list, a time-major reset-before GRU unrolled two steps at a time, and a GRU with a memory
dict per example. Written without reading the diagnosis (harness/guard/{grammar/, diagnose,
mutants, model_diagnose, narrow, localize, model_candidates, by_numbers, naming}.py) or its
results on earlier zoos, to measure it on code it was never tuned to.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held33
"""

from . import (held33_chunked_sigmoid_rnn, held33_exloop_rnn, held33_exmem_gru, held33_flatrows_gru,
               held33_flipped_tf_lstm, held33_idxlist_rnn, held33_microbatch_lstm, held33_unroll2_gru,
               held33_windows_lstm)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held33_exloop_rnn, held33_idxlist_rnn, held33_chunked_sigmoid_rnn, held33_flipped_tf_lstm,
    held33_microbatch_lstm, held33_windows_lstm, held33_flatrows_gru, held33_unroll2_gru, held33_exmem_gru)}


def cases():
    """Every (module name, bug, cause) of the thirty-third held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The seventh held-out zoo ("held7"): user-style BPTT with planted mistakes in styles the
earlier zoos do not have: an RNNCell class as a Chinese blog tutorial writes it (one kernel
on [x, s], its own tanh and d_tanh at the pre-activation, an inner loop walking each step's
error back), a cs231n-layout LSTM whose step backward returns a dict and whose driver adds
with np.add(..., out=...), a GRU with its gates as separate (W, U, b) dicts in Cho's update
form, a TF1 GRUCell-like GRU with a gates kernel [r, u] and a candidate kernel (time-major),
min-char-rnn with a sigmoid, a forget_bias=1.0 LSTM with preallocated arrays and np.split,
an RNN looping over the examples of a batch in Python, a column-vector GRU one example at a
time (reset_after=False) and an LSTM carrying {"h": dh, "c": dc} in a dict. About 60% of
the mistakes are issue 8's list written in each style, about 30% other mistakes students
make (loops run forward in time, truncated BPTT and clipping inside the backward, in-place
writes, gradients divided by N or T, caches read at the wrong index), about 8% "unknown"
(two mistakes at once, an arbitrary constant). Written without reading the diagnosis
(harness/guard/{grammar/, diagnose, mutants, model_diagnose, narrow, localize,
model_candidates, by_numbers, naming}.py) or its results, to measure it in its final state.

Same module shape as blind_index: ``BUGS`` {bug: cause}, ``TOUCHES`` {bug: canonical gate
letters, computed with blind_index.touched_gates}, ``make(bug=None) -> (forward, backward,
options)`` for ``harness.check_backward``. Self-check (booleans and counts only):

    cd tests && PYTHONPATH=.. python -m zoo.verify held7
"""

from . import (held7_column_gru, held7_cs231n_dict_lstm, held7_gate_dicts_gru, held7_karpathy_sigmoid_rnn,
               held7_per_example_rnn, held7_prealloc_fb_lstm, held7_state_dict_lstm, held7_tf1_kernels_gru,
               held7_zh_tutorial_rnn)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held7_zh_tutorial_rnn, held7_karpathy_sigmoid_rnn, held7_per_example_rnn, held7_cs231n_dict_lstm,
    held7_prealloc_fb_lstm, held7_state_dict_lstm, held7_gate_dicts_gru, held7_tf1_kernels_gru, held7_column_gru)}


def cases():
    """Every (module name, bug, cause) of the seventh held-out zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""The thirty-eighth held-out zoo ("held38"): user-style BPTT with planted mistakes, leaning to a
beginner's code (per-gate blocks copied and pasted with small edits, explicit Python loops over
the batch and over time, lists appended and indexed with hand-kept counters, ``.copy()`` and
``copy.deepcopy`` sprinkled defensively, print-debugging behind a DEBUG flag, forward values
recomputed inside the backward, long functions), written without reading the diagnosis:

- held38_homework_rnn: a tanh RNN (cs231n) with a loop over the batch inside the loop over
  time, a state list with h0 at index 0 read through a hand-kept counter, and the backward
  recomputing the pre-activations.
- held38_perexample_relu_rnn: a ReLU RNN, time-major custom layout with torch's two biases,
  whose outer loop runs over the examples (1-D vectors, np.outer), with a step counter.
- held38_records_sigmoid_rnn: a sigmoid RNN (karpathy) appending one dict record per step, the
  backward deep-copying, reversing and walking the record list.
- held38_pasted_gates_lstm: an LSTM (cs231n, forget_bias 0) whose four gates are pasted blocks
  of weight slices, walked back with a while loop over a hand-kept counter.
- held38_fourmats_lstm: a column-major (D, N, T) LSTM with Wf, Wi, Wc, Wo on [h; x], forget
  bias 1.0, weight gradients summed in a loop over the columns, gates recomputed.
- held38_batchloop_kernel_lstm: a TF BasicLSTMCell port (tf_kernel, forget_bias 1.0) looping
  over the batch row by row through the kernel, nonlinearities redone in the backward.
- held38_pasted_gru: a reset-after GRU, batch-first, one (W, U, b) per gate plus b_hn, pasted
  gate blocks and lists of per-step values.
- held38_examples_tm_gru: a reset-before GRU, time-major, torch-shaped per-gate weights, nested
  loops over time (a while counter) and over the examples, forward recomputed per example.
- held38_cols_stacked_gru: a reset-after column-major (D, N, T) GRU with stacked z, r, h
  weights cut by hand-written slices, states in one (H, N, T + 1) array.
"""

from . import (
    held38_batchloop_kernel_lstm,
    held38_cols_stacked_gru,
    held38_examples_tm_gru,
    held38_fourmats_lstm,
    held38_homework_rnn,
    held38_pasted_gates_lstm,
    held38_pasted_gru,
    held38_perexample_relu_rnn,
    held38_records_sigmoid_rnn,
)

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in (
    held38_homework_rnn, held38_perexample_relu_rnn, held38_records_sigmoid_rnn, held38_pasted_gates_lstm,
    held38_fourmats_lstm, held38_batchloop_kernel_lstm, held38_pasted_gru, held38_examples_tm_gru,
    held38_cols_stacked_gru)}


def cases():
    """Every (module name, bug, cause) of the held38 zoo."""
    return [(name, bug, cause) for name, mod in MODULES.items() for bug, cause in mod.BUGS.items()]

"""Fast sequence drivers of the reference cells: the same BPTT as the textbook cells in
``reference_impls/{rnn,lstm,gru}.py``, written for speed (time-major arrays, in-place
steps, one matrix product for all input projections before the loop and one for all
weight gradients after it). Each is tested equal to its textbook cell (float64, 1e-12);
read the textbook cells to learn BPTT, these to see what the harness runs.
"""

from . import gru, lstm, rnn

__all__ = ["rnn", "lstm", "gru"]

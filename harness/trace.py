"""The canonical trace every backend returns, and helpers to fill it.

A trace maps (quantity, layer, step) to an array; step is None for whole-sequence
totals. Quantities:

    gates         activated gate values of the layer at step t, canonical
                  order (LSTM i, f, g, o; GRU r, z, n), computed by each
                  framework from its own weights and states               (N, G*H)
    h, c          hidden / cell state of the layer at step t            (N, H)
    dh_total      dL/dh_t counting every consumer: the loss, the layer
                  above and the next step (the recurrent carry)          (N, H)
    dc_total      the same for the LSTM cell state                       (N, H)
    dx            dL/dx_t, the gradient of the stack's input at step t   (N, D)   layer 0
    dweight_ih .. at a step: that step's contribution to the gradient of the
                  shared weight; total: the shared-weight gradient (the sum
                  over steps)
    dh0, dc0      gradient of the initial states (totals)                (N, H)

Bidirectional, variable-length and projected layers add (harness.probe's extended probes):

    out           what layer k outputs at step t when it has two directions:
                  their merge (concat, sum, mul, ave)                    (N, M)
    h_n, c_n      the final state of each sequence, after its own last
                  step (variable lengths: not step T-1) (totals)         (N, H)
    dweight_hr    the projection (LSTM proj_size / num_proj)             (P, H)
    dweight_ci, dweight_cf, dweight_co
                  the peepholes of i, f (on c_(t-1)) and o (on c_t)      (H,)

Steps are always steps of the *input* sequence: the reverse direction's values live in
``Trace.reverse`` under the same keys, ``h`` at step t being the state that read input
step t. With variable lengths, padded steps have no states: a backend stores whatever
its framework holds there and ``Trace.padding`` says what its outputs are at padded
steps ("zero" or "carry": the last real output); the comparison never treats padded
rows as data (see harness.compare).

Linear in T. A per-step quantity is stored once, as one time-major sequence (T, ...)
(``add_steps``): step t is a view ``seq[t]``, never a copy of the sequence, and
``compare_traces`` compares whole sequences a chunk of steps at a time. Each step's
weight-gradient contribution is kept as its factors (``StepProducts``: at step t,
dL/da_t^T @ input_t, where a_t is the step's pre-activation), materialized a chunk of
steps at a time by one batched matrix product when compared: a (T, G*H, D) array per
weight never exists (plain probes: the extended probes of bidirectional, padded or projected
layers still form per-step contributions as arrays).
"""

from collections.abc import MutableMapping
from dataclasses import dataclass, field

import numpy as np

# Order in which quantities are computed within one (layer, step): used to sort rows
# and to find the first place where two traces diverge.
FORWARD = ("gates", "h", "c", "out", "h_padded", "out_padded")
QUANTITIES = ("gates", "h", "c", "out", "h_padded", "out_padded", "dh_total", "dc_total", "dweight_ih",
              "dweight_hh", "dbias_ih", "dbias_hh", "dweight_hr", "dweight_ci", "dweight_cf", "dweight_co",
              "dx", "dh0", "dc0", "h_n", "c_n")
PARAM_GRADS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")        # gated: split by gate block
EXTRA_PARAM_GRADS = ("dweight_hr", "dweight_ci", "dweight_cf", "dweight_co")
# What has no batch axis (rows are not sequences): never masked by sequence lengths.
NO_BATCH = PARAM_GRADS + EXTRA_PARAM_GRADS


class StepProducts:
    """Each step's contribution to a weight gradient, kept as its factors.

    At step t the contribution is, for each ``(rows, right)`` in ``blocks``,
    ``value[rows] = left[t][:, rows].T @ right[t]``: ``left`` (T, N, R) holds dL/da_t, the
    gradient of the step's pre-activation (R = G*H rows of the weight), and ``right``
    (T, N, C) what the weight multiplies at that step (x_t for weight_ih, h_{t-1} for
    weight_hh; r_t * h_{t-1} for the n rows of a reset-before GRU). Both are the
    backend's own numbers; the product is exact algebra on them.
    """

    def __init__(self, left, blocks):
        self.left = left
        self.blocks = tuple((rows, right) for rows, right in blocks)
        T, _, R = left.shape
        self.shape = (T, R, self.blocks[0][1].shape[2])
        self.dtype = np.result_type(left, *(right for _, right in self.blocks))

    def __len__(self):
        return self.shape[0]

    def chunk(self, start, stop, out=None):
        """Steps start..stop-1 materialized: (stop - start, R, C), one batched product per block
        (into ``out`` when given: a buffer reused from chunk to chunk)."""
        if out is None:
            out = np.empty((stop - start,) + self.shape[1:], dtype=self.dtype)
        for rows, right in self.blocks:
            np.matmul(self.left[start:stop, :, rows].transpose(0, 2, 1), right[start:stop], out=out[:, rows])
        return out

    def __getitem__(self, t):
        t = range(len(self))[t]
        return self.chunk(t, t + 1)[0]

    def __array__(self, dtype=None, copy=None):
        out = self.chunk(0, len(self))
        return out if dtype is None else out.astype(dtype)


def time_major(seq, time_axis=1):
    """``seq`` with time first, contiguous and writeable: no copy when it already is (a
    transposed view of a time-major array, as the backends here produce); one copy otherwise
    (also of a read-only view of a framework's buffer)."""
    out = np.ascontiguousarray(np.moveaxis(np.asarray(seq), time_axis, 0))
    return out if out.flags.writeable else out.copy()


class TraceValues(MutableMapping):
    """(quantity, layer, step|None) -> array, holding per-step quantities as whole sequences.

    A dict to its users; ``sequences`` gives the (quantity, layer) -> time-major sequence
    (an array (T, ...) or StepProducts) that ``compare_traces`` compares in chunks.
    Step t of a sequence is ``seq[t]``: a view of an array, or one materialized product.
    """

    def __init__(self, items=()):
        self.single = {}
        self.sequences = {}
        self.update(items)

    def _seq_of(self, key):
        quantity, layer, step = key
        seq = self.sequences.get((quantity, layer))
        if seq is None or step is None or not isinstance(step, (int, np.integer)) or not 0 <= step < len(seq):
            return None
        return seq

    def __getitem__(self, key):
        if key in self.single:
            return self.single[key]
        seq = self._seq_of(key)
        if seq is None:
            raise KeyError(key)
        return seq[key[2]]

    def __contains__(self, key):
        return key in self.single or self._seq_of(key) is not None

    def __setitem__(self, key, value):
        if self._seq_of(key) is not None:
            self._unpack(key[:2])
        self.single[key] = value

    def __delitem__(self, key):
        if self._seq_of(key) is not None:
            self._unpack(key[:2])
        del self.single[key]

    def _unpack(self, pair):
        """Turn one sequence into single steps (only when a step of it is replaced or deleted)."""
        seq = self.sequences.pop(pair)
        for t in range(len(seq)):
            self.single[pair + (t,)] = seq[t]

    def __iter__(self):
        yield from self.single
        for (quantity, layer), seq in self.sequences.items():
            for t in range(len(seq)):
                if (quantity, layer, t) not in self.single:
                    yield (quantity, layer, t)

    def __len__(self):
        return sum(1 for _ in self)

    def set_steps(self, quantity, layer, seq):
        """Store a time-major sequence; replaces single steps of the same quantity and layer."""
        for t in range(len(seq)):
            self.single.pop((quantity, layer, t), None)
        self.sequences[(quantity, layer)] = seq


def sequences(values):
    """The whole sequences of a trace's values ({} for a plain dict)."""
    return getattr(values, "sequences", {})


def singles(values):
    """The entries not held in a sequence."""
    return getattr(values, "single", values)


@dataclass
class Trace:
    """What one backend computed for one probe."""
    backend: str
    values: MutableMapping = field(default_factory=TraceValues)   # (quantity, layer, step|None) -> array
    note: str = ""                                 # why some quantities are absent
    reverse: MutableMapping = field(default_factory=TraceValues)  # the reverse direction's values, same keys
    padding: dict = field(default_factory=dict)    # quantity -> its values at padded steps: "zero"/"carry"

    def of(self, direction):
        """The values of direction 0 (forward) or 1 (reverse)."""
        return self.reverse if direction == 1 else self.values

    def add_steps(self, quantity, layer, seq, time_axis=1, direction=0):
        """Store seq's slices along ``time_axis`` as per-step values: the sequence is made
        time-major once (no copy if it already is) and every step is a view of it."""
        tm = seq if isinstance(seq, StepProducts) else time_major(seq, time_axis)
        store = self.of(direction)
        if isinstance(store, TraceValues):
            store.set_steps(quantity, layer, tm)
        else:                                      # a plain dict put there by a caller
            for t in range(len(tm)):
                store[(quantity, layer, t)] = tm[t]

    def add_total(self, quantity, layer, value, direction=0):
        self.of(direction)[(quantity, layer, None)] = value


def add_weight_steps(trace, layer, da_ih, da_hh, inputs, h_prev, hn_in=None, bias=True):
    """Each step's contribution to the layer's weight gradients, from the backend's own numbers.

    Args:
        da_ih, da_hh: (T, N, G*H), canonical gate order: dL/da_t of the input projection
            (x_t W_ih^T + b_ih) and of the recurrent one (h_{t-1} W_hh^T + b_hh), as the
            framework's own backward computed them.
        inputs: (T, N, D) what W_ih multiplied at every step; h_prev (T, N, H) h_{t-1}.
        hn_in: (T, N, H) what the n rows of W_hh multiplied in a reset-before GRU
            (r_t * h_{t-1}), else None.
        bias: whether the layer has biases (then dbias = dL/da summed over the batch).
    """
    hh = [(slice(None), h_prev)]
    if hn_in is not None:
        H = h_prev.shape[2]
        hh = [(slice(0, 2 * H), h_prev), (slice(2 * H, 3 * H), hn_in)]
    trace.add_steps("dweight_ih", layer, StepProducts(da_ih, [(slice(None), inputs)]))
    trace.add_steps("dweight_hh", layer, StepProducts(da_hh, hh))
    if bias:
        trace.add_steps("dbias_ih", layer, da_ih.sum(axis=1), time_axis=0)
        trace.add_steps("dbias_hh", layer, da_hh.sum(axis=1), time_axis=0)

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
    dweight_ih .. at a step: that step's contribution to the gradient
                  (weights untied into one copy per step); total: the
                  shared-weight gradient (the sum over steps)
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
"""

from dataclasses import dataclass, field

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


@dataclass
class Trace:
    """What one backend computed for one probe."""
    backend: str
    values: dict = field(default_factory=dict)    # (quantity, layer, step|None) -> ndarray
    note: str = ""                                 # why some quantities are absent
    reverse: dict = field(default_factory=dict)    # the reverse direction's values, same keys
    padding: dict = field(default_factory=dict)    # quantity -> its values at padded steps: "zero"/"carry"

    def of(self, direction):
        """The values of direction 0 (forward) or 1 (reverse)."""
        return self.reverse if direction == 1 else self.values

    def add_steps(self, quantity, layer, seq, time_axis=1, direction=0):
        """Store seq's slices along ``time_axis`` as per-step values."""
        store = self.of(direction)
        for t in range(seq.shape[time_axis]):
            store[(quantity, layer, t)] = seq.take(t, axis=time_axis)

    def add_total(self, quantity, layer, value, direction=0):
        self.of(direction)[(quantity, layer, None)] = value

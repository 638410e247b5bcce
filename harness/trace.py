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
"""

from dataclasses import dataclass, field

# Order in which quantities are computed within one (layer, step): used to sort rows
# and to find the first place where two traces diverge.
FORWARD = ("gates", "h", "c")
QUANTITIES = ("gates", "h", "c", "dh_total", "dc_total", "dweight_ih", "dweight_hh",
              "dbias_ih", "dbias_hh", "dx", "dh0", "dc0")
PARAM_GRADS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


@dataclass
class Trace:
    """What one backend computed for one probe."""
    backend: str
    values: dict = field(default_factory=dict)    # (quantity, layer, step|None) -> ndarray
    note: str = ""                                 # why some quantities are absent

    def add_steps(self, quantity, layer, seq, time_axis=1):
        """Store seq's slices along ``time_axis`` as per-step values."""
        for t in range(seq.shape[time_axis]):
            self.values[(quantity, layer, t)] = seq.take(t, axis=time_axis)

    def add_total(self, quantity, layer, value):
        self.values[(quantity, layer, None)] = value

"""The NumPy reference for extended probes (harness.probe.Probe.extended): bidirectional
layers and stacks, variable-length batches, the LSTM's projection, peepholes and clips,
through reference_impls.bidirectional. Every quantity of every layer, direction and step."""

import numpy as np

from reference_impls.bidirectional import seq_backward, seq_forward

from ..trace import Trace


def full_lengths(probe):
    """(N,) the probe's sequence lengths, T for each when the batch is not padded."""
    N, T = probe.sizes["N"], probe.sizes["T"]
    return np.full(N, T) if probe.lengths is None else np.asarray(probe.lengths)


def run_reference_seq(probe, name="reference"):
    """Forward and BPTT of the whole stack; a Trace with the reverse direction in ``reverse``."""
    Dn, st = probe.directions, probe.structure
    layer_params = [[probe.layer_params(k, d) for d in range(Dn)] for k in range(probe.layers)]
    run = seq_forward(probe.cell, probe.x, full_lengths(probe), probe.state0, layer_params, Dn, st.merge,
                      st.stacking, **probe.options)
    grads, dx = seq_backward(run, probe.dout, probe.dstate_n)
    trace = Trace(name)
    for k in range(probe.layers):
        for d in range(Dn):
            g = grads[k][d]
            if run.gates[k][d] is not None:
                trace.add_steps("gates", k, run.gates[k][d], direction=d)
            for s, value in run.states[k][d].items():
                trace.add_steps(s, k, value, direction=d)
                trace.add_steps(f"d{s}_total", k, g[f"d{s}_total"], direction=d)
                trace.add_total(f"d{s}0", k, g[f"d{s}0"], direction=d)
                trace.add_total(f"{s}_n", k, run.finals[k][d][s], direction=d)
            for quantity, per_step in g["steps"].items():
                trace.add_steps(quantity, k, per_step, time_axis=0, direction=d)
                trace.add_total(quantity, k, g[quantity], direction=d)
        if Dn == 2 and run.outputs[k] is not None:
            trace.add_steps("out", k, run.outputs[k])
    trace.add_steps("dx", 0, dx)
    return trace

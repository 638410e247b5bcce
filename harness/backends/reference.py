"""The NumPy reference cells (reference_impls) as a backend."""

from reference_impls.stack import CELLS, stack_backward, stack_forward

from ..trace import StepProducts, Trace

NAME = "reference"


def run_reference(probe):
    """Forward and BPTT through the reference stack; every quantity at every layer and step."""
    if probe.extended:
        from .reference_seq import run_reference_seq
        return run_reference_seq(probe, NAME)
    layer_params = [probe.layer_params(k) for k in range(probe.layers)]
    states, caches = stack_forward(probe.cell, probe.x, probe.state0, layer_params, **probe.options)
    grads = stack_backward(probe.cell, probe.dout, probe.dstate_n, caches)
    return reference_trace(NAME, probe.cell, states, grads, caches)


def reference_trace(name, cell, states, grads, caches):
    """Fill a Trace from the outputs of ``stack_forward`` / ``stack_backward``."""
    spec = CELLS[cell]
    trace = Trace(name)
    for layer, (st, g, cache) in enumerate(zip(states, grads, caches)):
        gates = spec.gate_values(cache)
        if gates is not None:
            trace.add_steps("gates", layer, gates)
        for state in spec.states:
            trace.add_steps(state, layer, st[state])
            trace.add_steps(f"d{state}_total", layer, g[f"d{state}_total"])
            trace.add_total(f"d{state}0", layer, g[f"d{state}0"])
        for quantity, per_step in spec.step_param_factors(g, cache).items():
            trace.add_steps(quantity, layer, StepProducts(*per_step) if isinstance(per_step, tuple) else per_step,
                            time_axis=0)
            trace.add_total(quantity, layer, g[quantity])
    trace.add_steps("dx", 0, grads[0]["dx"])
    return trace

"""The untied unroll of an extended probe, written once for torch and TensorFlow.

One copy of every layer's weights per (layer, direction, input step), so that the
framework's own autograd yields each input step's contribution to every weight gradient;
every state the cells produce is kept, so that its gradient is the total adjoint.

Structure, as reference_impls.bidirectional defines it and torch/TF compute it: layer by
layer (both directions of layer k read the merged output of layer k-1, or, for
"separate" stacks, direction d reads direction d below); each sequence runs over its own
length, the reverse direction over each sequence reversed within its own length. At
processing step s the sequences still running are grouped by the input step they read
(all the same for equal lengths): each group is one call of that step's cell on those
rows, and the rows of sequences that have ended are left as they are (the final state is
each sequence's state after its own last step). Padded outputs are 0.

``Ops`` holds the few framework operations this needs (concat, zeros, and taking or
replacing the rows ``idx`` of a (N, size) tensor without writing in place);
what the cells are is the caller's ``cells[k][d][p](inp, state) -> (gates, state)``, where
gates may be a function computing them later (outside any gradient tape).
"""

from collections import namedtuple

import numpy as np

from reference_impls.bidirectional import input_order

Ops = namedtuple("Ops", "concat zeros gather scatter")
Kept = namedtuple("Kept", "states gates finals outputs top")


def merge(ops, mode, parts):
    """The framework form of reference_impls.bidirectional.merge_forward."""
    if len(parts) == 1:
        return parts[0]
    fwd, rev = parts
    if mode in ("concat", "none"):
        return ops.concat([fwd, rev], -1)
    return {"sum": lambda: fwd + rev, "mul": lambda: fwd * rev, "ave": lambda: (fwd + rev) / 2}[mode]()


def unroll(ops, probe, lengths, x_steps, state0, cells):
    """Run the stack. x_steps: list over T of (N, D) tensors; state0 {name: list over L*Dn of
    (N, size)}; cells[k][d][p] the step of layer k, direction d at input step p, called on
    the rows of the sequences that read input step p at that moment.

    Returns Kept: states [(k, d, p, rows, {name: (n, size)})], gates [(k, d, p, rows, (n, G*H))],
    finals[k][d] {name: (N, size)}, outputs[k] (a list over T of the merged (N, M) outputs, or
    None for the lower layers of separate stacks), top (the top layer's merged outputs)."""
    L, Dn, T = probe.layers, probe.directions, probe.sizes["T"]
    separate = probe.structure.stacking == "separate"
    kept = Kept([], [], [[None] * Dn for _ in range(L)], [], None)
    h_seqs = [[None] * Dn for _ in range(L)]
    for k in range(L):
        for d in range(Dn):
            if k == 0:
                inputs = x_steps
            else:
                inputs = h_seqs[k - 1][d] if separate else kept.outputs[k - 1]
            h_seqs[k][d], kept.finals[k][d] = _run_layer(ops, lengths, inputs, {s: v[k * Dn + d] for s, v in state0.items()},
                                                         cells[k][d], (k, d), kept)
        merged = not separate or k == L - 1
        kept.outputs.append([merge(ops, probe.structure.merge, [h_seqs[k][d][t] for d in range(Dn)])
                             for t in range(T)] if merged else None)
    return kept._replace(top=kept.outputs[-1])


def _run_layer(ops, lengths, inputs, state0, steps, where, kept):
    """One direction of one layer: (its h at every input step as (N, size) tensors, 0 where
    padded; its final states {name: (N, size)})."""
    N, T = len(lengths), len(inputs)
    reverse = where[1] == 1
    state, h_at = dict(state0), [None] * T
    for s in range(T):
        groups = {}
        for n in np.flatnonzero(lengths > s):
            groups.setdefault(int(input_order(int(lengths[n]), reverse)[s]), []).append(int(n))
        for p, idx in sorted(groups.items()):
            whole = len(idx) == N                               # every sequence, in order: no gather
            take = (lambda t: t) if whole else (lambda t: ops.gather(t, idx))
            gates, new = steps[p](take(inputs[p]), {name: take(v) for name, v in state.items()})
            kept.states.append(where + (p, idx, new))
            if gates is not None:
                kept.gates.append(where + (p, idx, gates))
            state = new if whole else {name: ops.scatter(state[name], idx, new[name]) for name in state}
            base = h_at[p] if h_at[p] is not None else ops.zeros(state0["h"])
            h_at[p] = new["h"] if whole else ops.scatter(base, idx, new["h"])
    zero = ops.zeros(state0["h"])
    return [h if h is not None else zero for h in h_at], state


def loss_terms(probe, kept, dot):
    """<top outputs, dout> + <final states, dstate_n>, with ``dot(tensor, array)``."""
    Dn = probe.directions
    loss = sum(dot(kept.top[t], probe.dout[:, t]) for t in range(probe.sizes["T"]))
    for k, per_dir in enumerate(kept.finals):
        for d, finals in enumerate(per_dir):
            for s, value in finals.items():
                loss = loss + dot(value, probe.dstate_n[s][k * Dn + d])
    return loss


def fill_trace(trace, probe, kept, adjoints, to_numpy):
    """States, total adjoints (``adjoints``: the gradients of kept.states' tensors, same
    order), gates, final states and merged outputs, scattered back into (N, .) arrays."""
    N = probe.sizes["N"]
    arrays = {}
    for (k, d, p, idx, new), grads in zip(kept.states, adjoints):
        for name, value in new.items():
            for q, v in ((name, value), (f"d{name}_total", grads[name])):
                if v is None:
                    continue
                v = to_numpy(v)
                key = (q, k, p, d)
                arrays.setdefault(key, np.zeros((N,) + v.shape[1:], dtype=v.dtype))[idx] = v
    for k, d, p, idx, gates in kept.gates:
        v = to_numpy(gates() if callable(gates) else gates)       # a step may defer its gate values
        arrays.setdefault(("gates", k, p, d), np.zeros((N,) + v.shape[1:], dtype=v.dtype))[idx] = v
    for (q, k, p, d), v in arrays.items():
        trace.of(d)[(q, k, p)] = v
    for k, per_dir in enumerate(kept.finals):
        for d, finals in enumerate(per_dir):
            for s, value in finals.items():
                trace.add_total(f"{s}_n", k, to_numpy(value), direction=d)
        if probe.directions == 2 and kept.outputs[k] is not None:
            for t, value in enumerate(kept.outputs[k]):
                trace.values[("out", k, t)] = to_numpy(value)


def add_step_grads(trace, probe, per_step, canonical):
    """Per-step weight contributions: per_step[k][d][p] the gradients of that copy's weights,
    ``canonical(k, d, grads) -> {"d<name>": array}``; their sum is the total."""
    for k, per_dir in enumerate(per_step):
        for d, steps in enumerate(per_dir):
            mapped = [canonical(k, d, g) for g in steps]
            for name in mapped[0]:
                stacked = np.stack([m[name] for m in mapped])
                trace.add_steps(name, k, stacked, time_axis=0, direction=d)
                trace.add_total(name, k, stacked.sum(axis=0), direction=d)


def zeros_for_none(grads, weights):
    """TensorFlow's gradients[k][d][p][i] with None (a weight copy no sequence reached) as
    zeros of that weight's shape."""
    import tensorflow as tf
    return [[[[g if g is not None else tf.zeros_like(w) for g, w in zip(gs, ws)] for gs, ws in zip(gd, wd)]
             for gd, wd in zip(gk, wk)] for gk, wk in zip(grads, weights)]

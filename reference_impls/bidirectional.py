"""Recurrent layers over padded batches of variable-length sequences, in one or two
directions, and stacks of them.

Sequence n of the batch has ``lengths[n]`` real steps (1 <= lengths[n] <= T) followed by
padding. Every layer runs each sequence over its own length only, exactly as if it were
alone: the padding never enters a state, and the final state of sequence n is its state
after its own last step. (Sequences of equal length run together as one batch.)

Direction 0 (forward) reads each sequence from its first step to its last. Direction 1
(reverse) is a layer of its own (its own weights and initial state) over each sequence
reversed *within its own length*: input steps len-1, len-2, ..., 0, as torch's packed
sequences and TF's ``reverse_sequence`` do, never over the padded length T. Its states
are put back in input order: ``h[:, t]`` of the reverse direction is the state that read
input step t, and its final state is the one after input step 0.

Two directions are merged into what the layer outputs (``merge``): "concat" [fwd | rev]
(torch, Keras's default, TF's tuple), "sum", "mul", "ave" (Keras's other merge modes), or
"none" (Keras's merge_mode=None: the two apart; the same numbers as concat). Stacks come
in two kinds (``stacking``):

    "interleaved"  every layer reads the merged output of both directions of the layer
                   below (torch's bidirectional modules, Keras's stacked Bidirectional
                   layers, TF1's stack_bidirectional_dynamic_rnn);
    "separate"     each direction is a stack of its own, merged only at the top (TF1's
                   bidirectional_dynamic_rnn and static_bidirectional_rnn given two
                   MultiRNNCells): its layer k > 0 reads H inputs, not 2H.

Padded outputs are 0 (as torch's pad_packed_sequence and TF's dynamic_rnn give them).

Shapes: x (N, T, D); lengths (N,); initial states {"h": (L*Dn, N, Hs), ["c": ...]} with
index k*Dn + d (torch's h_0 order) for layer k and direction d, Dn = 1 or 2 directions.
"""

from dataclasses import dataclass

import numpy as np

from .stack import cell_spec

MERGES = ("concat", "sum", "mul", "ave", "none")
STACKINGS = ("interleaved", "separate")


def input_order(length, reverse):
    """The input step each processing step reads: 0..len-1, or len-1..0 for the reverse."""
    order = np.arange(length)
    return order[::-1].copy() if reverse else order


def layer_forward(cell, x, lengths, state0, params, reverse=False, **options):
    """One direction of one layer. x (N, T, D), lengths (N,), state0 {name: (N, Hs)}.

    Returns (states {name: (N, T, Hs)} in input order, 0 at padded steps; final {name: (N, Hs)};
    gates (N, T, G*H) or None; cache for ``layer_backward``)."""
    spec, opts = cell_spec(cell, params, options)
    N, T, _ = x.shape
    states, final, gates, groups = {}, {}, None, []
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)              # the sequences of this length
        order = input_order(int(length), reverse)
        s0 = tuple(state0[name][idx] for name in spec.states)
        st, cache = spec.forward(x[idx][:, order], s0, params, **opts)
        for name, value in st.items():                     # (n, len, Hs) in processing order
            states.setdefault(name, np.zeros((N, T, value.shape[2]), dtype=value.dtype))
            states[name][idx[:, None], order] = value
            final.setdefault(name, np.zeros((N, value.shape[2]), dtype=value.dtype))[idx] = value[:, -1]
        g = spec.gate_values(cache)
        if g is not None:
            gates = np.zeros((N, T, g.shape[2]), dtype=g.dtype) if gates is None else gates
            gates[idx[:, None], order] = g
        groups.append((idx, order, cache))
    return states, final, gates, (spec, groups, x.shape)


def layer_backward(dh, dstate_n, cache):
    """BPTT of one direction of one layer. dh (N, T, Hs): upstream gradient of every step's
    h in input order (padded steps ignored); dstate_n {name: (N, Hs)}: gradient of the
    final states. Returns {"dx" (N, T, D), "d<s>0", "d<s>_total" (N, T, Hs) in input order,
    "d<param>" totals, "steps": {"d<param>": (T, *shape)} each input step's contribution}."""
    spec, groups, (N, T, D) = cache
    out, steps = {"dx": np.zeros((N, T, D), dtype=dh.dtype)}, {}
    for idx, order, c in groups:
        dh_g = dh[idx][:, order]                             # a copy, in processing order
        dh_g[:, -1] += dstate_n["h"][idx]                    # the final state's gradient joins at the end
        g = spec.backward(dh_g, {s: dstate_n[s][idx] for s in spec.states if s != "h"}, c)
        out["dx"][idx[:, None], order] = g["dx"]
        for s in spec.states:
            total = out.setdefault(f"d{s}_total", np.zeros((N, T) + g[f"d{s}0"].shape[1:], dtype=dh.dtype))
            total[idx[:, None], order] = g[f"d{s}_total"]
            out.setdefault(f"d{s}0", np.zeros((N,) + g[f"d{s}0"].shape[1:], dtype=dh.dtype))[idx] = g[f"d{s}0"]
        for name, per_step in spec.step_param_grads(g, c).items():
            acc = steps.setdefault(name, np.zeros((T,) + per_step.shape[1:], dtype=per_step.dtype))
            acc[order] += per_step                           # processing step s read input step order[s]
            out[name] = out.get(name, 0) + g[name]
    out["steps"] = steps
    return out


def merge_forward(merge, parts):
    """What a layer outputs from its directions' h (N, T, Hs) each."""
    if len(parts) == 1:
        return parts[0]
    fwd, rev = parts
    if merge in ("concat", "none"):
        return np.concatenate([fwd, rev], axis=-1)
    return {"sum": fwd + rev, "mul": fwd * rev, "ave": (fwd + rev) / 2}[merge]


def merge_backward(merge, dout, parts):
    """The gradient of each direction's h from the gradient of the merged output."""
    if len(parts) == 1:
        return [dout]
    fwd, rev = parts
    if merge in ("concat", "none"):
        return np.split(dout, 2, axis=-1)
    return {"sum": [dout, dout], "mul": [dout * rev, dout * fwd], "ave": [dout / 2, dout / 2]}[merge]


@dataclass
class Run:
    """A forward run of a stack: states[k][d], finals[k][d] ({name: array}), gates[k][d],
    outputs[k] (the merged output of layer k; for "separate" stacks only the top one is
    merged, the lower layers' outputs are their own h), and the caches."""
    structure: tuple            # (directions, merge, stacking)
    states: list
    finals: list
    gates: list
    outputs: list
    caches: list


def seq_forward(cell, x, lengths, state0, layer_params, directions=1, merge="concat",
                stacking="interleaved", **options):
    """Run L layers in ``directions`` (1 or 2) over the padded batch ``x`` (N, T, D).

    layer_params: list over layers of a list over directions of parameter dicts (no suffix).
    state0: {name: (L*directions, N, Hs)}, index k*directions + d. Returns a ``Run``."""
    L, Dn = len(layer_params), directions
    if Dn == 1 or stacking == "interleaved":
        layer_inputs = lambda k, d, run: x if k == 0 else run.outputs[k - 1]
    else:
        layer_inputs = lambda k, d, run: x if k == 0 else run.states[k - 1][d]["h"]
    run = Run((Dn, merge, stacking), [], [], [], [], [])
    order = [(k, d) for k in range(L) for d in range(Dn)]
    for k, d in order:
        s0 = {name: v[k * Dn + d] for name, v in state0.items()}
        st, fin, gates, cache = layer_forward(cell, layer_inputs(k, d, run), lengths, s0, layer_params[k][d],
                                              reverse=d == 1, **options)
        if d == 0:
            run.states.append([]), run.finals.append([]), run.gates.append([]), run.caches.append([])
        run.states[k].append(st), run.finals[k].append(fin), run.gates[k].append(gates), run.caches[k].append(cache)
        if d == Dn - 1:
            merged = stacking == "interleaved" or k == L - 1
            parts = [run.states[k][j]["h"] for j in range(Dn)]
            run.outputs.append(merge_forward(merge, parts) if merged else None)
    return run


def seq_backward(run, dout, dstate_n):
    """Backpropagate through the stack, top layer first.

    dout: gradient of the top layer's merged output (N, T, M); dstate_n: {name: (L*Dn, N, Hs)}.
    Returns (grads[k][d] as ``layer_backward`` gives them, dx (N, T, D) of the stack's input)."""
    Dn, merge, stacking = run.structure
    L = len(run.states)
    grads = [[None] * Dn for _ in range(L)]
    top = merge_backward(merge, dout, [run.states[L - 1][d]["h"] for d in range(Dn)])
    dh = list(top)
    for k in reversed(range(L)):
        for d in range(Dn):
            dn = {name: v[k * Dn + d] for name, v in dstate_n.items()}
            grads[k][d] = layer_backward(dh[d], dn, run.caches[k][d])
        if k == 0:
            break
        if Dn == 1 or stacking == "separate":
            dh = [grads[k][d]["dx"] for d in range(Dn)]      # each direction's stack on its own
        else:
            dsum = sum(grads[k][d]["dx"] for d in range(Dn))  # both directions read the merged output
            dh = merge_backward(merge, dsum, [run.states[k - 1][d]["h"] for d in range(Dn)])
    return grads, sum(grads[0][d]["dx"] for d in range(Dn))

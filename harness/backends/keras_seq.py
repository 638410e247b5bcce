"""Keras 3 (TensorFlow backend) for extended probes: ``Bidirectional`` layers (merge modes
concat, sum, mul, ave and None) and masked padded batches (named for an LSTM; SimpleRNN
and GRU alike):

    keras.LSTM            the stacked layers as users run them, each ``LSTM(...,
                          return_sequences=True, return_state=True)`` or
                          ``Bidirectional(LSTM(...), merge_mode=...)``, called with
                          ``mask=`` (the padding mask of the probe's lengths) and the probe's
                          initial states: every layer's output at every step, every final
                          state, total gradients
    keras.LSTMCell-loop   the untied unroll (harness.backends._unroll) of Keras cells under a
                          GradientTape: everything, per step and direction

What Keras does at masked steps was read off Keras 3 itself (tests/test_keras_seq.py holds
it): the state is carried through unchanged; a plain layer's output there repeats the last
real output (``zero_output_for_mask=False``, the default), while ``Bidirectional`` forces
``zero_output_for_mask=True`` on both its layers, so its outputs there are 0. The backward
layer (``go_backwards=True``) reverses the whole padded sequence with its mask: the masked
steps come first and only carry its initial state, so each sequence is in effect reversed
within its own length. Keras has no projection, peepholes or clips, and stacks
Bidirectional layers (every layer reads both directions below): those are refused.
"""

import numpy as np

from ..errors import LayoutError
from ..layouts import keras_layout as layout
from .. import threads
from ..trace import Trace
from ._tf import dot
from .keras_backend import LOOP, _cell_kwargs, import_framework  # noqa: F401  (the family's import)
from .tf_seq import _add_input_grads, _watched, tape_unroll

MERGE_MODES = {"concat": "concat", "sum": "sum", "mul": "mul", "ave": "ave", "none": None}


def backend_names(cell):
    spec = layout.TABLE[cell]
    return [f"keras.{spec.layer}", f"keras.{spec.cell}{LOOP}"]


def unsupported(name, probe):
    """Why backend ``name`` cannot run ``probe`` exactly, or None."""
    st, L = probe.structure, probe.layers
    extras = [n for n, on in (("proj_size", st.proj_size), ("peepholes", st.peepholes),
                              ("cell_clip", "cell_clip" in probe.options)) if on]
    if extras:
        return f"{name}: Keras's LSTM has no {', '.join(extras)} (TF1 LSTMCell and torch cover them)"
    if st.directions == 2 and st.stacking == "separate" and L > 1:
        return (f"{name}: stacked Bidirectional layers feed every layer both directions of the layer below; "
                "separate per-direction stacks (TF1 bidirectional_dynamic_rnn with MultiRNNCells) have no Keras form")
    if st.directions == 2 and st.merge == "none" and L > 1 and not name.endswith(LOOP):
        return (f"{name}: Bidirectional(merge_mode=None) returns the two directions apart, which the next "
                "stacked layer cannot read; use a merge mode for more than one layer")
    act = probe.options.get("activation")
    if probe.cell == "rnn" and act not in ("tanh", "relu", "sigmoid", "identity"):
        return f"{name}: activation {act!r}"
    try:
        layout.to_keras_weights(probe.cell, probe.layer_params(0), probe.options)
    except LayoutError as exc:
        return f"{name}: {exc}"
    return None


def run(name, probe):
    keras = import_framework()
    import tensorflow as tf
    trace = Trace(name)
    with threads.budget("tensorflow"):
        (_run_loop if name.endswith(LOOP) else _run_layers)(keras, tf, probe, trace)
    return trace


def _states(probe):
    return [s for s in ("h", "c") if s in probe.state0]     # Keras's state list order: [h, c]


def _input_size(probe, layer):
    s = probe.sizes
    return probe.structure.input_size(layer, s["D"], s["H"])


def _make_layer(keras, probe, layer):
    s, Dn = probe.sizes, probe.directions
    kw = _cell_kwargs(probe)
    if probe.cell != "rnn":
        kw["use_cudnn"] = False
    cls = getattr(keras.layers, layout.TABLE[probe.cell].layer)
    rnn = cls(s["H"], return_sequences=True, return_state=True, **kw)
    if Dn == 2:
        rnn = keras.layers.Bidirectional(rnn, merge_mode=MERGE_MODES[probe.structure.merge], dtype=probe.dtype)
    rnn.build((s["N"], s["T"], _input_size(probe, layer)))
    parts = [rnn.forward_layer, rnn.backward_layer] if Dn == 2 else [rnn]
    for d, part in enumerate(parts):
        layout.load_weights(part, probe.cell, probe.layer_params(layer, d), probe.options)
    return rnn, parts


def _run_layers(keras, tf, probe, trace):
    L, Dn, n_s = probe.layers, probe.directions, len(_states(probe))
    mask = None if probe.lengths is None else tf.constant(np.arange(probe.sizes["T"])[None] < probe.lengths[:, None])
    layers = [_make_layer(keras, probe, k) for k in range(L)]
    with tf.GradientTape() as tape:
        x, s0 = _watched(tf, probe, tape)
        inp, outs, finals = x, [], []
        for k, (rnn, _) in enumerate(layers):
            init = [s0[s][k * Dn + d] for d in range(Dn) for s in _states(probe)]
            result = rnn(inp, initial_state=init, mask=mask)
            n_out = 2 if Dn == 2 and probe.structure.merge == "none" else 1
            out = result[0] if n_out == 1 else tf.concat(result[:2], -1)
            states = result[n_out:]
            finals.append([dict(zip(_states(probe), states[d * n_s:(d + 1) * n_s])) for d in range(Dn)])
            outs.append(out)
            inp = out
        loss = dot(tf, inp, probe.dout) + sum(dot(tf, v, probe.dstate_n[s][k * Dn + d])
                                              for k in range(L) for d in range(Dn) for s, v in finals[k][d].items())
    weights = [[list(part.trainable_weights) for part in parts] for _, parts in layers]
    dx, ds0, dw = tape.gradient(loss, [x, s0, weights])
    _layers_trace(probe, trace, outs, finals, dw)
    _add_input_grads(trace, probe, dx, ds0)


def _layers_trace(probe, trace, outs, finals, dw):
    Dn, P = probe.directions, probe.sizes["P"]
    split = Dn == 1 or probe.structure.merge in ("concat", "none")
    for k, out in enumerate(outs):
        if split:
            for d in range(Dn):
                trace.add_steps("h", k, out[..., d * P:(d + 1) * P].numpy(), direction=d)
        if Dn == 2:
            trace.add_steps("out", k, out.numpy())
        for d in range(Dn):
            for s, v in finals[k][d].items():
                trace.add_total(f"{s}_n", k, v.numpy(), direction=d)
            for n, g in layout.grads_from_keras(probe.cell, [g.numpy() for g in dw[k][d]], probe.options).items():
                trace.add_total(f"d{n}", k, g, direction=d)
    if probe.lengths is not None:      # see the module docstring: established from Keras itself
        trace.padding = {"h": "zero", "out": "zero"} if Dn == 2 else {"h": "carry"}
    trace.note = (f"{trace.backend} exposes every layer's outputs at every step and every final state; per-step "
                  "adjoints, weight contributions, gate values and the LSTM's c before the end are not "
                  "observable through a layer call" + ("" if split else
                                                        f", nor each direction's h under merge {probe.structure.merge!r}"))


def _make_cell(keras, probe, layer, direction):
    cls = getattr(keras.layers, layout.TABLE[probe.cell].cell)
    cell = cls(probe.sizes["H"], **_cell_kwargs(probe))
    cell.build((None, _input_size(probe, layer)))
    return layout.load_weights(cell, probe.cell, probe.layer_params(layer, direction), probe.options)


def _run_loop(keras, tf, probe, trace):
    from .keras_backend import gate_values
    L, Dn, T = probe.layers, probe.directions, probe.sizes["T"]
    copies = [[[_make_cell(keras, probe, k, d) for _ in range(T)] for d in range(Dn)] for k in range(L)]
    names = _states(probe)

    def step_of(cell):
        def step(inp, st):
            _, new = cell.call(inp, [st[s] for s in names])               # the cell's own math (built, same dtype)
            gates = None if probe.cell == "rnn" else (lambda: gate_values(tf, probe.cell, cell, inp, st["h"]))
            return gates, dict(zip(names, new))                          # gate values: later, outside the tape
        return step
    dx, ds0 = tape_unroll(tf, probe, trace, copies, step_of, lambda c: list(c.trainable_weights), lambda k, d, g: {
        f"d{n}": v for n, v in layout.grads_from_keras(probe.cell, [a.numpy() for a in g], probe.options).items()})
    _add_input_grads(trace, probe, dx, ds0)

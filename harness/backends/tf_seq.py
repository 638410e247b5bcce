"""TensorFlow's TF1 cells for extended probes: bidirectional layers, padded
variable-length batches (``sequence_length``), LSTMCell's projection (``num_proj``),
peepholes (``use_peepholes``) and clips (``cell_clip``, ``proj_clip``). Drivers (named
for an LSTMCell; BasicRNNCell, BasicLSTMCell and GRUCell alike):

    tf.LSTMCell-loop                        the untied unroll (harness.backends._unroll) of
                                            the cells, step by step under a GradientTape:
                                            everything, per step and direction
    tf.LSTMCell-dynamic_rnn, -static_rnn    one direction: a MultiRNNCell through
                                            dynamic_rnn / static_rnn with sequence_length
    tf.LSTMCell-bidirectional_dynamic_rnn   two MultiRNNCell stacks, forward and backward,
    tf.LSTMCell-static_bidirectional_rnn    run SEPARATELY (stacking "separate"): layer k > 0
                                            of each stack reads only its own direction below
    tf.LSTMCell-stack_bidirectional_dynamic_rnn
                                            tf.contrib.rnn's stack_bidirectional_dynamic_rnn
                                            (TF 1.x, removed in TF 2), as it was written: one
                                            bidirectional_dynamic_rnn per layer, the next layer
                                            reading the concatenation of both (stacking
                                            "interleaved", as torch). Every layer's outputs.

The difference between the last two kinds is a real porting difference: with more than
one layer the models differ (layer k > 0 reads P inputs in one, 2P in the other), so a
probe of one kind refuses the drivers of the other, saying why. TF1 returns the two
directions as a tuple: Keras's merge modes sum, mul and ave are applied to it in TF ops
(so stack_bidirectional_dynamic_rnn, which concatenates between layers, refuses them for
more than one layer). Padded outputs are 0 in every driver (dynamic_rnn's rule).
"""

import numpy as np

from ..errors import LayoutError
from ..layouts import tf_layout as layout
from .. import threads
from ..trace import Trace
from . import _unroll
from ._tf import ACTIVATIONS, dot, import_tensorflow, legacy_rnn_cell
from .reference_seq import full_lengths
from .tf_backend import _quiet

CLASSES = {"rnn": ("BasicRNNCell",), "lstm": ("BasicLSTMCell", "LSTMCell"), "gru": ("GRUCell",)}
ONE_WAY = ("loop", "static_rnn", "dynamic_rnn")
TWO_WAY = ("loop", "static_bidirectional_rnn", "bidirectional_dynamic_rnn", "stack_bidirectional_dynamic_rnn")
SEPARATE = ("static_bidirectional_rnn", "bidirectional_dynamic_rnn")


def import_framework():
    return legacy_rnn_cell()


def backend_names(cell):
    return [f"tf.{cls}-{d}" for cls in CLASSES[cell] for d in dict.fromkeys(ONE_WAY + TWO_WAY)]


def _extras(probe):
    st = probe.structure
    return bool(st.proj_size or st.peepholes or "cell_clip" in probe.options)


def backend_names_for(probe):
    """The drivers of this probe's direction count; LSTMCell (the only cell with the extras)
    gets every driver when the probe has extras, the loop otherwise (BasicLSTMCell's math)."""
    drivers = TWO_WAY if probe.directions == 2 else ONE_WAY
    names = []
    for cls in CLASSES[probe.cell]:
        for d in drivers:
            if cls == "LSTMCell" and not _extras(probe) and d != "loop":
                continue
            names.append(f"tf.{cls}-{d}")
    return names


def _parse(name):
    cls, driver = name[len("tf."):].rsplit("-", 1)
    return cls, driver


def unsupported(name, probe):
    """Why backend ``name`` cannot run ``probe`` exactly, or None."""
    cls, driver = _parse(name)
    st, L = probe.structure, probe.layers
    act = probe.options.get("activation")
    if probe.cell == "rnn" and act not in ACTIVATIONS:
        return f"{name} offers the activations {', '.join(ACTIVATIONS)} (activation={act})"
    if cls == "BasicLSTMCell" and _extras(probe):
        return f"{name}: only LSTMCell has num_proj, use_peepholes and cell_clip; tf.LSTMCell-{driver} covers them"
    if st.directions == 2 and st.merge not in ("concat", "none") and driver.startswith("stack") and L > 1:
        return (f"{name}: concatenates the two directions between layers; merge {st.merge!r} between layers "
                "(Keras's Bidirectional merge_mode) has no stack_bidirectional_dynamic_rnn form")
    if (driver in ONE_WAY[1:]) == (st.directions == 2) and driver != "loop":
        return f"{name}: a {'one' if driver in ONE_WAY else 'two'}-direction driver, the probe has {st.directions}"
    if driver in SEPARATE and st.stacking == "interleaved" and L > 1:
        return (f"{name}: given MultiRNNCell stacks, {driver} runs the forward and backward stacks separately "
                "(layer k > 0 of each reads only its own direction below: P inputs), while torch, Keras and "
                "stack_bidirectional_dynamic_rnn feed every layer both directions (2P inputs): a different model, "
                "not a port; compare it with stacking='separate'")
    if driver == "stack_bidirectional_dynamic_rnn" and st.stacking == "separate" and L > 1:
        return (f"{name}: feeds every layer both directions of the layer below (2P inputs); separate stacks "
                "(stacking='separate', bidirectional_dynamic_rnn with MultiRNNCells) are a different model")
    try:
        layout.to_tf_weights(probe.cell, probe.layer_params(0), probe.options)
        layout.cell_kwargs(probe.cell, probe.options)
    except LayoutError as exc:
        return f"{name}: {exc}"
    return None


def run(name, probe):
    rnn_cell = import_framework()
    tf = import_tensorflow()
    cls, driver = _parse(name)
    trace = Trace(name)
    with _quiet(tf), threads.budget("tensorflow"):
        if driver == "loop":
            _run_loop(tf, rnn_cell, cls, probe, trace)
        else:
            _run_fused(tf, rnn_cell, cls, driver, probe, trace)
    return trace


def _cells(tf, rnn_cell, cls, probe, layer, direction, count):
    """``count`` built cells of one layer and direction, loaded with its canonical weights."""
    s, st = probe.sizes, probe.structure
    kwargs = layout.cell_kwargs(probe.cell, probe.options, st.peepholes, st.proj_size)
    if probe.cell == "rnn":
        kwargs["activation"] = ACTIVATIONS[probe.options["activation"]]
    built = []
    for _ in range(count):
        cell = getattr(rnn_cell, cls)(s["H"], dtype=tf.as_dtype(probe.dtype), **kwargs)
        cell.build(tf.TensorShape([None, st.input_size(layer, s["D"], s["H"])]))
        built.append(layout.load_weights(cell, probe.cell, probe.layer_params(layer, direction), probe.options))
    return built


def _tf_state(rnn_cell, probe, st):
    if probe.cell == "lstm":
        return rnn_cell.LSTMStateTuple(c=st["c"], h=st["h"])
    return st["h"]


def _from_tf_state(probe, state):
    return {"h": state.h, "c": state.c} if probe.cell == "lstm" else {"h": state}


def _grads(probe, layer, grads):
    st = probe.structure
    D = st.input_size(layer, probe.sizes["D"], probe.sizes["H"])
    return layout.grads_from_tf(probe.cell, [g.numpy() for g in grads], D, probe.bias, st.peepholes,
                                bool(st.proj_size))


def _watched(tf, probe, tape):
    x = tf.constant(probe.x)
    s0 = {s: [tf.constant(v[i]) for i in range(v.shape[0])] for s, v in probe.state0.items()}
    tape.watch([x] + [t for v in s0.values() for t in v])
    return x, s0


def tf_ops(tf):
    """harness.backends._unroll.Ops in TensorFlow."""
    return _unroll.Ops(concat=tf.concat, zeros=tf.zeros_like, gather=tf.gather,
                       scatter=lambda t, idx, v: tf.tensor_scatter_nd_update(t, np.asarray(idx)[:, None], v))


def _run_loop(tf, rnn_cell, cls, probe, trace):
    L, Dn, T = probe.layers, probe.directions, probe.sizes["T"]
    copies = [[_cells(tf, rnn_cell, cls, probe, k, d, T) for d in range(Dn)] for k in range(L)]

    def step_of(cell):
        def step(inp, st):
            out, new = cell.call(inp, _tf_state(rnn_cell, probe, st))   # the cell's own math (built: no __call__)
            new = _from_tf_state(probe, new)
            gates = None if probe.cell == "rnn" else (lambda: gate_values(tf, probe, cell, inp, st, new))
            return gates, new                                            # gate values: later, outside the tape
        return step
    dx, ds0 = tape_unroll(tf, probe, trace, copies, step_of, lambda c: list(c.weights),
                          lambda k, d, g: {f"d{n}": v for n, v in _grads(probe, k, g).items()})
    _add_input_grads(trace, probe, dx, ds0)


def tape_unroll(tf, probe, trace, copies, step_of, weights_of, grads_of):
    """The unrolled layers (``copies``: per layer, per direction, one cell per step) under one
    GradientTape: states and adjoints into ``trace``, each copy's weight gradients through
    ``grads_of(layer, direction, grads)`` -> {"d<name>": array}. Returns (dx, ds0) as tensors."""
    with tf.GradientTape() as tape:
        x, s0 = _watched(tf, probe, tape)
        kept = _unroll.unroll(tf_ops(tf), probe, full_lengths(probe), tf.unstack(x, axis=1), s0,
                              [[[step_of(c) for c in per_dir] for per_dir in per_layer] for per_layer in copies])
        loss = _unroll.loss_terms(probe, kept, lambda t, a: dot(tf, t, a))
    weights = [[[weights_of(c) for c in per_dir] for per_dir in per_layer] for per_layer in copies]
    news = [new for *_, new in kept.states]
    dx, ds0, dkept, dw = tape.gradient(loss, [x, s0, news, weights])
    _unroll.fill_trace(trace, probe, kept, dkept, lambda t: t.numpy())
    dw = _unroll.zeros_for_none(dw, weights)         # a copy no sequence reached gets no gradient: 0
    _unroll.add_step_grads(trace, probe, dw, grads_of)
    return dx, ds0


def _add_input_grads(trace, probe, dx, ds0):
    trace.add_steps("dx", 0, dx.numpy())
    Dn = probe.directions
    for s, grads in ds0.items():
        for i, g in enumerate(grads):
            trace.add_total(f"d{s}0", i // Dn, g.numpy(), direction=i % Dn)


def _run_fused(tf, rnn_cell, cls, driver, probe, trace):
    L, Dn = probe.layers, probe.directions
    cells = [[_cells(tf, rnn_cell, cls, probe, k, d, 1)[0] for d in range(Dn)] for k in range(L)]
    seq_len = None if probe.lengths is None else tf.constant(probe.lengths, dtype=tf.int32)
    with tf.GradientTape() as tape:
        x, s0 = _watched(tf, probe, tape)
        init = [[_tf_state(rnn_cell, probe, {s: v[k * Dn + d] for s, v in s0.items()}) for d in range(Dn)]
                for k in range(L)]
        outs, finals = DRIVERS[driver](tf, rnn_cell, cells, init, x, seq_len)
        P = probe.sizes["P"]
        merged = [_unroll.merge(tf_ops(tf), probe.structure.merge, [out[..., d * P:(d + 1) * P] for d in range(Dn)])
                  for _, out in outs]                      # TF1's tuple, merged as the probe says
        loss = dot(tf, merged[-1], probe.dout)
        for k in range(L):
            for d in range(Dn):
                for s, v in _from_tf_state(probe, finals[k][d]).items():
                    loss = loss + dot(tf, v, probe.dstate_n[s][k * Dn + d])
    dx, ds0, dw = tape.gradient(loss, [x, s0, [[list(c.weights) for c in per] for per in cells]])
    for (k, out), top in zip(outs, merged):
        for d in range(Dn):
            trace.add_steps("h", k, out[..., d * P:(d + 1) * P].numpy(), direction=d)
        if Dn == 2:
            trace.add_steps("out", k, top.numpy())
    trace.padding = {"h": "zero", "out": "zero"} if probe.lengths is not None else {}
    for k in range(L):
        for d in range(Dn):
            for s, v in _from_tf_state(probe, finals[k][d]).items():
                trace.add_total(f"{s}_n", k, v.numpy(), direction=d)
            for n, v in _grads(probe, k, dw[k][d]).items():
                trace.add_total(f"d{n}", k, v, direction=d)
    _add_input_grads(trace, probe, dx, ds0)
    trace.note = (f"{trace.backend} exposes {'every' if driver.startswith('stack') else 'the top'} layer's outputs "
                  "and every final state; per-step adjoints, weight contributions and gate values are not "
                  f"observable in one {driver} call")


# Each driver: (tf, rnn_cell, cells[k][d], initial states[k][d], x (N, T, D), sequence_length)
# -> ([(layer, its output (N, T, M))], final states[k][d]).

def _dynamic(tf, rnn_cell, cells, init, x, seq_len):
    stack = rnn_cell.MultiRNNCell([c[0] for c in cells])
    out, final = tf.compat.v1.nn.dynamic_rnn(stack, x, sequence_length=seq_len,
                                             initial_state=tuple(i[0] for i in init))
    return [(len(cells) - 1, out)], [[f] for f in final]


def _static(tf, rnn_cell, cells, init, x, seq_len):
    stack = rnn_cell.MultiRNNCell([c[0] for c in cells])
    outs, final = tf.compat.v1.nn.static_rnn(stack, tf.unstack(x, axis=1), sequence_length=seq_len,
                                             initial_state=tuple(i[0] for i in init))
    return [(len(cells) - 1, tf.stack(outs, axis=1))], [[f] for f in final]


def _bidirectional(tf, rnn_cell, cells, init, x, seq_len):
    fw, bw = (rnn_cell.MultiRNNCell([c[d] for c in cells]) for d in (0, 1))
    (out_fw, out_bw), (st_fw, st_bw) = tf.compat.v1.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=seq_len, initial_state_fw=tuple(i[0] for i in init),
        initial_state_bw=tuple(i[1] for i in init))
    return [(len(cells) - 1, tf.concat([out_fw, out_bw], 2))], [[f, b] for f, b in zip(st_fw, st_bw)]


def _static_bidirectional(tf, rnn_cell, cells, init, x, seq_len):
    fw, bw = (rnn_cell.MultiRNNCell([c[d] for c in cells]) for d in (0, 1))
    outs, st_fw, st_bw = tf.compat.v1.nn.static_bidirectional_rnn(
        fw, bw, tf.unstack(x, axis=1), sequence_length=seq_len, initial_state_fw=tuple(i[0] for i in init),
        initial_state_bw=tuple(i[1] for i in init))
    return [(len(cells) - 1, tf.stack(outs, axis=1))], [[f, b] for f, b in zip(st_fw, st_bw)]


def _stack_bidirectional(tf, rnn_cell, cells, init, x, seq_len):
    """tf.contrib.rnn.stack_bidirectional_dynamic_rnn (TF 1.x) as it was written: per layer,
    bidirectional_dynamic_rnn on the two cells, then ``prev_layer = concat(outputs, 2)``."""
    prev, outs, finals = x, [], []
    for k, (cell_fw, cell_bw) in enumerate(cells):
        (out_fw, out_bw), (st_fw, st_bw) = tf.compat.v1.nn.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, prev, sequence_length=seq_len, initial_state_fw=init[k][0],
            initial_state_bw=init[k][1], scope=f"stack_bidirectional_rnn/cell_{k}/bidirectional_rnn")
        prev = tf.concat([out_fw, out_bw], 2)
        outs.append((k, prev))
        finals.append([st_fw, st_bw])
    return outs, finals


DRIVERS = {"dynamic_rnn": _dynamic, "static_rnn": _static, "bidirectional_dynamic_rnn": _bidirectional,
           "static_bidirectional_rnn": _static_bidirectional,
           "stack_bidirectional_dynamic_rnn": _stack_bidirectional}


def gate_values(tf, probe, tf_cell, inp, st, new):
    """The activated gates of one TF1 cell's step, (N, G*H) in canonical order (LSTM i, f, g,
    o; GRU r, z, n), computed as its call() does from its own variables, forget_bias and
    peepholes (o's reads the new, clipped c: ``new["c"]``), outside the loss."""
    if probe.cell == "rnn":
        return None
    names = layout.variable_names(probe.cell, *layout.cell_extras(tf_cell))
    w = dict(zip(names, tf_cell.weights))
    xh = tf.concat([inp, st["h"]], 1)
    if probe.cell == "lstm":                       # columns i, j(=g), f, o
        i, j, f, o = tf.split(tf.nn.bias_add(tf.matmul(xh, w["kernel"]), w["bias"]), 4, axis=1)
        if "w_i_diag" in w:
            i, f, o = i + w["w_i_diag"] * st["c"], f + w["w_f_diag"] * st["c"], o + w["w_o_diag"] * new["c"]
        fb = tf.constant(tf_cell._forget_bias, dtype=f.dtype)
        return tf.concat([tf.sigmoid(i), tf.sigmoid(f + fb), tf_cell._activation(j), tf.sigmoid(o)], 1)
    r, u = tf.split(tf.sigmoid(tf.nn.bias_add(tf.matmul(xh, w["gates/kernel"]), w["gates/bias"])), 2, axis=1)
    cand = tf.nn.bias_add(tf.matmul(tf.concat([inp, r * st["h"]], 1), w["candidate/kernel"]), w["candidate/bias"])
    return tf.concat([r, u, tf_cell._activation(cand)], 1)

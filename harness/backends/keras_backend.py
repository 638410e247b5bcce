"""Keras 3 (TensorFlow backend) autograd as a backend, in two forms (named for an RNN;
LSTM and GRU alike):

    keras.SimpleRNN            the stacked layers as users run them: L layers, each with
                               return_sequences=True and return_state=True, started from
                               the probe's initial states (the LSTM's state is [h, c]).
                               Every layer's h at every step, every layer's final state,
                               total gradients of every weight, dL/dx, dL/dh0 (dc0)
    keras.SimpleRNNCell-loop   L cells (weights shared) called step by step in a Python
                               loop under a GradientTape: each step's contribution to every
                               weight gradient, formed from the gradient of a zero offset
                               on the step's pre-activation, and the total adjoint of
                               every state

Every layer and cell is built with the probe's dtype: left at its default, Keras
silently computes float64 input in float32. Weights go through
harness.layouts.keras_layout, gradients come back through its adjoint.

Both forms give the gate values ("gates") of every layer at every step, recomputed as
the cell's call() computes them, from the cell's OWN variables (kernel, recurrent_kernel,
bias: one vector, or rows [input, recurrent] for the reset-after GRU) and this backend's
own states, then put in canonical order (Keras's LSTM i, f, c(=g), o already is; its GRU
z, r, h(=n) becomes r, z, n): a conversion mistake shows there at the gate it breaks.
"""

import contextlib

import numpy as np

from .. import cells, threads
from ..errors import BackendUnavailable, LayoutError
from ..layouts import keras_layout as layout
from ..trace import Trace, add_weight_steps, time_major
from . import BackendError
from ._tf import (ACTIVATIONS, ZeroOffsets, add_gates, add_input_grads, add_state_steps, dot, drain, import_keras,
                  stacked, step_inputs, step_terms, watched_inputs)

LOOP = "-loop"
KERAS_STATES = ("h", "c")        # Keras's state list order ([h, c] for the LSTM; TF1's is (c, h))


def import_framework():
    keras = import_keras()
    if keras.backend.backend() != "tensorflow":      # GradientTape sees only TensorFlow ops
        raise BackendUnavailable(f"backends: 'keras' needs Keras on the TensorFlow backend, got "
                                 f"{keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow")
    return keras


def backend_names(cell):
    spec = layout.TABLE[cell]
    return [f"keras.{spec.layer}", f"keras.{spec.cell}{LOOP}"]


def unsupported(name, probe):
    """Why backend ``name`` cannot run ``probe`` exactly, or None."""
    act = probe.options.get("activation")
    if probe.cell == "rnn" and act not in ACTIVATIONS:
        return f"{name} offers the activations {', '.join(ACTIVATIONS)} (activation={act})"
    try:
        layout.to_keras_weights(probe.cell, probe.layer_params(0), probe.options)
    except LayoutError as exc:
        return f"{name}: {exc}"
    return None


def run(name, probe):
    """Run backend ``name`` on ``probe`` and return its Trace."""
    keras = import_framework()
    import tensorflow as tf          # already loaded by import_keras, with the right flags
    trace = Trace(name)
    with threads.budget("tensorflow"):
        (_run_loop if name.endswith(LOOP) else _run_layers)(keras, tf, probe, trace)
    return trace


def _cell_kwargs(probe):
    """Keyword arguments shared by the Keras layer and cell of ``probe.cell``."""
    kw = {"use_bias": probe.bias, "dtype": probe.dtype,
          "kernel_initializer": "zeros", "recurrent_initializer": "zeros"}   # overwritten by the layout
    if probe.cell == "rnn":
        kw["activation"] = ACTIVATIONS[probe.options["activation"]]
    else:
        # Keras 3's default, written out: tf_keras's v1 LSTM/GRU defaulted to hard_sigmoid.
        kw["recurrent_activation"] = "sigmoid"
    if probe.cell == "gru":
        kw["reset_after"] = probe.options["reset_after"]
    return kw


def _input_size(probe, layer):
    return probe.sizes["D"] if layer == 0 else probe.sizes["H"]


def _build(target, probe, layer, shape):
    target.build(shape)
    return layout.load_weights(target, probe.cell, probe.layer_params(layer), probe.options)


def _make_layer(keras, probe, layer):
    s = probe.sizes
    kw = _cell_kwargs(probe)
    if probe.cell != "rnn":
        kw["use_cudnn"] = False      # Keras's own loop on every device: cuDNN is another computation
    cls = getattr(keras.layers, layout.TABLE[probe.cell].layer)
    keras_layer = cls(s["H"], return_sequences=True, return_state=True, **kw)
    return _build(keras_layer, probe, layer, (s["N"], s["T"], _input_size(probe, layer)))


def _make_cell(keras, probe, layer):
    cls = getattr(keras.layers, layout.TABLE[probe.cell].cell)
    return _build(cls(probe.sizes["H"], **_cell_kwargs(probe)), probe, layer, (None, _input_size(probe, layer)))


def _states(probe):
    return [s for s in KERAS_STATES if s in probe.state0]


def _final_loss(tf, probe, finals):
    """<final states, dstate_n>; finals: list over layers of {state name: (N, H)}."""
    return sum(dot(tf, st[s], probe.dstate_n[s][k]) for k, st in enumerate(finals) for s in st)


def _canonical_grads(probe, grads):
    return layout.grads_from_keras(probe.cell, [g.numpy() for g in grads], probe.options)


def _run_layers(keras, tf, probe, trace):
    T = probe.sizes["T"]
    layers = [_make_layer(keras, probe, k) for k in range(probe.layers)]
    with tf.GradientTape() as tape:
        x, s0 = watched_inputs(tf, probe, tape)
        inp, seqs, finals = x, [], []
        for k, keras_layer in enumerate(layers):
            inp, *final = keras_layer(inp, initial_state=[s0[s][k] for s in _states(probe)])
            seqs.append(inp)
            finals.append(dict(zip(_states(probe), final)))
        loss = dot(tf, inp, probe.dout) + _final_loss(tf, probe, finals)
    weights = [list(keras_layer.trainable_weights) for keras_layer in layers]
    dx, ds0, dw = tape.gradient(loss, [x, s0, weights])
    inputs = time_major(probe.x)
    for k in range(probe.layers):
        h = time_major(seqs[k].numpy())
        add_gates(tf, probe, trace, gate_values, k, layers[k].cell, inputs,
                  np.concatenate([probe.state0["h"][k][None], h[:-1]]))
        trace.add_steps("h", k, h, time_axis=0)
        inputs = h
        if "c" in finals[k]:
            trace.values[("c", k, T - 1)] = finals[k]["c"].numpy()
        for name, value in _canonical_grads(probe, dw[k]).items():
            trace.add_total(f"d{name}", k, value)
    add_input_grads(trace, dx, ds0)
    trace.note = (f"{trace.backend} exposes every layer's h at every step and final state; "
                  "per-step adjoints and weight contributions, and the LSTM's c before the "
                  "last step, are not observable through a layer call")


def _run_loop(keras, tf, probe, trace):
    """One cell per layer called step by step over the sequence unbound once, its weights
    shared by every step; its activations see zero offsets (``_ActivationOffsets``)."""
    L, T, H = probe.layers, probe.sizes["T"], probe.sizes["H"]
    layers = [_make_cell(keras, probe, k) for k in range(L)]
    G = cells.num_gates(probe.cell)
    slots = {(k, b): H for k in range(L) for b in range(G)}          # one zero per gate block
    kept = {}
    with tf.GradientTape() as tape:
        xs, s0 = step_inputs(tf, probe, tape)
        offsets = ZeroOffsets(tf, probe, slots, tape)
        wrapped = [_ActivationOffsets(probe.cell, cell) for cell in layers]
        state, tops = [[s0[s][k] for s in _states(probe)] for k in range(L)], []
        try:
            for t, inp in enumerate(xs):
                for k, cell in enumerate(layers):
                    with wrapped[k].step([offsets.at((k, b), t) for b in range(G)]):
                        _, state[k] = cell(inp, state[k])
                    kept.update({(s, k, t): v for s, v in zip(_states(probe), state[k])})
                    inp = state[k][0]      # h itself goes on, so its adjoint counts every consumer
                tops.append(inp)
        finally:
            for w in wrapped:
                w.restore()
        loss = step_terms(tf, probe, tops)
        loss = loss + _final_loss(tf, probe, [dict(zip(_states(probe), st)) for st in state])
    weights = [list(c.trainable_weights) for c in layers]
    dx, ds0, dkept, dz, dw = tape.gradient(loss, [xs, s0, list(kept.values()), offsets.sources(), weights])
    del tape, tops, state
    seqs = add_state_steps(trace, probe, kept, dkept)     # (T + 1, N, H), the initial state in front
    da = {k: np.empty((T, probe.sizes["N"], G * H), dtype=probe.dtype) for k in range(L)}
    offsets.unpack(dz, {(k, b): da[k][:, :, b * H:(b + 1) * H] for k in range(L) for b in range(G)})
    del offsets, dz
    inputs = probe.x.transpose(1, 0, 2)                    # (T, N, D) view: step t is x[:, t]
    for k in range(L):
        h_prev = seqs[("h", k)][:-1]
        add_gates(tf, probe, trace, gate_values, k, layers[k], inputs, h_prev)
        da_hh, hn_in = da[k], None
        if probe.cell == "gru":
            r = wrapped[k].outputs()                       # the cell's own r_t, (T, N, H)
            if probe.options["reset_after"]:               # n = tanh(x_n + r_t * (h_{t-1} U_n + b_hn))
                da_hh = da[k].copy()
                da_hh[:, :, 2 * H:] *= r
            else:                                          # n = tanh(x_n + (r_t * h_{t-1}) U_n + b_n)
                hn_in = r * h_prev
        add_weight_steps(trace, k, da[k], da_hh, inputs, h_prev, hn_in, probe.bias)
        for name, value in _canonical_grads(probe, dw[k]).items():
            trace.add_total(f"d{name}", k, value)
        inputs = seqs[("h", k)][1:]
    add_input_grads(trace, drain(dx), ds0, time_axis=0)


# The activation calls of one step of a Keras 3 cell, in order, and the canonical gate block
# whose pre-activation each receives (None: not a gate's, the LSTM's tanh(c_t)). Keras's
# cells compute every pre-activation with their own kernels and biases and hand it to
# self.activation / self.recurrent_activation (both implementations; keras 3.x).
ACTIVATION_CALLS = {
    "rnn": {"activation": (0,)},
    "lstm": {"recurrent_activation": (0, 1, 3), "activation": (2, None)},     # i, f, o; g, tanh(c)
    "gru": {"recurrent_activation": (1, 0), "activation": (2,)},              # z, r; n
}


class _ActivationOffsets:
    """A Keras cell whose activations add a zero offset to the gate pre-activations they
    receive, so that the tape's gradient of the offset is dL/da_t, computed by TensorFlow.
    Replaces the cell's own ``activation`` / ``recurrent_activation`` attributes (this
    cell only) while it runs; ``restore()`` puts them back. Keeps the GRU's r_t (canonical
    block 0), which its recurrent n rows multiply."""

    def __init__(self, cell_kind, cell):
        self.cell, self.offsets = cell, None
        self.calls = ACTIVATION_CALLS[cell_kind]
        self.keep = 0 if cell_kind == "gru" else None
        self.real = {attr: getattr(cell, attr) for attr in self.calls}
        self.count = dict.fromkeys(self.calls, 0)
        self.kept = []
        for attr in self.calls:
            setattr(cell, attr, self._wrapper(attr))

    def _wrapper(self, attr):
        def activation(a):
            calls, i = self.calls[attr], self.count[attr]
            if self.offsets is None or i >= len(calls):
                raise BackendError(f"{type(self.cell).__name__}: {attr} called {i + 1} times in one step, expected "
                                   f"{len(calls)}; this version of Keras's cells is not supported")
            self.count[attr] += 1
            block = calls[i]
            if block is None:
                return self.real[attr](a)
            out = self.real[attr](a + self.offsets[block])
            if block == self.keep:
                self.kept.append(out)
            return out
        return activation

    @contextlib.contextmanager
    def step(self, offsets):
        """Within: one step of the cell; ``offsets`` one zero (N, H) per canonical gate block."""
        self.offsets, self.count = offsets, dict.fromkeys(self.calls, 0)
        yield
        if any(self.count[attr] != len(calls) for attr, calls in self.calls.items()):
            raise BackendError(f"{type(self.cell).__name__}: activation calls per step {self.count}, expected "
                               f"{ {a: len(c) for a, c in self.calls.items()} }; this version of Keras's cells "
                               "is not supported")
        self.offsets = None

    def outputs(self):
        """The kept gate's values at every step (the GRU's r_t), (T, N, H)."""
        return stacked(self.kept)

    def restore(self):
        for attr, fn in self.real.items():
            setattr(self.cell, attr, fn)


def gate_values(tf, cell, keras_cell, inputs, h_prev):
    """The activated gates of one Keras LSTMCell/GRUCell step, (N, G*H), computed as its
    call() does (implementation 2) from its own variables and activations, in canonical
    order: LSTM i, f, g, o; GRU r, z, n."""
    c = keras_cell
    act, ract = c.activation, c.recurrent_activation
    k, rk = tf.convert_to_tensor(c.kernel), tf.convert_to_tensor(c.recurrent_kernel)
    b = tf.convert_to_tensor(c.bias) if c.use_bias else None
    if cell == "lstm":                                   # columns i, f, c(=g), o: canonical already
        a = tf.matmul(inputs, k) + tf.matmul(h_prev, rk)
        i, f, g, o = tf.split(a if b is None else a + b, 4, axis=1)
        return tf.concat([ract(i), ract(f), act(g), ract(o)], 1)
    H, after = c.units, c.reset_after                    # columns z, r, h(=n)
    b_in, b_rec = (b[0], b[1]) if b is not None and after else (b, None)
    x_z, x_r, x_h = tf.split(tf.matmul(inputs, k) if b_in is None else tf.matmul(inputs, k) + b_in, 3, axis=1)
    inner = tf.matmul(h_prev, rk if after else rk[:, :2 * H])
    if b_rec is not None:
        inner = inner + b_rec
    z, r = ract(x_z + inner[:, :H]), ract(x_r + inner[:, H:2 * H])
    rec_h = r * inner[:, 2 * H:] if after else tf.matmul(r * h_prev, rk[:, 2 * H:])
    return tf.concat([r, z, act(x_h + rec_h)], 1)

"""The TF1 side of a training comparison, written the way seed 001 writes it: a tf.Graph
with placeholders for the batch and the initial state, TF1 cells (BasicRNNCell,
BasicLSTMCell, GRUCell; a MultiRNNCell above one layer) through
tf.compat.v1.nn.dynamic_rnn, a head ``matmul(outputs, W) + b`` with W (H, O), the loss of
harness.guard.model_frameworks, and a tf.compat.v1.train optimizer
(compute_gradients, tf.clip_by_value / tf.clip_by_global_norm, apply_gradients), run in a
tf.compat.v1.Session. The carried state is fed back through the initial-state
placeholder, so no gradient crosses the batch boundary.

Weights come in and go out through harness.layouts.tf_layout (one bias per layer: TF's
bias is canonical bias_ih, bias_hh is zero). A model TF1 cells cannot hold is refused with
the reason: two trained biases per layer, a reset-after GRU, a relu... only what
tf_layout and the cells take.
"""

import numpy as np

from ..backends._tf import ACTIVATIONS
from ..errors import BackendUnavailable, LayoutError
from ..guard.model_frameworks import _tf_loss
from ..layouts import tf_layout
from . import optimizers

CLASSES = {"rnn": "BasicRNNCell", "lstm": "BasicLSTMCell", "gru": "GRUCell"}


def tf1_optimizer(tf, rule, dtype):
    """tf.compat.v1.train's own implementation of ``rule``. Every hyperparameter goes in as
    a tensor of the variables' dtype: TF1 converts a Python float to a float32 tensor and
    casts that to the variable's dtype, so lr=0.1 would train a float64 model with
    0.10000000149 (and momentum 0.9 with 0.89999998), 1.5e-8 relative off the rule."""
    v1, h = tf.compat.v1, rule.h
    c = {k: tf.constant(v, dtype) for k, v in h.items() if not isinstance(v, bool)}
    lr = tf.constant(rule.lr, dtype)
    if rule.name == "sgd":
        return v1.train.GradientDescentOptimizer(lr)
    if rule.name == "momentum":
        return v1.train.MomentumOptimizer(lr, c["momentum"], use_nesterov=h["nesterov"])
    if rule.name == "adagrad":                              # the accumulator starts at a Python float: exact
        return v1.train.AdagradOptimizer(lr, initial_accumulator_value=h["initial_accumulator_value"])
    if rule.name == "rmsprop":
        return v1.train.RMSPropOptimizer(lr, decay=c["decay"], momentum=c["momentum"], epsilon=c["eps"],
                                         centered=h["centered"])
    return v1.train.AdamOptimizer(lr, beta1=c["beta1"], beta2=c["beta2"], epsilon=c["eps"])


def unsupported(case, rule, clip, trained):
    """Why the TF1 side cannot train this model with this rule exactly, or None."""
    spec = case.spec
    if spec.bias and any(n.startswith("bias_hh") for n in trained):
        return "TF1 cells have one bias per layer; bias_hh is trained separately here (train_bias_hh=True)"
    if spec.cell == "rnn" and spec.options["activation"] not in ACTIVATIONS:
        return f"BasicRNNCell offers {', '.join(ACTIVATIONS)} (activation={spec.options['activation']})"
    try:
        tf_layout.cell_kwargs(spec.cell, spec.options)
    except LayoutError as exc:
        return f"TF1 {CLASSES[spec.cell]}: {exc}"
    return optimizers.unsupported(rule, "tf1") or clip.unsupported("tf1")


class TF1Side:
    def __init__(self, case, rule, clip, trained):
        reason = unsupported(case, rule, clip, trained)
        if reason:
            raise BackendUnavailable(reason)
        from ..backends._tf import legacy_rnn_cell
        from ..backends.tf_backend import _quiet
        self.rnn_cell = legacy_rnn_cell()
        import tensorflow as tf
        self.tf, self.v1, self.case, self.spec = tf, tf.compat.v1, case, case.spec
        self.name = f"tf.{CLASSES[case.spec.cell]}-dynamic_rnn"
        self.trained = set(trained)
        self._quiet = _quiet
        with _quiet(tf):
            self.graph = tf.Graph()
            with self.graph.as_default():
                self._build(rule, clip)
            config = self.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
            self.sess = self.v1.Session(graph=self.graph, config=config)   # small ops: one thread (see api)
            self.sess.run(self.init)
            self._load(case.params)

    def _build(self, rule, clip):
        tf, v1, spec, case = self.tf, self.v1, self.spec, self.case
        dt = tf.as_dtype(spec.dtype)
        N, T, D = case.x.shape
        H, L = spec.hidden_size, spec.layers
        self.x = v1.placeholder(dt, [N, T, D], name="x")
        is_ce = spec.loss == "softmax_cross_entropy"
        self.y = v1.placeholder(tf.int64 if is_ce else dt, [N, T] if is_ce else [N, T, spec.output_size], "y")
        self.s0 = [{s: v1.placeholder(dt, [N, H], name=f"{s}0_l{k}") for s in ("c", "h")[spec.cell != "lstm":]}
                   for k in range(L)]
        kwargs = tf_layout.cell_kwargs(spec.cell, spec.options)
        if spec.cell == "rnn":
            kwargs["activation"] = ACTIVATIONS[spec.options["activation"]]
        self.cells = [getattr(self.rnn_cell, CLASSES[spec.cell])(H, dtype=dt, **kwargs) for _ in range(L)]
        init = tuple(self.rnn_cell.LSTMStateTuple(c=s["c"], h=s["h"]) if spec.cell == "lstm" else s["h"]
                     for s in self.s0)
        cell = self.cells[0] if L == 1 else self.rnn_cell.MultiRNNCell(self.cells)
        out, final = v1.nn.dynamic_rnn(cell, self.x, initial_state=init[0] if L == 1 else init)
        self.final = [final] if L == 1 else list(final)
        y, self.head = out, {}
        if spec.head is not None:                          # seed 001: logits = outputs W + b, W (H, O)
            with v1.variable_scope("softmax"):
                self.head["head.weight"] = v1.get_variable("W", [H, spec.output_size], dtype=dt)
                if spec.head_bias:
                    self.head["head.bias"] = v1.get_variable("b", [spec.output_size], dtype=dt,
                                                             initializer=v1.constant_initializer(0.0))
            y = tf.reshape(tf.matmul(tf.reshape(out, [-1, H]), self.head["head.weight"]), [N, T, spec.output_size])
            y = y + self.head["head.bias"] if spec.head_bias else y
            y = tf.sigmoid(y) if spec.head == "linear+sigmoid" else y
        self.loss = _tf_loss(tf, spec, y, self.y)
        self._optimizer(rule, clip)
        self.init = v1.global_variables_initializer()
        self.assign = {}                                   # the initial weights go in through these
        for v in [w for c in self.cells for w in c.weights] + list(self.head.values()):
            ph = v1.placeholder(dt, v.shape)
            self.assign[v.name] = (ph, v.assign(ph))

    def _optimizer(self, rule, clip):
        tf, spec = self.tf, self.spec
        self.var_list = [v for c in self.cells for v in (c.weights if spec.bias else c.weights[::2])]
        self.var_list += list(self.head.values())
        opt = tf1_optimizer(tf, rule, tf.as_dtype(spec.dtype))
        pairs = opt.compute_gradients(self.loss, self.var_list)
        self.raw = [g for g, _ in pairs]
        grads = self.raw
        if clip.value is not None:
            grads = [tf.clip_by_value(g, -clip.value, clip.value) for g in grads]
        if clip.norm is not None:
            grads, _ = tf.clip_by_global_norm(grads, tf.constant(clip.norm, tf.as_dtype(spec.dtype)))
        self.train_op = opt.apply_gradients(list(zip(grads, self.var_list)))

    def _dims(self, k):
        return self.case.x.shape[2] if k == 0 else self.spec.hidden_size

    def _load(self, params):
        from ..cells import split_layer
        pairs = []
        for k, c in enumerate(self.cells):
            arrays = tf_layout.to_tf_weights(self.spec.cell, split_layer(params, k), self.spec.options)
            pairs += list(zip(c.weights, arrays))
        pairs += [(v, np.asarray(params[n]).T if n == "head.weight" else params[n]) for n, v in self.head.items()]
        ops = [self.assign[v.name][1] for v, _ in pairs]
        self.sess.run(ops, {self.assign[v.name][0]: np.asarray(a, self.spec.dtype) for v, a in pairs})

    def _canonical(self, cell_arrays, head_arrays, adjoint):
        out = {}
        for k, arrays in enumerate(cell_arrays):
            if adjoint:
                layer = tf_layout.grads_from_tf(self.spec.cell, arrays, self._dims(k), self.spec.bias)
            else:
                layer = tf_layout.from_tf_weights(self.spec.cell, arrays, self._dims(k))
                layer = {n: v for n, v in layer.items() if self.spec.bias or not n.startswith("bias")}
            out.update({f"{n}_l{k}": v for n, v in layer.items()})
        for (n, _), a in zip(self.head.items(), head_arrays):
            out[n] = a.T if n == "head.weight" else a
        return out

    def params(self):
        cells = self.sess.run([list(c.weights) for c in self.cells])
        return self._canonical(cells, self.sess.run(list(self.head.values())), adjoint=False)

    def step(self, x, target, state):
        feed = {self.x: x, self.y: target}
        for k, s0 in enumerate(self.s0):
            for s, ph in s0.items():
                feed[ph] = np.zeros(ph.shape, self.spec.dtype) if state is None else state[s][k]
        loss, raw, final, _ = self.sess.run([self.loss, self.raw, self.final, self.train_op], feed)
        n_cell = len(self.cells[0].weights) if self.spec.bias else len(self.cells[0].weights) // 2
        cells, i = [], 0
        for c in self.cells:
            got = raw[i:i + n_cell]
            i += n_cell
            if not self.spec.bias:                         # the untrained TF bias: a zero gradient slot
                got = [a for g, b in zip(got, c.weights[1::2]) for a in (g, np.zeros(b.shape, self.spec.dtype))]
            cells.append(got)
        grads = self._canonical(cells, raw[i:], adjoint=True)
        states = {"h": np.stack([f.h if self.spec.cell == "lstm" else f for f in final])}
        if self.spec.cell == "lstm":
            states["c"] = np.stack([f.c for f in final])
        return float(loss), grads, states

    def close(self):
        self.sess.close()

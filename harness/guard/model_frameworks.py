"""The whole model of check_model() in the frameworks: loss and every gradient by autograd.

    torch       nn.RNN/LSTM/GRU and nn.Linear where the modules can express the model, torch
                ops otherwise; autograd; the case's dtype
    tf          the same model in TensorFlow ops under a GradientTape; the case's dtype

Each returns (backend name, {"loss": 0-d array, canonical param name: gradient}).
"""

import numpy as np

from ..cells import STATES, split_layer

# ---------------------------------------------------------------- torch


def torch_values(case):
    """(backend name, values): the model in torch, autograd for every gradient."""
    model = torch_model(case)
    torch = model.torch
    y, _ = model.run(torch.tensor(np.array(case.x), dtype=model.dtype))
    loss = _torch_loss(torch, case.spec, y, case.target)
    loss.backward()
    return model.name, {"loss": loss.detach().numpy().copy(),
                        **{n: v.grad.detach().numpy().copy() for n, v in model.leaves.items()}}


class TorchModel:
    """The model of a case built once in torch (weights loaded from the case).

    name: the backend's name; leaves: {canonical name: tensor} (nn module parameters where the
    modules express the model, leaf tensors otherwise; nn.Linear's for the head); offsets:
    {canonical name: array} added to a canonical weight when loaded (an LSTM forget_bias
    folded into torch's bias_ih): canonical = leaf - offset; run(x, state0=None) -> (y,
    final): the outputs after the head (N, T, O) and the final states {name: (L, N, H)}.
    """

    def __init__(self, torch, case):
        from ..backends.torch_backend import unsupported
        from ..layouts.torch_layout import CLASSES
        self.torch, self.spec, self.probe = torch, case.spec, case.probe
        self.dtype = getattr(torch, case.spec.dtype)
        self.name = f"torch.nn.{CLASSES[case.spec.cell][0]}"
        self.offsets, self.module = {}, None
        if unsupported(self.name, case.probe) is None:
            self._build_module(case)
        else:
            self.name = "torch.functional"
            self.leaves = {n: torch.tensor(np.array(v), dtype=self.dtype, requires_grad=True)
                           for n, v in case.params.items() if not n.startswith("head.")}
        self.linear = None
        if self.spec.head is not None:
            spec = self.spec
            self.linear = torch.nn.Linear(spec.hidden_size, spec.output_size, bias=spec.head_bias, dtype=self.dtype)
            with torch.no_grad():
                for n, param in self.linear.named_parameters():
                    param.copy_(torch.as_tensor(np.array(case.params[f"head.{n}"])))
                    self.leaves[f"head.{n}"] = param

    def _build_module(self, case):
        from ..layouts.torch_layout import CLASSES, fold_options, load_layer
        torch, spec = self.torch, self.spec
        kwargs = {"nonlinearity": spec.options["activation"]} if spec.cell == "rnn" else {}
        m = getattr(torch.nn, CLASSES[spec.cell][0])(case.x.shape[2], spec.hidden_size, num_layers=spec.layers,
                                                      bias=spec.bias, batch_first=True, dtype=self.dtype, **kwargs)
        for k in range(spec.layers):
            layer = split_layer(case.params, k)
            folded = fold_options(spec.cell, layer, spec.options)
            load_layer(m, folded, "fused", k)
            self.offsets.update({f"{n}_l{k}": folded[n] - layer[n] for n in layer if np.any(folded[n] != layer[n])})
        self.module, self.leaves = m, dict(m.named_parameters())

    def run(self, x, state0=None):
        torch, spec = self.torch, self.spec
        if state0 is not None:
            state0 = {s: torch.as_tensor(np.asarray(v), dtype=self.dtype) for s, v in state0.items()}
        if self.module is not None:
            if spec.cell == "lstm":
                h, (hn, cn) = self.module(x, None if state0 is None else (state0["h"], state0["c"]))
                final = {"h": hn, "c": cn}
            else:
                h, hn = self.module(x, None if state0 is None else state0["h"])
                final = {"h": hn}
        else:
            from ..backends.torch_backend import _functional_step
            h, finals = x, []
            for k in range(spec.layers):
                w = {n[: -len(f"_l{k}")]: v for n, v in self.leaves.items() if n.endswith(f"_l{k}")}
                s0 = None if state0 is None else {s: v[k] for s, v in state0.items()}
                h, fk = _torch_layer(torch, self.probe, w, h, _functional_step, s0)
                finals.append(fk)
            final = {s: torch.stack([f[s] for f in finals]) for s in finals[0]}
        y = h
        if self.linear is not None:
            y = self.linear(h)
            y = torch.sigmoid(y) if spec.head == "linear+sigmoid" else y
        return y, final


def torch_model(case):
    """The case's model built in torch (see TorchModel)."""
    from ..backends.torch_backend import import_framework
    return TorchModel(import_framework(), case)


def _torch_layer(torch, probe, w, inp, step, state0=None):
    """One layer unrolled: (outputs (N, T, H), final states {name: (N, H)}); zero initial
    states unless ``state0`` {name: (N, H)} is given."""
    N, T = inp.shape[:2]
    st = {s: (torch.zeros(N, probe.sizes["H"], dtype=inp.dtype) if state0 is None else state0[s])
          for s in STATES[probe.cell]}
    out = []
    for t in range(T):
        st = step(torch, probe, w, inp[:, t], st)
        out.append(st["h"])
    return torch.stack(out, dim=1), st


def _torch_loss(torch, spec, y, target):
    F = torch.nn.functional
    N, T, O = y.shape
    steps = spec.steps(T)
    ys = y[:, steps]
    if spec.loss == "softmax_cross_entropy":
        t = torch.as_tensor(np.asarray(target)[:, steps].reshape(-1))
        return F.cross_entropy(ys.reshape(-1, O), t, reduction=spec.reduction)
    t = torch.as_tensor(np.asarray(target)[:, steps], dtype=y.dtype)
    if spec.loss == "mean_squared_error":
        return F.mse_loss(ys, t, reduction="mean")
    se = F.mse_loss(ys, t, reduction="sum") * (0.5 if spec.loss == "half_squared_error" else 1.0)
    return se / (N * len(steps)) if spec.reduction == "mean" else se

# ---------------------------------------------------------------- TensorFlow


def tf_values(case):
    """(backend name, values): the model in TensorFlow ops, tf.GradientTape for every gradient."""
    from ..backends._tf import import_tensorflow
    tf = import_tensorflow()
    spec, dt = case.spec, getattr(tf, case.spec.dtype)
    v = {n: tf.Variable(np.array(a), dtype=dt) for n, a in case.params.items()}
    with tf.GradientTape() as tape:
        h = tf.constant(np.array(case.x), dtype=dt)
        for k in range(spec.layers):
            h = _tf_layer(tf, spec, {n[: -len(f"_l{k}")]: w for n, w in v.items() if n.endswith(f"_l{k}")}, h)
        y = h
        if spec.head is not None:
            y = tf.matmul(h, v["head.weight"], transpose_b=True) + (v["head.bias"] if spec.head_bias else 0.0)
            y = tf.sigmoid(y) if spec.head == "linear+sigmoid" else y
        loss = _tf_loss(tf, spec, y, case.target)
    grads = tape.gradient(loss, v)
    return "tf", {"loss": loss.numpy(), **{n: g.numpy() for n, g in grads.items()}}


def _tf_layer(tf, spec, w, inp):
    N, T = inp.shape[:2]
    st = {s: tf.zeros((N, spec.hidden_size), dtype=inp.dtype) for s in STATES[spec.cell]}
    out = []
    for t in range(T):
        st = _tf_step(tf, spec, w, inp[:, t], st)
        out.append(st["h"])
    return tf.stack(out, axis=1)


def _tf_step(tf, spec, w, inp, st):
    h = st["h"]
    gx = tf.matmul(inp, w["weight_ih"], transpose_b=True) + (w["bias_ih"] if spec.bias else 0.0)
    gh = tf.matmul(h, w["weight_hh"], transpose_b=True) + (w["bias_hh"] if spec.bias else 0.0)
    if spec.cell == "rnn":
        act = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid,
               "identity": tf.identity}[spec.options["activation"]]
        return {"h": act(gx + gh)}
    if spec.cell == "lstm":
        i, f, g, o = tf.split(gx + gh, 4, axis=1)
        c = tf.sigmoid(f + spec.options["forget_bias"]) * st["c"] + tf.sigmoid(i) * tf.tanh(g)
        return {"h": tf.sigmoid(o) * tf.tanh(c), "c": c}
    (xr, xz, xn), (hr, hz, hn) = tf.split(gx, 3, axis=1), tf.split(gh, 3, axis=1)
    r, z = tf.sigmoid(xr + hr), tf.sigmoid(xz + hz)
    if spec.options["reset_after"]:
        n = tf.tanh(xn + r * hn)
    else:                                                   # TF1 GRUCell: reset before the matmul
        H = spec.hidden_size
        n = tf.tanh(xn + tf.matmul(r * h, w["weight_hh"][2 * H:], transpose_b=True)
                    + (w["bias_hh"][2 * H:] if spec.bias else 0.0))
    return {"h": (1 - z) * n + z * h}


def _tf_loss(tf, spec, y, target):
    N, T, O = y.shape
    steps = spec.steps(T)
    ys = tf.gather(y, steps, axis=1)
    c = spec.scale(N, len(steps), O)
    if spec.loss == "softmax_cross_entropy":
        labels = tf.gather(tf.convert_to_tensor(target), steps, axis=1)
        return c * tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=ys))
    k = 0.5 if spec.loss == "half_squared_error" else 1.0
    t = tf.gather(tf.convert_to_tensor(target, dtype=y.dtype), steps, axis=1)      # an array or a placeholder
    return c * k * tf.reduce_sum(tf.square(ys - t))

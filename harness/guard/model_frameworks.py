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
    from ..backends.torch_backend import _functional_step, import_framework, unsupported
    from ..layouts.torch_layout import CLASSES
    torch = import_framework()
    spec, dt = case.spec, getattr(torch, case.spec.dtype)
    x = torch.tensor(np.array(case.x), dtype=dt)
    name = f"torch.nn.{CLASSES[spec.cell][0]}"
    if unsupported(name, case.probe) is None:
        h, leaves = _torch_module(torch, case, x, dt)
    else:
        name = "torch.functional"
        leaves = {n: torch.tensor(np.array(v), dtype=dt, requires_grad=True)
                  for n, v in case.params.items() if not n.startswith("head.")}
        h = x
        for k in range(spec.layers):
            w = {n[: -len(f"_l{k}")]: v for n, v in leaves.items() if n.endswith(f"_l{k}")}
            h = _torch_layer(torch, case.probe, w, h, _functional_step)
    y = h
    if spec.head is not None:
        linear = torch.nn.Linear(spec.hidden_size, spec.output_size, bias=spec.head_bias, dtype=dt)
        with torch.no_grad():
            for n, param in linear.named_parameters():
                param.copy_(torch.as_tensor(np.array(case.params[f"head.{n}"])))
                leaves[f"head.{n}"] = param
        y = linear(h)
        y = torch.sigmoid(y) if spec.head == "linear+sigmoid" else y
    loss = _torch_loss(torch, spec, y, case.target)
    loss.backward()
    return name, {"loss": loss.detach().numpy().copy(),
                  **{n: v.grad.detach().numpy().copy() for n, v in leaves.items()}}


def _torch_module(torch, case, x, dt):
    from ..layouts.torch_layout import CLASSES, fold_options, load_layer
    spec = case.spec
    kwargs = {"nonlinearity": spec.options["activation"]} if spec.cell == "rnn" else {}
    m = getattr(torch.nn, CLASSES[spec.cell][0])(x.shape[2], spec.hidden_size, num_layers=spec.layers,
                                                  bias=spec.bias, batch_first=True, dtype=dt, **kwargs)
    for k in range(spec.layers):
        load_layer(m, fold_options(spec.cell, split_layer(case.params, k), spec.options), "fused", k)
    return m(x)[0], dict(m.named_parameters())              # zero initial states by default


def _torch_layer(torch, probe, w, inp, step):
    N, T = inp.shape[:2]
    st = {s: torch.zeros(N, probe.sizes["H"], dtype=inp.dtype) for s in STATES[probe.cell]}
    out = []
    for t in range(T):
        st = step(torch, probe, w, inp[:, t], st)
        out.append(st["h"])
    return torch.stack(out, dim=1)


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
        labels = tf.constant(np.asarray(target)[:, steps])
        return c * tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=ys))
    k = 0.5 if spec.loss == "half_squared_error" else 1.0
    return c * k * tf.reduce_sum(tf.square(ys - tf.constant(np.asarray(target)[:, steps], dtype=y.dtype)))

"""check_model for models built of the layers people ship: bidirectional stacks, padded
variable-length batches, the LSTM's projection, peepholes and clips.

The user's ``fn(params, x, target[, lengths]) -> (loss, grads)`` (``lengths`` passed when the
batch is padded) computes a stack (zero initial states) whose top layer's output (N, T, M)
(the merge of two directions) goes through the optional head into the loss. With a padded
batch the loss covers each sequence's real steps only (t < lengths[n]; "mean" divides by
their count): padded steps never enter it. ``params`` holds every layer and direction
(names ending ``_reverse`` for the reverse direction, ``weight_hr``/``weight_c*`` for the
projection and peepholes) and the head.

Oracles: the reference (reference_impls.bidirectional under a NumPy head and loss), torch
and TF (the same model in their ops, through harness.backends._unroll with one set of
weights per layer and direction: autograd for every gradient) and finite differences of
the user's own loss. Compared, not diagnosed yet (the rows name the gradient, layer and
direction).
"""

import dataclasses
import re

import numpy as np

from ..backends import _unroll
from ..backends.reference_seq import full_lengths
from ..cells import GATES
from ..compare import compare_traces, skipped_row
from ..errors import BackendUnavailable, HarnessError
from ..trace import Trace
from . import model_oracles
from .seqcheck import NOT_DIAGNOSED


def _key(name, layers):
    """(quantity, layer, direction) of a canonical name ("weight_ih_l1_reverse" -> dweight_ih, 1, 1)."""
    if name == "loss":
        return "loss", layers, 0
    if name.startswith("head."):
        return f"d{name}", layers, 0
    m = re.fullmatch(r"(.+)_l(\d+)(_reverse)?", name)
    return f"d{m[1]}", int(m[2]), int(bool(m[3]))


def _trace(name, values, layers):
    trace = Trace(name)
    for n, v in values.items():
        q, k, d = _key(n, layers)
        trace.add_total(q, k, np.asarray(v), direction=d)
    return trace


def _mask(case):
    N, T = case.x.shape[:2]
    return np.arange(T)[None] < full_lengths(case.probe)[:, None]          # (N, T): the real steps


def _scale(spec, count, O):
    if spec.loss == "mean_squared_error":
        return 1.0 / (count * O)
    return 1.0 / count if spec.reduction == "mean" else 1.0


def loss_backward(spec, y, target, mask):
    """(loss, dL/dy) over the real steps only (NumPy, float64)."""
    c = _scale(spec, mask.sum(), y.shape[-1])
    if spec.loss == "softmax_cross_entropy":
        z = y - y.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        onehot = np.eye(y.shape[-1])[np.asarray(target)]
        return -c * (logp * onehot).sum(-1)[mask].sum(), c * (np.exp(logp) - onehot) * mask[..., None]
    k = 0.5 if spec.loss == "half_squared_error" else 1.0
    diff = y - np.asarray(target, dtype=np.float64)
    return c * k * (diff * diff).sum(-1)[mask].sum(), 2.0 * k * c * diff * mask[..., None]


def reference_values(case):
    """Loss and every gradient by hand-written backprop through the reference stack."""
    from reference_impls.bidirectional import seq_backward, seq_forward
    spec, probe = case.spec, case.probe
    p = {k: np.asarray(v, dtype=np.float64) for k, v in case.params.items()}
    p64 = dataclasses.replace(probe, params={k: v for k, v in p.items() if not k.startswith("head.")})
    Dn, st = probe.directions, probe.structure
    layers = [[p64.layer_params(k, d) for d in range(Dn)] for k in range(spec.layers)]
    zeros = {s: np.zeros_like(v, dtype=np.float64) for s, v in probe.state0.items()}
    run = seq_forward(spec.cell, np.asarray(case.x, dtype=np.float64), full_lengths(probe), zeros, layers, Dn,
                      st.merge, st.stacking, **spec.options)
    y, head_cache = model_oracles.head_forward(spec, p, run.outputs[-1])
    loss, dy = loss_backward(spec, y, case.target, _mask(case))
    grads, dout = model_oracles.head_backward(spec, p, head_cache, dy)
    layer_grads, _ = seq_backward(run, dout, {s: np.zeros_like(v) for s, v in zeros.items()})
    for k in range(spec.layers):
        for d in range(Dn):
            suffix = f"_l{k}" + ("_reverse" if d else "")
            grads.update({f"{n}{suffix}": layer_grads[k][d][f"d{n}"] for n in layers[k][d]})
    return {"loss": np.asarray(loss), **grads}


def torch_values(case):
    """The model in torch ops (torch.functional's cell math), autograd."""
    from ..backends.torch_seq import import_framework, step_math
    torch = import_framework()
    spec, probe = case.spec, case.probe
    leaves = {n: torch.tensor(np.array(v), requires_grad=True) for n, v in case.params.items()}
    ops = _unroll.Ops(concat=torch.cat, zeros=torch.zeros_like, gather=lambda t, idx: t[torch.as_tensor(idx)],
                      scatter=lambda t, idx, v: t.index_put((torch.as_tensor(idx),), v))
    fb = probe.options.get("forget_bias", 0.0)

    def step(k, d):
        suffix = f"_l{k}" + ("_reverse" if d else "")
        w = {n[:-len(suffix)]: v for n, v in leaves.items() if n.endswith(suffix)}
        return lambda inp, st: step_math(torch, probe, w, inp, st, fb)
    y = _stack_output(ops, case, torch.unbind(torch.tensor(np.array(case.x)), 1),
                      lambda s, v: torch.zeros(v.shape[1:], dtype=getattr(torch, spec.dtype)), step,
                      lambda steps: torch.stack(steps, 1))
    if spec.head is not None:
        y = y @ leaves["head.weight"].T + (leaves["head.bias"] if spec.head_bias else 0)
        y = torch.sigmoid(y) if spec.head == "linear+sigmoid" else y
    loss = _framework_loss(torch.as_tensor, torch.sum, spec, y, case, torch.log_softmax)
    loss.backward()
    return "torch.functional", {"loss": loss.detach().numpy().copy(),
                                **{n: v.grad.numpy().copy() for n, v in leaves.items()}}


def _stack_output(ops, case, x_steps, zero_state, step, stack):
    """The top layer's merged output (N, T, M) of the stack in a framework."""
    probe = case.probe
    L, Dn = case.spec.layers, probe.directions
    state0 = {s: [zero_state(s, v) for _ in range(L * Dn)] for s, v in probe.state0.items()}
    cells = [[[step(k, d)] * probe.sizes["T"] for d in range(Dn)] for k in range(L)]
    kept = _unroll.unroll(ops, probe, full_lengths(probe), list(x_steps), state0, cells)
    return stack(kept.top)


def _framework_loss(const, total, spec, y, case, log_softmax):
    """The masked loss in torch or TF: ``const`` makes a tensor of an array, ``total`` sums."""
    mask = _mask(case)
    c = _scale(spec, mask.sum(), spec.output_size)
    m = const(mask[..., None].astype(spec.dtype))
    if spec.loss == "softmax_cross_entropy":
        onehot = const(np.eye(spec.output_size, dtype=spec.dtype)[np.asarray(case.target)])
        return -c * total(log_softmax(y, -1) * onehot * m)
    k = 0.5 if spec.loss == "half_squared_error" else 1.0
    diff = y - const(np.asarray(case.target, dtype=spec.dtype))
    return c * k * total(diff * diff * m)


def tf_values(case):
    """The model in TensorFlow ops (TF1 LSTMCell-style math through the TF cells), GradientTape."""
    from ..backends._tf import import_tensorflow
    from ..backends.tf_seq import tf_ops
    tf = import_tensorflow()
    spec, probe = case.spec, case.probe
    variables = {n: tf.Variable(np.array(v)) for n, v in case.params.items()}
    fb = probe.options.get("forget_bias", 0.0)

    def step(k, d):
        suffix = f"_l{k}" + ("_reverse" if d else "")
        w = {n[:-len(suffix)]: v for n, v in variables.items() if n.endswith(suffix)}
        return lambda inp, st: (None, _tf_step(tf, probe, w, inp, st, fb))
    with tf.GradientTape() as tape:
        y = _stack_output(tf_ops(tf), case, tf.unstack(tf.constant(case.x), axis=1),
                          lambda s, v: tf.zeros(v.shape[1:], dtype=spec.dtype), step, lambda steps: tf.stack(steps, 1))
        if spec.head is not None:
            y = tf.matmul(y, variables["head.weight"], transpose_b=True) + (variables["head.bias"] if spec.head_bias else 0)
            y = tf.sigmoid(y) if spec.head == "linear+sigmoid" else y
        loss = _framework_loss(tf.constant, tf.reduce_sum, spec, y, case, lambda t, axis: tf.nn.log_softmax(t, axis=axis))
    grads = tape.gradient(loss, variables)
    return "tf", {"loss": loss.numpy(), **{n: g.numpy() for n, g in grads.items()}}


def _tf_step(tf, probe, w, inp, st, fb):
    """One step in TF ops, canonical weights (the same math as torch_seq.step_math)."""
    h, opts = st["h"], probe.options
    gx = tf.matmul(inp, w["weight_ih"], transpose_b=True) + (w["bias_ih"] if "bias_ih" in w else 0)
    gh = tf.matmul(h, w["weight_hh"], transpose_b=True) + (w["bias_hh"] if "bias_hh" in w else 0)
    if probe.cell == "rnn":
        act = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid, "identity": tf.identity}[opts["activation"]]
        return {"h": act(gx + gh)}
    if probe.cell == "lstm":
        a_i, a_f, a_g, a_o = tf.split(gx + gh, 4, axis=1)
        c_prev = st["c"]
        if "weight_ci" in w:
            a_i, a_f = a_i + w["weight_ci"] * c_prev, a_f + w["weight_cf"] * c_prev
        c = tf.sigmoid(a_f + fb) * c_prev + tf.sigmoid(a_i) * tf.tanh(a_g)
        if "cell_clip" in opts:
            c = tf.clip_by_value(c, -opts["cell_clip"], opts["cell_clip"])
        o = tf.sigmoid(a_o + w["weight_co"] * c if "weight_co" in w else a_o)
        h = o * tf.tanh(c)
        if "weight_hr" in w:
            h = tf.matmul(h, w["weight_hr"], transpose_b=True)
            if "proj_clip" in opts:
                h = tf.clip_by_value(h, -opts["proj_clip"], opts["proj_clip"])
        return {"h": h, "c": c}
    xr, xz, xn = tf.split(gx, 3, axis=1)
    hr, hz, hn = tf.split(gh, 3, axis=1)
    r, z = tf.sigmoid(xr + hr), tf.sigmoid(xz + hz)
    if opts["reset_after"]:
        n = tf.tanh(xn + r * hn)
    else:
        H = h.shape[1]
        n = tf.tanh(xn + tf.matmul(r * h, w["weight_hh"][2 * H:], transpose_b=True)
                    + (w["bias_hh"][2 * H:] if "bias_hh" in w else 0))
    return {"h": (1 - z) * n + z * h}


def run_fn(fn, case):
    """The user's fn on copies, with lengths when the batch is padded (model.run_fn's checks)."""
    from .model import run_fn as plain
    if case.probe.lengths is None:
        return plain(fn, case)
    lengths = np.array(case.probe.lengths)
    return plain(lambda params, x, target: fn(params, x, target, lengths.copy()), case)


def check_seq_model(fn, case, oracles, tol, numeric_mode):
    """The Report of check_model for an extended stack (see the module docstring)."""
    from .check import numeric_tol, relabel
    L, gates = case.spec.layers, GATES[case.spec.cell]
    user = run_fn(fn, case)
    yours = _trace("yours", user, L)
    yours.note = "your grads have no entry for it"
    rows = []
    for oracle in oracles:
        if oracle == "numeric":
            case64 = case.as_float64()
            loss = lambda p: float(run_fn(fn, dataclasses.replace(case64, params=p))["loss"])
            fd, project = model_oracles.numeric_values(loss, case64.params, numeric_mode,
                                                       np.random.default_rng(case.probe.seed))
            name = "numeric-directional" if project else "numeric"
            mine = _trace("yours", project(user) if project else user, L)
            rows += relabel(compare_traces(_trace(name, fd, L), mine, numeric_tol()), name,
                            "finite differences of your fn's loss, float64")
            continue
        try:
            name, values = {"reference": lambda c: ("reference", reference_values(c)),
                            "torch": torch_values, "tf": tf_values}[oracle](case)
        except BackendUnavailable as exc:
            rows.append(skipped_row(oracle, str(exc), tol))
            continue
        rows += relabel(compare_traces(_trace(name, values, L), yours, tol, gates), name)
    findings = [NOT_DIAGNOSED] if any(r["status"] == "FAIL" for r in rows) else []
    return rows, findings


def describe(case):
    p, s = case.probe, case.probe.sizes
    opts = ", ".join(f"{k}={v}" for k, v in p.options.items())
    lengths = "" if p.lengths is None else f", sequence lengths {list(map(int, p.lengths))} (loss on the real steps)"
    return (f"{p.cell} ({opts}; {p.structure.describe() or 'one direction'}{lengths}), L={s['L']} layers, "
            f"bias={p.bias}, N={s['N']} batch, T={s['T']} steps, D={s['D']} inputs, H={s['H']} hidden, {p.dtype}, "
            f"seed={p.seed}; {case.spec.describe()}; zero initial states; random non-symmetric weights, random "
            "inputs and targets")


def make_seq_case(probe, head, output_size, head_bias, loss, loss_steps, reduction):
    """model.make_case for an extended probe: the head reads the top layer's merged output (M)."""
    from .model_case import ModelCase, ModelSpec, head_checks, output_size_of, seeded_head_and_target
    head_checks(head, head_bias, loss, reduction)
    if loss_steps is not None:
        raise HarnessError("loss_steps: a model of bidirectional or variable-length layers has its loss on every "
                           f"real step of every sequence; expected loss_steps=None, got {loss_steps!r}")
    M = probe.sizes["M"]
    O = output_size_of(head, output_size, M, f"{M} (what the top layer outputs)")
    spec = ModelSpec(probe.cell, probe.layers, probe.options, probe.bias, M, head, bool(head_bias), O, loss,
                     None, reduction, probe.dtype)
    params, target = seeded_head_and_target(probe, spec, M)
    return ModelCase(spec, probe, params, probe.x, target)

"""‖dL/dh_t‖ and ‖dL/dc_t‖ over the time steps t, for every layer: vanishing and exploding
gradients made visible (seed 000's question), from every source that can observe them.

The norm at step t is the Frobenius norm over the batch and the units of the total
adjoint dL/dh_t (every consumer counted: the loss, the layer above, the next step).

    from_traces(traces)           compare: the reference and every backend whose trace has
                                  per-step adjoints ("dh_total"/"dc_total")
    user_norms(code, probe, user) check: the user's own BPTT, which returns no adjoint: the
                                  carry into h_t is the dh0 the user's backward returns for
                                  the rest of the sequence started at h_t (T - 1 extra calls
                                  on shorter sequences; done for T <= MAX_USER_STEPS)
    model_norms(case, state0)     train: the whole model (head and loss included) at given
                                  weights, by the NumPy reference, torch autograd and TF's
                                  GradientTape
"""

import contextlib
import dataclasses
import sys

import numpy as np

QUANTITIES = ("dh_total", "dc_total")
MAX_USER_STEPS = 64


def _norms(arr):
    """(N, T, H) -> (T,) Frobenius norm over batch and units of every step."""
    a = np.asarray(arr, dtype=np.float64)
    return np.sqrt(np.sum(a * a, axis=(0, 2)))


def from_traces(traces):
    """{backend: {(quantity, layer): (T,) norms}} from Traces with per-step adjoints."""
    out = {}
    for trace in traces:
        per = {}
        keys = sorted(k for k in trace.values if k[0] in QUANTITIES and k[2] is not None)
        for q, layer in dict.fromkeys((k[0], k[1]) for k in keys):
            steps = sorted(k[2] for k in keys if k[:2] == (q, layer))
            if steps != list(range(len(steps))):
                continue
            per[(q, layer)] = np.array([np.linalg.norm(np.asarray(trace.values[(q, layer, t)], dtype=np.float64))
                                        for t in steps])
        if per:
            out[trace.backend] = per
    return out


def user_norms(code, probe, user):
    """({("dh_total", 0): (T,)}, "") for the user's backward, or (None, why) when not observable.
    An LSTM's rest of the sequence starts from the reference's c_t (your forward returns h
    only); ‖dL/dc_t‖ is not drawn for your code."""
    from .guard.runner import run_user
    from .guard.usercode import UserCodeError
    T = probe.sizes["T"]
    if T > MAX_USER_STEPS:
        return None, f"not drawn for your code at T={T} > {MAX_USER_STEPS} (it costs T calls)"
    if probe.cell == "lstm" and not code.layout.takes_c0:
        return None, f"your {code.layout.name} LSTM takes no c0, so the rest of the sequence cannot start at c_t"
    h = np.asarray(user["h"], dtype=np.float64)
    c = _reference_c(probe) if probe.cell == "lstm" else None
    dh = np.zeros((probe.sizes["N"], T, probe.sizes["H"]))
    dh[:, T - 1] = probe.dout[:, T - 1] + probe.dstate_n["h"][0]
    try:
        for t in range(T - 1):
            state0 = {"h": h[None, :, t].astype(probe.dtype)}
            if c is not None:
                state0["c"] = c[None, :, t].astype(probe.dtype)
            rest = dataclasses.replace(probe, x=probe.x[:, t + 1:], dout=probe.dout[:, t + 1:], state0=state0)
            got = run_user(code, rest, rest.dout, f"the gradient-norm picture, sequence from step {t + 1}")
            dh[:, t] = probe.dout[:, t] + np.asarray(got["dh0"], dtype=np.float64)
    except (UserCodeError, KeyError) as exc:
        return None, f"your code could not run the shorter sequences ({exc})"
    return {("dh_total", 0): _norms(dh)}, ""


def _reference_c(probe):
    from reference_impls.stack import stack_forward
    states, _ = stack_forward(probe.cell, probe.x, probe.state0, [probe.layer_params(0)], **probe.options)
    return states[0]["c"]


def model_norms(case, state0=None, sources=("reference", "torch", "tf")):
    """{source: {(quantity, layer): (T,)}} for the whole model of a check_model case (loss on
    the case's target) from state0 ({name: (L, N, H)}, zeros when None)."""
    out = {}
    with one_torch_thread():
        for source in sources:
            try:
                out[source] = {"reference": _reference_model, "torch": _torch_model, "tf": _tf_model}[source](
                    case, state0)
            except ImportError:
                continue
    return out


@contextlib.contextmanager
def one_torch_thread():
    """Small tensors: with two threads on two busy cores torch's OpenMP spins at every op
    (measured: 250 ms per seed-001 training step against 6 ms on one thread). Restored after."""
    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:
            yield
            return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _reference_model(case, state0):
    from .guard.model_oracles import reference_run
    _, _, per_layer = reference_run(case, state0=state0)
    out = {}
    for k, g in enumerate(per_layer):
        for q in QUANTITIES:
            if q in g:
                out[(q, k)] = _norms(g[q])
    return out


def _unroll(step, spec, leaves, x, state0, zeros):
    """Every layer's states at every step: {(state, layer): [T tensors]} and the top outputs."""
    kept, inp = {}, x
    for k in range(spec.layers):
        w = {n[: -len(f"_l{k}")]: v for n, v in leaves.items() if n.endswith(f"_l{k}")}
        st = {s: (zeros(s) if state0 is None else state0[s][k]) for s in (("h", "c") if spec.cell == "lstm" else ("h",))}
        outs = []
        for t in range(x.shape[1]):
            st = step(w, inp[:, t], st)
            for s, v in st.items():
                kept.setdefault((s, k), []).append(v)
            outs.append(st["h"])
        inp = outs
        inp = _stack(inp)
    return kept, inp


def _stack(seq):
    import importlib
    mod = type(seq[0]).__module__.split(".")[0]
    lib = importlib.import_module("torch" if mod == "torch" else "tensorflow")
    return lib.stack(seq, 1) if mod == "torch" else lib.stack(seq, axis=1)


def _torch_model(case, state0):
    import torch
    from .backends.torch_backend import _functional_step
    from .guard.model_frameworks import _torch_loss
    spec, dt = case.spec, getattr(torch, case.spec.dtype)
    leaves = {n: torch.tensor(np.array(v), dtype=dt, requires_grad=True) for n, v in case.params.items()}
    s0 = None if state0 is None else {s: torch.tensor(np.asarray(v), dtype=dt) for s, v in state0.items()}
    N, H = case.x.shape[0], spec.hidden_size
    kept, h = _unroll(lambda w, inp, st: _functional_step(torch, case.probe, w, inp, st), spec, leaves,
                      torch.tensor(np.array(case.x), dtype=dt), s0, lambda s: torch.zeros(N, H, dtype=dt))
    y = _head(torch.sigmoid, lambda a, w: a @ w.T, spec, leaves, h)
    loss = _torch_loss(torch, spec, y, case.target)
    keys = list(kept)
    grads = torch.autograd.grad(loss, [v for k in keys for v in kept[k]], allow_unused=True)
    return _collect(keys, kept, [None if g is None else g.numpy() for g in grads], case)


def _tf_model(case, state0):
    from .backends._tf import import_tensorflow
    from .guard.model_frameworks import _tf_loss, _tf_step
    tf = import_tensorflow()
    spec, dt = case.spec, getattr(tf, case.spec.dtype)
    leaves = {n: tf.constant(np.array(v), dtype=dt) for n, v in case.params.items()}
    N, H = case.x.shape[0], spec.hidden_size
    s0 = None if state0 is None else {s: tf.constant(np.asarray(v), dtype=dt) for s, v in state0.items()}
    with tf.GradientTape() as tape:
        tape.watch(list(leaves.values()))                  # constants: the tape records only what it watches
        kept, h = _unroll(lambda w, inp, st: _tf_step(tf, spec, w, inp, st), spec, leaves,
                          tf.constant(np.array(case.x), dtype=dt), s0, lambda s: tf.zeros((N, H), dtype=dt))
        y = _head(tf.sigmoid, lambda a, w: tf.matmul(a, w, transpose_b=True), spec, leaves, h)
        loss = _tf_loss(tf, spec, y, case.target)
    keys = list(kept)
    grads = tape.gradient(loss, [v for k in keys for v in kept[k]])
    return _collect(keys, kept, [None if g is None else g.numpy() for g in grads], case)


def _head(sigmoid, matmul_t, spec, leaves, h):
    if spec.head is None:
        return h
    y = matmul_t(h, leaves["head.weight"]) + (leaves["head.bias"] if spec.head_bias else 0.0)
    return sigmoid(y) if spec.head == "linear+sigmoid" else y


def _collect(keys, kept, grads, case):
    N, H = case.x.shape[0], case.spec.hidden_size
    out, i = {}, 0
    for s, k in keys:
        T = len(kept[(s, k)])
        per = [np.zeros((N, H)) if g is None else g for g in grads[i:i + T]]
        i += T
        out[(f"d{s}_total", k)] = np.array([np.linalg.norm(g) for g in per])
    return out

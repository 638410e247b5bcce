"""PyTorch autograd as a backend (named for an RNN; LSTM and GRU alike):

    torch.nn.RNN            the fused multi-layer module as users run it (batch_first=True):
                            top-layer outputs, final states of every layer, total gradients
    torch.nn.RNN-layerwise  the same stack as one single-layer module per layer, so that
                            every layer's states exist at every step
    torch.nn.RNNCell        one nn.RNNCell per layer called step by step, its weights shared
                            by every step as users run it: everything, per step
    torch.functional        the same loop with the cell written in torch ops; covers what
                            the modules lack (sigmoid and identity RNNs, an LSTM forget_bias
                            without bias, the reset-before GRU)
    torch.functional-untied asked for by name only (not in 'torch' or 'all'): the functional
                            loop with one copy of every weight per step, so that autograd
                            itself yields each step's weight gradient; a cross-check of the
                            captured contributions below, at the price of T copies of every
                            weight and its gradient

Per-step weight-gradient contributions without untying the weights: every step's
pre-activations get a zero offset, z_ih on x_t W_ih^T + b_ih and (GRU only, see
_LoopLayer) z_hh on h_{t-1} W_hh^T + b_hh; the modules' cells take them through their
biases, with torch.func.functional_call. Autograd computes dL/dz = dL/da_t, the step's
pre-activation gradient, itself; a hook copies it out. The step's contribution to dW_ih
is dL/da_t^T x_t and to dW_hh dL/da_h_t^T h_{t-1} (the n rows of a reset-before GRU pair
with r_t * h_{t-1}), exact algebra on torch's own numbers, formed only when compared
(trace.StepProducts). Totals are the shared weights' own .grad.

Every loop runs over the sequence unbound once (x.unbind(1): T views, no per-step copy
of the sequence) and stacks what it keeps once at the end, so its cost is linear in T.
Gate values are computed from each form's own weights and states for all steps at once.
Layout: harness.layouts.torch_layout (CLASSES, fold_options, load_layer).
"""

import numpy as np

from .. import threads
from ..errors import BackendUnavailable, LayoutError
from . import BackendError
from ..layouts.torch_layout import CLASSES, fold_options, load_layer
from ..trace import Trace, add_weight_steps, time_major

INSTALL = "pip install 'torch==2.13.0'"
UNTIED = "torch.functional-untied"


def import_framework():
    try:
        import torch
    except ImportError as exc:
        raise BackendUnavailable(f"backends: 'torch' needs PyTorch, which is not installed; "
                                 f"install it with: {INSTALL}") from exc
    return torch


def backend_names(cell):
    fused, cell_cls = CLASSES[cell]
    return [f"torch.nn.{fused}", f"torch.nn.{fused}-layerwise", f"torch.nn.{cell_cls}", "torch.functional"]


def extra_names(cell):
    """Backends run only when asked for by name."""
    return [UNTIED]


def _kind(name):
    if name in ("torch.functional", UNTIED):
        return "functional" if name == "torch.functional" else "untied"
    if name.endswith("-layerwise"):
        return "layer"
    return "cell" if name.endswith("Cell") else "fused"


def unsupported(name, probe):
    """Why backend ``name`` cannot run ``probe`` exactly, or None."""
    if _kind(name) in ("functional", "untied"):
        return None
    act = probe.options.get("activation")
    if probe.cell == "rnn" and act not in ("tanh", "relu"):
        return f"{name} offers only tanh and relu (activation={act}); torch.functional covers it"
    try:
        fold_options(probe.cell, probe.layer_params(0), probe.options)
    except LayoutError as exc:
        return f"{name}: {exc}"
    return None


def run(name, probe):
    """Run backend ``name`` on ``probe`` and return its Trace."""
    torch = import_framework()
    kind = _kind(name)
    runner = {"fused": _run_fused, "layer": _run_layerwise}.get(kind, _run_loop)
    trace = Trace(name)
    with threads.budget("torch"):
        runner(torch, probe, trace, kind)
    return trace


def _tensor(torch, array, grad=False):
    """A tensor sharing a probe array's memory (autograd never writes into its inputs; a
    read-only array is copied, torch wants writeable ones)."""
    array = np.asarray(array)
    return torch.from_numpy(array if array.flags.writeable else array.copy()).requires_grad_(grad)


def _np(t):
    """A NumPy copy of a small tensor (totals, one step)."""
    return t.detach().cpu().numpy().copy()


def _seq(t):
    """A NumPy view of a whole-sequence tensor that nothing writes to any more: Trace.add_steps
    makes it time-major (the one copy) or keeps it as it is when it already is."""
    return t.detach().cpu().numpy()


def _module(torch, probe, kind, layer):
    fused_cls, cell_cls = CLASSES[probe.cell]
    s = probe.sizes
    D = s["D"] if (layer == 0 or kind == "fused") else s["H"]
    kwargs = {"bias": probe.bias, "dtype": getattr(torch, probe.dtype)}
    if probe.cell == "rnn":
        kwargs["nonlinearity"] = probe.options["activation"]
    if kind == "cell":
        return getattr(torch.nn, cell_cls)(D, s["H"], **kwargs)
    layers = s["L"] if kind == "fused" else 1
    return getattr(torch.nn, fused_cls)(D, s["H"], num_layers=layers, batch_first=True, **kwargs)


def _state_in(torch, probe):
    """Initial states as leaf tensors, state name -> (L, N, H)."""
    return {s: _tensor(torch, probe.state0[s], grad=True) for s in probe.state0}


def _loss(torch, probe, out, final):
    """<outputs, dout> + <final states, dstate_n>; final: state name -> (L, N, H) tensor."""
    loss = (out * _tensor(torch, probe.dout)).sum()
    for s, value in final.items():
        loss = loss + (value * _tensor(torch, probe.dstate_n[s])).sum()
    return loss


def _call(probe, module, inp, states):
    """Call a fused module with the state in torch's form; returns (out, state dict)."""
    if probe.cell == "lstm":
        out, (h, c) = module(inp, (states["h"], states["c"]))
        return out, {"h": h, "c": c}
    out, h = module(inp, states["h"])
    return out, {"h": h}


def _run_fused(torch, probe, trace, kind):
    L, T = probe.layers, probe.sizes["T"]
    m = _module(torch, probe, "fused", 0)
    for k in range(L):
        load_layer(m, fold_options(probe.cell, probe.layer_params(k), probe.options), "fused", k)
    x, s0 = _tensor(torch, probe.x, grad=True), _state_in(torch, probe)
    out, final = _call(probe, m, x, s0)
    _loss(torch, probe, out, final).backward()
    trace.add_steps("h", L - 1, _seq(out))
    for s, value in final.items():
        for k in range(L):
            trace.values.setdefault((s, k, T - 1), _np(value[k]))
    for k in range(L):
        for canonical in probe.layer_params(k):
            trace.add_total(f"d{canonical}", k, _np(getattr(m, f"{canonical}_l{k}").grad))
    _add_inputs_grads(trace, probe, x, s0)
    trace.note = (f"{trace.backend} exposes the top layer's outputs and every layer's final state; "
                  "per-step adjoints and weight contributions are not observable in a fused call")


def _run_layerwise(torch, probe, trace, kind):
    T = probe.sizes["T"]
    x, s0 = _tensor(torch, probe.x, grad=True), _state_in(torch, probe)
    inp, modules, finals = x, [], {s: [] for s in s0}
    for k in range(probe.layers):
        m = _module(torch, probe, "layer", k)
        load_layer(m, fold_options(probe.cell, probe.layer_params(k), probe.options), "layer", 0)
        layer_in = inp
        inp, final = _call(probe, m, inp, {s: v[k:k + 1] for s, v in s0.items()})
        w = {n[:-3]: p for n, p in m.named_parameters()}
        prev = torch.cat([s0["h"][k][:, None], inp[:, :-1]], dim=1)                 # h_{t-1}, (N, T, H)
        _add_gates(torch, probe, trace, k, w, 0.0, layer_in.transpose(0, 1), prev.transpose(0, 1))
        modules.append(m)
        trace.add_steps("h", k, _seq(inp))
        for s, value in final.items():
            finals[s].append(value)
            if s != "h":
                trace.values[(s, k, T - 1)] = _np(value[0])
    _loss(torch, probe, inp, {s: torch.cat(v) for s, v in finals.items()}).backward()
    for k, m in enumerate(modules):
        for canonical in probe.layer_params(k):
            trace.add_total(f"d{canonical}", k, _np(getattr(m, f"{canonical}_l0").grad))
    _add_inputs_grads(trace, probe, x, s0)
    trace.note = (f"{trace.backend} exposes every layer's states; per-step adjoints and weight "
                  "contributions are not observable in a fused call")


def _add_inputs_grads(trace, probe, x, s0):
    trace.add_steps("dx", 0, _seq(x.grad))
    for s, leaf in s0.items():
        for k in range(probe.layers):
            trace.add_total(f"d{s}0", k, _np(leaf.grad[k]))


def _run_loop(torch, probe, trace, kind):
    """The step loop over the sequence unbound once. Each step's states are copied into one
    buffer per state (T + 1, N, H) as they come (h0 in front, so h_{t-1} is a view), and
    each state's total adjoint is written into another by a tensor hook during the backward:
    nothing per step is kept beyond what autograd itself keeps."""
    L, T, N, H = probe.layers, probe.sizes["T"], probe.sizes["N"], probe.sizes["H"]
    x, s0 = _tensor(torch, probe.x, grad=True), _state_in(torch, probe)
    layers = [_LoopLayer(torch, probe, kind, k) for k in range(L)]
    state = [{s: v[k] for s, v in s0.items()} for k in range(L)]
    values = {(s, k): np.empty((T + 1, N, H), dtype=probe.dtype) for k in range(L) for s in s0}
    adjoints = {pair: (np.empty((T, N, H), dtype=probe.dtype), set()) for pair in values}
    for (s, k), buf in values.items():
        buf[0] = probe.state0[s][k]
    douts, terms = _tensor(torch, probe.dout).unbind(1), []
    for t, inp in enumerate(x.unbind(1)):
        for k, layer in enumerate(layers):
            state[k] = layer.step(t, inp, state[k])
            for s, value in state[k].items():
                values[(s, k)][t + 1] = value.detach().numpy()
                value.register_hook(_writer(*adjoints[(s, k)], t))
            inp = state[k]["h"]
        terms.append((inp * douts[t]).sum())
    for s, dn in probe.dstate_n.items():
        terms += [(state[k][s] * _tensor(torch, dn[k])).sum() for k in range(L)]
    torch.stack(terms).sum().backward()
    del state, terms
    for (s, k), buf in values.items():
        trace.add_steps(s, k, buf[1:], time_axis=0)
        grads, seen = adjoints[(s, k)]
        if len(seen) == T:
            trace.add_steps(f"d{s}_total", k, grads, time_axis=0)
    inputs = _seq(x).transpose(1, 0, 2)                     # (T, N, D) view: step t is x[:, t]
    for k, layer in enumerate(layers):
        layer.record(trace, k, inputs, values[("h", k)][:-1])
        inputs = values[("h", k)][1:]
    _add_inputs_grads(trace, probe, x, s0)


def _writer(buf, seen, t):
    """A tensor hook writing the gradient of step t's state into buf[t]."""
    def hook(grad):
        buf[t] = grad.detach().numpy()
        seen.add(t)
    return hook


class _LoopLayer:
    """One layer of the step loop: its weights (shared by every step, or one copy per step
    for the untied cross-check) and, when shared, the zero offsets on its pre-activations.

    Offsets are views of one zero scalar (no memory of their own); a hook on each writes
    its gradient, dL/da_t, into a (T, N, G*H) buffer during the backward. The Elman RNN's
    and the LSTM's pre-activation is one sum, x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh, so
    one offset serves both weights; the GRU's n block differs between the two, so it gets two.
    """

    def __init__(self, torch, probe, kind, layer):
        self.torch, self.probe, self.kind = torch, probe, kind
        params = probe.layer_params(layer)
        self.forget_bias = probe.options.get("forget_bias", 0.0)
        if kind == "cell":
            self.module = _module(torch, probe, "cell", layer)
            load_layer(self.module, fold_options(probe.cell, params, probe.options), "cell")
            self.weights, self.forget_bias = dict(self.module.named_parameters()), 0.0   # folded
        elif kind == "functional":
            self.weights = {n: _tensor(torch, np.array(v), grad=True) for n, v in params.items()}
        T, N, GH = probe.sizes["T"], probe.sizes["N"], params["weight_hh"].shape[0]
        if kind == "untied":
            self.copies = [{n: _tensor(torch, np.array(v), grad=True) for n, v in params.items()} for _ in range(T)]
            self.weights = {n: _tensor(torch, v) for n, v in params.items()}
            return
        self.zero = torch.zeros((), dtype=getattr(torch, probe.dtype), requires_grad=True)
        self.da = {"ih": (np.empty((T, N, GH), dtype=probe.dtype), set())}
        if probe.cell == "gru":
            self.da["hh"] = (np.empty((T, N, GH), dtype=probe.dtype), set())
        self.hn_in = []                                   # r_t * h_{t-1}: a reset-before GRU's n rows

    def _offsets(self, t, shape):
        out = []
        for key in ("ih", "hh"):
            if key not in self.da:
                out.append(None)
                continue
            z = self.zero.expand(shape)
            z.register_hook(_writer(*self.da[key], t))
            out.append(z)
        return out

    def step(self, t, inp, st):
        """The layer's states after step t, from its input at t and its states at t-1."""
        if self.kind == "untied":
            return _cell_math(self.torch, self.probe, self.copies[t], inp, st, self.forget_bias, gates=False)[1]
        offsets = self._offsets(t, (inp.shape[0], self.weights["weight_hh"].shape[0]))
        if self.kind == "cell":
            return _call_cell(self.torch, self.probe, self.module, inp, st, offsets)
        _, states, hn_in = _cell_math(self.torch, self.probe, self.weights, inp, st, self.forget_bias, offsets,
                                      gates=False)
        if hn_in is not None:
            self.hn_in.append(hn_in.detach())
        return states

    def record(self, trace, layer, inputs, h_prev):
        """Gate values, per-step weight contributions and totals of this layer, after backward.
        inputs (T, N, D) and h_prev (T, N, H): what the layer read at every step."""
        torch = self.torch
        _add_gates(torch, self.probe, trace, layer, self.weights, self.forget_bias,
                   torch.from_numpy(inputs), torch.from_numpy(h_prev))
        if self.kind == "untied":
            for name in self.weights:
                per_step = np.stack([_np(w[name].grad) for w in self.copies])
                trace.add_steps(f"d{name}", layer, per_step, time_axis=0)
                trace.add_total(f"d{name}", layer, per_step.sum(axis=0))
            return
        T = len(inputs)
        if any(len(seen) != T for _, seen in self.da.values()):
            raise BackendError(f"{trace.backend}: a step's pre-activation gradient was not computed")
        da_ih = self.da["ih"][0]
        da_hh = self.da["hh"][0] if "hh" in self.da else da_ih
        hn_in = _seq(torch.stack(self.hn_in)) if self.hn_in else None
        add_weight_steps(trace, layer, da_ih, da_hh, inputs, h_prev, hn_in, self.probe.bias)
        for name, w in self.weights.items():
            trace.add_total(f"d{name}", layer, _np(w.grad))


def _call_cell(torch, probe, module, inp, st, offsets):
    """An nn.*Cell's own step with zero offsets added to its biases (per row): new states."""
    from torch.func import functional_call
    biases = {}
    for name, z in zip(("bias_ih", "bias_hh"), offsets):
        if z is not None:
            bias = getattr(module, name)
            biases[name] = z if bias is None else bias + z
    if probe.cell == "lstm":
        h, c = functional_call(module, biases, (inp, (st["h"], st["c"])))
        return {"h": h, "c": c}
    return {"h": functional_call(module, biases, (inp, st["h"]))}


def _functional_step(torch, probe, w, inp, st):
    """One step of the cell written in torch ops (autograd differentiates it): new states.
    (guard.model_frameworks builds check_model's torch model from it.)"""
    return _cell_math(torch, probe, w, inp, st, probe.options.get("forget_bias", 0.0), gates=False)[1]


def _linear(torch, x, weight, bias):
    """x W^T (+ b) in one op."""
    return x @ weight.T if bias is None else torch.addmm(bias, x, weight.T)


def _cell_math(torch, probe, w, inp, st, forget_bias, offsets=(None, None), gates=True):
    """(gates, states, hn_in) of one step from weights ``w`` (canonical names, torch layout).

    gates: activated gate values (N, G*H) in torch's order (LSTM i, f, g, o; GRU r, z, n),
    None for the RNN or when ``gates`` is False. ``forget_bias`` is 0 for weights that
    already hold it (folded by the torch conversion). ``offsets``: zeros (or None) added to
    the input and recurrent pre-activations (N, G*H), whose gradients are the step's
    pre-activation gradients. hn_in: what the n rows of W_hh multiply in a reset-before GRU
    (r_t * h_{t-1}), else None. Works on any number of rows, so all steps' gates can be
    computed in one call."""
    z_ih, z_hh = offsets
    h = st["h"]
    H, W_hh = h.shape[1], w["weight_hh"]
    b_ih, b_hh = (w["bias_ih"], w["bias_hh"]) if probe.bias else (None, None)
    reset_before = probe.cell == "gru" and not probe.options["reset_after"]
    rows = slice(0, 2 * H) if reset_before else slice(None)      # the n rows of W_hh wait for r_t
    gx = _linear(torch, inp, w["weight_ih"], b_ih)
    gx = gx if z_ih is None else gx + z_ih
    gh = _linear(torch, h, W_hh[rows], None if b_hh is None else b_hh[rows])
    gh = gh if z_hh is None else gh + z_hh[:, rows]
    if probe.cell == "rnn":
        act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "identity": lambda a: a}[probe.options["activation"]]
        return None, {"h": act(gx + gh)}, None
    if probe.cell == "lstm":
        a_i, a_f, a_g, a_o = (gx + gh).chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f + forget_bias), torch.tanh(a_g), torch.sigmoid(a_o)
        c = f * st["c"] + i * g
        return torch.cat([i, f, g, o], dim=1) if gates else None, {"h": o * torch.tanh(c), "c": c}, None
    xr, xz, xn = gx.chunk(3, dim=1)
    r, z = torch.sigmoid(xr + gh[:, :H]), torch.sigmoid(xz + gh[:, H:2 * H])
    hn_in = None
    if reset_before:
        hn_in = r * h
        a_hn = _linear(torch, hn_in, W_hh[2 * H:], None if b_hh is None else b_hh[2 * H:])
        n = torch.tanh(xn + (a_hn if z_hh is None else a_hn + z_hh[:, 2 * H:]))
    else:
        n = torch.tanh(xn + r * gh[:, 2 * H:])
    return torch.cat([r, z, n], dim=1) if gates else None, {"h": (1 - z) * n + z * h}, hn_in


def _add_gates(torch, probe, trace, layer, w, forget_bias, inputs, prev):
    """Gate values of one layer at every step, all steps in one call, from weights ``w`` and
    the backend's own states: inputs (T, N, D) and h_{t-1} (T, N, H) of every step. The
    Elman RNN has no gates."""
    if probe.cell == "rnn":
        return
    with torch.no_grad():
        T, N = inputs.shape[0], inputs.shape[1]
        prev = prev.reshape(T * N, -1)
        gates, _, _ = _cell_math(torch, probe, w, inputs.reshape(T * N, -1),
                                 {"h": prev, "c": torch.zeros_like(prev)}, forget_bias)
        trace.add_steps("gates", layer, _seq(gates.reshape(T, N, -1)), time_axis=0)

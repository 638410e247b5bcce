"""PyTorch autograd as a backend, in four forms (named for an RNN; LSTM and GRU alike):

    torch.nn.RNN            the fused multi-layer module as users run it (batch_first=True):
                            top-layer outputs, final states of every layer, total gradients
    torch.nn.RNN-layerwise  the same stack as one single-layer module per layer, so that
                            every layer's states exist at every step
    torch.nn.RNNCell        nn.RNNCell unrolled over time with the weights untied into one
                            copy per step: autograd itself yields each step's contribution
                            to every weight gradient, and retain_grad() the total adjoint of
                            every state (carry included)
    torch.functional        the same unroll with the cell written in torch ops; covers what
                            the modules lack (sigmoid and identity RNNs, an LSTM forget_bias
                            without bias, the reset-before GRU)
"""

import numpy as np

from ..errors import BackendUnavailable, LayoutError
from ..layouts.torch_layout import CLASSES, fold_options, load_layer
from ..trace import Trace

INSTALL = "pip install 'torch==2.13.0'"


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


def _kind(name):
    if name == "torch.functional":
        return "functional"
    if name.endswith("-layerwise"):
        return "layer"
    return "cell" if name.endswith("Cell") else "fused"


def unsupported(name, probe):
    """Why backend ``name`` cannot run ``probe`` exactly, or None."""
    if _kind(name) == "functional":
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
    runner = {"fused": _run_fused, "layer": _run_layerwise}.get(kind, _run_unrolled)
    trace = Trace(name)
    runner(torch, probe, trace, kind)
    return trace


def _tensor(torch, array, grad=False):
    return torch.tensor(np.array(array), requires_grad=grad)


def _np(t):
    return t.detach().cpu().numpy().copy()


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
    """Call a module or cell with the state in torch's form; returns (out, state dict)."""
    is_cell = type(module).__name__.endswith("Cell")
    if probe.cell == "lstm":
        result = module(inp, (states["h"], states["c"]))
        h, c = result if is_cell else result[1]
        return (h if is_cell else result[0]), {"h": h, "c": c}
    result = module(inp, states["h"])
    if is_cell:
        return result, {"h": result}
    return result[0], {"h": result[1]}


def _run_fused(torch, probe, trace, kind):
    L, T = probe.layers, probe.sizes["T"]
    m = _module(torch, probe, "fused", 0)
    for k in range(L):
        load_layer(m, fold_options(probe.cell, probe.layer_params(k), probe.options), "fused", k)
    x, s0 = _tensor(torch, probe.x, grad=True), _state_in(torch, probe)
    out, final = _call(probe, m, x, s0)
    _loss(torch, probe, out, final).backward()
    trace.add_steps("h", L - 1, _np(out))
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
        _add_gates(torch, probe, trace, k, {n[:-3]: p for n, p in m.named_parameters()}, layer_in, inp, s0["h"][k])
        modules.append(m)
        trace.add_steps("h", k, _np(inp))
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
    trace.add_steps("dx", 0, _np(x.grad))
    for s, leaf in s0.items():
        for k in range(probe.layers):
            trace.add_total(f"d{s}0", k, _np(leaf.grad[k]))


def _run_unrolled(torch, probe, trace, kind):
    """Untied unroll: one copy of every layer's weights per step, retain_grad on every state."""
    L, T = probe.layers, probe.sizes["T"]
    x, s0 = _tensor(torch, probe.x, grad=True), _state_in(torch, probe)
    steps = [[_make_step(torch, probe, kind, k) for k in range(L)] for _ in range(T)]
    state = [{s: v[k] for s, v in s0.items()} for k in range(L)]
    kept = {}
    loss = 0
    for t in range(T):
        inp = x[:, t]
        for k in range(L):
            gates, state[k] = steps[t][k][1](inp, state[k])
            if gates is not None:
                trace.values[("gates", k, t)] = _np(gates)
            for s, value in state[k].items():
                value.retain_grad()
                kept[(s, k, t)] = value
            inp = state[k]["h"]
        loss = loss + (inp * _tensor(torch, probe.dout[:, t])).sum()
    for k in range(L):
        for s, value in state[k].items():
            loss = loss + (value * _tensor(torch, probe.dstate_n[s][k])).sum()
    loss.backward()
    for (s, k, t), value in kept.items():
        trace.values[(s, k, t)] = _np(value)
        if value.grad is not None:
            trace.values[(f"d{s}_total", k, t)] = _np(value.grad)
    for k in range(L):
        for canonical in probe.layer_params(k):
            per_step = [steps[t][k][0][canonical].grad for t in range(T)]
            if any(g is None for g in per_step):
                continue
            per_step = np.stack([_np(g) for g in per_step])
            trace.add_steps(f"d{canonical}", k, per_step, time_axis=0)
            trace.add_total(f"d{canonical}", k, per_step.sum(axis=0))
    _add_inputs_grads(trace, probe, x, s0)


def _make_step(torch, probe, kind, layer):
    """(leaves, step): this step's own copy of the layer's weights and the cell as a function
    step(inp, states) -> (gate values or None, states)."""
    if kind == "cell":
        m = _module(torch, probe, "cell", layer)
        load_layer(m, fold_options(probe.cell, probe.layer_params(layer), probe.options), "cell")
        leaves = dict(m.named_parameters())

        def step(inp, st):
            with torch.no_grad():       # gate values from the module's own (converted) weights
                gates = _cell_math(torch, probe, leaves, inp, st, 0.0)[0]
            return gates, _call(probe, m, inp, st)[1]
        return leaves, step
    leaves = {n: _tensor(torch, v, grad=True) for n, v in probe.layer_params(layer).items()}
    return leaves, lambda inp, st: _cell_math(torch, probe, leaves, inp, st, probe.options.get("forget_bias", 0.0))


def _functional_step(torch, probe, w, inp, st):
    """One step of the cell written in torch ops (autograd differentiates it): new states."""
    return _cell_math(torch, probe, w, inp, st, probe.options.get("forget_bias", 0.0))[1]


def _cell_math(torch, probe, w, inp, st, forget_bias):
    """(gates, states) of one step from weights ``w`` (canonical names, torch layout).

    gates: activated gate values (N, G*H) in torch's order (LSTM i, f, g, o; GRU r, z, n),
    None for the RNN. ``forget_bias`` is 0 for weights that already hold it (folded by
    the torch conversion)."""
    h = st["h"]
    gx = inp @ w["weight_ih"].T + (w["bias_ih"] if probe.bias else 0)
    gh = h @ w["weight_hh"].T + (w["bias_hh"] if probe.bias else 0)
    if probe.cell == "rnn":
        act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "identity": lambda a: a}[probe.options["activation"]]
        return None, {"h": act(gx + gh)}
    if probe.cell == "lstm":
        a_i, a_f, a_g, a_o = (gx + gh).chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f + forget_bias), torch.tanh(a_g), torch.sigmoid(a_o)
        c = f * st["c"] + i * g
        return torch.cat([i, f, g, o], dim=1), {"h": o * torch.tanh(c), "c": c}
    xr, xz, xn = gx.chunk(3, dim=1)
    hr, hz, hn = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    if probe.options["reset_after"]:
        n = torch.tanh(xn + r * hn)
    else:
        H = h.shape[1]
        n = torch.tanh(xn + (r * h) @ w["weight_hh"][2 * H:].T + (w["bias_hh"][2 * H:] if probe.bias else 0))
    return torch.cat([r, z, n], dim=1), {"h": (1 - z) * n + z * h}


def _add_gates(torch, probe, trace, layer, w, inputs, hs, h0):
    """Gate values of one layer at every step, from the module's own weights ``w`` (which
    hold a folded forget_bias) and its own states: inputs (N, T, D), hs (N, T, H), h0 (N, H)."""
    if probe.cell == "rnn":
        return
    with torch.no_grad():
        prev = h0
        for t in range(inputs.shape[1]):
            gates, _ = _cell_math(torch, probe, w, inputs[:, t], {"h": prev, "c": torch.zeros_like(prev)}, 0.0)
            trace.values[("gates", layer, t)] = _np(gates)
            prev = hs[:, t]

"""PyTorch for extended probes: bidirectional layers, padded variable-length batches, the
LSTM's projection, peepholes and clips (named for an LSTM; RNN and GRU alike):

    torch.nn.LSTM            the fused module as users run it: ``bidirectional=True``,
                             ``proj_size``, a padded batch packed with
                             ``pack_padded_sequence(..., enforce_sorted=False)`` and padded
                             back with ``pad_packed_sequence``: the top layer's outputs of
                             both directions, every final state, total gradients
    torch.nn.LSTM-layerwise  one such module per layer (packed output fed on, merged in
                             torch ops between layers when the merge is Keras's sum, mul or
                             ave): every layer's states and gates at every real step
    torch.nn.LSTMCell        the untied unroll (harness.backends._unroll) of nn.LSTMCell:
                             everything per step; no proj_size (nn.LSTMCell has none)
    torch.functional         the same unroll with the cell in torch ops: also peepholes
                             and clips

What torch's modules do not compute is refused with the reason: peepholes and clips (TF1
LSTMCell only), a multi-layer module merging its directions otherwise than by
concatenation, and separate per-direction stacks in a bidirectional module.
"""

import numpy as np

from ..errors import LayoutError
from ..layouts.torch_layout import CLASSES, fold_options, load_layer
from .. import threads
from ..trace import Trace
from . import _unroll
from .reference_seq import full_lengths
from .torch_backend import import_framework  # noqa: F401  (the family's import, with the install line)


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
    kind, st, H = _kind(name), probe.structure, probe.sizes["H"]
    if kind == "functional":
        return None
    act = probe.options.get("activation")
    if probe.cell == "rnn" and act not in ("tanh", "relu"):
        return f"{name} offers only tanh and relu (activation={act}); torch.functional covers it"
    clips = [k for k in ("cell_clip", "proj_clip") if k in probe.options]
    if clips:
        return f"{name}: {', '.join(clips)} (TF1 LSTMCell) have no torch module form; torch.functional covers them"
    merging = st.directions == 2 and st.merge not in ("concat", "none")
    if merging and kind == "fused" and probe.layers > 1:
        return (f"{name}: a multi-layer bidirectional module feeds every layer the concatenation of both "
                f"directions; merge {st.merge!r} between layers (Keras's Bidirectional merge_mode) has no "
                "nn module form; -layerwise merges between single-layer modules")
    if st.directions == 2 and st.stacking == "separate" and probe.layers > 1 and kind != "cell":
        return (f"{name}: torch's bidirectional modules feed every layer both directions of the layer below (2P "
                "inputs); separate per-direction stacks (TF1 bidirectional_dynamic_rnn with MultiRNNCells: layer "
                "k > 0 reads only its own direction, P inputs) are a different model; torch.functional and "
                "the nn cells cover them")
    if st.proj_size and kind == "cell":
        return f"{name}: nn.LSTMCell has no proj_size; torch.nn.LSTM and torch.functional cover the projection"
    if st.proj_size and st.proj_size >= H:
        return f"{name}: torch requires proj_size < hidden_size, got proj_size={st.proj_size}, hidden_size={H}"
    try:
        fold_options(probe.cell, probe.layer_params(0), probe.options)
    except LayoutError as exc:
        return f"{name}: {exc}"
    return None


def run(name, probe):
    """Run backend ``name`` on ``probe`` and return its Trace."""
    torch = import_framework()
    kind = _kind(name)
    trace = Trace(name)
    with threads.budget("torch"):
        if kind in ("fused", "layer"):
            _run_modules(torch, probe, trace, kind)
        else:
            _run_unrolled(torch, probe, trace, kind)
    return trace


def _tensor(torch, array, grad=False):
    return torch.tensor(np.array(array), requires_grad=grad)


def _np(t):
    return t.detach().cpu().numpy().copy()


def _module(torch, probe, kind, layer):
    fused_cls, cell_cls = CLASSES[probe.cell]
    s, st = probe.sizes, probe.structure
    kwargs = {"bias": probe.bias, "dtype": getattr(torch, probe.dtype)}
    if probe.cell == "rnn":
        kwargs["nonlinearity"] = probe.options["activation"]
    if kind == "cell":
        return getattr(torch.nn, cell_cls)(st.input_size(layer, s["D"], s["H"]), s["H"], **kwargs)
    if st.proj_size:
        kwargs["proj_size"] = st.proj_size
    return getattr(torch.nn, fused_cls)(st.input_size(layer, s["D"], s["H"]) if kind == "layer" else s["D"], s["H"],
                                        num_layers=s["L"] if kind == "fused" else 1, batch_first=True,
                                        bidirectional=st.directions == 2, **kwargs)


def _states_in(torch, probe):
    return {s: _tensor(torch, v, grad=True) for s, v in probe.state0.items()}


def _call(probe, module, inp, states):
    """A fused module's (output, {state name: (layers*Dn, N, size)})."""
    if probe.cell == "lstm":
        out, (h, c) = module(inp, (states["h"], states["c"]))
        return out, {"h": h, "c": c}
    out, h = module(inp, states["h"])
    return out, {"h": h}


def _run_modules(torch, probe, trace, kind):
    """nn.LSTM as users run it (kind "fused"), or one such module per layer ("layer")."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    L, Dn, T = probe.layers, probe.directions, probe.sizes["T"]
    lengths = probe.lengths
    x, s0 = _tensor(torch, probe.x, grad=True), _states_in(torch, probe)
    packed = (lambda t: pack_padded_sequence(t, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)) \
        if lengths is not None else (lambda t: t)
    padded = (lambda o: pad_packed_sequence(o, batch_first=True, total_length=T)[0]) \
        if lengths is not None else (lambda o: o)
    groups = [range(L)] if kind == "fused" else [[k] for k in range(L)]
    ops = _unroll.Ops(concat=torch.cat, zeros=None, gather=None, scatter=None)
    P, merge = probe.sizes["P"], probe.structure.merge
    inp, modules, finals, outs = packed(x), [], {s: [] for s in s0}, []
    for layers in groups:
        m = _module(torch, probe, kind, layers[0])
        for k in layers:
            for d in range(Dn):
                layer = k if kind == "fused" else 0
                load_layer(m, fold_options(probe.cell, probe.layer_params(k, d), probe.options), "fused", layer, d)
        rows = slice(layers[0] * Dn, (layers[-1] + 1) * Dn)
        inp, final = _call(probe, m, inp, {s: v[rows] for s, v in s0.items()})
        full = padded(inp)                                   # (N, T, Dn*P): the directions side by side
        merged = _unroll.merge(ops, merge, [full[..., d * P:(d + 1) * P] for d in range(Dn)])
        if merged is not full and Dn == 2 and merge not in ("concat", "none"):
            inp = packed(merged)                             # Keras's sum/mul/ave: what the next layer reads
        modules.append((layers, m))
        outs.append((layers[-1], full, merged))
        for s, v in final.items():
            finals[s].append(v)
    finals = {s: torch.cat(v) for s, v in finals.items()}
    loss = (outs[-1][2] * _tensor(torch, probe.dout)).sum()
    loss = loss + sum((v * _tensor(torch, probe.dstate_n[s])).sum() for s, v in finals.items())
    loss.backward()
    _module_trace(torch, probe, trace, kind, modules, outs, finals, x, s0)


def _module_trace(torch, probe, trace, kind, modules, outs, finals, x, s0):
    Dn, P = probe.directions, probe.sizes["P"]
    lengths = full_lengths(probe)
    for i, (k, full, merged) in enumerate(outs):
        for d in range(Dn):
            h = full[..., d * P:(d + 1) * P]
            trace.add_steps("h", k, _np(h), direction=d)
            if kind == "layer":
                inputs = x if k == 0 else outs[i - 1][2]
                _add_gates(torch, probe, trace, k, d, modules[k][1], inputs, h, s0["h"][k * Dn + d], lengths)
        if Dn == 2:
            trace.add_steps("out", k, _np(merged))
    if probe.lengths is not None:
        trace.padding = {"h": "zero", "out": "zero"}
    for layers, m in modules:
        for k in layers:
            for d in range(Dn):
                layer = k if kind == "fused" else 0
                for s, v in finals.items():
                    trace.add_total(f"{s}_n", k, _np(v[k * Dn + d]), direction=d)
                    trace.add_total(f"d{s}0", k, _np(s0[s].grad[k * Dn + d]), direction=d)
                for canonical in probe.layer_params(k, d):
                    p = getattr(m, f"{canonical}_l{layer}" + ("_reverse" if d else ""))
                    trace.add_total(f"d{canonical}", k, _np(p.grad), direction=d)
    trace.add_steps("dx", 0, _np(x.grad))
    trace.note = (f"{trace.backend} exposes {'the top' if kind == 'fused' else 'every'} layer's outputs and every "
                  "final state; per-step adjoints, weight contributions (and the LSTM's c before the end) are "
                  "not observable in a fused call")


def _add_gates(torch, probe, trace, layer, direction, module, inputs, h, h0, lengths):
    """Gate values of one direction of one layer at every real step, from the module's own
    weights and states: h_(t-1) is the state before input step t in that direction's order."""
    if probe.cell == "rnn":
        return
    suffix = "_l0" + ("_reverse" if direction else "")
    w = {n[:-len(suffix)]: p for n, p in module.named_parameters() if n.endswith(suffix)}
    with torch.no_grad():
        prev = _previous(torch, h, h0, lengths, direction == 1)
        c = torch.zeros(h0.shape[0], probe.sizes["H"], dtype=h0.dtype)    # no peepholes in torch: unused
        for t in range(inputs.shape[1]):
            gates, _ = step_math(torch, probe, w, inputs[:, t], {"h": prev[:, t], "c": c}, 0.0)
            trace.of(direction)[("gates", layer, t)] = _np(gates)


def _previous(torch, h, h0, lengths, reverse):
    """(N, T, P): the state each input step's cell call read: h at t-1 (forward) or t+1
    (reverse, within the sequence's own length), h0 where the sequence starts."""
    N, T, _ = h.shape
    prev = torch.zeros_like(h)
    for n in range(N):
        for t in range(int(lengths[n])):
            nb = t + 1 if reverse else t - 1
            prev[n, t] = h0[n] if nb < 0 or nb >= lengths[n] else h[n, nb]
    return prev


def _run_unrolled(torch, probe, trace, kind):
    """The untied unroll: one copy of each layer's weights per (direction, input step)."""
    L, Dn, T = probe.layers, probe.directions, probe.sizes["T"]
    x, s0 = _tensor(torch, probe.x, grad=True), _states_in(torch, probe)
    copies = [[[_make_step(torch, probe, kind, k, d) for _ in range(T)] for d in range(Dn)] for k in range(L)]
    ops = _unroll.Ops(concat=torch.cat, zeros=torch.zeros_like, gather=lambda t, idx: t[torch.as_tensor(idx)],
                      scatter=lambda t, idx, v: t.index_put((torch.as_tensor(idx),), v))
    cells = [[[step for _, step in per_dir] for per_dir in per_layer] for per_layer in copies]
    kept = _unroll.unroll(ops, probe, full_lengths(probe), list(torch.unbind(x, 1)),
                          {s: list(torch.unbind(v)) for s, v in s0.items()}, cells)
    for *_, new in kept.states:
        for v in new.values():
            v.retain_grad()
    _unroll.loss_terms(probe, kept, lambda t, a: (t * _tensor(torch, a)).sum()).backward()
    _unroll.fill_trace(trace, probe, kept, [{n: v.grad for n, v in new.items()} for *_, new in kept.states], _np)
    # a copy no sequence reached (every sequence shorter than that step) gets no gradient: 0
    grads = [[[{n: p.grad if p.grad is not None else torch.zeros_like(p) for n, p in leaves.items()}
               for leaves, _ in per_dir] for per_dir in per_layer] for per_layer in copies]
    _unroll.add_step_grads(trace, probe, grads, lambda k, d, g: {f"d{n}": _np(v) for n, v in g.items()})
    trace.add_steps("dx", 0, _np(x.grad))
    for s, leaf in s0.items():
        for k in range(L):
            for d in range(Dn):
                trace.add_total(f"d{s}0", k, _np(leaf.grad[k * Dn + d]), direction=d)


def _make_step(torch, probe, kind, layer, direction):
    """(leaves, step): one copy of one direction's weights and the cell as a function
    step(inp, states) -> (gate values or None, new states)."""
    if kind == "cell":
        m = _module(torch, probe, "cell", layer)
        load_layer(m, fold_options(probe.cell, probe.layer_params(layer, direction), probe.options), "cell")
        leaves = dict(m.named_parameters())

        def step(inp, st):
            with torch.no_grad():       # gate values from the module's own (converted) weights
                gates = step_math(torch, probe, leaves, inp, st, 0.0)[0]
            if probe.cell == "lstm":
                h, c = m(inp, (st["h"], st["c"]))
                return gates, {"h": h, "c": c}
            return gates, {"h": m(inp, st["h"])}
        return leaves, step
    leaves = {n: _tensor(torch, v, grad=True) for n, v in probe.layer_params(layer, direction).items()}
    fb = probe.options.get("forget_bias", 0.0)
    return leaves, lambda inp, st: step_math(torch, probe, leaves, inp, st, fb)


def step_math(torch, probe, w, inp, st, forget_bias):
    """(gates, states) of one step in torch ops from weights ``w`` (canonical names, torch
    layout; peepholes, weight_hr and the clips when present). gates: activated, (N, G*H),
    torch's order; None for the RNN. ``forget_bias`` 0 for weights that already hold it."""
    h, opts = st["h"], probe.options
    gx = inp @ w["weight_ih"].T + (w["bias_ih"] if "bias_ih" in w else 0)
    gh = h @ w["weight_hh"].T + (w["bias_hh"] if "bias_hh" in w else 0)
    if probe.cell == "rnn":
        act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "identity": lambda a: a}[opts["activation"]]
        return None, {"h": act(gx + gh)}
    if probe.cell == "lstm":
        return _lstm_math(torch, w, gx + gh, st["c"], forget_bias, opts.get("cell_clip"), opts.get("proj_clip"))
    xr, xz, xn = gx.chunk(3, dim=1)
    hr, hz, hn = gh.chunk(3, dim=1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    if opts["reset_after"]:
        n = torch.tanh(xn + r * hn)
    else:
        H = h.shape[1]
        n = torch.tanh(xn + (r * h) @ w["weight_hh"][2 * H:].T + (w["bias_hh"][2 * H:] if "bias_hh" in w else 0))
    return torch.cat([r, z, n], dim=1), {"h": (1 - z) * n + z * h}


def _lstm_math(torch, w, a, c_prev, forget_bias, cell_clip, proj_clip):
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    if "weight_ci" in w:
        a_i, a_f = a_i + w["weight_ci"] * c_prev, a_f + w["weight_cf"] * c_prev
    i, f, g = torch.sigmoid(a_i), torch.sigmoid(a_f + forget_bias), torch.tanh(a_g)
    c = f * c_prev + i * g
    if cell_clip is not None:
        c = torch.clamp(c, -cell_clip, cell_clip)
    if "weight_co" in w:
        a_o = a_o + w["weight_co"] * c
    o = torch.sigmoid(a_o)
    h = o * torch.tanh(c)
    if "weight_hr" in w:
        h = h @ w["weight_hr"].T
        if proj_clip is not None:
            h = torch.clamp(h, -proj_clip, proj_clip)
    return torch.cat([i, f, g, o], dim=1), {"h": h, "c": c}

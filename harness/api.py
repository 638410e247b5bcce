"""compare(): probe, run the reference and every backend, compare, report."""

from . import backends as _backends
from . import threads, validate
from .backends.reference import run_reference
from .cells import GATES
from .compare import Tolerance, compare_traces, skipped_row
from .probe import make_probe
from .report import Report


def case_name(probe):
    opts = "-".join(str(v) for k, v in probe.options.items() if k == "activation")
    extra = "".join(f"-{k}={v}" for k, v in probe.options.items()
                    if k in ("forget_bias", "reset_after") and v != {"forget_bias": 0.0, "reset_after": True}[k])
    extra += "".join(f"-{k}={v}" for k, v in probe.options.items() if k in ("cell_clip", "proj_clip"))
    bias = "" if probe.bias else "-nobias"
    st = probe.structure
    if st.directions == 2:
        extra += f"-bidirectional-{st.merge}" + ("-separate" if st.stacking == "separate" else "")
    extra += (f"-proj{st.proj_size}" if st.proj_size else "") + ("-peepholes" if st.peepholes else "")
    if probe.lengths is not None:
        extra += "-lengths" + ",".join(str(int(n)) for n in probe.lengths)
    return f"{probe.cell}{'-' + opts if opts else ''}{extra}-L{probe.layers}{bias}-{probe.dtype}"


def compare(cell="rnn", *, backends=("torch",), layers=1, activation="tanh", bias=True, batch=3,
            steps=10, input_size=4, hidden_size=5, dtype="float64", seed=0, forget_bias=0.0,
            reset_after=True, params=None, atol=None, rtol=None, allow_nonfinite=False, bidirectional=False,
            merge="concat", stacking="interleaved", lengths=None, proj_size=0, peepholes=False, cell_clip=None,
            proj_clip=None):
    """Compare the NumPy reference cells with framework backends, layer by layer and step by step.

    Args:
        cell: "rnn", "lstm" or "gru".
        backends: families ("torch"), concrete names ("torch.nn.RNNCell") or "all"; a tuple
            or a comma-separated string.
        layers, batch, steps, input_size, hidden_size: L, N, T, D, H.
        activation: the RNN's nonlinearity, "tanh", "relu", "sigmoid" or "identity".
        bias: whether layers have biases.
        dtype: "float64" (default) or "float32"; tolerances follow the dtype.
        seed: seeds weights, inputs, initial states and cotangents.
        forget_bias: LSTM forget-gate offset added at call time (TF's BasicLSTMCell).
        reset_after: GRU variant (True: torch/Keras default; False: TF1 GRUCell).
        params: canonical weights to use instead of random ones (a dict name -> array, finite).
        atol, rtol: override the dtype's default tolerances (finite, >= 0).
        allow_nonfinite: accept NaN/Inf in ``params`` (every comparison touching them fails).
        bidirectional: a reverse direction in every layer; merge: how the two make the layer's
            output ("concat", "sum", "mul", "ave", "none": Keras's merge modes); stacking:
            "interleaved" (each layer reads both directions below: torch, Keras, TF1
            stack_bidirectional_dynamic_rnn) or "separate" (two stacks merged at the top: TF1
            bidirectional_dynamic_rnn with MultiRNNCells).
        lengths: a padded batch: one length per sequence (1..steps), or "random".
        proj_size, peepholes, cell_clip, proj_clip: the LSTM's projection (torch proj_size, TF1
            num_proj), peepholes (TF1 use_peepholes) and clips (TF1 only).

    Returns:
        Report: ``.ok``, ``.table`` (pandas), ``.summary()``, ``.to_csv()``, ``.to_html()``.
    """
    options = validate.probe_args(cell=cell, layers=layers, batch=batch, steps=steps, input_size=input_size,
                                  hidden_size=hidden_size, dtype=dtype, seed=seed, activation=activation,
                                  forget_bias=forget_bias, reset_after=reset_after, bias=bias, atol=atol, rtol=rtol)
    validate.backends(backends)
    validate.flag("allow_nonfinite", allow_nonfinite)
    if params is not None:
        params = validate.params(params, allow_nonfinite)
    clips = {k: v for k, v in (("cell_clip", cell_clip), ("proj_clip", proj_clip)) if v is not None}
    probe = make_probe(cell, layers=layers, bias=bias, batch=batch, steps=steps,
                       input_size=input_size, hidden_size=hidden_size, dtype=dtype, seed=seed,
                       params=params, bidirectional=bidirectional, merge=merge, stacking=stacking,
                       lengths=lengths, proj_size=proj_size, peepholes=peepholes, **options, **clips)
    return compare_probe(probe, backends, Tolerance.for_dtype(probe.dtype, atol, rtol))


def compare_probe(probe, backends, tol, reference=run_reference):
    """Run ``reference`` and the backends on one probe and compare each against the reference;
    a degenerate reference (every gradient of a layer within atol of zero) is refused."""
    runnable, skipped = _backends.resolve(backends, probe)
    with threads.budget("numpy"):
        ref = reference(probe)
        _refuse_degenerate(ref, probe, tol)
    from .gradnorms import from_traces
    norms, rows = from_traces([ref]), []
    for name, module in runnable:
        trace = module.run(name, probe)                # each backend runs under its own budget
        with threads.budget("numpy"):
            rows.extend(compare_traces(ref, trace, tol, GATES[probe.cell], probe.lengths))
            norms.update(from_traces([trace]))         # a few numbers per step: the trace can go
        del trace
    for name, reason in skipped:
        rows.append(skipped_row(name, reason, tol))
    report = Report.from_rows(case_name(probe), probe.describe(), rows)
    report.cases[0]["figures"] = grad_norm_figures(lambda: norms)
    return report


def grad_norm_figures(norms, note=""):
    """The figure hook's entry for ‖dL/dh_t‖ (‖dL/dc_t‖) over t. ``norms``: a function
    returning {source: {(quantity, layer): (T,)}} (harness.gradnorms), called only when the
    figure is drawn; nothing is drawn when it returns nothing."""
    from . import plots

    def make():
        got = norms()
        return plots.state_grad_norms(got) if got else None
    caption = ("Frobenius norm over batch and units of the total adjoint dL/dh_t at every step, log scale; "
               "backends that expose no per-step adjoint are not drawn" + (f"; {note}" if note else ""))
    return [plots.spec("grad-norms", "Gradient norms over t", make, caption)]


def _refuse_degenerate(trace, probe, tol):
    grads = {k: {} for k in range(probe.layers)}
    for quantity, layer, step in trace.values:         # keys only: per-step products stay unformed
        if quantity.startswith("d") and not quantity.endswith("_total") and (step is None or quantity == "dx"):
            grads[layer][(quantity, step)] = trace.values[(quantity, layer, step)]
    validate.refuse_degenerate(grads, {k: probe.layer_params(k) for k in range(probe.layers)}, tol.atol)

"""compare(): probe, run the reference and every backend, compare, report."""

from . import backends as _backends
from .backends.reference import run_reference
from .cells import GATES
from .compare import Tolerance, compare_traces, skipped_row
from .probe import make_probe
from .report import Report


def case_name(probe):
    opts = "-".join(str(v) for k, v in probe.options.items() if k == "activation")
    extra = "".join(f"-{k}={v}" for k, v in probe.options.items()
                    if k != "activation" and v != {"forget_bias": 0.0, "reset_after": True}[k])
    bias = "" if probe.bias else "-nobias"
    return f"{probe.cell}{'-' + opts if opts else ''}{extra}-L{probe.layers}{bias}-{probe.dtype}"


def compare(cell="rnn", *, backends=("torch",), layers=1, activation="tanh", bias=True, batch=3,
            steps=10, input_size=4, hidden_size=5, dtype="float64", seed=0, forget_bias=0.0,
            reset_after=True, params=None, atol=None, rtol=None):
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
        params: canonical weights to use instead of random ones.
        atol, rtol: override the dtype's default tolerances.

    Returns:
        Report: ``.ok``, ``.table`` (pandas), ``.summary()``, ``.to_csv()``, ``.to_html()``.
    """
    probe = make_probe(cell, layers=layers, bias=bias, batch=batch, steps=steps,
                       input_size=input_size, hidden_size=hidden_size, dtype=dtype, seed=seed,
                       params=params, **_options(cell, activation, forget_bias, reset_after))
    return compare_probe(probe, backends, Tolerance.for_dtype(probe.dtype, atol, rtol))


def _options(cell, activation, forget_bias, reset_after):
    return {"rnn": {"activation": activation}, "lstm": {"forget_bias": forget_bias},
            "gru": {"reset_after": reset_after}}.get(cell, {})


def compare_probe(probe, backends, tol, reference=run_reference):
    """Run ``reference`` and the backends on one probe and compare each against the reference."""
    runnable, skipped = _backends.resolve(backends, probe)
    ref = reference(probe)
    rows = []
    for name, module in runnable:
        rows.extend(compare_traces(ref, module.run(name, probe), tol, GATES[probe.cell]))
    for name, reason in skipped:
        rows.append(skipped_row(name, reason, tol))
    return Report.from_rows(case_name(probe), probe.describe(), rows)

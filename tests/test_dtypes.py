"""float32 runs stay float32 in every backend (no silent upcast or autocast), float64 stay float64."""

import numpy as np
import pytest

from harness import backends
from harness.backends.reference import run_reference
from harness.probe import make_probe

FAMILIES = ["torch", "tf", "keras"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_traced_array_has_the_probe_dtype(family, cell, dtype):
    pytest.importorskip({"torch": "torch", "tf": "tensorflow", "keras": "keras"}[family])
    options = {"reset_after": False} if (cell, family) == ("gru", "tf") else {}
    probe = make_probe(cell, layers=2, steps=3, dtype=dtype, **options)
    runnable, _ = backends.resolve((family,), probe)
    assert runnable
    for name, module in runnable:
        trace = module.run(name, probe)
        dtypes = {np.asarray(v).dtype for v in trace.values.values()}
        assert dtypes == {np.dtype(dtype)}, (name, dtypes)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_reference_trace_keeps_float32(cell):
    trace = run_reference(make_probe(cell, layers=2, steps=3, dtype="float32"))
    assert {np.asarray(v).dtype for v in trace.values.values()} == {np.dtype("float32")}

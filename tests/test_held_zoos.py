"""The held-out zoos stay what they claim to be, cheaply (no diagnosis is asserted or looked
at: that is tests/test_mutant_zoo.py): each module's correct code passes against the
reference cells in float64 and float32 and computes in the precision it is given, and every
TOUCHES label is the one its code computes. That every mutant is flagged, and the
comparisons against finite differences and torch, are in the slower self-check
``cd tests && PYTHONPATH=.. python -m zoo.verify``.
"""

import warnings

import numpy as np
import pytest

import harness
from harness.guard.layouts import get_layout
from harness.guard.runner import UserCode, run_user
from harness.probe import make_probe

from zoo.blind_index import touched_gates
from zoo.verify import ZOOS

MODULES = {name: mod for zoo in ZOOS.values() for name, mod in zoo.items()}


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_code_passes(name, dtype):
    fwd, bwd, opts = MODULES[name].make(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert harness.check_backward(fwd, bwd, against=("reference",), dtype=dtype, **opts).ok is True


@pytest.mark.parametrize("name", sorted(MODULES))
def test_touches_are_what_the_code_computes(name):
    mod = MODULES[name]
    assert set(mod.TOUCHES) == set(mod.BUGS)
    assert {b: touched_gates(mod, b) for b in mod.BUGS} == mod.TOUCHES


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_code_keeps_the_probe_dtype(name, dtype):
    """The zoo's code computes in the precision it is given (a float32 check stays float32)."""
    fwd, bwd, opts = MODULES[name].make(None)
    cell = opts["cell"]
    probe = make_probe(cell, batch=3, steps=4, input_size=4, hidden_size=6, seed=1, dtype=dtype,
                       **{k: opts[k] for k in ("activation", "forget_bias", "reset_after") if k in opts})
    layout = opts["layout"] if not isinstance(opts["layout"], str) else get_layout(opts["layout"], cell)
    values = run_user(UserCode(fwd, bwd, layout, cell), probe, probe.dout)
    assert values.dtypes and {np.dtype(d) for d in values.dtypes.values()} == {np.dtype(dtype)}

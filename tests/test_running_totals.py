"""A weight's gradient summed over the later steps, read where the weight belongs, in a line of
the step computed before that step's own weight gradient (the reset-before GRU's drh = U_h^T da_h
with U_h's running gradient). The code is held12's Deep-Learning-book GRU with that one line
changed, so the held-out module itself stays as its writer left it."""

import importlib.util
import inspect

from harness.guard.check import check_backward
from zoo import held12_dlbook_gru

LINE = "        drh = U_h.T @ da_h\n"


def _planted():
    source = inspect.getsource(held12_dlbook_gru)
    assert LINE in source
    spec = importlib.util.spec_from_loader("dlbook_drh_later", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(source.replace(LINE, "        drh = grads['dU_h'].T @ da_h\n"), module.__dict__)
    return module


def test_the_later_steps_gradient_read_for_a_weight_before_this_steps_is_named():
    fwd, bwd, opts = _planted().make()
    report = check_backward(fwd, bwd, against=("reference",), **opts)
    causes = [f for f in report.findings if f.startswith("likely cause:")]
    assert not report.ok
    assert causes and all(c.startswith("likely cause: a weight's gradient used in place of the weight") for c in causes)
    assert any("summed over the later steps" in c for c in causes), causes

"""What a plain ``import harness`` (every CLI start) loads: the checks of users' code and the
training checks only on first use (harness.__getattr__), and still every public name."""

import subprocess
import sys

import harness


def test_import_harness_leaves_guard_and_train_unloaded():
    code = ("import sys, harness; print(sorted(m for m in sys.modules "
            "if m.startswith(('harness.guard', 'harness.train'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_public_name_resolves_to_its_module():
    from harness.guard.check import check_backward
    from harness.guard.layouts import Layout
    from harness.guard.model import check_model
    from harness.train.api import check_training
    assert (harness.check_backward, harness.Layout, harness.check_model, harness.check_training) == \
        (check_backward, Layout, check_model, check_training)
    assert all(hasattr(harness, name) for name in harness.__all__)
    assert set(harness.__all__) <= set(dir(harness))


def test_an_unknown_name_is_an_attribute_error():
    try:
        harness.no_such_name
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("harness.no_such_name resolved")

"""gradharness: check hand-written backpropagation through time, layer by layer and step by step.

Public API (everything else is internal and may change):
    compare(cell="rnn", *, backends=("torch",), ...) -> Report
    check_backward(forward, backward, *, cell="rnn", layout="cs231n", against=("torch",), ...) -> Report
    check_model(fn, *, cell="rnn", layers=1, head=None, loss="squared_error", ...) -> Report
    check_training(fn=None, *, optimizer="sgd", lr=0.1, carry_state=False, ...) -> TrainingReport
    assert_backward, assert_model, assert_matches: the same, raising GradientMismatchError
    Layout: a weight convention of your own for check_backward
    Report
    HarnessError, BackendUnavailable, LayoutError, GradientMismatchError
    __version__: the installed package's version (package metadata)
"""

from importlib import metadata as _metadata
from typing import TYPE_CHECKING

try:
    __version__ = _metadata.version("gradharness")
except _metadata.PackageNotFoundError:             # run from a source tree that is not installed
    __version__ = "0+unknown"

from .api import compare as compare
from .assertions import assert_backward as assert_backward
from .assertions import assert_matches as assert_matches
from .assertions import assert_model as assert_model
from .errors import BackendUnavailable as BackendUnavailable
from .errors import GradientMismatchError as GradientMismatchError
from .errors import HarnessError as HarnessError
from .errors import LayoutError as LayoutError
from .report import Report as Report

# Imported on first use (PEP 562): ``gradharness compare`` never loads the checks of users'
# code or the training checks (about 0.1 s of every CLI start; benchmarks/bench_floor.py).
_LAZY = {"check_backward": ".guard.check", "Layout": ".guard.layouts", "check_model": ".guard.model",
         "check_training": ".train.api"}

if TYPE_CHECKING:                         # what type checkers and editors see: the same names, eagerly
    from .guard.check import check_backward as check_backward
    from .guard.layouts import Layout as Layout
    from .guard.model import check_model as check_model
    from .train.api import check_training as check_training


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__all__ = ["__version__", "compare", "check_backward", "check_model", "check_training", "assert_backward",
           "assert_model", "assert_matches",
           "Layout", "Report", "HarnessError", "BackendUnavailable", "LayoutError", "GradientMismatchError"]

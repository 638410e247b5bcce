"""gradharness: check hand-written backpropagation through time, layer by layer and step by step.

Public API (everything else is internal and may change):
    compare(cell="rnn", *, backends=("torch",), ...) -> Report
    Report
    HarnessError, BackendUnavailable, LayoutError, GradientMismatchError
"""

from .api import compare as compare
from .errors import BackendUnavailable as BackendUnavailable
from .errors import GradientMismatchError as GradientMismatchError
from .errors import HarnessError as HarnessError
from .errors import LayoutError as LayoutError
from .report import Report as Report

__all__ = ["compare", "Report", "HarnessError", "BackendUnavailable", "LayoutError",
           "GradientMismatchError"]

"""Assertion helpers: one line in a user's test; a failure prints the located, diagnosed
summary (never a dump of arrays). An exception of the user's code comes with the user's
frames only (harness.tracebacks)."""

from .errors import GradientMismatchError, HarnessError


def _assert(report):
    __tracebackhide__ = True                  # pytest: show the user's line, not ours
    if not report.ok:
        raise GradientMismatchError(report)
    return report


def _run(fn, *args, **options):
    __tracebackhide__ = True
    try:
        return fn(*args, **options)
    except HarnessError as exc:
        from .tracebacks import presentable
        raise presentable(exc)


def assert_backward(forward, backward, **options):
    """``check_backward(forward, backward, **options)`` and raise GradientMismatchError on a mismatch."""
    __tracebackhide__ = True
    from .guard.check import check_backward
    return _assert(_run(check_backward, forward, backward, **options))


def assert_model(fn, **options):
    """``check_model(fn, **options)`` and raise GradientMismatchError on a mismatch."""
    __tracebackhide__ = True
    from .guard.model import check_model
    return _assert(_run(check_model, fn, **options))


def assert_matches(cell="rnn", **options):
    """``compare(cell, **options)`` and raise GradientMismatchError on a mismatch."""
    __tracebackhide__ = True
    from .api import compare
    return _assert(_run(compare, cell, **options))

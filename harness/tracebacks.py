"""Exceptions as a test failure should show them: gradharness's own frames taken out of the
traceback (of the exception and of the user's exception chained as its cause), and the
exception flagged so that the pytest plugin prints the frames without their arguments
(the arrays gradharness passes to the user's code are never dumped). The chain stays: the
user's own exception first, with the user's frames, then ours in one line."""

import os
import types

HARNESS = os.path.dirname(os.path.abspath(__file__)) + os.sep
FLAG = "_gradharness_presentable"


def without_harness_frames(tb):
    """The traceback ``tb`` without gradharness's own frames."""
    kept = []
    while tb is not None:
        if not tb.tb_frame.f_code.co_filename.startswith(HARNESS):
            kept.append(tb)
        tb = tb.tb_next
    out = None
    for t in reversed(kept):
        out = types.TracebackType(out, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return out


def presentable(exc):
    """``exc`` (a HarnessError) ready to be raised again: see the module docstring."""
    exc = exc.with_traceback(without_harness_frames(exc.__traceback__))
    cause = exc.__cause__
    if cause is not None and type(exc).__name__ == "UserCodeError":
        cause.with_traceback(without_harness_frames(cause.__traceback__))
    setattr(exc, FLAG, True)
    return exc


def is_presentable(exc):
    return bool(getattr(exc, FLAG, False))

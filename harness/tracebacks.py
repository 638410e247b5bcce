"""Exceptions as a test failure should show them: gradharness's own frames taken out of the
traceback, and an exception of the user's code (the chained cause of a UserCodeError)
written into the message with the user's frames only, so pytest prints no frame's
arguments (the arrays gradharness passes around) and no frame of ours."""

import os
import traceback
import types

HARNESS = os.path.dirname(os.path.abspath(__file__)) + os.sep


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
    """``exc`` (a HarnessError) to raise ``from None`` in its place; the user's own
    exception stays reachable as ``.user_exception``."""
    cause = exc.__cause__
    if cause is None or type(exc).__name__ != "UserCodeError":
        return exc.with_traceback(without_harness_frames(exc.__traceback__))
    frames = traceback.extract_tb(without_harness_frames(cause.__traceback__))
    text = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(cause), cause))
    shown = type(exc)(f"{exc}\nyour code's traceback (most recent call last):\n{text.rstrip()}")
    shown.user_exception = cause
    return shown.with_traceback(without_harness_frames(exc.__traceback__))

"""Calling the user's forward and backward safely.

The harness never lets user code change what it compares later: every call gets fresh
copies of the harness's arrays, and every backward call gets the cache of a forward run
just before it, as that forward made it (real code consumes its cache: pops from lists,
overwrites in place; nothing else reads it). What the user returns is checked (count,
type, dtype, shape) and a mistake becomes one ``UserCodeError`` line naming the function,
the value and what was expected; an exception raised inside the user's code is chained
as the cause, so its own traceback is shown.
"""

import numpy as np

from ..errors import HarnessError


class UserCodeError(HarnessError):
    """The user's function raised or returned something unusable."""


def _where(context):
    return f" ({context})" if context else ""


def _copy(value):
    """Copies of arrays, also inside dicts, lists and tuples (weights handed over as a dict)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_copy(v) for v in value)
    return value


def call(fn, label, args, context="", own=()):
    """Call ``fn(*copies of args)``; wrap any exception it raises (a sys.exit too). ``own``: the
    positions of arguments handed over as they are (a cache the user's forward has just made,
    which nothing else reads)."""
    args = tuple(a if k in own else _copy(a) for k, a in enumerate(args))
    try:
        return fn(*args)
    except (Exception, SystemExit) as exc:                     # the user's own error, chained
        if exc.__traceback__ is not None and exc.__traceback__.tb_next is not None:
            exc.__traceback__ = exc.__traceback__.tb_next      # its traceback starts in the user's code
        text = " ".join(str(exc).split())
        raise UserCodeError(f"{label} raised {type(exc).__name__}: {text}{_where(context)}") from exc


def layout_call(layout, which, *args, context=""):
    """``layout.to_user(cell, p)`` or ``layout.to_canonical(cell, grads, p)``, the one place the
    harness calls a layout's functions: on copies (a ``b += ...`` in to_user, or a scribble in
    to_canonical, can never shift the probe or the user's gradients), its own error chained as
    the cause of one line ("layout 'mine': to_user raised KeyError: 'W'"), and a dict back."""
    label = f"layout {getattr(layout, 'name', '?')!r}: {which}"
    result = call(getattr(layout, which), label, args, context)
    if not isinstance(result, dict):
        what = "a dict {name: array}" if which == "to_user" else 'a dict {"dweight_ih": array, ...}'
        raise UserCodeError(f"{label} returned {_a(result)}; expected {what} (return a dict, not a list or "
                            f"None){_where(context)}")
    return result


def _a(value):
    return "None" if value is None else f"a {type(value).__name__}"


def unpack(result, label, names, context=""):
    """Check that ``result`` is a tuple of len(names) values."""
    if not isinstance(result, (tuple, list)):
        raise UserCodeError(f"{label}: expected a tuple ({', '.join(names)}), "
                            f"got a single {type(result).__name__}{_where(context)}")
    if len(result) != len(names):
        raise UserCodeError(f"{label}: expected {len(names)} values ({', '.join(names)}), "
                            f"got {len(result)}{_where(context)}")
    return tuple(result)


def check_array(value, label, name, shape, context="", letters=None):
    """A floating-point array of exactly ``shape``; returns a copy (the user's dtype kept).
    ``letters`` names the axes for the message ("HNT": expected (H, N, T) = (6, 3, 5))."""
    if value is None:
        raise UserCodeError(f"{label}: {name} is None; expected an array of shape {shape}{_where(context)}")
    arr = _as_array(value, label, name, context)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise UserCodeError(f"{label}: {name} has dtype {arr.dtype}; expected a floating-point array{_where(context)}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise UserCodeError(f"{label}: {name} is an integer array ({arr.dtype}); expected floating point "
                            f"(an np.zeros_like of an integer array?){_where(context)}")
    if arr.shape != tuple(shape):
        want = f"({', '.join(letters)}) = {tuple(shape)}" if letters else f"{tuple(shape)}"
        raise UserCodeError(f"{label}: {name} has shape {arr.shape}; expected {want}"
                            f"{_shape_hint(arr.shape, tuple(shape))}{_where(context)}")
    return np.array(arr, copy=True)


def _as_array(value, label, name, context):
    """np.asarray, or one line naming what the value is (a tensor that requires grad, a ragged list)."""
    if hasattr(value, "detach") and getattr(value, "requires_grad", False):
        raise UserCodeError(f"{label}: {name} is a {type(value).__name__} that requires grad; expected a NumPy "
                            f"array (return value.detach().numpy()){_where(context)}")
    try:
        return np.asarray(value)
    except Exception as exc:                                   # ragged lists, objects refusing __array__
        raise UserCodeError(f"{label}: {name} is a {type(value).__name__} that is not an array "
                            f"({type(exc).__name__}: {_short(str(exc))}); expected a "
                            f"floating-point array{_where(context)}") from None


def _short(text, limit=120):
    """``text`` on one line, at most ``limit`` characters, cut after a sentence or a word (never mid-word)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = head.rfind(". ")
    if end > 0:
        return head[:end + 1]
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip(",;:") + "..."


def _shape_hint(got, want):
    if len(got) == 2 and got == want[::-1] and got != want:
        return " (that is the transpose of the expected shape)"
    if tuple(d for d in want if d != 1) == got:
        return " (an axis of size 1 was squeezed away; the probe size can be changed with batch=/steps=)"
    return ""


def check_cache(cache, label, context=""):
    if cache is None:
        raise UserCodeError(f"{label}: returned no cache (None); the backward function needs it{_where(context)}")
    return cache

"""Weight layout conversions: one table per framework, written once.

The canonical layout is PyTorch's (see harness.cells). Each module here converts
between it and one framework, and checks every copied shape.
"""

from ..errors import LayoutError


def expect_shape(name, expected, got, side):
    """Raise a LayoutError naming both shapes (and the transpose) when ``got`` is not ``expected``."""
    if tuple(got) != tuple(expected):
        hint = " (the transpose)" if tuple(got) == tuple(expected)[::-1] else ""
        raise LayoutError(f"{name}: {side} expects shape {tuple(expected)}, got {tuple(got)}{hint}")

"""What precision the user's code actually computed in, and the tolerances that fit it.

A float64 check of code that computes in float32 (arrays returned as float32, or states
kept in float32 inside and returned as float64) would otherwise fail by float32 rounding
and be called a mismatch with an unknown cause: a false alarm. Such code is checked as
float32 is, and the report says so in one line.
"""

import numpy as np

from ..compare import TOLERANCES, Tolerance, compare_arrays
from .oracles import reference_values


def precision_of(user, probe, tol, atol=None, rtol=None):
    """(tolerance to use, a "precision: ..." line or "") for the user's values on ``probe``."""
    if probe.dtype != "float64":
        return tol, ""
    low = sorted(q for q, d in user.dtypes.items() if np.dtype(d).itemsize < 8)
    f32 = Tolerance.for_dtype("float32", atol, rtol)
    if low:
        kinds = sorted({np.dtype(user.dtypes[q]).name for q in low})
        return f32, (f"precision: your code returns {'/'.join(kinds)} {', '.join(low)} in a float64 check: the check "
                     f"can only be as precise as {kinds[0]}, so it uses float32's tolerances "
                     f"(atol {f32.atol:g}, rtol {f32.rtol:g})")
    if "h" not in user:
        return tol, ""
    ref_h = reference_values(probe)["h"]
    exact = compare_arrays(ref_h, user["h"], tol)
    rounded = compare_arrays(ref_h, user["h"], f32)
    rel = exact["max_rel_err"]
    if not exact["passed"] and rounded["passed"] and rel > 100 * np.finfo(np.float64).eps:
        return f32, (f"precision: your forward's h matches the reference only to {exact['max_abs_err']:.1g} "
                     f"(float32 rounding, {TOLERANCES['float64'][0]:g} expected in float64): your code computes "
                     "in float32 somewhere, so the check uses float32's tolerances "
                     f"(atol {f32.atol:g}, rtol {f32.rtol:g})")
    return tol, ""


def numeric_tol(float32=False):
    """Finite differences' tolerance: rounding and truncation of a central difference
    (harness.backends.numeric); a forward computed in float32 rounds at 6e-8 relative, so
    its step is 3e-3 and the tolerance 1e-2 (truncation ~1e-5, rounding ~2e-4 at |f| ~ 10)."""
    from ..backends.numeric import ATOL, RTOL
    return Tolerance(1e-2, 1e-2) if float32 else Tolerance(ATOL, RTOL)

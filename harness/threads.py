"""One thread budget for the process's thread pools, applied around each backend.

NumPy's BLAS (OpenBLAS) and torch's OpenMP pool each start one thread per core. A
comparison alternates between them (the reference and the comparisons in NumPy, the
torch backends in torch), and a pool's threads keep spinning for a while after their
last call, waiting for more work: on a 2-core machine the idle pool then takes a core
from the busy one. ``budget(framework)`` gives the framework about to run the whole
budget and the other pools one thread each (no worker thread left to spin), and
restores every setting on exit. ``python benchmarks/bench_threads.py`` measures it.

The budget: ``GRADHARNESS_THREADS`` if set (``off`` leaves every pool alone), else one
thread. One, because the harness's work is many small per-step products, where a second
thread gains little even on an idle machine, and on a busy one (CI runners, a laptop
running other things) spinning pool threads slowed a whole comparison by 10x and more
(benchmarks/bench_threads.py; README, Speed). User settings are respected: a pool is never given more
threads than it had on entry (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, your own
``torch.set_num_threads`` or threadpoolctl limits stay upper bounds), and every setting
is restored on exit. TensorFlow's own pools are fixed when TensorFlow starts and are
left alone; while it runs, the others get one thread.
"""

import contextlib
import os
import sys

FRAMEWORKS = ("numpy", "torch", "tensorflow")


def configured():
    """The budget in threads, or None when GRADHARNESS_THREADS=off."""
    text = os.environ.get("GRADHARNESS_THREADS", "").strip().lower()
    if text == "off":
        return None
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            from .errors import HarnessError
            raise HarnessError(f"GRADHARNESS_THREADS: expected a positive integer or 'off', got {text!r}")
        return value
    return 1


_CONTROLLER = []


def _blas():
    """threadpoolctl's handle on the loaded BLAS libraries (None without threadpoolctl)."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)
        _CONTROLLER.append(ThreadpoolController().select(user_api="blas"))
    return _CONTROLLER[0]


@contextlib.contextmanager
def budget(framework):
    """Run the enclosed code with ``framework``'s pool at the budget and the others at one thread."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework: expected one of {FRAMEWORKS}, got {framework!r}")
    n = configured()
    if n is None:
        yield
        return
    with contextlib.ExitStack() as stack:
        blas = _blas()
        if blas is not None and blas.lib_controllers:
            current = min(c.num_threads for c in blas.lib_controllers)
            stack.enter_context(blas.limit(limits=min(n, current) if framework == "numpy" else 1))
        torch = sys.modules.get("torch")                    # never imported just for this
        if torch is not None and hasattr(torch, "get_num_threads"):
            before = torch.get_num_threads()
            torch.set_num_threads(min(n, before) if framework == "torch" else 1)
            stack.callback(torch.set_num_threads, before)
        yield

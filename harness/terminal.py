"""What the command line shows: a progress bar, the summary at three verbosities, a last
line like pytest's, help pages with their defaults, and no TensorFlow start-up noise.

- ``Progress``: a rich progress bar on stderr, shown only when stderr is a terminal, not
  with ``-q``, and only once a run has lasted ``DELAY`` seconds (short runs print nothing).
- ``report_lines(report, verbosity, seconds, ...)``: ``-q`` the last line only (and the
  headline of a mismatch), default the summary, ``-v`` every backend and failing group.
- ``quiet_tensorflow()``: TensorFlow prints C++ log lines when it is imported (absl's
  "All log messages before absl::InitializeLog()" banner, the CUDA stub's "Could not find
  cuda drivers", the CPU feature guard, oneDNN) and later a cuInit error; the first ones
  ignore ``TF_CPP_MIN_LOG_LEVEL``. Unless the user set TensorFlow's logging variables
  (``TF_CPP_MIN_LOG_LEVEL``, ``TF_CPP_MAX_VLOG_LEVEL``, ``TF_CPP_VMODULE``: then nothing is
  touched), this sets ``TF_CPP_MIN_LOG_LEVEL=3`` and, while ``tensorflow`` is first
  imported, collects what is written to file descriptor 2 and writes back every line that
  is not one of those info/warning log lines.
"""

import argparse
import contextlib
import importlib.abc
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import threading

from .summary import headline, wrap

WIDTH = 100
DELAY = 1.0
TF_LOG_VARIABLES = ("TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL", "TF_CPP_VMODULE")


def width():
    """Terminal columns, at most 100."""
    return min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help with each option's default (none for flags and empty defaults), at most 100 columns."""

    def __init__(self, prog):
        super().__init__(prog, width=width() - 2, max_help_position=30)

    def _fill_text(self, text, width, indent):
        """Paragraphs are refilled to the width; indented lines (examples) are kept as they are."""
        import textwrap
        out = []
        for para in text.split("\n\n"):
            lines = para.splitlines()
            if any(line[:1].isspace() for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(textwrap.fill(" ".join(lines), width, initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(out)

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if ("%(default)" in text or not action.option_strings or default in (None, "", argparse.SUPPRESS)
                or isinstance(default, bool) or action.nargs == 0):
            return text
        return text + " (default: %(default)s)"


class Progress:
    """A transient progress bar on stderr over ``total`` steps; silent unless enabled."""

    def __init__(self, total, enabled, unit="cases"):
        self.total, self.unit, self._bar, self._timer = total, unit, None, None
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self._lock = threading.Lock()
        self._done, self._text = 0, ""

    def __enter__(self):
        if self.enabled:
            self._timer = threading.Timer(DELAY, self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _show(self):
        from rich.console import Console
        from rich import progress as rp
        with self._lock:
            bar = rp.Progress(rp.SpinnerColumn(), rp.TextColumn("{task.description}"), rp.BarColumn(),
                              rp.MofNCompleteColumn(), rp.TextColumn(self.unit), rp.TimeElapsedColumn(),
                              console=Console(file=sys.stderr), transient=True)
            self._task = bar.add_task(self._text, total=self.total, completed=self._done)
            bar.start()
            self._bar = bar

    def update(self, text="", advance=0):
        """Say what runs now and how many steps finished since the last call."""
        with self._lock:
            self._done += advance
            self._text = text[:40]
            if self._bar is not None:
                self._bar.update(self._task, description=self._text, completed=self._done)

    def __exit__(self, *exc):
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
        return False


def final_line(report, seconds, stopped=None):
    """'OK: all 13,149 comparisons within tolerance in 8.2 s', like pytest's last line."""
    from .summary import verdict_line
    line = report.verdict_text() if hasattr(report, "verdict_text") else verdict_line(report)
    if stopped:
        line += f" ({stopped})"
    return f"{line} in {seconds:.1f} s"


def report_lines(report, verbosity, seconds, written=(), stopped=None):
    """The lines the command prints for ``report`` at ``verbosity`` (-1 quiet, 0, 1 verbose)."""
    w = width()
    last = wrap(final_line(report, seconds, stopped), w)
    if verbosity < 0:
        if report.ok:
            return [last]
        head = headline(report)
        return [head if len(head) <= w else head[:w - 3] + "...", last]
    body = report.summary(width=w, verbose=max(verbosity, 0)).splitlines()
    body = body[:-1]                                   # its verdict line comes last, with the time
    if written:
        body.append(wrap("reports: " + ", ".join(written), w))
    return body + [last]


# --- TensorFlow start-up noise ---------------------------------------------------------

_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] .*"
                    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)"
                    r"\s*$")


def user_asked_for_tf_logging(environ=None):
    environ = os.environ if environ is None else environ
    return any(v in environ for v in TF_LOG_VARIABLES)


def quiet_tensorflow(force=False):
    """Silence TensorFlow's start-up noise for this process (see the module docstring);
    ``force``: also when the variables are set (a worker whose parent already decided)."""
    if not force and user_asked_for_tf_logging():
        return False
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())
    return True


@contextlib.contextmanager
def filtered_fd2(noise=_NOISE):
    """Collect what is written to file descriptor 2 inside the block; write back all but ``noise``."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [ln for ln in tmp.read().decode("utf-8", "replace").splitlines(True) if not noise.match(ln)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` the usual way, and runs its first import inside filtered_fd2."""

    busy = False

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or self.busy:
            return None
        self.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self)
        return spec


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader, finder):
        self._loader, self._finder = loader, finder

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self._finder)
        module.__loader__ = module.__spec__.loader = self._loader
        with filtered_fd2():
            self._loader.exec_module(module)

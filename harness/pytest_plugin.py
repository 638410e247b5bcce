"""pytest plugin, registered through the ``pytest11`` entry point: hooks and fixtures only.

    def test_my_rnn(bptt):
        bptt.check_backward(rnn_forward, rnn_backward, layout="cs231n")

A mismatch fails the test with the located, diagnosed summary. ``--gradharness-reports DIR``
also writes a CSV and an HTML report of every check into DIR (resolved once, at session
start, against the folder pytest was started in); a report that cannot be written is a
warning in the terminal summary, never a failure of the test.
"""

import os
import re

import pytest

_REPORT_ERROR = "gradharness report not written"


def pytest_addoption(parser):
    """https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_addoption"""
    group = parser.getgroup("gradharness")
    group.addoption("--gradharness-reports", dest="gradharness_reports", default=None, metavar="DIR",
                    help="write a CSV and an HTML report of every gradharness check into DIR")


class BPTTChecker:
    """What the ``bptt`` fixture hands a test: the assertion helpers, with reports recorded."""

    def __init__(self, config, nodeid, node=None):
        self._config, self._nodeid, self._node, self._count = config, nodeid, node, 0

    def _record(self, run, *args, **options):
        __tracebackhide__ = True
        from . import errors
        stats = self._config.stash.setdefault(_STATS, {"checks": 0, "mismatches": 0})
        stats["checks"] += 1
        try:
            report = run(*args, **options)
        except errors.GradientMismatchError as exc:
            stats["mismatches"] += 1
            self._write(exc.report)
            raise
        except errors.HarnessError as exc:    # a usage mistake: the user's line and one message, none of ours
            raise exc.with_traceback(None)
        self._write(report)
        return report

    def _write(self, report):
        from .errors import HarnessError
        folder = self._config.stash.get(_FOLDER, None)
        if not folder:
            return
        self._count += 1                      # several checks in one test: test.csv, test-2.csv, ...
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._nodeid) + (f"-{self._count}" if self._count > 1 else "")
        try:
            report.save(os.path.join(folder, f"{stem}.csv"), os.path.join(folder, f"{stem}.html"),
                        names=("--gradharness-reports", "--gradharness-reports"))
        except (HarnessError, OSError) as exc:  # never fails a test: a warning in the terminal summary
            if self._node is not None:
                self._node.user_properties.append((_REPORT_ERROR, " ".join(str(exc).split())))

    def check_backward(self, forward, backward, **options):
        __tracebackhide__ = True
        from .assertions import assert_backward
        return self._record(assert_backward, forward, backward, **options)

    def check_model(self, fn, **options):
        __tracebackhide__ = True
        from .assertions import assert_model
        return self._record(assert_model, fn, **options)

    def compare(self, cell="rnn", **options):
        __tracebackhide__ = True
        from .assertions import assert_matches
        return self._record(assert_matches, cell, **options)


_STATS = pytest.StashKey()
_FOLDER = pytest.StashKey()
_UNWRITTEN = pytest.StashKey()


def pytest_configure(config):
    """The reports folder, resolved once against the folder pytest was started in (a test that
    changes directory still writes there)."""
    folder = config.getoption("gradharness_reports", None)
    config.stash[_FOLDER] = os.path.join(str(config.invocation_params.dir), folder) if folder else None
    config.stash[_UNWRITTEN] = []
    config.pluginmanager.register(_UnwrittenReports(config), "gradharness-unwritten-reports")


class _UnwrittenReports:
    """Collects the reports that could not be written, from xdist workers too (user_properties
    travel with each test's report)."""

    def __init__(self, config):
        self.config = config

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.config.stash[_UNWRITTEN].extend(
                message for key, message in getattr(report, "user_properties", ()) if key == _REPORT_ERROR)


@pytest.fixture
def bptt(request):
    """Check hand-written BPTT in one line: ``bptt.check_backward(fwd, bwd, layout="cs231n")``."""
    return BPTTChecker(request.config, request.node.nodeid, request.node)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_terminal_summary"""
    unwritten = config.stash.get(_UNWRITTEN, [])
    if unwritten and not hasattr(config, "workerinput"):
        terminalreporter.write_sep("-", "gradharness warnings")
        terminalreporter.write_line(f"{len(unwritten)} report(s) not written: {unwritten[0]}")
    stats = config.stash.get(_STATS, None)
    if not stats or hasattr(config, "workerinput"):          # xdist workers stay quiet
        return
    terminalreporter.write_sep("-", "gradharness")
    line = f"{stats['checks']} BPTT check(s), {stats['mismatches']} mismatch(es)."
    if stats["mismatches"] and not config.getoption("gradharness_reports"):
        line += " Re-run with --gradharness-reports DIR for CSV/HTML reports."
    terminalreporter.write_line(line)

"""pytest plugin, registered through the ``pytest11`` entry point: hooks and fixtures only.

    def test_my_rnn(bptt):
        bptt.check_backward(rnn_forward, rnn_backward, layout="cs231n")

A mismatch fails the test with the located, diagnosed summary. ``--gradharness-reports DIR``
also writes a CSV and an HTML report of every check into DIR.
"""

import re

import pytest


def pytest_addoption(parser):
    """https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_addoption"""
    group = parser.getgroup("gradharness")
    group.addoption("--gradharness-reports", dest="gradharness_reports", default=None, metavar="DIR",
                    help="write a CSV and an HTML report of every gradharness check into DIR")


class BPTTChecker:
    """What the ``bptt`` fixture hands a test: the assertion helpers, with reports recorded."""

    def __init__(self, config, nodeid):
        self._config, self._nodeid, self._count = config, nodeid, 0

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
        self._write(report)
        return report

    def _write(self, report):
        folder = self._config.getoption("gradharness_reports")
        if folder:
            self._count += 1                  # several checks in one test: test.csv, test-2.csv, ...
            stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", self._nodeid) + (f"-{self._count}" if self._count > 1 else "")
            report.to_csv(f"{folder}/{stem}.csv")
            report.to_html(f"{folder}/{stem}.html")

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


@pytest.fixture
def bptt(request):
    """Check hand-written BPTT in one line: ``bptt.check_backward(fwd, bwd, layout="cs231n")``."""
    return BPTTChecker(request.config, request.node.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_terminal_summary"""
    stats = config.stash.get(_STATS, None)
    if not stats or hasattr(config, "workerinput"):          # xdist workers stay quiet
        return
    terminalreporter.write_sep("-", "gradharness")
    line = f"{stats['checks']} BPTT check(s), {stats['mismatches']} mismatch(es)."
    if stats["mismatches"] and not config.getoption("gradharness_reports"):
        line += " Re-run with --gradharness-reports DIR for CSV/HTML reports."
    terminalreporter.write_line(line)

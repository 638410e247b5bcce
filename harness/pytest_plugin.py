"""pytest plugin, registered through the ``pytest11`` entry point: hooks and fixtures only.

    def test_my_rnn(bptt):
        bptt.check_backward(rnn_forward, rnn_backward, layout="cs231n")

A mismatch fails the test with GradientMismatchError, whose first line carries the
verdict and the cause (``BPTT mismatch in dWh layer 0: ...``: what ``-rA`` short
summaries show), followed by the located, diagnosed summary. gradharness's own frames are
hidden from tracebacks and no array is printed: an exception of the user's code shows the
user's frames (without their arguments) as the cause of a one-line UserCodeError.

Options: ``--gradharness-reports DIR`` writes a CSV and an HTML report of every check
into DIR (resolved once, at session start, against the folder pytest was started in; a
report that cannot be written is a warning in the terminal summary, never a failure of the
test); ``--gradharness-html PATH`` writes one HTML report of every check of the session.
Under pytest-xdist (``pytest -n N``) the workers send their counts and reports to the
controller, which prints the summary line and writes the combined report.
"""

import base64
import os
import pickle
import re

import pytest

from .tracebacks import is_presentable, presentable, without_harness_frames

_STATS = pytest.StashKey()
_REPORTS = pytest.StashKey()
_FOLDER = pytest.StashKey()
_UNWRITTEN = pytest.StashKey()
_REPORT_ERROR = "gradharness report not written"


def pytest_addoption(parser):
    """https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_addoption"""
    group = parser.getgroup("gradharness")
    group.addoption("--gradharness-reports", dest="gradharness_reports", default=None, metavar="DIR",
                    help="write a CSV and an HTML report of every gradharness check into DIR")
    group.addoption("--gradharness-html", dest="gradharness_html", default=None, metavar="PATH",
                    help="write one HTML report of every gradharness check of the session to PATH")


def _stats(config):
    return config.stash.setdefault(_STATS, {"checks": 0, "mismatches": 0, "errors": 0})


class BPTTChecker:
    """What the ``bptt`` fixture hands a test: the assertion helpers, with reports recorded."""

    def __init__(self, config, nodeid, node=None):
        self._config, self._nodeid, self._node, self._count = config, nodeid, node, 0

    def _record(self, run, *args, **options):
        __tracebackhide__ = True
        from . import errors
        stats = _stats(self._config)
        stats["checks"] += 1
        try:
            report = run(*args, **options)
        except errors.GradientMismatchError as exc:
            stats["mismatches"] += 1
            self._write(exc.report)
            raise exc.with_traceback(without_harness_frames(exc.__traceback__)) from None
        except errors.HarnessError as exc:                   # bad input or the user's code raised
            stats["errors"] += 1
            raise presentable(exc)
        self._write(report)
        return report

    def _write(self, report):
        from .errors import HarnessError
        if self._config.getoption("gradharness_html"):
            self._config.stash.setdefault(_REPORTS, []).append((self._nodeid, report))
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure raised through gradharness (harness.tracebacks) is printed without the
    arguments of its frames: those are the arrays handed to the user's code."""
    outcome = yield
    report, excinfo = outcome.get_result(), call.excinfo
    if not (report.failed and excinfo is not None and is_presentable(excinfo.value)):
        return
    if item.config.getoption("tbstyle", "auto") not in ("auto", "long") or item.config.getoption("showlocals"):
        return                                     # the other styles print no arguments; --showlocals asked
    report.longrepr = excinfo.getrepr(funcargs=False, style="long", truncate_locals=True,
                                      tbfilter=getattr(item, "_traceback_filter", True))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist, on the controller: add a finished worker's counts and reports."""
    out = getattr(node, "workeroutput", None) or {}
    stats = _stats(node.config)
    for key in ("checks", "mismatches", "errors"):
        stats[key] += out.get(f"gradharness_{key}", 0)
    if out.get("gradharness_reports"):
        reports = pickle.loads(base64.b64decode(out["gradharness_reports"]))   # our own workers' data
        node.config.stash.setdefault(_REPORTS, []).extend(reports)


def pytest_sessionfinish(session, exitstatus):
    """A worker sends its counts and reports; elsewhere the combined report is written."""
    config = session.config
    stats = _stats(config)
    reports = config.stash.get(_REPORTS, [])
    if hasattr(config, "workeroutput"):
        config.workeroutput["gradharness_checks"] = stats["checks"]
        config.workeroutput["gradharness_mismatches"] = stats["mismatches"]
        config.workeroutput["gradharness_errors"] = stats["errors"]
        if reports:
            from .plots import rendered                       # figure specs hold closures: drawn first
            reports = [(nodeid, rendered(r)) for nodeid, r in reports]
            config.workeroutput["gradharness_reports"] = base64.b64encode(pickle.dumps(reports)).decode()
        return
    path = config.getoption("gradharness_html")
    if path and reports:
        _combined(reports).to_html(os.path.join(str(config.invocation_params.dir), path))
        config.stash[_STATS]["html"] = path


def _combined(reports):
    """One report of every check, each case named after its test (in the order of the test ids)."""
    from .report import Report
    parts = []
    for nodeid, report in sorted(reports, key=lambda nr: nr[0]):
        names = {c["case"]: f"{nodeid} :: {c['case']}" for c in report.cases}
        table = report.table.assign(case=report.table["case"].map(names))
        parts.append(Report(table, [{**c, "case": names[c["case"]]} for c in report.cases]))
    return Report.concat(parts)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """https://docs.pytest.org/en/stable/reference/reference.html#pytest.hookspec.pytest_terminal_summary"""
    if hasattr(config, "workerinput"):                            # xdist workers stay quiet
        return
    unwritten = config.stash.get(_UNWRITTEN, [])
    if unwritten:
        terminalreporter.write_sep("-", "gradharness warnings")
        terminalreporter.write_line(f"{len(unwritten)} report(s) not written: {unwritten[0]}")
    stats = config.stash.get(_STATS, None)
    if not stats or not stats["checks"]:
        return
    terminalreporter.write_sep("-", "gradharness")
    errors = stats.get("errors", 0)
    line = f"{stats['checks']} BPTT check(s), {stats['mismatches']} mismatch(es)" + (
        f", {errors} that could not run (bad input, or your code raised)." if errors else ".")
    if stats.get("html"):
        line += f" Report of the session: {stats['html']}"
    elif stats["mismatches"] and not config.getoption("gradharness_reports"):
        line += " Re-run with --gradharness-html PATH for an HTML report."
    terminalreporter.write_line(line)

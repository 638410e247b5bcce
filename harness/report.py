"""The report: a tidy pandas table (one row per comparison) plus what was probed."""

import os

import pandas as pd

from .compare import COLUMNS, order_key
from .errors import HarnessError
from .safewrite import atomic_path, write_atomic, write_texts  # noqa: F401 (atomic_path: plots, convert)

STATUS_ORDER = {"FAIL": 0, "missing": 1, "pass": 2, "not compared": 3, "skipped": 4}

# The verdicts, worst first. INCOMPLETE: something the user's code should have returned was
# not (a row with status "missing"); it is never an OK, and the CLI exits 1 for it.
VERDICTS = ("MISMATCH", "INCOMPLETE", "NOTHING COMPARED", "OK")


class Report:
    """Results of one or more cases.

    Attributes:
        table: pandas DataFrame, one row per (case, backend, layer, step, quantity, gate).
            ``step`` is the time index for per-step rows and empty (<NA>) for totals;
            ``passed`` is True/False, or <NA> for rows that were not compared.
            ``status``: "pass", "FAIL", "not compared" (the oracle or backend cannot observe
            it), "missing" (the user's code did not return it: the verdict is INCOMPLETE)
            or "skipped" (the backend could not run the case; ``note`` says why).
        cases: list of dicts {"case", "probe", "findings"}: what was probed and, for
            checks of user code, where it goes wrong and the likely cause; optionally
            "names" ({"quantities": {canonical: yours}, "gates": {letter: yours}}, to speak
            the user's names) and "figures" (see ``add_figure``).
    """

    def __init__(self, table, cases):
        self.table = table
        self.cases = cases

    @classmethod
    def from_rows(cls, case, probe_text, rows, findings=(), labels=("reference", "backend"), names=None):
        """One case. ``findings``: lines of diagnosis to show with the summary; ``labels``:
        what ``ref_value`` and ``value`` are (the yardstick and what is checked); ``names``:
        the user's names of quantities and gates."""
        rows = [{"probe": "full", "direction": "forward", **r} for r in rows]
        table = pd.DataFrame(rows, columns=COLUMNS)
        table.insert(0, "case", case)
        info = {"case": case, "probe": probe_text, "findings": list(findings), "labels": tuple(labels)}
        if names:
            info["names"] = names
        return cls(_typed(table), [info])

    @classmethod
    def concat(cls, reports):
        reports = list(reports)
        table = pd.concat([r.table for r in reports], ignore_index=True)
        return cls(_typed(table), [c for r in reports for c in r.cases])

    @property
    def compared(self):
        return self.table[self.table["status"].isin(["pass", "FAIL"])]

    @property
    def findings(self):
        return [line for c in self.cases for line in c.get("findings", [])]

    @property
    def verdict(self):
        """"OK", "MISMATCH", "INCOMPLETE" (a quantity the user's code should return is missing)
        or "NOTHING COMPARED"."""
        status = self.table["status"]
        if (status == "FAIL").any():
            return "MISMATCH"
        if (status == "missing").any():
            return "INCOMPLETE"
        return "OK" if len(self.compared) else "NOTHING COMPARED"

    @property
    def ok(self):
        """True when at least one comparison ran, every comparison passed and nothing is missing."""
        return self.verdict == "OK"

    def __bool__(self):
        return self.ok

    def failures(self):
        """Failing rows in computation order (the first is where things start to diverge)."""
        bad = self.table[self.table["status"] == "FAIL"]
        rows = bad.to_dict("records")
        for r in rows:
            r["step"] = None if pd.isna(r["step"]) else int(r["step"])
        rows.sort(key=lambda r: (r["case"],) + order_key(r) + (r["backend"],))
        return rows

    def first_mismatch(self):
        """The earliest failing comparison in computation order, or None."""
        fails = [r for r in self.failures() if r["probe"] == "full"] or self.failures()
        if not fails:
            return None
        first_case = fails[0]["case"]
        return min((r for r in fails if r["case"] == first_case), key=order_key)

    def sorted_table(self):
        """Failures first (by how far over tolerance), then the rest."""
        t = self.table.assign(_s=self.table["status"].map(STATUS_ORDER))
        return t.sort_values(["_s", "err_ratio"], ascending=[True, False], kind="stable").drop(columns="_s")

    def to_csv(self, path, name="path"):
        """Write the table as CSV (readable back with pandas.read_csv). Returns the path."""
        return write_atomic(path, self.table.to_csv(index=False), name)

    def to_html(self, path, name="path"):
        """Write a self-contained HTML page (no network needed). Returns the path."""
        from .html import render
        return write_atomic(path, render(self), name)

    def save(self, csv=None, html=None, names=("csv", "html")):
        """Write the CSV and the HTML together: both are written, then both published (see
        harness.safewrite), so an interrupt never leaves a new CSV beside an old HTML.
        ``names``: the arguments named in errors. Returns the paths written."""
        if csv and html and _same_file(csv, html):
            raise HarnessError(f"{names[0]} and {names[1]}: expected two different files, got {csv!r} for both")
        items = []
        if csv:
            items.append((csv, self.table.to_csv(index=False), names[0]))
        if html:
            from .html import render
            items.append((html, render(self), names[1]))
        return write_texts(items) if items else []

    def summary(self, width=100, verbose=0):
        """The text summary, lines folded at ``width``; its last line is the verdict."""
        from .summary import summarize
        return summarize(self, width, verbose=verbose)

    def headline(self):
        """One line: the verdict, where it first goes wrong and the likely cause."""
        from .summary import headline
        return headline(self)

    def add_figure(self, fig, *, case=None, title="", caption=""):
        """Show a matplotlib figure (or an ``<svg>`` string) with a case on the HTML page,
        after its heatmaps (``case``: a case name; default the first case). The figure is
        rendered now (harness.plots.to_svg), so the report stays picklable."""
        from . import plots
        svg = fig if isinstance(fig, str) else plots.to_svg(fig)
        name = self.cases[0]["case"] if case is None else case
        target = next((c for c in self.cases if c["case"] == name), None)
        if target is None:
            from .errors import HarnessError
            raise HarnessError(f"case: expected one of {', '.join(c['case'] for c in self.cases)}, got {case!r}")
        target.setdefault("figures", []).append({"name": title or "figure", "title": title, "caption": caption,
                                                 "svg": svg})
        return self

    def __repr__(self):
        return f"<Report ok={self.ok} rows={len(self.table)} cases={len(self.cases)}>"


def _same_file(a, b):
    return os.path.realpath(os.fspath(a)) == os.path.realpath(os.fspath(b))


def _typed(table):
    table = table.copy()
    table["step"] = table["step"].astype("Int64")
    table["layer"] = table["layer"].astype("Int64")
    table["passed"] = table["passed"].astype("boolean")
    return table

"""The words of a report, shared by the terminal, the pytest failure and the HTML page.

- ``headline(report)``: one line with the verdict and the cause, e.g. ``BPTT mismatch in dx
  layer 0 step 3: a weight used transposed: ...`` (the first line of a pytest failure, so
  ``-rA`` short summaries say what is wrong).
- ``summarize(report)``: the one-screen text summary; its last line is the verdict and the
  counts. Passing cases take one line each, skipped backends are listed once per reason,
  lines are wrapped at ``width`` columns.
- ``pair(a, b)``: two numbers printed with just enough digits to tell them apart.

The diagnosis lines themselves ("likely cause: ...", "where: ...") come from
harness.guard and are shown as they are.
"""

import textwrap

import pandas as pd

from .compare import _ranges

CAUSE = "likely cause: "


def pair(a, b, least=6, most=17):
    """``a`` and ``b`` with the fewest significant digits (from ``least`` up to ``most``, 17
    being enough for any float64 and 9 for any float32) at which the two differ."""
    if pd.isna(a) or pd.isna(b):
        return f"{a:.{least}g}", f"{b:.{least}g}"
    for d in range(least, most + 1):
        sa, sb = f"{a:.{d}g}", f"{b:.{d}g}"
        if sa != sb:
            return sa, sb
    return repr(float(a)), repr(float(b))


def user_quantity(case, quantity):
    """A canonical quantity in the user's names, when the case carries them (checks)."""
    return (case.get("names") or {}).get("quantities", {}).get(quantity, quantity)


def user_gate(case, gate):
    return (case.get("names") or {}).get("gates", {}).get(gate, gate)


def where_text(row, case, T=None):
    """'dx layer 0 step 3' (in the user's names), with the gate when there is one."""
    quantity = user_quantity(case, row["quantity"])
    step = "" if _na(row["step"]) else f" step {int(row['step'])}" + (f" of 0..{T - 1}" if T else "")
    gate = f" gate {user_gate(case, row['gate'])}" if row.get("gate") else ""
    return f"{quantity} layer {row['layer']}{step}{gate}"


def describe_row(row, T=None, labels=("reference", "backend")):
    """One line locating and quantifying a failing row."""
    gate = f", gate {row['gate']}" if row.get("gate") else ""
    step = "total (whole sequence)" if _na(row["step"]) else (
        f"step {int(row['step'])}" + (f" of 0..{T - 1}" if T else ""))
    if row.get("direction") in ("reverse", "both"):
        step += f" ({row['direction']} direction{'s' if row['direction'] == 'both' else ''})"
    head = f"{row['backend']} | layer {row['layer']} | {step} | {row['quantity']}{gate} | "
    if row["note"] and row["max_abs_err"] == float("inf") and "shape" in row["note"]:
        return head + row["note"]
    return head + numbers_text(row, labels) + (f" | {row['note']}" if row["note"] else "")


def numbers_text(row, labels=("reference", "backend")):
    ref, value = pair(row["ref_value"], row["value"])
    return (f"max_abs_err {row['max_abs_err']:.3g} vs atol {row['atol']:.0e} + rtol {row['rtol']:.0e}*|ref| "
            f"({row['err_ratio']:.3g}x tolerance) | worst at {row['worst_index']}: "
            f"{labels[0]} {ref}, {labels[1]} {value}")


def _na(value):
    return value is None or (not isinstance(value, str) and pd.isna(value))


def split_cases(report):
    """[(case dict, Report of that case)] in the report's order."""
    from .report import Report
    groups = dict(tuple(report.table.groupby("case", sort=False)))
    return [(c, Report(groups.get(c["case"], report.table.iloc[:0]), [c])) for c in report.cases]


def steps_of(table):
    steps = table["step"].dropna()
    return int(steps.max()) + 1 if len(steps) else None


def cause_of(report):
    """The first "likely cause" of a report (without the prefix), or ""."""
    return next((f[len(CAUSE):] for f in report.findings if f.startswith(CAUSE)), "")


def headline(report):
    """One line: the verdict, where it first goes wrong (in the user's names) and the cause."""
    verdict, t = report.verdict, report.table
    if verdict == "OK":
        return f"OK: all {len(report.compared):,} comparisons within tolerance"
    if verdict == "NOTHING COMPARED":
        skipped = t[t["status"] == "skipped"]
        return "nothing compared" + (f": {skip_reason(skipped.iloc[0])}" if len(skipped) else "")
    if verdict == "INCOMPLETE":
        missing = t[t["status"] == "missing"]
        case = next(c for c in report.cases if c["case"] == missing["case"].iloc[0])
        names = ", ".join(dict.fromkeys(user_quantity(case, q) for q in missing["quantity"]))
        return f"BPTT check incomplete: {names} not returned by your code (None), so nothing says it is right"
    first = report.first_mismatch()
    case = next(c for c in report.cases if c["case"] == first["case"])
    cases = [c for c in report.cases if c["case"] == first["case"]]
    from .report import Report
    cause = cause_of(Report(t[t["case"] == first["case"]], cases)) or _forward_line(report) or (
        f"{first['err_ratio']:.3g}x tolerance against {first['backend']}")
    return f"BPTT mismatch in {where_text(first, case)}: {cause}"


def _forward_line(report):
    return next((f for f in report.findings if f.startswith("forward: ")), "")


def skip_reason(row):
    """A skipped row's reason without the backend's name in front of it."""
    note, backend = str(row["note"]), str(row["backend"])
    for prefix in (f"{backend}: ", f"{backend} "):
        if note.startswith(prefix):
            return note[len(prefix):]
    return note


def skipped_groups(table):
    """Skipped backends once per reason: [(reason, [backends], [cases])]."""
    skipped = table[table["status"] == "skipped"]
    groups = {}
    for case, backend, reason in zip(skipped["case"], skipped["backend"], skipped.apply(skip_reason, axis=1)
                                     if len(skipped) else []):
        backends, cases = groups.setdefault(reason, ({}, {}))
        backends[backend] = cases[case] = None
    return [(reason, list(b), list(c)) for reason, (b, c) in groups.items()]


def next_step(report, case):
    """What to do next, for one case (``report`` holds that case only)."""
    verdict = report.verdict
    if verdict == "OK":
        return "Nothing to do: every compared quantity is within tolerance."
    if verdict == "NOTHING COMPARED":
        return "Nothing ran: see the skipped backends and their reasons (a missing framework names its install command)."
    if verdict == "INCOMPLETE":
        return ("Return the missing gradient(s) from your backward, or declare them with skip=[...] "
                "(--skip) if your code does not compute them, then run the check again.")
    if _forward_line(report):
        return "Fix the forward first: the gradients cannot match while the forward values differ."
    cause = cause_of(report)
    if cause and not cause.startswith("unknown cause"):
        return ("Fix the line the likely cause names (the textbook's form is quoted there) and run the "
                "check again; the tables below show every failing element.")
    if case.get("findings"):
        return ("No single known mistake reproduces your numbers: start from the first divergence and the "
                "earliest wrong step above; the localization section shows which probes fail.")
    return _compare_next_step(report)


def _compare_next_step(report):
    first = report.first_mismatch()
    t = report.table
    same = t[(t["quantity"] == first["quantity"]) & (t["status"].isin(["pass", "FAIL"]))
             & (t["probe"] == "full")]
    failing = list(dict.fromkeys(same.loc[same["status"] == "FAIL", "backend"]))
    observed = list(dict.fromkeys(same["backend"]))
    if len(failing) == len(observed) and len(observed) > 1:
        return (f"Every backend that observes {first['quantity']} disagrees with the reference there: the "
                f"reference BPTT is the likely culprit; start at the first divergence.")
    if len(observed) > 1:
        return (f"Only {', '.join(failing)} disagree(s) while {len(observed) - len(failing)} other backend(s) "
                f"match: look at what differs there (weight layout, gate order, forget_bias, GRU variant).")
    return "Start at the first divergence: it is the earliest place in computation order that differs."


def _counts(report):
    s = report.table.loc[report.table["probe"] == "full", "status"].value_counts()
    return s.get("pass", 0), s.get("FAIL", 0), s.get("not compared", 0) + s.get("missing", 0)


def _case_lines(case, sub, detailed):
    """One line for a passing case; the probe and every backend's counts when ``detailed``."""
    t = sub.table[(sub.table["probe"] == "full") & (sub.table["status"] != "skipped")]
    passed, failed, nc = _counts(sub)
    n = t["backend"].nunique()
    if not detailed:
        counts = (f"{sub.verdict:<8} {passed:7,d} passed {failed:5,d} failed "
                  f"{nc:5,d} not compared ({n} backend{'s' if n != 1 else ''})")
        name = case["case"]
        return [f"{name:<30} {counts}"] if len(name) <= 30 else [name, f"{'':<30} {counts}"]
    out = [f"case {case['case']}", f"  probe: {case['probe']}"]
    for backend, g in t.groupby("backend", sort=False):
        s = g["status"].value_counts()
        out.append(f"  {backend:<28} {s.get('pass', 0):5d} passed {s.get('FAIL', 0):5d} failed "
                   f"{s.get('not compared', 0) + s.get('missing', 0):4d} not compared")
    return out


def _failing_groups(report, fails, with_case):
    """'  dWh layer 0: steps 0-3 (reference, torch.nn.RNN)': one line per failing quantity and
    place, in the user's names, with the backends (or oracles) that disagree there."""
    cases = {c["case"]: c for c in report.cases}
    groups = {}
    for r in fails:
        key = (r["case"], r["quantity"], r["layer"], r["gate"], r.get("direction"))
        groups.setdefault(key, {}).setdefault(r["backend"], []).append(r["step"])
    lines = []
    for (case, quantity, layer, gate, direction), backends in groups.items():
        by_where = {}
        for backend, steps in backends.items():
            per_step = sorted({s for s in steps if s is not None})
            where = ", ".join(([f"steps {_ranges(per_step)}"] if per_step else [])
                              + (["total"] if None in steps else []))
            by_where.setdefault(where, []).append(backend)
        name = user_quantity(cases[case], quantity)
        gate = f" gate {user_gate(cases[case], gate)}" if gate else ""
        way = f" ({direction})" if direction in ("reverse", "both") else ""
        for where, names in by_where.items():
            lines.append(f"  {case + ': ' if with_case else ''}{name}{gate} layer {layer}{way}: {where} "
                         f"({', '.join(names)})")
    return lines


def _skip_lines(report, multi):
    out = []
    for reason, backends, cases in skipped_groups(report.table):
        scope = "" if not multi else (" (every case)" if len(cases) == len(report.cases) else
                                      f" (in {', '.join(cases)})")
        out.append(f"skipped: {', '.join(backends)}{scope}: {reason}")
    return out


def verdict_line(report):
    """The last line: the verdict and the counts."""
    t, compared = report.table, report.compared
    fails = [r for r in report.failures() if r["probe"] == "full"] or report.failures()
    if not len(compared):
        return "NOTHING COMPARED: no backend produced a comparable quantity"
    if fails:
        full = compared[compared["probe"] == "full"]
        return f"MISMATCH: {len(fails):,} of {len(full) or len(compared):,} comparisons failed"
    missing = t[t["status"] == "missing"]
    if len(missing):
        return (f"INCOMPLETE: {len(compared):,} comparisons within tolerance, but "
                f"{', '.join(dict.fromkeys(missing['quantity']))} not compared")
    low = " at float32's tolerances (your code computes in float32)" if _precision_lines(report) else ""
    return f"OK: all {len(compared):,} comparisons within tolerance{low}"


def _precision_lines(report):
    """The "precision: ..." findings: the check used looser tolerances than its dtype's."""
    return [f for f in report.findings if f.startswith("precision:")]


def summarize(report, width=100, max_lines=12, verbose=0):
    """The text summary (see the module docstring); ``verbose`` > 0 shows every backend of
    every case and every failing group."""
    multi = len(report.cases) > 1
    out = []
    for case, sub in split_cases(report):
        out += _case_lines(case, sub, detailed=verbose > 0 or not multi or not sub.ok)
    out += _skip_lines(report, multi)
    fails = [r for r in report.failures() if r["probe"] == "full"] or report.failures()
    if fails:
        first = report.first_mismatch()
        case = next(c for c in report.cases if c["case"] == first["case"])
        T = steps_of(report.table[report.table["case"] == first["case"]])
        labels = case.get("labels", ("reference", "backend"))
        out.append("first divergence: " + (f"{first['case']} | " if multi else "") + describe_row(first, T, labels))
        out.extend(report.findings)
        out.append("failing (quantity layer: where (backends)):")
        lines = _failing_groups(report, fails, multi)
        shown = lines if verbose > 0 else lines[:max_lines]
        out.extend(shown)
        if len(lines) > len(shown):
            out.append(f"  ... and {len(lines) - len(shown)} more groups (-v shows all; see the CSV/HTML report)")
    else:
        out.extend(_precision_lines(report))      # an OK at looser tolerances says so
    missing = report.table[report.table["status"] == "missing"]
    if len(missing) and not fails:
        out.append(f"not compared: {missing['note'].iloc[0]}")
    out.append(verdict_line(report))
    return "\n".join(wrap(line, width) for line in out)


def wrap(line, width=100):
    """``line`` folded at spaces to ``width`` columns, continuation lines indented 4 more."""
    if not width or len(line) <= width:
        return line
    indent = " " * (len(line) - len(line.lstrip(" ")) + 4)
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False))

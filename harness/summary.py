"""The one-screen text summary of a report: counts, then where it first goes wrong."""

import pandas as pd

from .compare import _ranges


def describe_row(row, T=None, labels=("reference", "backend")):
    """One line locating and quantifying a failing row."""
    gate = f", gate {row['gate']}" if row.get("gate") else ""
    step = "total (whole sequence)" if row["step"] is None else (
        f"step {row['step']}" + (f" of 0..{T - 1}" if T else ""))
    if row.get("direction") in ("reverse", "both"):
        step += f" ({row['direction']} direction{'s' if row['direction'] == 'both' else ''})"
    if row["note"] and row["max_abs_err"] == float("inf") and "shape" in row["note"]:
        return f"{row['backend']} | layer {row['layer']} | {step} | {row['quantity']}{gate} | {row['note']}"
    return (f"{row['backend']} | layer {row['layer']} | {step} | {row['quantity']}{gate} | "
            f"max_abs_err {row['max_abs_err']:.3g} vs atol {row['atol']:.0e} + rtol {row['rtol']:.0e}*|ref| "
            f"({row['err_ratio']:.3g}x tolerance) | worst at {row['worst_index']}: "
            f"{labels[0]} {row['ref_value']:.6g}, {labels[1]} {row['value']:.6g}"
            + (f" | {row['note']}" if row["note"] else ""))


def _failing_groups(fails):
    groups = {}
    for r in fails:
        key = (r["backend"], r["quantity"], r["layer"], r["gate"], r.get("direction"))
        groups.setdefault(key, []).append(r["step"])
    lines = []
    for (backend, quantity, layer, gate, direction), steps in groups.items():
        per_step = sorted({s for s in steps if s is not None})
        where = []
        if per_step:
            where.append(f"steps {_ranges(per_step)}")
        if None in steps:
            where.append("total")
        gate = f" gate {gate}" if gate else ""
        way = f" ({direction})" if direction in ("reverse", "both") else ""
        lines.append(f"  {backend}: {quantity}{gate} layer {layer}{way}: {', '.join(where)}")
    return lines


def summarize(report, width=100, max_lines=12):
    t = report.table
    out = []
    for case in report.cases:
        sub = t[t["case"] == case["case"]]
        out.append(f"case {case['case']}")
        out.append(f"  probe: {case['probe']}")
        sub = sub[sub["probe"] == "full"]
        for backend, g in sub.groupby("backend", sort=False):
            counts = g["status"].value_counts()
            if counts.get("skipped"):
                out.append(f"  {backend:<28} skipped: {g['note'].iloc[0]}")
                continue
            out.append(f"  {backend:<28} {counts.get('pass', 0):5d} passed {counts.get('FAIL', 0):5d} failed "
                       f"{counts.get('not compared', 0) + counts.get('missing', 0):4d} not compared")
    fails = [r for r in report.failures() if r["probe"] == "full"] or report.failures()
    if not len(report.compared):
        out.append("NOTHING COMPARED: no backend produced a comparable quantity")
    elif not fails:
        missing = t[t["status"] == "missing"]
        if len(missing):
            out.append(f"INCOMPLETE: {len(report.compared)} comparisons within tolerance, but "
                       f"{', '.join(dict.fromkeys(missing['quantity']))} not compared: "
                       f"{missing['note'].iloc[0]}")
        else:
            out.append(f"OK: all {len(report.compared)} comparisons within tolerance")
    else:
        first = report.first_mismatch()
        T = _steps_of(report, first["case"])
        full = report.compared[report.compared["probe"] == "full"]
        out.append(f"MISMATCH: {len(fails)} of {len(full) or len(report.compared)} comparisons failed")
        labels = next(c.get("labels", ("reference", "backend")) for c in report.cases if c["case"] == first["case"])
        out.append(f"first divergence ({first['case']}): " + describe_row(first, T, labels))
        for line in report.findings:
            out.append(line)
        out.append("failing (backend: quantity layer: where):")
        lines = _failing_groups(fails)
        out.extend(lines[:max_lines])
        if len(lines) > max_lines:
            out.append(f"  ... and {len(lines) - max_lines} more groups (see the CSV/HTML report)")
    return "\n".join(out)


def _steps_of(report, case):
    steps = report.table.loc[report.table["case"] == case, "step"]
    steps = steps[pd.notna(steps)]
    return int(steps.max()) + 1 if len(steps) else None

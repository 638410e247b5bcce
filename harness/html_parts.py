"""Pieces of the HTML report (harness.html): heatmap data, heatmaps and tables of one case.

Heatmaps (harness.plots_grid.error_grid, inline SVG): error over tolerance, worst over gates,
rows backend x layer, columns quantity x step. A quantity that only has a whole-sequence
total gets one column, not a row of empty steps. Grey: the backend cannot observe it (not
compared); white: nothing there (no such step or layer). Localization probes of a check
get their own grid, rows = probe. Beyond MAX_STEP_COLUMNS steps, consecutive steps share a
cell showing their worst (a page cannot show more columns than it has pixels; a failing
step still colours its cell).

Tables: every failing row in full (values with enough digits to tell them apart), and for
the rest one line per (backend, quantity): the CSV keeps every row.
"""

import html
import math
import re

import numpy as np
import pandas as pd

from . import plots, plots_grid
from .summary import numbers_text, pair, user_gate, user_quantity
from .trace import QUANTITIES

COMPARED = ("pass", "FAIL")
SHOWN = ("pass", "FAIL", "not compared", "missing")


def e(value):
    """Escape for HTML text and attributes."""
    return html.escape(str(value), quote=True)


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"


def _q_order(q):
    return (QUANTITIES.index(q), q) if q in QUANTITIES else (len(QUANTITIES), q)


def _col_groups(t, case):
    """[(label, [step labels])] and {(quantity, step or -1): column} for the quantities in ``t``."""
    groups, index = [], {}
    compared = t[t["status"].isin(COMPARED)]
    for q in sorted(t["quantity"].unique(), key=_q_order):
        steps = compared.loc[compared["quantity"] == q, "step"]
        per_step = sorted(int(s) for s in steps.dropna().unique())
        has_total = bool(steps.isna().any()) or not per_step
        members = [str(s) for s in per_step] + (["Σ"] if has_total else [])
        for s in per_step + ([-1] if has_total else []):
            index[(q, s)] = len(index)
        groups.append((user_quantity(case, q), members))
    return groups, index


def _grid(t, case, row_of, n_rows):
    """values (rows, cols) of worst error/tolerance, NaN where not compared, blank mask;
    ``row_of(frame)`` gives each row's grid row."""
    col_groups, col = _col_groups(t, case)
    values = np.full((n_rows, len(col)), np.nan)
    blank = np.ones((n_rows, len(col)), dtype=bool)
    nc = t[t["status"].isin(["not compared", "missing"])]
    columns = {}
    for (q, _), c in col.items():
        columns.setdefault(q, []).append(c)
    for r, q in zip(row_of(nc), nc["quantity"]):
        blank[r, columns[q]] = False
    cmp_ = t[t["status"].isin(COMPARED)]
    if len(cmp_):
        ratio = cmp_["err_ratio"].where(cmp_["status"] != "FAIL", cmp_["err_ratio"].fillna(math.inf))
        keys = pd.DataFrame({"r": row_of(cmp_), "q": cmp_["quantity"],
                             "s": cmp_["step"].fillna(-1).astype(int), "v": ratio.fillna(0.0)})
        worst = keys.groupby(["r", "q", "s"], sort=False)["v"].max()
        for (r, q, s), v in worst.items():
            c = col[(q, s)]
            values[r, c], blank[r, c] = v, False
    return values, blank, col_groups


# Step columns drawn per quantity at most: a page shows a heatmap at most ~1,200 pixels wide,
# so beyond this many steps consecutive steps share a cell, which shows their worst.
MAX_STEP_COLUMNS = 200


def _binned(values, blank, col_groups, limit=MAX_STEP_COLUMNS):
    """(values, blank, col_groups) with the step columns of each quantity that has more than
    ``limit`` of them merged k at a time: a merged cell holds the worst error/tolerance of its
    steps (inf and failures kept), is grey (NaN) when none of them was compared and blank
    when all are blank. Totals (Σ) stay their own column. Labels: each cell's first step."""
    out_v, out_b, groups, start = [], [], [], 0
    for label, members in col_groups:
        n = len(members)
        steps = n - (1 if members and members[-1] == "Σ" else 0)
        v, b = values[:, start:start + steps], blank[:, start:start + steps]
        if steps > limit:
            k = -(-steps // limit)
            pad = (-steps) % k
            v = np.pad(v, ((0, 0), (0, pad)), constant_values=np.nan).reshape(len(v), -1, k)
            b = np.pad(b, ((0, 0), (0, pad)), constant_values=True).reshape(len(b), -1, k)
            v, b = np.fmax.reduce(v, axis=-1), b.all(axis=-1)
            members = [members[i] for i in range(0, steps, k)] + members[steps:]
            label = f"{label} ({k} steps a cell, worst)"
        out_v += [v, values[:, start + steps:start + n]]
        out_b += [b, blank[:, start + steps:start + n]]
        groups.append((label, members))
        start += n
    return np.concatenate(out_v, axis=1), np.concatenate(out_b, axis=1), groups


def main_heatmap(t, case):
    """The SVG heatmap of a case's main rows (backend x layer by quantity x step), or ""."""
    t = t[(t["probe"] == "full") & t["status"].isin(SHOWN)]
    if not len(t):
        return ""
    backends = list(dict.fromkeys(t["backend"]))
    layers = sorted(int(v) for v in t["layer"].dropna().unique())
    pos = {(b, la): i for i, (b, la) in enumerate((b, la) for b in backends for la in layers)}
    row_groups = [(b, [f"L{la}" if len(layers) > 1 else "" for la in layers]) for b in backends]
    values, blank, col_groups = _binned(*_grid(
        t, case, lambda d: [pos[(b, int(la))] for b, la in zip(d["backend"], d["layer"])], len(pos)))
    fig = plots_grid.error_grid(values, row_groups=row_groups, col_groups=col_groups, blank=blank)
    return plots.to_svg(fig)


PROBE_FAMILIES = (
    (re.compile(r"first (\d+) steps?$"), "sequence cut to k steps", "k={}"),
    (re.compile(r"upstream on step (\d+) only$"), "upstream gradient on step s only", "s={}"),
)


def _probe_key(probe):
    for i, (pattern, family, member) in enumerate(PROBE_FAMILIES):
        m = pattern.match(probe)
        if m:
            return i, int(m[1]), family, member.format(m[1])
    return len(PROBE_FAMILIES), 0, probe, ""


def probe_heatmap(t, case):
    """The SVG heatmap of a check's localization probes (rows: probe; worst over oracles), or ""."""
    t = t[(t["probe"] != "full") & t["status"].isin(SHOWN)]
    if not len(t):
        return ""
    keys = sorted({_probe_key(p) for p in t["probe"].unique()})
    families = list(dict.fromkeys(k[2] for k in keys))
    row_groups = [(f, [k[3] for k in keys if k[2] == f]) for f in families]
    rows = {p: keys.index(_probe_key(p)) for p in t["probe"].unique()}
    values, blank, col_groups = _binned(*_grid(t, case, lambda d: [rows[p] for p in d["probe"]], len(keys)))
    fig = plots_grid.error_grid(values, row_groups=row_groups, col_groups=col_groups, blank=blank)
    return plots.to_svg(fig)


def _cell(v):
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else e(v)


def _ratio_td(ratio, status="pass", color=None):
    if status not in COMPARED or pd.isna(ratio):
        return "<td></td>"
    color = color or plots_grid.ratio_css([ratio])[0]
    text = "inf" if math.isinf(ratio) else f"{ratio:.3g}"
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    ink = ";color:#fff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else ""
    return f"<td style='background:{color}{ink}'>{text}</td>"


FAIL_HEAD = ("backend", "layer", "step", "quantity", "gate", "error / tolerance", "max_abs_err",
             "max_rel_err", "worst at", "{0}", "{1}", "note")


def failing_table(rows, case):
    """Every failing (or missing) row in full: a list of row dicts in computation order."""
    labels = case.get("labels", ("reference", "backend"))
    head = "".join(f"<th>{e(h.format(*labels))}</th>" for h in FAIL_HEAD)
    body = []
    for r in rows:
        ref, value = pair(r["ref_value"], r["value"]) if r["status"] == "FAIL" else ("", "")
        quantity = user_quantity(case, r["quantity"])
        gate = user_gate(case, r["gate"]) if r["gate"] else ""
        errs = "".join(f"<td>{'' if pd.isna(r[k]) else f'{r[k]:.3g}'}</td>" for k in ("max_abs_err", "max_rel_err"))
        way = f" ({r['direction']})" if r.get("direction") in ("reverse", "both") else ""
        body.append(f"<tr class='f'><td class='l'>{e(r['backend'] + way)}</td><td>{_cell(r['layer'])}</td>"
                    f"<td>{_cell(r['step'])}</td><td class='l'>{e(quantity)}</td><td>{e(gate)}</td>"
                    f"{_ratio_td(r['err_ratio'], r['status'])}{errs}<td>{e(r['worst_index'])}</td>"
                    f"<td>{e(ref if ref != 'nan' else '')}</td><td>{e(value if value != 'nan' else '')}</td>"
                    f"<td class='l'>{e(r['note'])}</td></tr>")
    return f"<table class='rows'><tr>{head}</tr>{''.join(body)}</table>"


def backend_table(t, case, case_id):
    """One line per (backend, quantity): counts, the worst error over tolerance and where."""
    t = t[(t["probe"] == "full") & (t["status"] != "skipped")]
    status = t["status"]
    compared = status.isin(COMPARED)
    ratio = t["err_ratio"].where(status != "FAIL", t["err_ratio"].fillna(math.inf)).where(compared).fillna(-1.0)
    frame = pd.DataFrame({"backend": t["backend"], "quantity": t["quantity"], "compared": compared,
                          "failed": status == "FAIL", "nc": status.isin(["not compared", "missing"]),
                          "ratio": ratio})
    groups = frame.groupby(["backend", "quantity"], sort=False)
    counts = groups[["compared", "failed", "nc"]].sum().to_dict("index")
    worst = groups["ratio"].idxmax()
    rows = dict(zip(worst.index, t.loc[worst.values].to_dict("records")))
    colors = dict(zip(worst.index, plots_grid.ratio_css(frame.loc[worst.values, "ratio"].clip(lower=0.0))))
    head = ("<tr><th>backend</th><th>quantity</th><th>compared</th><th>failed</th><th>not compared</th>"
            "<th>worst error / tolerance</th><th>worst at (layer, step, gate)</th><th>max_abs_err</th></tr>")
    by_backend = {}
    for backend, q in counts:
        by_backend.setdefault(backend, []).append(q)
    parts = [f"<table class='rows'>{head}"]
    for backend, quantities in by_backend.items():
        quantities.sort(key=_q_order)
        parts.append(f"<tbody id='{e(case_id)}--{e(slug(backend))}'>")
        for i, q in enumerate(quantities):
            n = counts[(backend, q)]
            span = f"<th rowspan='{len(quantities)}' class='l'>{e(backend)}</th>" if i == 0 else ""
            parts.append(_backend_row(rows[(backend, q)] if n["compared"] else None, case, span, q, n,
                                      colors[(backend, q)]))
        parts.append("</tbody>")
    return "".join(parts) + "</table>"


def _backend_row(w, case, span, q, n, color):
    if w is not None:
        where = ", ".join(["" if pd.isna(w["layer"]) else str(w["layer"]),
                           "total" if pd.isna(w["step"]) else str(w["step"])]
                          + ([user_gate(case, w["gate"])] if w["gate"] else []))
        ratio = math.inf if w["status"] == "FAIL" and pd.isna(w["err_ratio"]) else w["err_ratio"]
        worst = _ratio_td(ratio, w["status"], color) + f"<td>{e(where)}</td><td>{w['max_abs_err']:.3g}</td>"
    else:
        worst = "<td></td><td></td><td></td>"
    cls = " class='f'" if n["failed"] else ""
    return (f"<tr{cls}>{span}<td class='l'>{e(user_quantity(case, q))}</td><td>{n['compared']}</td>"
            f"<td>{n['failed']}</td><td>{n['nc']}</td>{worst}</tr>")


def first_divergence_text(row, case):
    """The numbers of the first divergence: error, tolerance, the worst element's two values."""
    if row["note"] and row["max_abs_err"] == float("inf"):
        return row["note"]
    return numbers_text(row, case.get("labels", ("reference", "backend")))

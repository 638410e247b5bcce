"""Self-contained HTML report: summary, then layer x step grids, then the detail table.

No scripts, no external resources: the page opens offline. Every string that comes
from the user or a backend is escaped.
"""

import html
import math

import pandas as pd

from .trace import QUANTITIES

CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em} h3{font-size:1em;margin:1em 0 .3em}
table{border-collapse:collapse;font-size:12px;margin-bottom:.8em}
td,th{border:1px solid #ccc;padding:2px 5px;text-align:right}
th{background:#f3f3f3}
.ok{color:#176317;font-weight:bold}.bad{color:#b00;font-weight:bold}
.grid td{min-width:2.6em;text-align:center}
.nc{background:#e4e4e4;color:#777}
pre{background:#f7f7f7;padding:.6em;white-space:pre-wrap}
.legend span{display:inline-block;padding:2px 6px;margin-right:4px}
figure.plot{display:inline-block;margin:.4em 1em .8em 0;vertical-align:top}
figure.plot svg{max-width:100%;height:auto} figcaption{font-size:12px;color:#444;max-width:40em}
"""


def _e(value):
    return html.escape(str(value), quote=True)


def _color(ratio):
    """Within tolerance: light green (tiny) to yellow (at the limit); beyond it: red."""
    if ratio is None or (isinstance(ratio, float) and math.isnan(ratio)):
        return "#e4e4e4"
    if ratio > 1 or math.isinf(ratio):
        return "#f4a3a3" if ratio < 1e3 else "#e05555"
    level = min(max(math.log10(max(ratio, 1e-6)) + 6, 0), 6) / 6     # 1e-6 .. 1 -> 0 .. 1
    low, high = (212, 240, 212), (245, 225, 110)
    return "rgb({},{},{})".format(*(int(a + (b - a) * level) for a, b in zip(low, high)))


# Localization probes of a check (harness.guard.localize): what a grid column means there.
PROBE_FAMILIES = {
    "upstream on step": "localization: upstream gradient on one step only (column: the step that carries it)",
    "first ": "localization: sequence cut to the first k steps (column: k - 1, the last step kept)",
}


def _family(probe):
    for prefix, title in PROBE_FAMILIES.items():
        if probe.startswith(prefix):
            return title
    return ""


def _grid(rows, layers, steps):
    """One quantity of one backend: layers down, steps across, plus the whole-sequence total."""
    cells = {}
    for r in rows:
        way = r.get("direction") if r.get("direction") in ("reverse", "both") else ""
        key = ((r["layer"], way), None if pd.isna(r["step"]) else int(r["step"]))
        prev = cells.get(key)
        if prev is None or _worse(r, prev):
            cells[key] = r
    has_total = any(k[1] is None for k in cells)
    head = "".join(f"<th>{t}</th>" for t in steps) + ("<th>total</th>" if has_total else "")
    body = []
    for row_key in sorted({k[0] for k in cells} | {(layer, "") for layer in layers}):
        tds = [_td(cells.get((row_key, t))) for t in steps] + ([_td(cells.get((row_key, None)))] if has_total else [])
        label = f"layer {row_key[0]}" + (f" {row_key[1]}" if row_key[1] else "")
        body.append(f"<tr><th>{_e(label)}</th>{''.join(tds)}</tr>")
    return f"<table class='grid'><tr><th></th>{head}</tr>{''.join(body)}</table>"


def _worse(a, b):
    ra = a["err_ratio"] if a["status"] != "not compared" else -1
    rb = b["err_ratio"] if b["status"] != "not compared" else -1
    return (ra if not math.isnan(ra) else math.inf) > (rb if not math.isnan(rb) else math.inf)


def _td(r):
    if r is None:
        return "<td></td>"
    if r["status"] == "not compared":
        return f"<td class='nc' title='{_e(r['note'])}'>n/c</td>"
    ratio = r["err_ratio"]
    gate = f" gate {r['gate']}" if r["gate"] else ""
    tip = (f"{r['status']}{gate}: max_abs_err={r['max_abs_err']:.3g}, max_rel_err={r['max_rel_err']:.3g}, "
           f"{ratio:.3g}x tolerance, worst at {r['worst_index']}")
    text = "inf" if math.isinf(ratio) else (f"{ratio:.0e}" if ratio else "0")
    return f"<td style='background:{_color(ratio)}' title='{_e(tip)}'>{_e(text)}</td>"


def _summary_block(report):
    ok = report.ok
    verdict = "<span class='ok'>ALL MATCH</span>" if ok else "<span class='bad'>MISMATCH</span>"
    return f"<p>{verdict}</p><pre>{_e(report.summary())}</pre>"


def _case_section(report, case):
    t = report.table[report.table["case"] == case["case"]]
    parts = [f"<h2>{_e(case['case'])}</h2><p>{_e(case['probe'])}</p>"]
    if case.get("figures"):                                # the figure hook: harness.plots.figures_html
        from .plots import figures_html
        parts.append(figures_html(case))
    steps_all = t["step"].dropna()
    steps = list(range(int(steps_all.max()) + 1)) if len(steps_all) else []
    layers = sorted(int(x) for x in t["layer"].dropna().unique())
    t = t.assign(_family=t["probe"].map(_family))
    for (family, backend), g in t.groupby(["_family", "backend"], sort=False):
        if (g["status"] == "skipped").all():
            parts.append(f"<h3>{_e(backend)}: skipped</h3><p>{_e(g['note'].iloc[0])}</p>")
            continue
        parts.append(f"<h3>{_e(backend)}{' | ' + _e(family) if family else ''}</h3>")
        recs = g.to_dict("records")
        for q in sorted(g["quantity"].unique(), key=lambda q: QUANTITIES.index(q) if q in QUANTITIES else 99):
            parts.append(f"<div><b>{_e(q)}</b>{_grid([r for r in recs if r['quantity'] == q], layers, steps)}</div>")
    return "".join(parts)


def render(report):
    legend = ("<p class='legend'>Cells show max error / tolerance for each layer and step "
              "(worst gate for gated weights): <span style='background:#d4f0d4'>tiny</span>"
              "<span style='background:#f5e16e'>at the limit</span><span style='background:#f4a3a3'>over</span>"
              "<span style='background:#e05555'>over 1000x</span><span class='nc'>n/c not compared</span>"
              " Hover a cell for the numbers.</p>")
    sections = "".join(_case_section(report, c) for c in report.cases)
    detail = report.sorted_table().to_html(index=False, escape=True, na_rep="", float_format=lambda v: f"{v:.4g}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>gradharness report</title>"
            f"<style>{CSS}</style></head><body><h1>gradharness report</h1>{_summary_block(report)}"
            f"{legend}{sections}<h2>Every comparison (failures first)</h2>{detail}</body></html>")

"""Self-contained HTML report, laid out the way a person reads it.

1. The verdict of the whole report, large, and one card per case (failing cases first):
   the verdict, the likely cause and where it lives (layer, step, gate, in the user's
   names), the first divergence with its numbers, the other findings and what to do next.
2. Skipped backends, once per reason.
3. Per case: a heatmap of error over tolerance (harness.html_parts), the case's own
   figures, the localization probes in their own section, every failing row in full and
   one line per (backend, quantity) for the rest. Every row stays in the CSV.

A table of contents with anchors for every case and backend sits beside the page. No
scripts, no external resources: the page opens offline. Every string that comes from the
user or a backend is escaped.

Extending the page with per-case figures: a case's ``"figures"`` list holds figure specs
(``harness.plots.spec``: drawn when the page is written) or figures already rendered by
``report.add_figure(fig, case=..., title=...)``; ``_figures`` draws them after the case's
heatmap.
"""

from . import plots, plots_grid
from .html_parts import (backend_table, e, failing_table, first_divergence_text, main_heatmap,
                         probe_heatmap, slug)
from .summary import CAUSE, next_step, skipped_groups, split_cases, steps_of, verdict_line, where_text

CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;display:grid;grid-template-columns:17em 1fr}
nav{position:sticky;top:0;height:100vh;overflow:auto;background:#f6f7f9;border-right:1px solid #ddd;
padding:.8em;font-size:13px;box-sizing:border-box}
nav ul{list-style:none;padding-left:.8em;margin:.2em 0}nav>ul{padding-left:0}nav a{color:#1a4f8b;text-decoration:none}
main{padding:1em 1.6em;min-width:0}
@media (max-width:900px){body{display:block}nav{position:static;height:auto}}
h1{font-size:1.3em;margin:.2em 0} h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:1.2em 0 .3em}
.verdict{font-weight:800;letter-spacing:.02em}.top .verdict{font-size:2.4em}
.v-OK{color:#1a7f37}.v-MISMATCH{color:#c62828}.v-INCOMPLETE{color:#b25e00}.v-NOTHING{color:#555}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(20em,1fr));gap:.8em}
.card{border:1px solid #ddd;border-left:7px solid #1a7f37;border-radius:4px;padding:.6em .9em;background:#fff}
.card.b-MISMATCH{border-left-color:#c62828;grid-column:1/-1}.card.b-INCOMPLETE{border-left-color:#b25e00;grid-column:1/-1}
.card.b-NOTHING{border-left-color:#888}
.card .verdict{font-size:1.7em}.card h3{margin:.1em 0 .4em;font-size:1em}
.cause{background:#fff1e0;border:1px solid #f3c68c;border-radius:4px;padding:.5em .7em;margin:.4em 0;font-size:1.08em}
.cause b{color:#8a3b00}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1em;margin:.5em 0}dt{font-weight:600;color:#555}dd{margin:0}
code,.mono{font-family:ui-monospace,monospace;font-size:.95em}
table{border-collapse:collapse;font-size:12px;margin:.3em 0 1em}
td,th{border:1px solid #d5d5d5;padding:2px 6px;text-align:right}th{background:#f3f3f3}
.l{text-align:left}tr.f td{font-weight:600}
svg{max-width:100%;height:auto}
.legend{font-size:12px;color:#444}.legend span{display:inline-block;padding:1px 6px;margin-right:4px;border:1px solid #ccc}
ul.findings{margin:.3em 0;padding-left:1.2em}
details summary{cursor:pointer;color:#1a4f8b}
figure.plot{display:inline-block;margin:.4em 1em .8em 0;vertical-align:top}
figure.plot svg{max-width:100%;height:auto} figcaption{font-size:12px;color:#444;max-width:40em}
"""

VERDICT_CLASS = {"OK": "OK", "MISMATCH": "MISMATCH", "INCOMPLETE": "INCOMPLETE", "NOTHING COMPARED": "NOTHING"}


def _ids(cases):
    """A unique anchor per case."""
    ids, seen = {}, {}
    for c in cases:
        base = "c-" + slug(c["case"])
        seen[base] = seen.get(base, 0) + 1
        ids[c["case"]] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return ids


def _verdict(v):
    return f"<span class='verdict v-{VERDICT_CLASS[v]}'>{e(v)}</span>"


def _card(case, sub, case_id):
    v = sub.verdict
    parts = [f"<article class='card b-{VERDICT_CLASS[v]}' id='card-{e(case_id)}'>{_verdict(v)}"
             f"<h3><a href='#{e(case_id)}'>{e(case['case'])}</a></h3>"]
    causes = [f for f in case.get("findings", []) if f.startswith(CAUSE)]
    for line in causes:
        parts.append(f"<div class='cause'><b>Likely cause:</b> {e(line[len(CAUSE):])}</div>")
    items = []
    first = sub.first_mismatch()
    if first is not None:
        T = steps_of(sub.table)
        items.append(("Where", f"{where_text(first, case, T)}, against {first['backend']}"
                      + ("" if first["probe"] == "full" else f" (probe: {first['probe']})")))
        items.append(("First divergence", first_divergence_text(first, case)))
    other = [f for f in case.get("findings", []) if not f.startswith(CAUSE)]
    full = sub.table.loc[sub.table["probe"] == "full", "status"]
    passed, failed = int((full == "pass").sum()), int((full == "FAIL").sum())
    items.append(("Counts", f"{passed:,} passed, {failed:,} failed over "
                            f"{sub.table.loc[sub.table['status'] != 'skipped', 'backend'].nunique()} backend(s)"))
    if v != "OK":
        items.append(("Next step", next_step(sub, case)))
    parts.append("<dl>" + "".join(f"<dt>{e(k)}</dt><dd>{e(val)}</dd>" for k, val in items) + "</dl>")
    if other:
        parts.append("<ul class='findings'>" + "".join(f"<li>{e(f)}</li>" for f in other) + "</ul>")
    return "".join(parts) + "</article>"


def _toc(report, split, ids):
    items = []
    for case, sub in split:
        t = sub.table
        backends = list(dict.fromkeys(t.loc[(t["status"] != "skipped") & (t["probe"] == "full"), "backend"]))
        links = "".join(f"<li><a href='#{e(ids[case['case']])}--{e(slug(b))}'>{e(b)}</a></li>" for b in backends)
        items.append(f"<li><a href='#{e(ids[case['case']])}'>{e(case['case'])}</a> "
                     f"<small class='v-{VERDICT_CLASS[sub.verdict]}'>{e(sub.verdict)}</small><ul>{links}</ul></li>")
    skipped = "<li><a href='#skipped'>Skipped backends</a></li>" if skipped_groups(report.table) else ""
    return (f"<nav><b>Contents</b><ul><li><a href='#top'>Verdict and cards</a></li>{skipped}"
            f"{''.join(items)}</ul></nav>")


def _skipped(report):
    groups = skipped_groups(report.table)
    if not groups:
        return ""
    rows = "".join(f"<tr><td class='l'>{e(', '.join(b))}</td><td class='l'>"
                   f"{e('every case' if len(c) == len(report.cases) else ', '.join(c))}</td>"
                   f"<td class='l'>{e(reason)}</td></tr>" for reason, b, c in groups)
    return (f"<h2 id='skipped'>Skipped backends</h2><table class='rows'><tr><th>backends</th><th>cases</th>"
            f"<th>reason</th></tr>{rows}</table>")


def _figures(case):
    """The case's figures (harness.plots: drawn now from their specs, or already rendered by
    Report.add_figure)."""
    return plots.figures_html(case)


def _case_section(case, sub, case_id):
    t = sub.table
    parts = [f"<h2 id='{e(case_id)}'>{e(case['case'])} {_verdict(sub.verdict)}</h2>"
             f"<p class='mono'>{e(case['probe'])}</p>"]
    grid = main_heatmap(t, case)
    if grid:
        parts.append("<h3>Error over tolerance by layer and step (worst gate)</h3>" + grid)
    parts.append(_figures(case))
    fails = [r for r in sub.failures() if r["probe"] == "full"]
    fails += [r for r in t[t["status"] == "missing"].to_dict("records")]
    if fails:
        parts.append(f"<h3>Failing comparisons ({len(fails):,})</h3>{failing_table(fails, case)}")
    probe = probe_heatmap(t, case)
    if probe:
        parts.append("<h3>Localization probes</h3><p>The same check re-run with the upstream gradient on one "
                     "step only, and on the sequence cut to its first k steps (worst over the oracles).</p>"
                     + probe)
        probe_fails = [r for r in sub.failures() if r["probe"] != "full"]
        if probe_fails:
            parts.append(f"<details><summary>{len(probe_fails)} failing probe comparisons</summary>"
                         f"{failing_table(probe_fails, case)}</details>")
    parts.append(f"<h3>Per backend and quantity</h3>{backend_table(t, case, case_id)}")
    return "".join(parts)


def render(report):
    split = split_cases(report)
    ids = _ids(report.cases)
    order = {"MISMATCH": 0, "INCOMPLETE": 1, "NOTHING COMPARED": 2, "OK": 3}
    cards = sorted(split, key=lambda cs: order[cs[1].verdict])
    legend = (f"<p class='legend'>Heatmaps: error / tolerance of every (layer, step) of every quantity; "
              f"Σ is the whole-sequence total. <span style='background:{plots_grid.NOT_COMPARED}'>grey</span> "
              f"not compared (the backend cannot observe it), <span>white</span> nothing there.</p>"
              f"{plots.to_svg(plots_grid.ratio_legend())}")
    n = len(report.cases)
    bad = sum(s.verdict != "OK" for _, s in split)
    head = (f"<header class='top' id='top'><h1>gradharness report</h1>{_verdict(report.verdict)}"
            f"<p>{e(verdict_line(report))}; {n} case(s){f', {bad} not OK' if bad else ''}.</p></header>")
    body = "".join(_case_section(c, s, ids[c["case"]]) for c, s in split)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>gradharness: {e(report.verdict)}</title><style>{CSS}</style></head><body>"
            f"{_toc(report, split, ids)}<main>{head}<section class='cards'>"
            f"{''.join(_card(c, s, ids[c['case']]) for c, s in cards)}</section>{_skipped(report)}"
            f"<h2>Heatmap colours</h2>{legend}{body}</main></body></html>")

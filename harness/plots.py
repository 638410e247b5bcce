"""Every picture gradharness draws, with matplotlib: inline SVG for the HTML reports (the
page stays one offline file) and PNG for papers.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot: no
global state, no GUI backend, safe in pytest and in worker processes. matplotlib is
imported only when a picture is drawn.

    fig = plots.lines({"reference": (t, norms), "torch": (t, norms2)}, title=..., logy=True)
    html_fragment = plots.to_svg(fig)
    plots.save_png(fig, "plots/dh_norms.png")
    report.add_figure(fig, case=..., title=...)      # shown with that case on the HTML page

The heatmaps of error over tolerance and their colours are harness.plots_grid's.
"""

import io
import itertools
import os
import re

import numpy as np

INSTALL = "pip install matplotlib"


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:                                   # pragma: no cover - an extra
        from .errors import HarnessError
        raise HarnessError(f"plots: pictures need matplotlib, which is not installed; install it with: "
                           f"{INSTALL}") from exc
    matplotlib.rcParams["svg.hashsalt"] = "gradharness"          # stable ids: the same figure, the same SVG
    return Figure


def new_figure(width=6.0, height=3.0):
    """An empty figure of ``width`` x ``height`` inches with one axes; returns (fig, ax)."""
    Figure = _matplotlib()
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def blank_figure(width, height):
    """An empty figure with no axes and no layout engine (place axes with ``add_axes``)."""
    return _matplotlib()(figsize=(width, height))


def to_svg(fig, text_as_paths=False):
    """The figure as an inline ``<svg>`` element (no XML prolog, no external references).

    Text is SVG ``<text>`` in a generic sans-serif font (any browser has one; five times
    smaller than glyph outlines); ``text_as_paths=True`` draws glyph outlines instead.
    Element ids that nothing refers to are dropped, so many figures share a page cleanly.
    """
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path" if text_as_paths else "none",
                                "font.family": "sans-serif"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)        # inline in HTML5: no namespaces needed
    used = set(re.findall(r'(?:url\(#|href="#)([^")]+)', text))
    text = re.sub(r'\s+id="([^"]*)"', lambda m: m[0] if m[1] in used else "", text)
    salt = f"f{os.getpid():x}-{next(_FIGURE_IDS)}-"   # matplotlib's ids repeat across figures and workers
    text = re.sub(r'(id="|url\(#|href="#)([^")]+)', lambda m: m[1] + salt + m[2] if m[2] in used else m[0], text)
    return re.sub(r">\s+<", "><", text)


_FIGURE_IDS = itertools.count()


def save_png(fig, path, dpi=150):
    """Write the figure as a PNG atomically (see harness.report.atomic_path). Returns the path."""
    from .report import atomic_path
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def lines(series, *, title="", xlabel="", ylabel="", logy=False, width=6.0, height=3.0):
    """One line per entry of ``series`` {label: (x, y)} on shared axes."""
    fig, ax = new_figure(width, height)
    for label, (x, y) in series.items():
        y = np.asarray(y, dtype=float)
        ax.plot(np.asarray(x), y, marker="o" if len(y) < 30 else None, markersize=3, label=str(label))
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    if len(series) > 1:
        ax.legend(fontsize="small")
    return fig


def heatmap(values, *, row_labels, col_labels, title="", colorbar="", width=6.0, height=None,
            vmin=1e-6, vmax=1e3):
    """A grid of positive values (e.g. error over tolerance) on a log colour scale.

    ``values`` (rows, cols); NaN cells (not compared) are left grey. Values are clipped to
    [vmin, vmax] for the colours only.
    """
    from matplotlib.colors import LogNorm
    values = np.asarray(values, dtype=float)
    height = height or 0.9 + 0.35 * max(len(row_labels), 1)
    fig, ax = new_figure(width, height)
    shown = np.clip(np.where(values > 0, values, vmin), vmin, vmax)
    shown = np.where(np.isnan(values), np.nan, shown)
    im = ax.imshow(shown, aspect="auto", cmap="RdYlGn_r", norm=LogNorm(vmin=vmin, vmax=vmax),
                   interpolation="nearest")
    im.cmap.set_bad("#d9d9d9")
    ax.set_yticks(range(len(row_labels)), labels=[str(r) for r in row_labels])
    step = max(1, len(col_labels) // 20)
    ax.set_xticks(range(0, len(col_labels), step), labels=[str(c) for c in col_labels][::step])
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label=colorbar, shrink=0.9)
    return fig


# ---------------------------------------------------------------- figures attached to a report
#
# The hook: a report case (``report.cases[i]``, a dict) may carry ``"figures"``, a list of
# figure specs made by ``spec()``: a name (for the PNG file), a title, a caption and
# ``make()``, which builds the matplotlib Figure only when it is drawn; or, from
# ``Report.add_figure`` and ``rendered()``, the same with ``"svg"`` (already drawn) in place
# of ``make``. html.py renders them inline as SVG (``figures_html``); ``save_pngs`` writes
# the specs as PNG files (``--plot-dir``).

STYLES = ("-", "--", ":", "-.")


def spec(name, title, make, caption=""):
    """A figure attached to a report case: drawn by ``make()`` when rendered."""
    return {"name": str(name), "title": str(title), "caption": str(caption), "make": make}


def figures_html(case):
    """The case's figures as <figure> elements with inline SVG (no scripts, no links)."""
    import html
    parts = []
    for f in case.get("figures") or ():
        svg, why = _svg(f)
        if why:                                           # the page is written anyway, saying why
            parts.append(f"<p>{html.escape(f['title'])}: not drawn ({html.escape(why)})</p>")
        if svg is None:
            continue
        cap = html.escape(f["title"] + (": " + f["caption"] if f.get("caption") else ""))
        parts.append(f"<figure class='plot'>{svg}<figcaption>{cap}</figcaption></figure>")
    return "".join(parts)


def _svg(f):
    """(inline SVG or None, why not) of a figure spec or an already rendered figure."""
    if "svg" in f:
        return f["svg"], f.get("why", "")
    fig, why = _drawn(f)
    return (None if fig is None else to_svg(fig)), why


def rendered(report):
    """``report`` with every figure spec drawn to SVG now (a report to pickle, e.g. from an
    xdist worker: a spec's ``make`` is a closure)."""
    for case in report.cases:
        figures = []
        for f in case.get("figures") or ():
            svg, why = _svg(f)
            figures.append({k: v for k, v in f.items() if k != "make"} | {"svg": svg, "why": why})
        if figures:
            case["figures"] = figures
    return report


def _drawn(f):
    """(Figure or None, why not): a figure that fails to draw never stops a report."""
    try:
        return f["make"](), ""
    except Exception as exc:                               # noqa: BLE001 - reported in the page
        return None, f"{type(exc).__name__}: {exc}"


def save_pngs(report, folder):
    """Every figure of every case as ``folder/<case>-<name>.png``; returns the paths."""
    import os
    paths = []
    for case in report.cases:
        for f in case.get("figures") or ():
            if "make" not in f:                           # rendered to SVG already: no PNG to make
                continue
            fig, why = _drawn(f)
            if why:
                import warnings
                warnings.warn(f"{case['case']}: {f['title']}: not drawn ({why})", stacklevel=2)
            if fig is not None:
                stem = re.sub(r"[^A-Za-z0-9_.=-]+", "_", f"{case['case']}-{f['name']}")
                paths.append(save_png(fig, os.path.join(folder, stem + ".png")))
    return paths


def _log_axis(ax, values):
    """A log y axis when ``values`` span more than a decade, ticked and labelled at decades only,
    in plain text (matplotlib's default goes through mathtext, and its minor ticks cost a third
    of the figure); a linear one otherwise, where a log scale shows nothing more and has no
    decade to label."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() / v.min() < 10:
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=7))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.yaxis.set_minor_locator(NullLocator())          # decades only: the minor ticks cost a third of the figure


def _floor_log(y, floor):
    y = np.asarray(y, dtype=float)
    return np.where(np.isfinite(y), np.maximum(y, floor), np.nan)


def _panels(rows, cols, width=3.2, height=2.4):
    """A figure of rows x cols panels sharing x, laid out with fixed margins in inches (room
    for a title above each panel, y tick labels of up to seven characters on the left, the
    x label below the last row): matplotlib's constrained layout measures every tick label
    of every panel, several times, and cost most of a report's drawing time."""
    Figure = _matplotlib()
    left, right, top, bottom, wgap, hgap = 0.75, 0.15, 0.3, 0.5, 0.75, 0.45
    fig_w, fig_h = width * cols + 0.6, height * rows + 0.6
    ax_w = (fig_w - left - right - wgap * (cols - 1)) / cols
    ax_h = (fig_h - top - bottom - hgap * (rows - 1)) / rows
    fig = Figure(figsize=(fig_w, fig_h))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, gridspec_kw=dict(
        left=left / fig_w, right=1 - right / fig_w, bottom=bottom / fig_h, top=1 - top / fig_h,
        wspace=wgap / ax_w, hspace=hgap / ax_h))
    return fig, axes


def state_grad_norms(norms, *, title="", floor=1e-300):
    """‖dL/dh_t‖ (and ‖dL/dc_t‖) over t: one panel per quantity and layer, one line per
    source (reference, each backend, yours) on a log scale, so vanishing and exploding
    gradients show as straight lines going down or up.

    norms: {source label: {(quantity, layer): (T,) array}}."""
    from matplotlib.ticker import MaxNLocator
    keys = sorted({k for per in norms.values() for k in per}, key=lambda k: (k[0] != "dh_total", k[1]))
    quantities = list(dict.fromkeys(q for q, _ in keys))
    layers = sorted({k for _, k in keys})
    fig, axes = _panels(len(quantities), len(layers))
    symbol = {"dh_total": "‖dL/dh_t‖", "dc_total": "‖dL/dc_t‖"}
    for i, q in enumerate(quantities):
        for j, layer in enumerate(layers):
            ax, shown = axes[i][j], []
            for n, (label, per) in enumerate(norms.items()):
                if (q, layer) in per:
                    y = _floor_log(per[(q, layer)], floor)
                    shown.append(y)
                    ax.plot(np.arange(len(y)), y, STYLES[n % len(STYLES)], marker="o" if len(y) < 30 else None,
                            markersize=max(2, 6 - n), linewidth=max(0.8, 2.4 - 0.4 * n), label=str(label))
            _log_axis(ax, np.concatenate(shown) if shown else [])
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(f"{symbol.get(q, q)}, layer {layer}", fontsize="small", y=1.0)   # y: no auto-placement
            ax.grid(True, alpha=0.3)
            if i == len(quantities) - 1:
                ax.set_xlabel("time step t")
    axes[0][0].legend(fontsize="x-small")
    if title:
        fig.suptitle(title, fontsize="small")
    return fig


def curves(series, *, title="", xlabel="", ylabel="", logy=False, hline=None, floor=None, width=6.0, height=3.0):
    """Lines {label: (x, y)} on one axis, each in its own style (overlapping lines stay
    visible); ``hline``: (y, label) drawn dashed grey (a tolerance); ``floor``: y values
    below it drawn at it (zeros on a log scale)."""
    fig, ax = new_figure(width, height)
    shown = []
    for n, (label, (x, y)) in enumerate(series.items()):
        y = _floor_log(y, floor) if floor is not None else np.asarray(y, dtype=float)
        shown.append(y)
        ax.plot(np.asarray(x), y, STYLES[n % len(STYLES)], linewidth=max(0.8, 2.2 - 0.4 * n), label=str(label))
    if hline is not None:
        ax.axhline(hline[0], color="grey", linestyle="--", linewidth=0.8, label=hline[1])
        shown.append([hline[0]])
    if logy:
        _log_axis(ax, np.concatenate(shown) if shown else [])
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small")
    return fig

"""Every picture gradharness draws, with matplotlib: inline SVG for the HTML reports (the
page stays one offline file) and PNG for papers.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot: no
global state, no GUI backend, safe in pytest and in worker processes. matplotlib is
imported only when a picture is drawn.

    fig = plots.lines({"reference": (t, norms), "torch": (t, norms2)}, title=..., logy=True)
    html_fragment = plots.to_svg(fig)
    plots.save_png(fig, "plots/dh_norms.png")
"""

import io
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
    matplotlib.rcParams["svg.fonttype"] = "path"                 # text as paths: no font needed offline
    matplotlib.rcParams["svg.hashsalt"] = "gradharness"          # stable ids: the same figure, the same SVG
    return Figure


def new_figure(width=6.0, height=3.0):
    """An empty figure of ``width`` x ``height`` inches with one axes; returns (fig, ax)."""
    Figure = _matplotlib()
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def to_svg(fig):
    """The figure as an inline ``<svg>`` element (no XML prolog, no external references)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg"):], flags=re.S)
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)       # inline in HTML5: no namespaces needed


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
# ``make()``, which builds the matplotlib Figure only when it is drawn. html.py renders
# them inline as SVG (``figures_html``); ``save_pngs`` writes them as PNG files
# (``--plot-dir``).

STYLES = ("-", "--", ":", "-.")


def spec(name, title, make, caption=""):
    """A figure attached to a report case: drawn by ``make()`` when rendered."""
    return {"name": str(name), "title": str(title), "caption": str(caption), "make": make}


def figures_html(case):
    """The case's figures as <figure> elements with inline SVG (no scripts, no links)."""
    import html
    parts = []
    for f in case.get("figures") or ():
        fig, why = _drawn(f)
        if why:                                           # the page is written anyway, saying why
            parts.append(f"<p>{html.escape(f['title'])}: not drawn ({html.escape(why)})</p>")
        if fig is None:
            continue
        cap = html.escape(f["title"] + (": " + f["caption"] if f["caption"] else ""))
        parts.append(f"<figure class='plot'>{to_svg(fig)}<figcaption>{cap}</figcaption></figure>")
    return "".join(parts)


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
            fig, why = _drawn(f)
            if why:
                import warnings
                warnings.warn(f"{case['case']}: {f['title']}: not drawn ({why})", stacklevel=2)
            if fig is not None:
                stem = re.sub(r"[^A-Za-z0-9_.=-]+", "_", f"{case['case']}-{f['name']}")
                paths.append(save_png(fig, os.path.join(folder, stem + ".png")))
    return paths


def _log_axis(ax, values):
    """A log y axis when ``values`` span more than a decade, labelled at decades in plain text
    (matplotlib's default goes through mathtext: slow); a linear one otherwise, where a log
    scale shows nothing more and has no decade to label."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size and v.max() / v.min() < 10:
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=7))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _floor_log(y, floor):
    y = np.asarray(y, dtype=float)
    return np.where(np.isfinite(y), np.maximum(y, floor), np.nan)


def state_grad_norms(norms, *, title="", floor=1e-300):
    """‖dL/dh_t‖ (and ‖dL/dc_t‖) over t: one panel per quantity and layer, one line per
    source (reference, each backend, yours) on a log scale, so vanishing and exploding
    gradients show as straight lines going down or up.

    norms: {source label: {(quantity, layer): (T,) array}}."""
    from matplotlib.ticker import MaxNLocator
    keys = sorted({k for per in norms.values() for k in per}, key=lambda k: (k[0] != "dh_total", k[1]))
    quantities = list(dict.fromkeys(q for q, _ in keys))
    layers = sorted({k for _, k in keys})
    Figure = _matplotlib()
    fig = Figure(figsize=(3.2 * len(layers) + 0.6, 2.4 * len(quantities) + 0.6), layout="constrained")
    axes = fig.subplots(len(quantities), len(layers), squeeze=False, sharex=True)
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
            ax.set_title(f"{symbol.get(q, q)}, layer {layer}", fontsize="small")
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

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

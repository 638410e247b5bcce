"""Every picture gradharness draws, with matplotlib: inline SVG for the HTML reports (the
page stays one offline file) and PNG for papers.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot: no
global state, no GUI backend, safe in pytest and in worker processes. matplotlib is
imported only when a picture is drawn.

    fig = plots.lines({"reference": (t, norms), "torch": (t, norms2)}, title=..., logy=True)
    html_fragment = plots.to_svg(fig)
    plots.save_png(fig, "plots/dh_norms.png")
    report.add_figure(fig, case=..., title=...)      # shown with that case on the HTML page

Error over tolerance is coloured one way everywhere (``ratio_rgba``): light green (exact) to
yellow (at the limit, ratio 1) within tolerance, orange to dark red beyond it, grey where
nothing was compared, white where there is nothing (no such step). ``error_grid`` draws
such a grid in labelled blocks (the HTML report's heatmaps); ``ratio_legend`` its scale.
Grids are drawn without matplotlib's tick machinery and with SVG text (not glyph paths):
a page of dozens of them stays small and is drawn in well under a second.
"""

import functools
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


# Error over tolerance -> colour: log10(ratio) in [-6, 0] runs light green -> yellow (within
# tolerance), (0, 3] orange -> dark red (beyond it); 0 (exact) is the lightest green.
PASS_COLORS = ("#e3f4e1", "#b9e4b3", "#f1e27a")
FAIL_COLORS = ("#f6b26b", "#e06040", "#9e1b1b")
NOT_COMPARED = "#cfcfcf"
LOW, HIGH = -6.0, 3.0


@functools.lru_cache(maxsize=None)
def _colormap(colors):
    from matplotlib.colors import LinearSegmentedColormap
    return LinearSegmentedColormap.from_list("", colors)


def _ramp(colors, t):
    return _colormap(colors)(t)


def ratio_rgba(ratios, blank=None):
    """RGBA (..., 4) for error/tolerance ``ratios``: NaN -> grey (not compared), ``blank``
    (a boolean mask) -> white."""
    r = np.asarray(ratios, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.clip(np.log10(np.where(r > 0, r, 10.0 ** LOW)), LOW, HIGH)
    rgba = np.where((lr <= 0)[..., None], _ramp(PASS_COLORS, (lr - LOW) / -LOW), _ramp(FAIL_COLORS, lr / HIGH))
    rgba = np.where(np.isnan(r)[..., None], _hex(NOT_COMPARED), rgba)
    if blank is not None:
        rgba = np.where(np.asarray(blank)[..., None], 1.0, rgba)
    return rgba


def _hex(color):
    from matplotlib.colors import to_rgba
    return np.array(to_rgba(color))


def ratio_css(ratios):
    """CSS colours ("#rrggbb") for error/tolerance ``ratios`` (one per value), as ``ratio_rgba``."""
    rgba = np.atleast_2d(ratio_rgba(np.asarray(ratios, dtype=float).ravel()))
    return ["#{:02x}{:02x}{:02x}".format(*(int(round(255 * c)) for c in px[:3])) for px in rgba]


SUB, GAP = 5, 2          # pixels per cell, pixels between groups: groups 0.4 cell apart


def _gapped(groups):
    """First pixel of each group member along one axis, and the axis' length in pixels."""
    pos, at = [], 0
    for _, members in groups:
        pos.append([at + SUB * i for i in range(len(members))])
        at += SUB * len(members) + GAP
    return pos, at - GAP


def _bands(col_groups, max_cols):
    """Column groups packed in order into bands of at most ``max_cols`` cells (one group may exceed)."""
    bands, width = [[]], 0
    for i, (_, members) in enumerate(col_groups):
        if bands[-1] and width + len(members) > max_cols:
            bands.append([])
            width = 0
        bands[-1].append(i)
        width += len(members) + GAP / SUB
    return bands


def error_grid(values, *, row_groups, col_groups, blank=None, title="", width=10.0, font=8.0, max_cols=60):
    """A grid of error/tolerance ratios drawn in labelled blocks.

    ``values`` (rows, cols), NaN where nothing was compared; ``blank``: a mask of cells with
    nothing in them (drawn white). ``row_groups``/``col_groups``: [(label, [member labels])]
    splitting the rows/columns in order (e.g. backends x layers, quantities x steps); groups
    are drawn with a gap between them, and column groups wrap into bands of ``max_cols``
    cells stacked downwards (one image, so the figure stays one SVG). Cells are as wide as
    ``width`` inches allow (0.11 to 0.3 in) and at least one line of text high; columns show
    their first and last labels.
    """
    values = np.asarray(values, dtype=float)
    rgba = ratio_rgba(values, blank)
    rows, band_h = _gapped(row_groups)
    starts = np.cumsum([0] + [len(m) for _, m in col_groups])
    bands = _bands(col_groups, max_cols)
    layouts = [_gapped([col_groups[i] for i in band]) for band in bands]
    char = font * 0.6 / 72                                      # inches per character, roughly
    member = max(len(str(m)) for _, ms in row_groups for m in ms)
    left = char * (max(len(str(g)) for g, _ in row_groups) + member + 2) + 0.1
    ncols = max(w for _, w in layouts) / SUB
    cell = min(0.3, max(0.11, (width - left - 0.2) / max(ncols, 1)))
    cell_h = max(cell, 1.3 * font / 72)
    label_h = 0.87 * char * max(len(str(g)) for g, _ in col_groups) + 0.12
    gap_px = int(np.ceil((label_h + font / 72 + 0.12) / cell_h)) * SUB
    image = _image(rgba, rows, bands, layouts, starts, band_h, gap_px, int(ncols * SUB))
    nrows = image.shape[0] / SUB
    bottom = 0.22 + (0.22 if title else 0)
    fig_w, fig_h = left + ncols * cell + 0.2, label_h + 0.08 + nrows * cell_h + bottom
    fig = blank_figure(fig_w, fig_h)
    box = (left / fig_w, bottom / fig_h, ncols * cell / fig_w, nrows * cell_h / fig_h)
    ax = fig.add_axes(box)
    ax.imshow(image, aspect="auto", interpolation="none", extent=(0, ncols, nrows, 0))
    ax.set_axis_off()

    def put(x, y, text, **kw):                  # figure text at grid coordinates (cells, rows down)
        fig.text(box[0] + box[2] * x / ncols, box[1] + box[3] * (1 - y / nrows), text, **kw)

    for b, (band, (cols, _)) in enumerate(zip(bands, layouts)):
        y0 = b * (band_h + gap_px) / SUB
        _label_rows(put, row_groups, rows, y0, cell, char, member, font)
        _label_cols(put, [col_groups[i] for i in band], cols, y0, y0 + band_h / SUB, 0.06 / cell_h, font)
    if title:
        fig.text(0.01, 0.01, title, fontsize=font, ha="left", va="bottom")
    return fig


def _image(rgba, rows, bands, layouts, starts, band_h, gap_px, width_px):
    """The bands of cells as one RGBA image, SUB x SUB pixels a cell, white in the gaps."""
    image = np.ones((len(bands) * band_h + (len(bands) - 1) * gap_px, width_px, 4))
    r0 = np.array([r for g in rows for r in g], int)
    for b, (band, (cols, _)) in enumerate(zip(bands, layouts)):
        y0 = b * (band_h + gap_px)
        for i, pos in zip(band, cols):
            block = rgba[:, starts[i]:starts[i + 1]]
            for dr in range(SUB):
                for dc in range(SUB):
                    image[np.ix_(y0 + r0 + dr, np.array(pos, int) + dc)] = block
    return image


def _label_rows(put, row_groups, rows, y0, cell, char, member, font):
    gap = 0.06 / cell                                          # 0.06 inch, in cells
    for (label, members), pos in zip(row_groups, rows):
        centres = [y0 + p / SUB + 0.5 for p in pos]
        sub = any(str(m) for m in members)
        for m, y in zip(members, centres):
            if sub:
                put(-gap, y, str(m), ha="right", va="center", fontsize=font)
        x = -gap - ((char * member + 0.1) / cell if sub else 0)
        put(x, (centres[0] + centres[-1]) / 2, str(label), ha="right", va="center", fontsize=font)


def _label_cols(put, col_groups, cols, top, bottom, gap, font):
    for (label, members), pos in zip(col_groups, cols):
        centres = [p / SUB + 0.5 for p in pos]
        put(centres[0] - 0.3, top - gap, str(label), ha="left", va="bottom", fontsize=font, rotation=60,
                rotation_mode="anchor")
        for i, (m, x) in enumerate(zip(members, centres)):
            if i in (0, len(members) - 1) and len(str(m)) <= 3:
                put(x, bottom + gap, str(m), ha="center", va="top", fontsize=font - 1, color="#555")


def ratio_legend(width=5.0):
    """The colour scale of ``ratio_rgba`` as a small horizontal bar with its labels."""
    fig = blank_figure(width, 0.55)
    ax = fig.add_axes((0.02, 0.5, 0.96, 0.35))
    lr = np.linspace(LOW, HIGH, 361)
    ax.imshow(ratio_rgba(10.0 ** lr)[None], aspect="auto", extent=(LOW, HIGH, 0, 1), interpolation="nearest")
    ax.set_axis_off()
    for v, text in ((-6, "1e-6"), (-3, "1e-3"), (0, "1 = tolerance"), (1, "10"), (2, "100"), (3, "1e3+")):
        ax.text(v, -0.15, text, ha="center" if LOW < v < HIGH else ("left" if v == LOW else "right"),
                va="top", fontsize=7)
    ax.axvline(0, color="#333", linewidth=0.8)
    return fig

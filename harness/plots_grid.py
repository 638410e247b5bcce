"""The heatmaps of error over tolerance (the HTML report's grids) and their colours.

Error over tolerance is coloured one way everywhere (``ratio_rgba``): light green (exact) to
yellow (at the limit, ratio 1) within tolerance, orange to dark red beyond it, grey where
nothing was compared, white where there is nothing (no such step). ``error_grid`` draws
such a grid in labelled blocks; ``ratio_legend`` its scale. Grids are drawn without
matplotlib's tick machinery and with SVG text (not glyph paths): a page of dozens of them
stays small and is drawn in well under a second. Figures as in harness.plots.
"""

import functools

import numpy as np

from .plots import blank_figure


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

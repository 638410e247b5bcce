"""The full default matrix (``compare --cell all --layers 1,2,3 --backends all``) as one HTML
page: small enough, and drawn by a real headless Chromium (Debian's ``chromium``; .ci/run
installs it) with its verdict and its heatmaps on the first screens.

How long Chromium takes is measured and reported (``-rA`` shows it; see README "The
report" for the figures), never asserted: timings on a shared machine are not a test.
"""

import shutil
import subprocess
import time

import numpy as np
import pytest

import harness
from harness import plots_grid
from harness.report import Report

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("html_browser")]   # one worker builds the matrix
MAX_BYTES = 1_500_000
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VERDICT_OK = (0x1A, 0x7F, 0x37)                  # .v-OK in harness.html


@pytest.fixture(scope="module")
def full_matrix(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    report = Report.concat(harness.compare(cell, layers=k, backends="all")
                           for cell in ("rnn", "lstm", "gru") for k in (1, 2, 3))
    path = tmp_path_factory.mktemp("html") / "full.html"
    report.to_html(path)
    return report, path


def test_full_matrix_page_is_small(full_matrix):
    report, path = full_matrix
    assert report.ok and len(report.table) > 15_000          # every row is in the table (and the CSV)
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size <= MAX_BYTES
    assert text.count("<tr") < 2_000                          # one line per (backend, quantity), not per row
    assert text.count("<svg") == 1 + 2 * len(report.cases)    # the colour scale; per case a heatmap, the norms


def _shoot(page, png):
    start = time.perf_counter()
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1400,2600", f"--screenshot={png}", page.as_uri()],
                          capture_output=True, text=True, timeout=300)
    assert png.exists(), proc.stderr[-2000:]
    return time.perf_counter() - start


def _pixels(png):
    import matplotlib.image
    return (matplotlib.image.imread(png)[..., :3] * 255).round().astype(int)


def _near(image, colour, tol=3):
    return np.abs(image - np.array(colour)).sum(-1) <= tol


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_full_matrix_page_renders_verdict_and_heatmaps_in_chromium(full_matrix, tmp_path, record_property):
    _, path = full_matrix
    text = path.read_text(encoding="utf-8")
    # The same page with the verdict and every SVG hidden: what differs is what they drew.
    hidden = tmp_path / "hidden.html"
    hidden.write_text(text.replace("</style>", ".top .verdict,svg{visibility:hidden}</style>", 1), encoding="utf-8")
    empty = tmp_path / "empty.html"
    empty.write_text("<!DOCTYPE html><html><body>empty</body></html>", encoding="utf-8")
    baseline = _shoot(empty, tmp_path / "empty.png")
    seconds = _shoot(path, tmp_path / "page.png")
    _shoot(hidden, tmp_path / "hidden.png")
    record_property("chromium_seconds", round(seconds, 2))
    record_property("chromium_empty_page_seconds", round(baseline, 2))
    print(f"chromium: full-matrix page {seconds:.2f} s, empty page {baseline:.2f} s, "
          f"{path.stat().st_size:,} bytes")
    page, without = _pixels(tmp_path / "page.png"), _pixels(tmp_path / "hidden.png")
    drawn = np.abs(page - without).sum(-1) > 0
    assert (_near(page, VERDICT_OK, 0) & drawn).sum() > 500                 # the large OK at the top
    heat = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in (plots_grid.PASS_COLORS[0], plots_grid.NOT_COMPARED)]
    assert (_near(page, heat[0]) & drawn).sum() > 2_000                     # tiny errors, in a heatmap
    assert (_near(page, heat[1]) & drawn).sum() > 500                       # not compared, in a heatmap

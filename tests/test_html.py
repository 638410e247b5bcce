"""The HTML page as a person reads it: cards first, the cause in the user's names, anchors
that resolve, probes apart from the main rows, no empty step columns, enough digits."""

from html.parser import HTMLParser

import numpy as np
import pytest

import harness
from harness import html_parts, plots, plots_grid
from harness.html import render
from harness.report import Report
from harness.summary import pair
from tests.zoo import cs231n_rnn

# One worker builds this module's module-scoped fixtures once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("html")


class Page(HTMLParser):
    """Ids, links, and the text of every element with a given class, in document order."""

    def __init__(self, text):
        super().__init__()
        self.ids, self.hrefs, self.order, self.classes = [], [], [], {}
        self._open = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.hrefs.append(a["href"][1:])
        self.order.append((tag, a.get("id", ""), a.get("class", "")))
        self._open.append((tag, a.get("class", "")))
        for c in (a.get("class") or "").split():
            self.classes.setdefault(c, []).append("")

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        for _, cls in self._open:
            for c in (cls or "").split():
                self.classes[c][-1] += data


@pytest.fixture(scope="module")
def wrong_sign():
    """A user's RNN whose db has the wrong sign, checked against the reference (no framework)."""
    fwd, bwd, opts = cs231n_rnn.make("bias_sign")
    return harness.check_backward(fwd, bwd, against=("reference",), **opts)


def test_card_leads_with_verdict_cause_and_place_in_the_users_names(wrong_sign):
    page = Page(render(wrong_sign))
    first_card = next(c for tag, _, c in page.order if tag == "article")
    assert "b-MISMATCH" in first_card
    cause = next(f for f in wrong_sign.findings if f.startswith("likely cause: "))
    assert page.classes["cause"][0].strip() == "Likely cause: " + cause[len("likely cause: "):]
    card = page.classes["card"][0]
    first = wrong_sign.first_mismatch()
    assert first["quantity"] == "dbias_ih"
    assert "Where" in card and "db layer 0" in card and "dbias_ih" not in card
    assert "Next step" in card and "First divergence" in card
    # The card comes before any table.
    tags = [tag for tag, _, _ in page.order]
    assert tags.index("article") < tags.index("table")


def test_every_link_resolves_and_every_case_and_backend_has_an_anchor(wrong_sign):
    two = Report.concat([wrong_sign, harness.compare("rnn", backends="torch.functional", steps=4)])
    page = Page(render(two))
    assert len(page.ids) == len(set(page.ids))
    assert set(page.hrefs) <= set(page.ids)
    for case in two.cases:
        anchors = [i for i in page.hrefs if i == "c-" + html_parts.slug(case["case"])]
        assert anchors, case["case"]
        for backend in set(two.table.loc[two.table["case"] == case["case"], "backend"]):
            assert f"c-{html_parts.slug(case['case'])}--{html_parts.slug(backend)}" in page.hrefs


def test_probes_have_their_own_section_after_the_main_rows(wrong_sign):
    text = render(wrong_sign)
    full_fails = int(((wrong_sign.table["status"] == "FAIL") & (wrong_sign.table["probe"] == "full")).sum())
    probe_fails = int(((wrong_sign.table["status"] == "FAIL") & (wrong_sign.table["probe"] != "full")).sum())
    assert probe_fails, "the bug should fail the localization probes too"
    assert f"Failing comparisons ({full_fails})" in text
    assert text.index("Failing comparisons") < text.index("Localization probes")
    main_table = text[text.index("Failing comparisons"):text.index("Localization probes")]
    assert "upstream on step" not in main_table and "first 1 steps" not in main_table
    assert "reference | localization" not in text
    assert "<NA>" not in text and ">nan<" not in text
    assert "<script" not in text and "http" not in text


def test_totals_only_quantity_has_one_column_and_missing_steps_are_blank():
    report = harness.compare("rnn", backends=("torch.nn.RNN", "torch.nn.RNNCell"), layers=2, steps=4)
    t = report.table
    groups, index = html_parts._col_groups(t, report.cases[0])
    members = dict(groups)
    assert members["dh0"] == ["Σ"]                                  # totals only: no step columns
    assert members["h"] == ["0", "1", "2", "3"]                     # per step only: no total column
    assert members["dweight_hh"] == ["0", "1", "2", "3", "Σ"]
    backends = ["torch.nn.RNN", "torch.nn.RNNCell"]
    pos = {(b, la): i for i, (b, la) in enumerate((b, la) for b in backends for la in (0, 1))}
    values, blank, _ = html_parts._grid(t, report.cases[0],
                                        lambda d: [pos[(b, int(la))] for b, la in zip(d["backend"], d["layer"])],
                                        len(pos))
    dx0 = index[("dx", 0)]
    assert not blank[pos[("torch.nn.RNNCell", 0)], dx0] and blank[pos[("torch.nn.RNNCell", 1)], dx0]
    # The fused module cannot see per-step weight gradients: grey (NaN, not blank), total coloured.
    w0, wt = index[("dweight_hh", 0)], index[("dweight_hh", -1)]
    assert np.isnan(values[pos[("torch.nn.RNN", 0)], w0]) and not blank[pos[("torch.nn.RNN", 0)], w0]
    assert np.isfinite(values[pos[("torch.nn.RNN", 0)], wt])
    assert np.isfinite(values[pos[("torch.nn.RNNCell", 1)], w0])


def test_values_are_printed_with_enough_digits_to_differ():
    a32, b32 = float(np.float32(0.566493)), float(np.nextafter(np.float32(0.566493), np.float32(1)))
    sa, sb = pair(a32, b32)
    assert sa != sb and len(sa.lstrip("-0.")) <= 9
    a64 = 0.1 + 0.2
    sa, sb = pair(a64, 0.3)
    assert sa != sb and float(sa) == a64 and float(sb) == 0.3
    assert pair(1.5, 1.5) == ("1.5", "1.5")
    row = dict(backend="b", layer=0, step=3, quantity="h", gate="", status="FAIL", passed=False,
               max_abs_err=abs(b32 - a32), max_rel_err=1e-7, err_ratio=2.0, worst_index="(0, 1)",
               ref_value=a32, value=b32, atol=0.0, rtol=0.0, shape="(1, 2)", note="")
    page = render(Report.from_rows("digits", "probe", [row]))
    s32a, s32b = pair(a32, b32)
    assert f">{s32a}<" in page and f">{s32b}<" in page


def test_skipped_backends_are_listed_once_with_their_reason():
    from harness.summary import summarize
    report = Report.concat(harness.compare("rnn", activation="sigmoid", layers=k, steps=3) for k in (1, 2))
    skipped = report.table[report.table["status"] == "skipped"]
    assert skipped["backend"].nunique() >= 2 and skipped["case"].nunique() == 2
    reason = "offers only tanh and relu (activation=sigmoid); torch.functional covers it"
    assert skipped["note"].str.endswith(reason).all()
    text = render(report)
    assert text.count(html_parts.e(reason)) == 1
    assert summarize(report, width=0).count(reason) == 1


def test_user_strings_are_escaped():
    row = dict(backend="<b>evil</b>", layer=0, step=None, quantity="h", gate="", status="FAIL", passed=False,
               max_abs_err=1.0, max_rel_err=1.0, err_ratio=3.0, worst_index="(0,)", ref_value=0.0, value=1.0,
               atol=0.0, rtol=0.0, shape="(1,)", note="<script>alert(1)</script>")
    text = render(Report.from_rows("<img src=x onerror=alert(1)>", "<i>probe</i>", [row]))
    assert "<script>alert" not in text and "<img src=x" not in text and "<b>evil</b>" not in text
    assert "&lt;script&gt;" in text


def test_figures_added_to_a_case_are_drawn_after_its_heatmap():
    report = harness.compare("rnn", backends="torch.functional", steps=3)
    fig = plots.lines({"reference": ([0, 1, 2], [1.0, 0.5, 0.25])}, title="gradient norm")
    report.add_figure(fig, title="dh norms per step", caption="falls by half every step")
    text = render(report)
    assert text.count("<svg") == 4             # the colour scale, the heatmap, compare's gradient norms, the figure
    assert text.index("Error over tolerance by layer") < text.index("dh norms per step")
    assert "falls by half every step" in text
    with pytest.raises(harness.HarnessError):
        report.add_figure(fig, case="no such case")


def test_heatmap_colours_pass_and_fail_apart():
    ok, limit, bad = plots_grid.ratio_css([1e-9, 1.0, 2.0])
    assert len({ok, limit, bad}) == 3
    rgba = plots_grid.ratio_rgba(np.array([0.5, 2.0, np.nan]))
    assert rgba[0][0] > rgba[0][2] and rgba[1][0] > 0.85 and rgba[1][1] < 0.75   # yellowish, then red-orange
    assert np.allclose(rgba[2][:3], rgba[2][0])                                      # grey: not compared


def test_long_sequences_share_heatmap_cells_that_keep_the_worst_step():
    """Beyond MAX_STEP_COLUMNS steps a cell covers k consecutive steps and shows their worst:
    one failing step, an infinite error, grey (not compared) and blank cells all survive,
    and the total column stays its own."""
    limit, T = 10, 95
    values = np.full((3, T + 1), 0.5)
    blank = np.zeros((3, T + 1), dtype=bool)
    values[0, 37] = 4.0                                   # one failing step
    values[1, 90] = np.inf
    values[2, :T] = np.nan                                # row 2: never compared (grey) ...
    blank[2, 40:50] = True                                # ... except steps 40-49: nothing there
    values[2, T] = 0.25
    groups = [("h", [str(t) for t in range(T)] + ["Σ"]), ("dh0", ["Σ"])]
    values = np.concatenate([values, np.full((3, 1), 0.1)], axis=1)
    blank = np.concatenate([blank, np.zeros((3, 1), dtype=bool)], axis=1)
    v, b, g = html_parts._binned(values, blank, groups, limit)
    k = 10                                                # ceil(95 / 10) steps a cell
    assert g[0][0] == "h (10 steps a cell, worst)" and g[0][1][:3] == ["0", "10", "20"] and g[0][1][-1] == "Σ"
    assert len(g[0][1]) == 10 + 1 and g[1] == ("dh0", ["Σ"])
    assert v.shape == b.shape == (3, 12)
    assert v[0, 37 // k] == 4.0 and np.all(v[0, [c for c in range(10) if c != 3]] == 0.5)
    assert np.isinf(v[1, 90 // k])
    assert np.isnan(v[2, :10]).all() and b[2, 4] and not b[2, 3:10:2].any()
    assert list(v[:, 10]) == [0.5, 0.5, 0.25] and list(v[:, 11]) == [0.1] * 3
    short = [("h", ["0", "1", "Σ"])]
    same = html_parts._binned(values[:, :3], blank[:, :3], short, limit)
    assert np.array_equal(same[0], values[:, :3], equal_nan=True) and same[2] == short


def test_a_long_sequences_heatmap_draws_at_most_the_step_columns_a_page_shows(monkeypatch):
    report = harness.compare("rnn", backends=("torch.nn.RNNCell",), steps=450)
    seen = []
    real = plots_grid.error_grid
    monkeypatch.setattr(plots_grid, "error_grid", lambda values, **kw: seen.append((values, kw)) or real(values, **kw))
    assert html_parts.main_heatmap(report.table, report.cases[0])
    values, kw = seen[0]
    steps = [len([m for m in members if m != "Σ"]) for _, members in kw["col_groups"]]
    assert max(steps) <= html_parts.MAX_STEP_COLUMNS and values.shape[1] == sum(len(m) for _, m in kw["col_groups"])
    assert any("3 steps a cell" in label for label, _ in kw["col_groups"])

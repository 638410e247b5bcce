"""Figures in the reports of compare, check and train: the gradient norms over t, the loss
and difference curves; inline SVG in one offline HTML page (opened in headless Chromium
when it is installed), PNG files with --plot-dir, and the norms themselves right."""

import shutil
import subprocess

import numpy as np
import pytest

import harness
from examples.cs231n_rnn import rnn_backward, rnn_backward_seed003, rnn_forward
from harness import plots
from harness.gradnorms import from_traces, model_norms

# One worker builds this module's module-scoped fixtures once (pytest-xdist, --dist loadgroup).
pytestmark = pytest.mark.xdist_group("figures")

pytest.importorskip("torch")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _svgs(html):
    return html.count("<svg")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    from examples.seed001_rnn import fn
    folder = tmp_path_factory.mktemp("figs")
    out = {"compare": harness.compare("lstm", layers=2, steps=6, backends=("torch",)),
           "check": harness.check_backward(rnn_forward, rnn_backward_seed003, layout="cs231n"),
           "train": harness.check_training(fn, hidden_size=4, input_size=2, batch=20, head="linear", output_size=2,
                                           loss="softmax_cross_entropy", optimizer="adagrad:tf1", num_steps=5,
                                           train_steps=8, data="seed001", carry_state=True,
                                           against=("reference", "torch"))}
    paths = {name: r.to_html(folder / f"{name}.html") for name, r in out.items()}
    return out, paths


def test_every_report_page_has_its_figures_inline(reports):
    out, paths = reports
    expected = {"compare": 1, "check": 1, "train": 4}      # train: loss, difference, norms at first and last step
    for name, path in paths.items():
        html = open(path, encoding="utf-8").read()
        assert html.count("<figure class='plot'>") == expected[name], name        # besides the heatmaps' SVGs
        assert "<script" not in html and "http://" not in html and "https://" not in html
        assert "Gradient norms over t" in html


def test_png_export(reports, tmp_path):
    out, _ = reports
    paths = plots.save_pngs(out["train"], tmp_path)
    assert len(paths) == 4 and all(open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_norms_agree_between_reference_backends_and_your_code():
    """compare: the reference and torch's unrolled cell draw the same ‖dL/dh_t‖; check: a right
    backward's norms equal the reference's and a missing transpose changes them before T-1."""
    report = harness.compare("rnn", steps=7, backends=("torch.nn.RNNCell",))
    fig = report.cases[0]["figures"]
    assert [f["name"] for f in fig] == ["grad-norms"]
    from harness.backends.reference import run_reference
    from harness.probe import make_probe
    from harness.backends import torch_backend
    probe = make_probe("rnn", steps=7)
    norms = from_traces([run_reference(probe), torch_backend.run("torch.nn.RNNCell", probe)])
    ref, tor = norms["reference"][("dh_total", 0)], norms["torch.nn.RNNCell"][("dh_total", 0)]
    assert len(ref) == 7 and np.allclose(ref, tor, rtol=1e-12) and np.all(ref > 0)
    from harness.guard.check import check_probe
    from harness.guard.layouts import get_layout
    from harness.guard.runner import UserCode, run_user
    from harness.gradnorms import user_norms
    for backward, same in ((rnn_backward, True), (rnn_backward_seed003, False)):
        code = UserCode(rnn_forward, backward, get_layout("cs231n", "rnn"), "rnn")
        p = check_probe(code, make_probe("rnn", steps=5, hidden_size=6))
        yours, why = user_norms(code, p, run_user(code, p, p.dout))
        from harness.guard.oracles import reference_values
        expect = np.sqrt((reference_values(p)["dh_total"] ** 2).sum(axis=(0, 2)))
        got = yours[("dh_total", 0)]
        assert np.isclose(got[-1], expect[-1])                     # the last step has no carry
        assert np.allclose(got, expect, rtol=1e-10) == same


def test_model_norms_reference_torch_tf_agree():
    pytest.importorskip("tensorflow")
    from harness.guard.model_case import make_case
    from harness.probe import make_probe
    probe = make_probe("lstm", layers=2, steps=6, forget_bias=1.0)
    case = make_case(probe, "linear", 3, True, "softmax_cross_entropy", None, "mean")
    state0 = {s: np.asarray(v) for s, v in probe.state0.items()}
    norms = model_norms(case, state0)
    assert set(norms) == {"reference", "torch", "tf"}
    for key in [(q, k) for q in ("dh_total", "dc_total") for k in (0, 1)]:
        assert np.allclose(norms["torch"][key], norms["reference"][key], rtol=1e-10)
        assert np.allclose(norms["tf"][key], norms["reference"][key], rtol=1e-10)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_pages_open_offline_in_headless_chromium(reports, tmp_path):
    """Network blocked: every figure of every page is parsed as SVG, and the training page's
    are painted (the plots' blue lines are on the screenshot)."""
    from matplotlib.image import imread
    _, paths = reports
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND"]
    for name, path in paths.items():
        dom = subprocess.run(base + ["--dump-dom", f"file://{path}"], capture_output=True, text=True, timeout=120)
        assert dom.returncode == 0 and _svgs(dom.stdout) == _svgs(open(path, encoding="utf-8").read()), name
        if name != "train":                                   # one screenshot suffices: a launch is slow
            continue
        shot = tmp_path / f"{name}.png"
        subprocess.run(base + [f"--screenshot={shot}", "--window-size=1400,2400", f"file://{path}"],
                       capture_output=True, timeout=120, check=True)
        img = imread(shot)[..., :3]
        blue = np.all(np.abs(img - np.array([31, 119, 180]) / 255) < 0.08, axis=-1)     # matplotlib's C0
        assert blue.sum() > 50, name


def test_a_figure_that_fails_to_draw_never_stops_the_report(tmp_path):
    report = harness.compare("rnn", steps=4)
    report.cases[0]["figures"].append(plots.spec("broken", "A <broken> one", lambda: 1 / 0))
    page = open(report.to_html(tmp_path / "r.html"), encoding="utf-8").read()
    assert "A &lt;broken&gt; one: not drawn (ZeroDivisionError: division by zero)" in page
    assert page.count("<figure class='plot'>") == 1
    with pytest.warns(UserWarning, match="not drawn"):
        assert len(plots.save_pngs(report, tmp_path / "png")) == 1

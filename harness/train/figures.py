"""The pictures of a training report (drawn by harness.plots when the page or the PNGs are
written): the loss of every run, how far each oracle's run is from the subject's after
every step, and ‖dL/dh_t‖ (‖dL/dc_t‖) over the time steps of the first and the last batch."""

import dataclasses

import numpy as np

from .. import plots
from ..gradnorms import model_norms
from .report import whose


def training_figures(report, case, epochs, num_steps, carry):
    """Figure specs (harness.plots.spec) for ``report.cases[0]["figures"]``."""
    runs, subject = report.runs, report.subject
    if subject not in runs or not runs[subject].steps:
        return []
    figs = [plots.spec("loss", "Training loss", lambda: _loss_figure(runs),
                       "every run from the same weights on the same batches")]
    if len(report.steps):
        figs.append(plots.spec("difference", f"How far each run is from {whose(subject)} run",
                               lambda: _difference_figure(report),
                               "largest |difference| / tolerance after every step; above 1 they have parted"))
    sources = ["reference"] + [s for s in ("torch", "tf") if any(n.startswith(s) for n in runs)]
    run = runs[subject]
    ends = ((0, "first"), (-1, "last")) if run.steps > 1 else ((0, "first"),)
    for which, label in ends:
        x, target, state = run.batches[which]
        index = 0 if which == 0 else run.steps - 1
        at = dataclasses.replace(case, params={n: v[index] for n, v in run.params.items()}, x=x, target=target)
        caption = f"at {whose(subject)} weights before update {index + 1}, on its batch"
        caption += " and the state carried into it" if carry and index else ""
        if subject == "yours":
            caption += "; your fn returns weight gradients only, so its dL/dh_t is not drawn"
        figs.append(plots.spec(f"grad-norms-{label}", f"Gradient norms over t, {label} training step",
                               _norms_maker(at, state, sources, label), caption))
    return figs


def _norms_maker(case, state, sources, label):
    def make():
        norms = model_norms(case, state, sources)
        return plots.state_grad_norms(norms, title=f"{label} training step") if norms else None
    return make


def _loss_figure(runs):
    series = {name: (np.arange(1, r.steps + 1), r.loss) for name, r in runs.items() if r.steps}
    return plots.curves(series, title="loss before each update", xlabel="training step", ylabel="loss")


def _difference_figure(report):
    s = report.steps
    series = {}
    for backend, d in s.groupby("backend", sort=False):
        for kind, label in (("param", "weights"), ("grad", "gradients"), ("loss", "loss")):
            dk = d[d["kind"] == kind]
            if len(dk):
                per = dk.groupby("train_step")["err_ratio"].max()
                series[f"{backend}: {label}"] = (per.index.to_numpy(), per.to_numpy())
    return plots.curves(series, title=f"difference from {whose(report.subject)} run", xlabel="training step",
                        ylabel="|difference| / tolerance", logy=True, hline=(1.0, "tolerance"), floor=1e-12)

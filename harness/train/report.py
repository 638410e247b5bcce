"""The training report: a Report whose rows are whole training runs compared step by step.

Rows (``table``): one per oracle and quantity (per gate for gated weights): ``loss``, each
weight after the updates (``weight_ih``, ..., ``head.weight``) and each gradient
(``dweight_ih``, ...), with the worst error over all training steps; ``note`` says at which
step it was worst and where it first went beyond tolerance. ``steps`` is the per-step
table (backend, train_step, kind, quantity, layer, gate, max_abs_err, err_ratio) and
``runs`` the runs themselves ({side: History}: loss, gradients and weights of every step).
"""

import pandas as pd

from ..report import Report


class TrainingReport(Report):
    """A Report for check_training; ``summary()`` tells the training story."""

    def __init__(self, table, cases, steps=None, runs=None, subject="yours", timings=None):
        super().__init__(table, cases)
        self.steps = steps if steps is not None else pd.DataFrame()
        self.runs = runs or {}
        self.subject = subject
        self.timings = timings or {}

    @classmethod
    def build(cls, name, text, rows, findings, steps, runs, subject, timings):
        base = Report.from_rows(name, text, rows, findings, labels=("oracle", subject))
        return cls(base.table, base.cases, steps, runs, subject, timings)

    def verdict_text(self):
        """The verdict in words (the terminal's last line)."""
        return _verdict_line(self)

    def summary(self, width=100, verbose=0):
        t, case = self.table, self.cases[0]
        out = [f"case {case['case']}", f"  {case['probe']}"]
        for side, seconds in self.timings.items():
            run = self.runs.get(side)
            steps = f"{run.steps} steps" if run is not None else ""
            out.append(f"  {side:<32} {steps:>11} in {seconds:6.2f} s"
                       + (f", final loss {run.loss[-1]:.6g}" if run is not None and run.steps else ""))
        for backend, g in t.groupby("backend", sort=False):
            counts = g["status"].value_counts()
            if counts.get("skipped"):
                out.append(f"  {backend:<32} skipped: {g['note'].iloc[0]}")
                continue
            out.append(f"  {backend:<32} {counts.get('pass', 0):5d} passed {counts.get('FAIL', 0):5d} failed "
                       f"(loss, weights, gradients over every step)")
        out.extend(case["findings"])
        fails = t[t["status"] == "FAIL"]
        if len(fails):
            out.append("failing (oracle: quantity layer: first bad training step):")
            for r in fails.to_dict("records")[:12 if not verbose else None]:
                gate = f" gate {r['gate']}" if r["gate"] else ""
                out.append(f"  {r['backend']}: {r['quantity']}{gate} layer {r['layer']}: {r['note']}")
        out.append(_verdict_line(self))                         # the verdict last, as every summary has it
        return "\n".join(out)


def _verdict_line(report):
    verdict = report.verdict
    if verdict == "OK":
        K = max((r.steps for r in report.runs.values()), default=0)
        return (f"OK: every run agrees with {whose(report.subject)} run within tolerance at every one of {K} "
                "training steps")
    if verdict == "NOTHING COMPARED":
        return "NOTHING COMPARED: no oracle could train this model with this rule"
    bad = report.table[report.table["status"] == "FAIL"]["backend"].unique()
    return f"MISMATCH: the training trajectories differ ({', '.join(bad)})"


def first_divergence(report):
    """{oracle: (first bad training step, label of the first parameter to move)} or {}."""
    out = {}
    s = report.steps
    for backend, d in s.groupby("backend", sort=False):
        bad = d[~(d["err_ratio"] <= 1.0)]
        if bad.empty:
            continue
        k = int(bad["train_step"].min())
        params = bad[bad["kind"] == "param"]
        moved = None
        if len(params):
            kp = int(params["train_step"].min())
            at = params[params["train_step"] == kp].sort_values("err_ratio", ascending=False).iloc[0]
            moved = (kp, at["quantity"], int(at["layer"]), at["gate"])
        out[backend] = (k, moved)
    return out


def whose(subject):
    """"your" for the user's run, "the reference's" for the reference's."""
    return "your" if subject == "yours" else f"the {subject}'s"

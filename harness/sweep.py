"""Run many ``compare`` cases, one after another or in worker processes (``-j N``).

Cases are independent. With ``jobs > 1`` each case runs in a pool of ``jobs`` spawned
processes; a worker imports each framework once and keeps it for every case it gets, so
the imports are paid once per worker. Costly cases (more layers, gated cells) start first;
the reports come back in the cases' order, so the result does not depend on ``jobs``.
"""

import concurrent.futures as cf
import multiprocessing

CELL_COST = {"rnn": 1, "gru": 3, "lstm": 4}


def label(case):
    """'lstm L2 float64': what the progress bar shows for a case."""
    return f"{case.get('cell', 'rnn')} L{case.get('layers', 1)} {case.get('dtype', 'float64')}"


def _cost(case):
    return case.get("layers", 1) * CELL_COST.get(case.get("cell", "rnn"), 1)


def _run_case(case):
    from .api import compare
    return compare(**case)


def _run_case_in_worker(case):
    """A case's report as it can travel back from a worker: its figures drawn (their specs
    hold closures, which do not pickle)."""
    from .plots import rendered
    return rendered(_run_case(case))


def _init_worker(quiet_tf):
    if quiet_tf:
        from .terminal import quiet_tensorflow
        quiet_tensorflow(force=True)


def run_cases(cases, jobs=1, exitfirst=False, progress=None, quiet_tf=False):
    """Reports for ``cases`` (keyword dicts for harness.compare) in their order, and a note
    when ``exitfirst`` stopped the run after a case that is not OK (else None)."""
    if jobs <= 1 or len(cases) <= 1:
        return _serial(cases, exitfirst, progress)
    reports, stopped = {}, None
    order = sorted(range(len(cases)), key=lambda i: -_cost(cases[i]))
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=min(jobs, len(cases)), mp_context=context,
                                initializer=_init_worker, initargs=(quiet_tf,)) as pool:
        futures = {pool.submit(_run_case_in_worker, cases[i]): i for i in order}
        _say(progress, f"{len(futures)} cases on {min(jobs, len(cases))} workers")
        for future in cf.as_completed(futures):
            if future.cancelled():
                continue
            i = futures[future]
            reports[i] = future.result()
            _say(progress, label(cases[i]), 1)
            if exitfirst and not reports[i].ok and stopped is None:
                stopped = True
                for f in futures:
                    f.cancel()
    if stopped:
        stopped = f"stopped by -x after {len(reports)} of {len(cases)} cases"
    return [reports[i] for i in sorted(reports)], stopped


def _serial(cases, exitfirst, progress):
    reports = []
    for case in cases:
        _say(progress, label(case))
        reports.append(_run_case(case))
        _say(progress, label(case), 1)
        if exitfirst and not reports[-1].ok and len(reports) < len(cases):
            return reports, f"stopped by -x after {len(reports)} of {len(cases)} cases"
    return reports, None


def _say(progress, text, advance=0):
    if progress is not None:
        progress.update(text, advance)

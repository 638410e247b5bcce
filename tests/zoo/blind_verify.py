"""Self-check of the blind zoo, printing only verdict booleans and counts (never a
diagnosis): every correct module passes against the reference, finite differences and
torch in float64 and float32; every mutant is flagged against the reference; every TOUCHES
entry equals what the code computes.

    cd tests && PYTHONPATH=.. python -m zoo.blind_verify     (PYTHONPATH: this checkout's harness)
"""

import collections
import warnings

import harness

from .blind_index import MODULES, touched_gates


def verify(mod):
    """{"float64", "float32": correct code passes; "flagged": mutants not OK; "touches_match"}."""
    fwd, bwd, opts = mod.make(None)
    out = {dt: harness.check_backward(fwd, bwd, against=("reference", "numeric", "torch"), dtype=dt, **opts).ok
           for dt in ("float64", "float32")}
    out["flagged"] = sum(harness.check_backward(*mod.make(b)[:2], against=("reference",), **mod.make(b)[2]).ok
                         is False for b in mod.BUGS)
    out["touches_match"] = sum(touched_gates(mod, b) == mod.TOUCHES[b] for b in mod.BUGS)
    return out


def main():
    warnings.simplefilter("ignore")
    for name, mod in MODULES.items():
        got = verify(mod)
        print(f"{name:24s} cell={mod.make(None)[2]['cell']:4s} correct float64={got['float64']} "
              f"float32={got['float32']} mutants={len(mod.BUGS)} flagged={got['flagged']} "
              f"touches_match={got['touches_match']}")
    by_cell, by_cause = collections.Counter(), collections.Counter()
    for mod in MODULES.values():
        cell = mod.make(None)[2]["cell"]
        by_cell[cell] += len(mod.BUGS)
        by_cause.update(mod.BUGS.values())
    print("total", sum(by_cell.values()), "per cell", dict(by_cell))
    print("per cause", dict(sorted(by_cause.items())))


if __name__ == "__main__":
    main()

"""Self-check of the third held-out zoo, printing only verdict booleans and counts (never a
diagnosis): every correct module passes against the reference, finite differences and
torch in float64 and float32; every mutant is flagged against the reference; every TOUCHES
entry equals what the code computes; every forward_mistake mutant's backward is the true
gradient of its own (wrong) forward (it passes against finite differences).

    cd tests && PYTHONPATH=.. python -m zoo.held3_verify     (PYTHONPATH: this checkout's harness)
"""

import collections
import warnings

from .blind_verify import verify
from .held2_verify import forward_mistakes_consistent
from .held3_index import MODULES


def main():
    warnings.simplefilter("ignore")
    for name, mod in MODULES.items():
        got = verify(mod)
        n_forward = sum(c == "forward_mistake" for c in mod.BUGS.values())
        print(f"{name:24s} cell={mod.make(None)[2]['cell']:4s} correct float64={got['float64']} "
              f"float32={got['float32']} mutants={len(mod.BUGS)} flagged={got['flagged']} "
              f"touches_match={got['touches_match']} forward_mistakes_consistent="
              f"{forward_mistakes_consistent(mod)}/{n_forward}")
    by_cell, by_cause = collections.Counter(), collections.Counter()
    for mod in MODULES.values():
        cell = mod.make(None)[2]["cell"]
        by_cell[cell] += len(mod.BUGS)
        by_cause.update(mod.BUGS.values())
    print("total", sum(by_cell.values()), "per cell", dict(by_cell))
    print("per cause", dict(sorted(by_cause.items())))
    print("kinds used at least 3 times (unknown aside)", sum(n >= 3 for c, n in by_cause.items() if c != "unknown"))


if __name__ == "__main__":
    main()

"""Self-check of a held-out zoo, printing only verdict booleans and counts (never a
diagnosis): every correct module passes against the reference, finite differences and
torch in float64 and float32; every mutant is flagged against the reference; every TOUCHES
entry equals what the code computes; every forward mistake passes against finite
differences of its own forward (its backward is consistent with it).

    cd tests && PYTHONPATH=.. python -m zoo.verify blind|held2|...|held41   (PYTHONPATH: this checkout's harness)
"""

import collections
import sys
import warnings

import harness

from . import blind_index, held2_index, held3_index, held4_index, held5_index, held6_index, held7_index, held8_index, \
    held9_index, held10_index, held11_index, held12_index, held13_index, held14_index, held15_index, \
    held16_index, held17_index, held18_index, held19_index, held20_index, held21_index, held22_index, \
    held23_index, held24_index, held25_index, held26_index, held27_index, held28_index, held29_index, \
    held30_index, held31_index, held32_index, held33_index, held34_index, held35_index, held36_index, held37_index, \
    held38_index, held39_index, held40_index, held41_index
from .blind_index import touched_gates

ZOOS = {"blind": blind_index.MODULES, "held2": held2_index.MODULES, "held3": held3_index.MODULES,
        "held4": held4_index.MODULES, "held5": held5_index.MODULES, "held6": held6_index.MODULES,
        "held7": held7_index.MODULES, "held8": held8_index.MODULES,
        "held9": held9_index.MODULES, "held10": held10_index.MODULES, "held11": held11_index.MODULES,
        "held12": held12_index.MODULES, "held13": held13_index.MODULES,
        "held14": held14_index.MODULES, "held15": held15_index.MODULES,
        "held16": held16_index.MODULES, "held17": held17_index.MODULES,
        "held18": held18_index.MODULES, "held19": held19_index.MODULES,
        "held20": held20_index.MODULES, "held21": held21_index.MODULES,
        "held22": held22_index.MODULES, "held23": held23_index.MODULES,
        "held24": held24_index.MODULES, "held25": held25_index.MODULES,
        "held26": held26_index.MODULES, "held27": held27_index.MODULES,
        "held28": held28_index.MODULES, "held29": held29_index.MODULES,
        "held30": held30_index.MODULES, "held31": held31_index.MODULES,
        "held32": held32_index.MODULES, "held33": held33_index.MODULES,
        "held34": held34_index.MODULES, "held35": held35_index.MODULES,
        "held36": held36_index.MODULES, "held37": held37_index.MODULES,
        "held38": held38_index.MODULES, "held39": held39_index.MODULES,
        "held40": held40_index.MODULES, "held41": held41_index.MODULES}


def verify(mod):
    """{"float64", "float32": correct code passes; "flagged": mutants not OK; "touches_match"}."""
    fwd, bwd, opts = mod.make(None)
    out = {dt: harness.check_backward(fwd, bwd, against=("reference", "numeric", "torch"), dtype=dt, **opts).ok
           for dt in ("float64", "float32")}
    out["flagged"] = sum(harness.check_backward(*mod.make(b)[:2], against=("reference",), **mod.make(b)[2]).ok
                         is False for b in mod.BUGS)
    out["touches_match"] = sum(touched_gates(mod, b) == mod.TOUCHES[b] for b in mod.BUGS)
    return out


def forward_mistakes_consistent(mod):
    """How many forward_mistake mutants pass against finite differences of their own forward."""
    return sum(harness.check_backward(*mod.make(b)[:2], against=("numeric",), **mod.make(b)[2]).ok is True
               for b, cause in mod.BUGS.items() if cause == "forward_mistake")


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(ZOOS)
    warnings.simplefilter("ignore")
    for zoo in names:
        modules = ZOOS[zoo]
        for name, mod in modules.items():
            got = verify(mod)
            n_forward = sum(c == "forward_mistake" for c in mod.BUGS.values())
            print(f"{name:24s} cell={mod.make(None)[2]['cell']:4s} correct float64={got['float64']} "
                  f"float32={got['float32']} mutants={len(mod.BUGS)} flagged={got['flagged']} "
                  f"touches_match={got['touches_match']} forward_mistakes_consistent="
                  f"{forward_mistakes_consistent(mod)}/{n_forward}")
        by_cell, by_cause = collections.Counter(), collections.Counter()
        for mod in modules.values():
            by_cell[mod.make(None)[2]["cell"]] += len(mod.BUGS)
            by_cause.update(mod.BUGS.values())
        print(zoo, "total", sum(by_cell.values()), "per cell", dict(by_cell))
        print(zoo, "per cause", dict(sorted(by_cause.items())))


if __name__ == "__main__":
    main()

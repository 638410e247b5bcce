"""The diagnosis measured on a zoo: every mutant through ``check_backward(..., against=("reference",))``
at the default probe, its "likely cause" compared with the label. Prints one line per mutant
(OK: named as labelled, or "unknown cause" for a mutant labelled unknown; OK=: named as labelled
only in the "(equally: ...)" part of the line; UNK: "unknown cause"
for a labelled one; BAD: another name; MISS: not flagged) and the totals.

    cd tests && PYTHONPATH=.. python -m zoo.score held4 [--quiet]

Run it on a held-out zoo once, before the grammar is changed for it: that is the measure.
"""

import collections
import sys
import warnings

import harness
from harness.guard.diagnose import CAUSES

from . import index
from .verify import ZOOS

ZOOS = {**ZOOS, "first": index.MODULES}


def _head(line):
    rest = line[len("likely cause: "):]
    if rest.split(": ")[0].endswith("(equally"):
        return rest[:rest.index("): ") + 1]
    return rest.split(": ")[0]


def score(mod, bug):
    """("OK" | "UNK" | "BAD" | "MISS", the likely-cause lines)."""
    fwd, bwd, opts = mod.make(bug)
    report = harness.check_backward(fwd, bwd, against=("reference",), **opts)
    lines = [f for f in report.findings if f.startswith("likely cause:")]
    if report.ok is not False:
        return "MISS", lines
    unknown = any("unknown cause" in line for line in lines) or not lines
    label = mod.BUGS[bug]
    if label == "unknown":
        return ("OK" if unknown else "BAD"), lines
    if unknown:
        return "UNK", lines
    if not all(CAUSES[label] in _head(line) for line in lines):
        return "BAD", lines
    main = all(_head(line).split(" (equally: ")[0] == CAUSES[label] for line in lines)
    return ("OK" if main else "OK=", lines)          # OK=: named only in the "(equally: ...)" part


def main(argv=None):
    args = argv if argv is not None else sys.argv[1:]
    quiet = "--quiet" in args
    warnings.simplefilter("ignore")
    for zoo in [a for a in args if not a.startswith("--")] or ["held4"]:
        counts, by_label = collections.Counter(), collections.defaultdict(collections.Counter)
        for name, mod in ZOOS[zoo].items():
            for bug, label in mod.BUGS.items():
                verdict, lines = score(mod, bug)
                counts[verdict] += 1
                by_label[label]["OK" if verdict == "OK=" else verdict] += 1
                if not quiet and verdict not in ("OK", "OK="):
                    print(f"{verdict:4s} {name:26s} {bug:32s} want={label}")
                    for line in lines:
                        print("       " + line[:300])
        total, named = sum(counts.values()), counts["OK"] + counts["OK="]
        print(f"{zoo}: {named}/{total} = {100 * named / total:.1f}% named correctly "
              f"(unknown labels answered 'unknown cause' count as correct); unknown cause {counts['UNK']}, "
              f"wrong name {counts['BAD']}, not flagged {counts['MISS']}; of the named, {counts['OK=']} only as "
              "the equal of another cause (\"equally: ...\")")
        for label in sorted(by_label):
            c = by_label[label]
            print(f"   {label:28s} {c['OK']}/{sum(c.values())}")


if __name__ == "__main__":
    main()

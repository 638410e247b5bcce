"""Backends: each turns a Probe into a Trace. Frameworks are imported lazily, inside.

A backend family module provides:
    import_framework()           the framework, or BackendUnavailable with the install command
    backend_names(cell)          the backends it offers for a cell (what the family name runs)
    extra_names(cell)            optional: backends run only when asked for by name
    unsupported(name, probe)     why a backend cannot run a probe exactly, or None
    run(name, probe) -> Trace
"""

import importlib

from ..errors import BackendUnavailable, HarnessError


class BackendError(RuntimeError):
    """A framework does not behave as its backend expects (an unsupported version): a bug
    report, not a mismatch and not a user's mistake."""


FAMILIES = {"torch": ".torch_backend", "tf": ".tf_backend", "keras": ".keras_backend"}
# Extended probes (directions, lengths, projection, peepholes, clips) run through these.
SEQ_FAMILIES = {"torch": ".torch_seq", "tf": ".tf_seq", "keras": ".keras_seq"}


def family(name, probe=None):
    table = SEQ_FAMILIES if probe is not None and probe.extended else FAMILIES
    return importlib.import_module(table[name], __name__)


def _family_of(name):
    for fam in FAMILIES:
        if name == fam or name.startswith(fam + "."):
            return fam
    return None


def parse(backends):
    """Accept a tuple/list or a comma-separated string; return a list of names."""
    if isinstance(backends, str):
        backends = backends.split(",")
    names = [b.strip() for b in backends if b and b.strip()]
    if not names:
        raise HarnessError(f"backends: expected at least one of {', '.join(FAMILIES)} or 'all', got {backends!r}")
    return names


def resolve(backends, probe):
    """Expand family names and 'all' into concrete backends for ``probe``.

    Returns (runnable, skipped): runnable is a list of (name, family module); skipped a
    list of (name, reason). A backend asked for by name that cannot run raises.
    """
    runnable, skipped = [], []
    for asked in parse(backends):
        fams = list(FAMILIES) if asked == "all" else [_family_of(asked)]
        if fams == [None]:
            raise HarnessError(f"backends: unknown backend {asked!r}; expected one of "
                               f"{', '.join(FAMILIES)}, 'all', or a name such as torch.nn.RNNCell")
        for fam in fams:
            try:
                mod = family(fam, probe)
                mod.import_framework()
            except BackendUnavailable as exc:
                if asked != "all":
                    raise
                skipped.append((fam, str(exc)))
                continue
            offered = _offered(mod, probe)
            names = offered if asked in (fam, "all") else [asked]
            known = offered + list(getattr(mod, "extra_names", lambda cell: [])(probe.cell))
            if asked not in (fam, "all") and asked not in known:
                raise HarnessError(f"backends: {asked!r} is not a {fam} backend for cell {probe.cell!r}; "
                                   f"expected one of {', '.join(known)}")
            for name in names:
                reason = mod.unsupported(name, probe)
                if reason is None:
                    runnable.append((name, mod))
                elif asked == name:
                    raise HarnessError(f"backends: {reason}")
                else:
                    skipped.append((name, reason))
    return _unique(runnable), skipped


def _offered(mod, probe):
    """The backends a family offers for this probe (a sequence module may offer drivers by
    the probe's structure, such as TF1's bidirectional_dynamic_rnn)."""
    for_probe = getattr(mod, "backend_names_for", None)
    return for_probe(probe) if for_probe else mod.backend_names(probe.cell)


def _unique(pairs):
    seen, out = set(), []
    for name, mod in pairs:
        if name not in seen:
            seen.add(name)
            out.append((name, mod))
    return out

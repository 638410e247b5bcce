"""Screening the grammar's candidates on a short probe, a few array operations per user; the
textbook's replays of a probe kept for the next check on an equal probe.

A candidate's values on the 1- and 2-step probes depend on the probe and the candidate only,
never on the user's code: they are computed once per probe and candidate list, stacked per
quantity (one (E, ...) array), and every user is then screened against the stack at once, with
the very comparison ``diagnose._close`` makes one candidate at a time. A check run again, or the
next check of a test suite on the same probe (the default one), replays none of the first
screen's candidates (the few that survive it, under MIN_EDITS, are replayed on 2 steps one at a
time). Stacks over
``BUDGET`` bytes (large probes) are not built: those candidates are compared one at a time.
What is kept stays within TABLES' and REPLAYS' byte budgets; ``clear()`` drops it.
"""

import collections
import hashlib
import threading

import numpy as np

BUDGET = 64 << 20               # bytes of stacked values one table may hold (past it: one at a time)
MIN_EDITS = 64                  # shorter lists (a user's survivors of the first screen) are not stacked nor kept


class _Kept:
    """Values kept by key, least recently used dropped first, at most ``budget`` bytes in all
    (a value larger than that is returned, not kept)."""

    def __init__(self, budget):
        self.budget, self.items, self.bytes, self.lock = budget, collections.OrderedDict(), 0, threading.Lock()

    def get(self, key, build, size):
        """The value kept for ``key``, or ``build()`` kept (two threads missing at once both build,
        and the first kept stays)."""
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key][0]
        value = build()
        n = size(value)
        with self.lock:
            if n <= self.budget and key not in self.items:
                self.items[key] = (value, n)
                self.bytes += n
                while self.bytes > self.budget:
                    self.bytes -= self.items.popitem(last=False)[1][1]
        return value

    def clear(self):
        with self.lock:
            self.items.clear()
            self.bytes = 0


TABLES = _Kept(128 << 20)       # stacked candidate values, per (probe, candidate list)
REPLAYS = _Kept(64 << 20)       # the textbook's replays, per (kind, probe)


def clear():
    """Drop every kept table and replay (their memory back; later checks replay again)."""
    TABLES.clear()
    REPLAYS.clear()


def nbytes(obj, seen=None):
    """The bytes of every array reachable from ``obj`` through dicts, lists, tuples and the
    attributes of replay objects, each array (or the array it views) counted once: every step's
    cache holds the same weights."""
    seen = set() if seen is None else seen
    if isinstance(obj, np.ndarray):
        owner = obj if obj.base is None else obj.base
        if id(owner) in seen:
            return 0
        seen.add(id(owner))
        return owner.nbytes if isinstance(owner, np.ndarray) else obj.nbytes
    if isinstance(obj, dict):
        return sum(nbytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(nbytes(v, seen) for v in obj)
    if hasattr(obj, "__dataclass_fields__") or type(obj).__name__.endswith("Replay"):
        return sum(nbytes(v, seen) for k, v in vars(obj).items() if k not in ("probe", "book"))
    return 0


def within(expected, got, tol):
    """The comparison's rule, element-wise: |got - expected| <= atol + rtol |expected| (NaN and
    Inf never within). ``diagnose._close`` is this everywhere; the screen applies it to a stack."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isfinite(expected) & (np.abs(got - expected) <= tol.atol + tol.rtol * np.abs(expected))


def fitting(replay, edits, user, keys, tol, close):
    """The edits (in their order) whose values on ``replay``'s probe match ``user`` in every key
    they produce: ``close(expected, got, tol)`` (``diagnose._close``) on each, as one vectorized
    pass of ``within`` when the stacked values fit ``BUDGET``."""
    if not edits:
        return []
    table = _table(replay, edits)
    if table is None:
        return [e for e in edits if _fits(replay.values(e), user, keys, tol, close)]
    ok = table.fits(user, keys, tol)
    for i, values in table.odd.items():
        ok[i] = _fits(values, user, keys, tol, close)
    return [e for e, keep in zip(edits, ok.tolist()) if keep]


def _fits(values, user, keys, tol, close):
    return values is not None and all(close(values[q], user[q], tol) for q in keys if q in values)


class Table:
    """Every edit's values on one probe, stacked per quantity; ``odd``: the edits whose value of
    some quantity has another shape or dtype than the textbook's, or that the textbook lacks
    (``fitting`` compares them one at a time, whatever the stack says)."""

    def __init__(self, replay, edits):
        self.edits = tuple(edits)                       # held: their ids key the cache
        values = [replay.values(e) for e in edits]
        E, correct = len(edits), replay.correct
        self.ran = np.array([v is not None for v in values], dtype=bool)
        self.odd = {}
        self.stacks, self.has = {}, {}
        for q, ref in correct.items():
            ref = np.asarray(ref)
            stack, has = np.full((E, *ref.shape), np.nan, dtype=ref.dtype), np.zeros(E, dtype=bool)
            for i, v in enumerate(values):
                if v is None or q not in v or i in self.odd:
                    continue
                a = v[q]
                if not isinstance(a, np.ndarray) or a.shape != ref.shape or a.dtype != ref.dtype:
                    self.odd[i] = v
                    continue
                stack[i], has[i] = a, True
            self.stacks[q], self.has[q] = stack, has
        for i, v in enumerate(values):
            if v is not None and i not in self.odd and any(q not in correct for q in v):
                self.odd[i] = v

    def nbytes(self):
        return sum(a.nbytes for a in self.stacks.values()) + nbytes(list(self.odd.values()))

    def fits(self, user, keys, tol):
        """(E,) bools: the (non-odd) edits matching ``user`` wherever they produce a value."""
        ok = self.ran.copy()
        for q in keys:
            if q not in self.stacks:
                continue
            has = self.has[q]
            rows = np.flatnonzero(ok & has)
            if not rows.size:
                continue
            got, expected = np.asarray(user[q]), self.stacks[q][rows]
            if got.shape != expected.shape[1:]:
                ok[rows] = False
                continue
            ok[rows] = within(expected, got, tol).reshape(len(rows), -1).all(axis=1)
        return ok


def _table(replay, edits):
    """The kept table of ``edits`` on ``replay``'s probe, built if missing; None for a short list
    or past BUDGET (then compared one at a time)."""
    per_edit = sum(np.asarray(v).nbytes for v in replay.correct.values())
    if len(edits) < MIN_EDITS or per_edit * len(edits) > BUDGET:
        return None
    return TABLES.get((fingerprint(replay), tuple(map(id, edits))), lambda: Table(replay, edits), Table.nbytes)


def fingerprint(replay):
    """A digest of everything a replay's values depend on: its kind and its probe."""
    return probe_digest(replay.probe, type(replay).__name__)


def remembered(kind, probe, build):
    """``build()``, kept per (kind, probe) for the next call on an equal probe (the textbook's run
    on a probe never depends on the user's code), within REPLAYS' bytes."""
    return REPLAYS.get(probe_digest(probe, kind), build, nbytes)


def probe_digest(p, kind=""):
    """A digest of a probe (and a kind of replay): every array and setting it holds."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((kind, p.cell, p.layers, p.bias, sorted(p.options.items()), p.dtype,
                        p.structure, p.hidden, None if p.lengths is None else np.asarray(p.lengths).tolist())
                       ).encode())
    arrays = [p.x, p.dout] + [d[k] for d in (p.state0, p.params, p.dstate_n) for k in sorted(d)]
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}{a.dtype.str}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()

"""Say everything in the user's own names: which of their arrays holds each canonical weight.

Nothing is declared twice: the names come from the layout's own ``to_user``. It is called
once on canonical weights whose every element carries a unique tag (an integer, exact in
float32 too), and each element of each user array is traced back to the canonical weight,
gate block and index it came from. That tells, for any layout (built in or custom), that
cs231n's ``Wh`` is ``W_hh.T`` with the gate columns i, f, o, g, that tf_kernel's
``kernel[D:]`` is ``W_hh.T``, or that the course's ``Wf[:, :H]`` is the f block of
``W_hh``. The diagnosis then renders its textbook lines (``dprev_h = da @ W_hh``) in the
user's terms (``dprev_h = da @ Wh.T``).
"""

import ast
import re
from dataclasses import dataclass, field

import numpy as np

from ..cells import GATES
from .usercode import UserCodeError, layout_call

_BASE = {"weight_ih": 1_000_000, "weight_hh": 2_000_000, "bias_ih": 3_000_000, "bias_hh": 4_000_000}
BIASES = ("bias_ih", "bias_hh")
TEXTBOOK = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b": "bias_ih"}


@dataclass
class Names:
    """How one layout names things, for one cell and probe size."""
    cell: str
    D: int
    H: int
    where: dict = field(default_factory=dict)       # canonical name -> [(user name, region text, transposed, gates)]
    order: str = ""                                 # the user's gate order, canonical letters (packed layouts)
    letters: dict = field(default_factory=dict)     # canonical gate letter -> the user's letter
    states: dict = field(default_factory=dict)      # "h" / "c" -> the user's name of that state
    layout: str = "torch"
    held: dict = field(default_factory=dict)        # canonical name -> {user name: the user indices holding it}

    def gate(self, g):
        return self.letters.get(g, g)

    def gates(self, gs):
        return ", ".join(self.gate(g) for g in gs)

    def _places(self, canonical, gates=""):
        """Where a canonical weight lives; only the arrays holding ``gates`` when some do."""
        places = self.where.get(canonical) or []
        if gates:
            places = [p for p in places if set(p[3]) & set(gates)] or places
        return places

    def weight(self, textbook_name, gates=""):
        """The user's array(s) holding a textbook weight (its ``gates`` blocks), in words: "Wh",
        "kernel[D:]", "Wf, Wi, Wc, Wo" (with gates="o": "Wo[:, H:]")."""
        return ", ".join(self.arrays(textbook_name, gates)) or textbook_name

    def arrays(self, textbook_name, gates=""):
        """The user's arrays (with their regions) holding a textbook weight: ["Wf[:, H:]", ...]."""
        places = self._places(TEXTBOOK.get(textbook_name, textbook_name), gates)
        return list(dict.fromkeys(f"{u}{region}" for u, region, _, _ in places))

    def expression(self, textbook_name):
        """The user's expression equal to a textbook weight (G*H, K) up to gate order, or None."""
        places = self.where.get(TEXTBOOK.get(textbook_name, textbook_name))
        if not places or len({p[0] for p in places}) != 1 or len({p[2] for p in places}) != 1:
            return None
        user, region, transposed, _ = places[0]
        return f"{user}{region}{'.T' if transposed else ''}"

    def quantity(self, q, gates=""):
        """A canonical gradient in the user's names: dweight_hh -> dWh, dbias_ih -> db, dh0 -> da0
        (with ``gates``, only the arrays holding those gates' blocks when some do: dWo)."""
        if q in ("dx", "dh0", "dc0"):
            return self.state(q)
        places = self._places(q[1:], gates) if q.startswith("d") else None
        if not places:
            return q
        return ", ".join(dict.fromkeys(f"d{u}" for u, _, _, _ in places))

    def quantities(self, qs, gates=""):
        return ", ".join(dict.fromkeys(self.quantity(q, gates) for q in qs))

    def state(self, text):
        """Textbook state names in the user's: with {"h": "a"}, dprev_h -> da_prev, h0 -> a0."""
        for s, u in self.states.items():
            if u == s:
                continue
            text = re.sub(rf"\bd(prev|next)_{s}\b", rf"d{u}_\1", text)
            text = re.sub(rf"\b(prev|next)_{s}\b", rf"{u}_\1", text)
            text = re.sub(rf"\bd{s}0\b", f"d{u}0", text)
            text = re.sub(rf"\b{s}0\b", f"{u}0", text)
            text = re.sub(rf"\b{s}_(t|\()", rf"{u}_\1", text)
        return text


def infer(layout, cell, D, H, bias=True):
    """The Names of ``layout`` for ``cell`` at input size D, hidden size H. to_user is called
    twice: once with bias_hh zero (a summed bias ``b = bias_ih + bias_hh`` reads as bias_ih),
    once with bias_ih zero, so that every canonical weight decodes to the arrays holding it."""
    G = len(GATES[cell])
    names = Names(cell, D, H, layout=getattr(layout, "name", "torch"))
    names.states = {"h": "h", "c": "c", **(getattr(layout, "names", None) or {})}
    names.letters = _letters(layout, cell)
    hits, shapes = {}, {}
    for tagged in (("weight_ih", "weight_hh", "bias_ih"), ("bias_hh",))[:2 if bias else 1]:
        p = {"weight_ih": (G * H, D), "weight_hh": (G * H, H), **({"bias_ih": (G * H,), "bias_hh": (G * H,)}
                                                                   if bias else {})}
        p = {k: _tags(k, shape) if k in tagged else np.zeros(shape) for k, shape in p.items()}
        try:
            arrays = {u: np.asarray(v) for u, v in layout_call(layout, "to_user", cell, p).items()}
        except (UserCodeError, TypeError, ValueError):          # naming is a courtesy: the run itself says what
            return names                                        # is wrong with to_user
        shapes.update({u: np.shape(v) for u, v in arrays.items()})
        for uname, arr in arrays.items():
            for cname, cidx, uidx in _decode(arr) if arr.dtype.kind == "f" else ():
                if cname in tagged:
                    hits.setdefault(cname, []).append((uname, cidx, uidx))
    for cname, found in hits.items():
        for uname, _, uidx in found:
            names.held.setdefault(cname, {}).setdefault(uname, set()).add(tuple(int(i) for i in uidx))
    names.where = {c: _describe(c, found, G, H, D, names, shapes) for c, found in hits.items()}
    return names


def _letters(layout, cell):
    """Canonical letter -> the user's letter, from the layout's gate_letters (user -> canonical)."""
    declared = getattr(layout, "gate_letters", None) or {}
    if not declared and getattr(layout, "gate_order", None):
        declared = {k: v for k, v in (getattr(layout, "default_letters", {}) or {}).items()}
    return {canonical: user for user, canonical in declared.items() if canonical in GATES[cell]}


def _tags(name, shape):
    return (_BASE[name] + 1 + np.arange(int(np.prod(shape)))).reshape(shape).astype(np.float64)


def _decode(arr):
    """(canonical name, canonical flat index, user multi-index) of every tagged element."""
    flat = arr.astype(np.float64).ravel()
    for uflat in np.flatnonzero((flat >= 1_000_000) & (flat == np.round(flat))):
        v = int(flat[uflat])
        base = v // 1_000_000 * 1_000_000
        name = next((n for n, b in _BASE.items() if b == base), None)
        if name is not None:
            yield name, v - base - 1, np.unravel_index(uflat, arr.shape)


def _describe(cname, hits, G, H, D, names, shapes):
    """[(user name, region text, transposed, gates in the user's order)] for one canonical weight."""
    K = D if cname == "weight_ih" else H
    out = {}
    for uname, cflat, uidx in hits:
        row, col = (cflat // K, cflat % K) if cname not in BIASES else (cflat, 0)
        out.setdefault(uname, []).append((row, col, tuple(int(i) for i in uidx)))
    places = []
    for uname, elems in out.items():
        rows = np.array([e[0] for e in elems])
        uidx = np.array([e[2] for e in elems])
        transposed = _transposed(elems) if cname not in BIASES else False
        region = _region(uidx, shapes[uname], H, D)
        gate_axis = (uidx.shape[1] - 1) if transposed or uidx.shape[1] == 1 else 0
        if cname in BIASES:
            gate_axis = int(np.argmax(np.ptp(uidx, axis=0))) if len(uidx) > 1 else 0
        blocks = sorted({int(r) // H for r in rows}, key=lambda b: uidx[rows // H == b][:, gate_axis].min())
        gates = "".join(GATES[names.cell][b] for b in blocks) if G > 1 else ""
        places.append((uname, region, transposed, gates))
    if G > 1 and len(places) == 1 and len(places[0][3]) == G and not names.order:
        names.order = places[0][3]
    return places


def _transposed(elems):
    """Whether the canonical row index runs along the user's last axis."""
    rows = np.array([e[0] for e in elems])
    uidx = np.array([e[2] for e in elems])
    if uidx.shape[1] < 2 or len(set(rows)) < 2:
        return False
    first = uidx[rows == rows.min()]
    return bool(np.ptp(first[:, -1]) == 0 and np.ptp(first[:, 0]) > 0) or bool(
        len(set(uidx[:, 0])) == 1 and len(set(rows)) > 1)


def _region(uidx, shape, H, D):
    """The slice of the user's array the elements fill, as text: "" for the whole array,
    "[:D]", "[D:]", "[:, :H]", "[:, 0]" (a column vector's only column)."""
    texts = []
    for axis, size in enumerate(shape):
        lo, hi = int(uidx[:, axis].min()), int(uidx[:, axis].max()) + 1
        if (lo, hi) == (0, size):
            texts.append(":" if size > 1 or axis < len(shape) - 1 else "0")
        elif hi == lo + 1:
            texts.append(str(lo))
        else:
            texts.append(f"{_sym(lo, H, D)}:{'' if hi == size else _sym(hi, H, D)}")
    if texts and texts[-1] == "0" and len(shape) > 1 and shape[-1] == 1:
        pass                                                    # (H, 1): keep "[:, 0]"
    while texts and texts[-1] == ":":
        texts.pop()
    return "[" + ", ".join(texts) + "]" if texts else ""


def _sym(v, H, D):
    if v == 0:
        return ""
    for text, value in (("H", H), ("D", D)):
        if v == value:
            return text
    return str(v)


# How a value of the step before or after is read (harness.guard.mutants._neighbours).
NEIGHBOUR_INDEX = {"_prev_wrap": "t - 1", "_next_wrap": "(t + 1) % T", "_prev_clamp": "max(t - 1, 0)",
                   "_prev_one": "t - 1", "_prev_zero": "t - 1", "_prev_list": "t - 1", "_next_clamp": "min(t + 1, T - 1)", "_last": "T - 1"}


def render(line, names, cell):
    """A textbook statement in the user's terms: weights replaced by the user's expressions
    (``.T.T`` simplified), ``cache["a"]`` shown as ``a``, gate-block transposes spelled out."""
    try:
        tree = ast.parse(line)
    except SyntaxError:
        return line

    class User(ast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            return _call_in_words(node, names, cell)

        def visit_Subscript(self, node):
            self.generic_visit(node)
            if isinstance(node.value, ast.Name) and node.value.id == "cache" and isinstance(node.slice, ast.Constant):
                key = str(node.slice.value)
                for end, index in NEIGHBOUR_INDEX.items():      # f_prev_wrap -> caches[t - 1]['f']
                    if key.endswith(end):
                        return ast.parse(f"caches[{index}][{key[:-len(end)]!r}]", mode="eval").body
                return ast.Name(key, ast.Load())
            return node

        def visit_Name(self, node):
            expr = names.expression(node.id) if node.id in ("W_ih", "W_hh") else None
            return ast.parse(expr, mode="eval").body if expr else node

        def visit_Attribute(self, node):
            self.generic_visit(node)
            return _untranspose(node)

        def visit_IfExp(self, node):                # a mistake of one GRU reset convention: its own branch
            self.generic_visit(node)
            if "reset_after" in ast.unparse(node.test):      # (mistaken if [not] reset_after else right)
                return node.body
            return node
    text = ast.unparse(User().visit(tree))
    return names.state(text)


def _call_in_words(node, names, cell):
    """A helper call of a planted mistake (_blockswap, _gatezero, _clipnorm ...) in words."""
    if isinstance(node.func, ast.Name) and node.func.id == "_blockT" and cell == "rnn":
        return _untranspose(ast.Attribute(node.args[0], "T", ast.Load()))
    fn = node.func.id if isinstance(node.func, ast.Name) else ""
    if fn == "_blockswap":                                  # W with f's block as i's (negated)
        k, j = (GATES[cell][a.value] for a in node.args[1:3])
        minus = "minus_" if len(node.args) > 4 and ast.unparse(node.args[4]) == "-1" else ""
        w = ast.unparse(node.args[0])
        return ast.Name(f"{w}_with_{minus}{names.gate(j)}_block_as_{names.gate(k)}", ast.Load())
    if fn == "_blocks_swapped":                             # W with its g and o blocks swapped
        j, k = (names.gate(GATES[cell][a.value]) for a in node.args[1:3])
        return ast.Name(f"{ast.unparse(node.args[0])}_with_{j}_{k}_blocks_swapped", ast.Load())
    if fn in ("_gatezero", "_gateneg"):                     # da without its f block, with it negated
        gate = names.gate(GATES[cell][node.args[1].value])
        how = "without" if fn == "_gatezero" else "with_minus"
        return ast.Name(f"{ast.unparse(node.args[0])}_{how}_{gate}", ast.Load())
    if fn == "_clipnorm":                                   # TF's name for it
        axis = ", axes=[1]" if ast.unparse(node.args[2]) == "True" else ""
        return ast.parse(f"clip_by_norm({ast.unparse(node.args[0])}, {ast.unparse(node.args[1])}{axis})",
                         mode="eval").body
    if fn == "_blockpick":                                  # da_h with its n block from da_x
        gate = names.gate(GATES[cell][node.args[2].value])
        a, b = (ast.unparse(x) for x in node.args[:2])
        b = b if b.isidentifier() else f"({b})"
        inner = re.fullmatch(rf"(.+)_with_(\w+?)_blocks?_from_{re.escape(b)}", a)
        if inner:                                           # two blocks from the same array
            return ast.Name(f"{inner[1]}_with_{inner[2]}_{gate}_blocks_from_{b}", ast.Load())
        return ast.Name(f"{a}_with_{gate}_block_from_{b}", ast.Load())
    return node


def _untranspose(node):
    """x.T.T -> x."""
    if node.attr == "T" and isinstance(node.value, ast.Attribute) and node.value.attr == "T":
        return node.value.value
    return node

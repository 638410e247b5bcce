"""Replay the grammar's mistakes: the textbook cell with one mistake planted, run on a probe.

A ``Textbook`` holds one cell's textbook module (reference_impls/{rnn,lstm,gru}.py) and its
``step_forward``, ``forward``, ``step_backward`` and ``backward`` as syntax trees.
``functions(edit)`` compiles them with the edit's statements swapped in (cached: the same
edit compiles once per process), in a namespace of the module's own globals plus a few
helpers a mistake may call; ``forward`` runs the (possibly mistaken) forward and adds to each
step's cache the neighbouring steps' inputs (what a mistake taking x at the wrong time
reads); ``run`` feeds the caches to the backward and returns canonical values (dx, dh0,
[dc0], dweight_ih, ...), or None when the mistake does not even run on the probe (a
transposed (4H, H) weight, say).
"""

import ast
import contextlib
import copy
import inspect
import textwrap
import types
import warnings

import numpy as np

from reference_impls import _act, gru, lstm, rnn

from . import grammar

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}
QUANTITIES = ("dx", "dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


class _Quiet:
    depth = 0                                   # how many quiet() blocks are open


@contextlib.contextmanager
def quiet():
    """numpy's floating-point errors and Python's warnings silenced while mistakes are replayed
    (they overflow and divide by zero by design): set once around a batch of replays, each
    replay inside it costing nothing more."""
    if _Quiet.depth:
        yield
        return
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _Quiet.depth += 1
        try:
            yield
        finally:
            _Quiet.depth -= 1


def _block(arr, k, axis, G):
    """The index of gate block k of the G blocks along ``axis``."""
    size = arr.shape[axis] // G
    index = [slice(None)] * arr.ndim
    index[axis] = slice(k * size, (k + 1) * size)
    return tuple(index)


def _blockT(W, k=None):
    """W (G*K, K) with its (K, K) gate blocks transposed: all of them, or block k only."""
    rows, cols = W.shape
    if rows % cols:
        raise ValueError("blocks are not square")
    out = np.array(W, copy=True)
    for j in range(rows // cols) if k is None else (k,):
        out[j * cols:(j + 1) * cols] = W[j * cols:(j + 1) * cols].T
    return out


def _gatescale(arr, k, axis, G, factor):
    """``arr`` with gate block k of its G blocks along ``axis`` multiplied by ``factor``."""
    out = np.array(arr, copy=True)
    out[_block(out, k, axis, G)] *= factor
    return out


def _gatezero(arr, k, axis, G):
    """``arr`` with gate block k left out (zero): one gate's term missing from a sum over the gates."""
    return _gatescale(arr, k, axis, G, 0)


def _gateneg(arr, k, axis, G):
    """``arr`` with gate block k negated: one gate's term subtracted in a sum over the gates."""
    return _gatescale(arr, k, axis, G, -1)


def _blockpick(a, b, k, axis, G):
    """``a`` with its gate block k (of G along ``axis``) taken from ``b``: a mistake made in one
    gate's line only, where user code writes one line per gate."""
    out = np.array(a, copy=True)
    index = _block(out, k, axis, G)
    out[index] = np.asarray(b)[index]
    return out


def _ones_column(part, d, bias, at):
    """``part`` = d K (N, w) read one column off in the gradient of an input concatenated with
    a ones column (the bias folded into the kernel): the ones column's gradient d b in ``at``
    "front" (the part's last column out) or "back" (its first out). (No bias: b is None, and
    this fails to run, as it should: there is no such column.)"""
    col = d @ np.asarray(bias)[:, None]
    return np.concatenate([col, part[:, :-1]], axis=1) if at == "front" else np.concatenate([part[:, 1:], col], axis=1)


def _blockswap(W, k, j, G, sign=1):
    """``W`` (G*H, K) with gate block k replaced by block j (gate j's weights used for gate k),
    negated with ``sign=-1`` (a layout storing one of the two gates' weights negated)."""
    out = np.array(W, copy=True)
    out[_block(out, k, 0, G)] = sign * np.asarray(W)[_block(out, j, 0, G)]
    return out


def _blocks_swapped(W, j, k, G, sign=1):
    """``W`` with its gate blocks j and k (of G along axis 0) in each other's places (both
    negated with ``sign=-1``: a swap made in a layout that stores one of them negated)."""
    out = np.array(W, copy=True)
    out[_block(out, j, 0, G)], out[_block(out, k, 0, G)] = sign * np.asarray(W)[_block(out, k, 0, G)], \
        sign * np.asarray(W)[_block(out, j, 0, G)]
    return out


def _dx_total(steps, W, key):
    """dx of every step computed after the loop with ``W`` (a weight's whole gradient, by mistake)."""
    return np.stack([step[key] @ W for step in steps], axis=1)


def hardtanh(a):
    return np.clip(a, -1.0, 1.0)


def hard_sigmoid(a):
    """Keras 2's hard sigmoid: clip(0.2 a + 0.5, 0, 1)."""
    return np.clip(0.2 * a + 0.5, 0.0, 1.0)


def hard_sigmoid_k3(a):
    """Keras 3's hard sigmoid: relu6(a + 3) / 6."""
    return np.clip(a + 3.0, 0.0, 6.0) / 6.0


def dhardtanh(y):
    """hardtanh'(a) from its output: 1 inside (-1, 1)."""
    return (np.abs(y) < 1).astype(y.dtype)


# The step's values a backward may read from the step before, as ``caches[t - 1][v]`` does (at
# t = 0, Python's index -1 gives the last step's).
WRAPPED = ("next_h", "i", "g", "o", "tanh_c", "r", "n")


def _neighbours(caches):
    """Each step's cache with the inputs of the steps around it, as a mistake may take them:
    x_prev / x_next zero beyond the sequence, _wrap as Python's x[t - 1] at t = 0 does,
    _clamp keeping the step's own at the ends."""
    T = len(caches)
    for t, cache in enumerate(caches):
        x = cache["x"]
        cache.update(x_prev=caches[t - 1]["x"] if t else np.zeros_like(x), x_prev_wrap=caches[t - 1]["x"],
                     x_prev_clamp=caches[max(t - 1, 0)]["x"],
                     x_next=caches[t + 1]["x"] if t + 1 < T else np.zeros_like(x),
                     x_next_wrap=caches[(t + 1) % T]["x"], x_next_clamp=caches[min(t + 1, T - 1)]["x"],
                     x_last=caches[T - 1]["x"])
        for g in ("f", "z"):                            # the gate the carry goes through (LSTM's f, GRU's z)
            if g in cache:
                cache.update({f"{g}_prev_wrap": caches[t - 1][g], f"{g}_next_wrap": caches[(t + 1) % T][g],
                              f"{g}_prev_clamp": caches[max(t - 1, 0)][g], f"{g}_next_clamp": caches[min(t + 1, T - 1)][g],
                              f"{g}_prev_one": caches[t - 1][g] if t else np.ones_like(cache[g])})
        for v in WRAPPED:                               # caches[t - 1][v]: the last step's at t = 0
            if v in cache:                              # (or zero there: `... if t > 0 else np.zeros_like(v)`)
                cache[f"{v}_prev_wrap"] = caches[t - 1][v]
                cache[f"{v}_prev_zero"] = caches[t - 1][v] if t else np.zeros_like(cache[v])
        cache.update({f"prev_h{w}": caches[k]["prev_h"] for w, k in (
            ("_prev_wrap", t - 1), ("_next_wrap", (t + 1) % T), ("_prev_clamp", max(t - 1, 0)),
            ("_next_clamp", min(t + 1, T - 1)))})
        cache["h_prev_wrap"] = caches[t - 1]["next_h"]     # h_(t-1) as caches[t - 1]'s h (shown so)
        for s, new in (("prev_h", "next_h"), ("prev_c", "next_c")):   # a states list with the initial state first
            if s in cache:                              # read at t - 1: the state before the step before; at
                cache[f"{s}_prev_list"] = caches[t - 1][s] if t else caches[T - 1][new]   # t = 0 the final one
        cache["next_h_next_clamp"] = caches[min(t + 1, T - 1)]["next_h"]
        cache["next_h_last"] = caches[T - 1]["next_h"]     # one h array updated in place: the last step's
        if "r" in cache:                                # the GRU's r h_(t-1) in one out= buffer: the last step's
            cache["rh_last"] = caches[T - 1]["r"] * caches[T - 1]["prev_h"]
    return caches


def _clipnorm(g, c, rows):
    """``g`` rescaled to a norm of at most c: each row (one example's) or the whole array."""
    norm = np.linalg.norm(g, axis=1, keepdims=True) if rows else np.linalg.norm(g)
    return g * np.minimum(1.0, c / np.maximum(norm, 1e-300))


def _gscale(step, c):
    """The factor clip_by_global_norm applies to one step's weight and bias gradients."""
    norm = np.sqrt(sum(np.sum(np.square(v)) for k, v in step.items() if k.startswith(("dW_", "db"))))
    return min(1.0, c / max(norm, 1e-300))


def _gclip(arrays, c):
    """``arrays`` rescaled together to a global norm of at most c (clip_by_global_norm)."""
    norm = np.sqrt(sum(np.sum(np.square(a)) for a in arrays))
    scale = min(1.0, c / max(norm, 1e-300))
    return tuple(a * scale for a in arrays)


HELPERS = {"np": np, "_gclip": _gclip, "_blockT": _blockT, "_gatezero": _gatezero, "_gateneg": _gateneg, "_blockpick": _blockpick, "_ones_column": _ones_column, "_blockswap": _blockswap, "_blocks_swapped": _blocks_swapped,
           "_dx_total": _dx_total, "_clipnorm": _clipnorm, "_gscale": _gscale,
           "dtanh": _act.dtanh, "dsigmoid": _act.dsigmoid, "drelu": _act.drelu, "didentity": _act.didentity,
           "sigmoid": _act.sigmoid, "hardtanh": hardtanh, "dhardtanh": dhardtanh, "hard_sigmoid": hard_sigmoid,
           "hard_sigmoid_k3": hard_sigmoid_k3}
FUNCTIONS = ("step_forward", "forward", "step_backward", "backward")


def _tree(fn):
    return ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]


def _apply(fn_tree, replacements):
    """``fn_tree`` with statement k (grammar.statements order) replaced by replacements[k]: the
    function and the blocks holding a replaced statement are new, every other node is shared
    (compiling reads a tree, it does not change it)."""
    stmts = grammar.statements(fn_tree)
    swap = {id(stmts[k]): new for k, new in replacements.items()}

    def rebuild(node):
        if id(node) in swap:
            return swap[id(node)]
        if not isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.If)):
            return node
        new = copy.copy(node)
        new.body = [rebuild(s) for s in node.body]
        if hasattr(node, "orelse"):
            new.orelse = [rebuild(s) for s in node.orelse]
        return new
    return rebuild(fn_tree)


class Textbook:
    """One cell's textbook code, as trees to plant mistakes into and functions to run."""

    _compiled = {}                                              # (cell, edit key) -> {function name: function}

    def __init__(self, cell):
        self.cell = cell
        self.module = MODULES[cell]
        self.trees = {name: _tree(getattr(self.module, name)) for name in FUNCTIONS}
        self._lines = {}                                        # activation -> the line edits

    def edits(self, sizes, has_bias, activation=None):
        """Every mistake of the grammar for this cell on a probe of ``sizes`` (the line edits are
        generated once per activation; only the reductions depend on the sizes)."""
        if activation not in self._lines:
            steps = grammar.step_edits(self.cell, self.trees["step_backward"], activation,
                                       getattr(self.module, "LINE_GATES", {}))
            self._lines[activation] = (steps
                                       + list(grammar.loop_only_variants(self.cell, self.trees["backward"], steps))
                                       + grammar.driver_edits(self.cell, self.trees["backward"])
                                       + list(grammar.running_total_edits(self.cell, self.trees["step_backward"],
                                                                          self.trees["backward"]))
                                       + list(grammar.outside_derivative_edits(self.cell, self.trees["step_backward"],
                                                                               self.trees["backward"], steps))
                                       + list(grammar.stored_one_slot_early(self.cell, self.trees["step_backward"],
                                                                            self.trees["backward"]))
                                       + list(grammar.forward_edits(self.cell, self.trees["step_forward"],
                                                                    self.trees["step_backward"]))
                                       + grammar.forward_line_edits(self.cell, self.trees["step_forward"])
                                       + list(grammar.forward_driver_edits(self.cell, self.trees["forward"]))
                                       + list(grammar.bias_outside_activation(self.cell, self.trees["step_forward"])))
        return (self._lines[activation] + grammar.output_edits(self.cell, sizes, has_bias)
                + list(grammar.returned_block_swaps(self.cell, has_bias)))

    def functions(self, edit):
        """{name: function} of the four with ``edit`` planted (the textbook's own when None)."""
        parts = {} if edit is None else edit.parts()
        key = (self.cell, tuple((t, tuple(sorted(r))) for t, r in parts.items()),
               None if not parts else (edit.cause, edit.says, edit.after))
        if key not in self._compiled:
            namespace = {**vars(self.module), **HELPERS, "_textbook_step": self.module.step_backward}
            for name, tree in self.trees.items():
                if name in parts:                               # only what the mistake changes is compiled
                    code = compile(ast.Module([_apply(tree, parts[name])], []), f"<{self.cell} {name} with a mistake>",
                                   "exec")
                    exec(code, namespace)                       # noqa: S102 - our own textbook, rewritten
                else:                                           # the textbook's own, calling the others by name here
                    original = getattr(self.module, name)
                    namespace[name] = types.FunctionType(original.__code__, namespace, name, original.__defaults__,
                                                         original.__closure__)
                    namespace[name].__kwdefaults__ = original.__kwdefaults__
            self._compiled[key] = {name: namespace[name] for name in FUNCTIONS}
        return self._compiled[key]

    def forward(self, x, state0, params, options, edit=None):
        """Textbook forward (with ``edit`` planted when it touches the forward): (states {"h"[, "c"]},
        caches, each with the neighbouring steps' inputs), or (None, None) if it fails to run."""
        forward = self.functions(edit if edit is not None and edit.touches_forward() else None)["forward"]
        try:
            with quiet():
                if self.cell == "lstm":
                    h, c, caches = forward(x, state0["h"], state0["c"], params, **options)
                    return {"h": h, "c": c}, _neighbours(caches)
                h, caches = forward(x, state0["h"], params, **options)
        except Exception:                                       # a mistake that does not even run here
            return None, None
        return {"h": h}, _neighbours(caches)

    def run(self, edit, caches, dh, dc_n=None):
        """Canonical gradients of the backward with ``edit`` planted, or None if it fails to run."""
        backward = self.functions(edit)["backward"]
        try:
            with quiet():
                grads = backward(dh, caches, dc_n=dc_n) if self.cell == "lstm" else backward(dh, caches)
        except Exception:                                       # a mistake that does not even run here
            return None
        out = {q: grads[q] for q in QUANTITIES if q in grads}
        return scaled(out, edit) if edit is not None and edit.target == "output" else out


def scaled(values, edit):
    """``values`` with an output edit applied: gradients divided (whole, or some gates' blocks of
    rows), or two gate blocks of some gradients swapped (returned in each other's places), or
    some returned as zeros (never computed)."""
    if "zero" in edit.tree:
        return {**values, **{q: np.zeros_like(values[q]) for q in edit.tree["zero"] if q in values}}
    if "swap" in edit.tree:
        keys, (j, k), G, *sign = edit.tree["swap"]
        return {**values, **{q: _blocks_swapped(values[q], j, k, G, *sign) for q in keys if q in values}}
    keys, n, block, *kept = edit.tree["scale"]
    kept = kept[0] if kept else {}                      # {gradient: (block, G)} left as it is
    out = dict(values)
    for k in keys:
        if k in out:
            v = np.array(out[k], copy=True)
            if block is None:
                v /= n
            else:                                       # one gate's block, or several (k, ...)
                size = v.shape[0] // block[1]
                for b in np.atleast_1d(block[0]):
                    v[b * size:(b + 1) * size] /= n
            if k in kept:
                b, G = kept[k]
                size = v.shape[0] // G
                v[b * size:(b + 1) * size] = out[k][b * size:(b + 1) * size]
            out[k] = v
    return out

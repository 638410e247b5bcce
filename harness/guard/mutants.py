"""Replay the grammar's mistakes: the textbook cell with one mistake planted, run on a probe.

A ``Textbook`` holds one cell's textbook module (reference_impls/{rnn,lstm,gru}.py) and its
``step_backward`` and ``backward`` as syntax trees. ``mutant(edit)`` compiles the two
functions with the edit applied (cached: the same edit compiles once per process), in a
namespace of the module's own globals plus a few helpers a mistake may call; ``run`` feeds
them the forward caches of the probe and returns canonical values (dx, dh0, [dc0],
dweight_ih, ...), or None when the mistake does not even run on the probe (a transposed
(4H, H) weight, say).
"""

import ast
import copy
import inspect
import textwrap
import warnings

import numpy as np

from reference_impls import _act, gru, lstm, rnn

from . import grammar

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru}
QUANTITIES = ("dx", "dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


def _blockT(W, k=None):
    """W (G*K, K) with its (K, K) gate blocks transposed: all of them, or block k only."""
    rows, cols = W.shape
    if rows % cols:
        raise ValueError("blocks are not square")
    blocks = np.split(W, rows // cols, axis=0)
    return np.concatenate([b.T if k is None or j == k else b for j, b in enumerate(blocks)], axis=0)


def _gatezero(arr, k, axis, G):
    """``arr`` with gate block k of its G blocks along ``axis`` set to zero."""
    blocks = np.split(np.array(arr, copy=True), G, axis=axis)
    blocks[k][...] = 0
    return np.concatenate(blocks, axis=axis)


def _shifted(caches, t, name, d):
    """Step t's cache with ``name`` taken from step t+d (zeros beyond the sequence)."""
    out = dict(caches[t])
    out[name] = caches[t + d][name] if 0 <= t + d < len(caches) else np.zeros_like(caches[t][name])
    return out


HELPERS = {"np": np, "_blockT": _blockT, "_gatezero": _gatezero, "_shifted": _shifted, "dtanh": _act.dtanh, "dsigmoid": _act.dsigmoid,
           "drelu": _act.drelu, "didentity": _act.didentity, "sigmoid": _act.sigmoid}


def _tree(fn):
    return ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]


def _apply(fn_tree, replacements):
    """A copy of ``fn_tree`` with statement k (grammar.statements order) replaced by replacements[k]."""
    tree = copy.deepcopy(fn_tree)
    stmts = grammar.statements(tree)
    swap = {id(stmts[k]): copy.deepcopy(new) for k, new in replacements.items()}

    class Swap(ast.NodeTransformer):
        def generic_visit(self, node):
            for field, value in ast.iter_fields(node):
                if isinstance(value, list):
                    setattr(node, field, [swap.get(id(v), v) for v in value])
            return super().generic_visit(node)
    return ast.fix_missing_locations(Swap().visit(tree))


class Textbook:
    """One cell's textbook code, as trees to plant mistakes into and functions to run."""

    _compiled = {}                                              # (cell, edit key) -> (step_backward, backward)

    def __init__(self, cell):
        self.cell = cell
        self.module = MODULES[cell]
        self.trees = {"step_backward": _tree(self.module.step_backward), "backward": _tree(self.module.backward)}
        self._lines = {}                                        # activation -> the line edits

    def edits(self, sizes, has_bias, activation=None):
        """Every mistake of the grammar for this cell on a probe of ``sizes`` (the line edits are
        generated once per activation; only the reductions depend on the sizes)."""
        if activation not in self._lines:
            self._lines[activation] = (grammar.step_edits(self.cell, self.trees["step_backward"], activation,
                                                          getattr(self.module, "LINE_GATES", {}))
                                       + grammar.driver_edits(self.cell, self.trees["backward"]))
        return self._lines[activation] + grammar.output_edits(self.cell, sizes, has_bias)

    def functions(self, edit):
        """(step_backward, backward) with ``edit`` planted (the textbook's own when None or an output edit)."""
        key = (self.cell, None if edit is None or edit.target == "output" else (edit.target, edit.index, edit.after,
                                                                               edit.cause, edit.says))
        if key not in self._compiled:
            namespace = {**vars(self.module), **HELPERS}
            for name, tree in self.trees.items():
                if edit is not None and edit.target == name:
                    tree = _apply(tree, edit.tree)
                code = compile(ast.Module([tree], []), f"<{self.cell} {name} with a mistake>", "exec")
                exec(code, namespace)                           # noqa: S102 - our own textbook, rewritten
            self._compiled[key] = (namespace["step_backward"], namespace["backward"])
        return self._compiled[key]

    def forward(self, x, state0, params, options):
        """Textbook forward: (states {"h"[, "c"]}, caches)."""
        if self.cell == "lstm":
            h, c, caches = self.module.forward(x, state0["h"], state0["c"], params, **options)
            return {"h": h, "c": c}, caches
        h, caches = self.module.forward(x, state0["h"], params, **options)
        return {"h": h}, caches

    def run(self, edit, caches, dh, dc_n=None):
        """Canonical gradients of the backward with ``edit`` planted, or None if it fails to run."""
        _, backward = self.functions(edit)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                grads = backward(dh, caches, dc_n=dc_n) if self.cell == "lstm" else backward(dh, caches)
        except (ValueError, IndexError, KeyError, TypeError, ZeroDivisionError, FloatingPointError):
            return None
        out = {q: grads[q] for q in QUANTITIES if q in grads}
        if edit is not None and edit.target == "output":
            keys, n = edit.tree["scale"]
            out.update({k: out[k] / n for k in keys if k in out})
        return out

"""What the rules need to know about the function being mutated, and how an Edit is made."""

import ast

from .ast_tools import _expr, _src, _target_name, statements
from .tables import CELLS, COST, DERIVATIVES, Edit

class _Context:
    """What the rules need to know about the function being mutated."""

    def __init__(self, cell, target, fn_tree, activation=None, line_gates=None):
        self.cell, self.target, self.table = cell, target, CELLS[cell]
        self.line_gates = line_gates or {}
        self.stmts = statements(fn_tree)
        self.derivs = dict(DERIVATIVES)
        if activation:                                      # the RNN calls its derivative `dact`
            self.derivs["dact"] = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu",
                                   "identity": "identity"}[activation]
        self.defined = []                                   # names assigned so far, statement by statement
        self.cached = set()                                 # names read out of the cache (the forward's values)
        seen = set()
        for s in self.stmts:
            self.defined.append(set(seen))
            if isinstance(s, (ast.Assign, ast.AugAssign)):
                for t in (s.targets if isinstance(s, ast.Assign) else [s.target]):
                    names = {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
                    seen |= names
                    if "cache[" in _src(s.value):
                        self.cached |= names
        args = fn_tree.args.args if isinstance(fn_tree, ast.FunctionDef) else []
        self.locals = seen | {a.arg for a in args}          # the function's arguments are locals too

    def ref(self, name):
        """``name`` as an expression in the function: the local, or the cache's entry (an
        expression such as ``np.tanh(prev_c)`` as it stands)."""
        if not name.isidentifier():
            return _expr(name)
        return ast.Name(name, ast.Load()) if name in self.locals else _expr(f"cache[{name!r}]")

    def deriv_of(self, call):
        return "d" + self.derivs[call.func.id] if call.func.id == "dact" else call.func.id


def _edit(ctx, index, cause, stmt, new, says, carry="", cost=None, extra=None, gates=None, more=None, also="",
          family=""):
    tree = {index: new}
    tree.update(extra or {})
    line = _target_name(stmt)
    return Edit(ctx.target, index, cause, _src(stmt), _src(new), says, line, carry,
                COST[cause] if cost is None else cost, ctx.line_gates.get(line, "") if gates is None else gates, tree,
                more=more or {}, also=also, family=family)


def _value(stmt):
    return stmt.value if isinstance(stmt, (ast.Assign, ast.AugAssign)) else None


def _mutable(stmt):
    """Statements the rules change: assignments of computed values (not unpacking the cache)."""
    if not isinstance(stmt, (ast.Assign, ast.AugAssign)):
        return False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if any(isinstance(t, ast.Tuple) for t in targets):
        return False
    value = _src(stmt.value)
    return "cache[" not in value and not value.startswith(("np.zeros", "np.split", "[None]"))


def _step_call(drive):
    """(index, statement) of the driver's ``step = step_backward(...)`` line, or None."""
    return next(((j, s) for j, s in enumerate(drive.stmts) if isinstance(s, ast.Assign)
                 and _src(s.value).startswith("step_backward(")), None)

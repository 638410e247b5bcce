"""Mistakes in the forward that the backward follows consistently: a gate's or a state's
activation swapped for another (sigmoid for the candidate's tanh, h = o * c without tanh, a
hard tanh), and the forget gate recomputed in the backward without TF's forget_bias.

A forward mistake with a consistent backward passes finite differences of the user's own
forward; only an oracle with its own forward (the reference, a framework) sees it, and only
the forward's values tell it apart. Each edit changes ``step_forward`` and the matching
derivative in ``step_backward`` together.
"""

import ast

from .ast_tools import _expr, _src, _target_name, _replace
from .context import _Context, _edit, _value
from .tables import COST

# activation in the forward (as called) -> the derivative from its output (as the textbook calls it)
ACTIVATIONS = {"sigmoid": "dsigmoid", "np.tanh": "dtanh", "hardtanh": "dhardtanh", "": "didentity"}
WORDS = {"sigmoid": "sigmoid", "np.tanh": "tanh", "hardtanh": "a hard tanh (clip to [-1, 1])", "": "no activation"}


def forward_edits(cell, forward_tree, backward_tree):
    """Every consistent forward activation swap of the cell, and the LSTM's forget gate without
    its offset in the backward."""
    fwd = _Context(cell, "step_forward", forward_tree)
    bwd = _Context(cell, "step_backward", backward_tree)
    if cell == "rnn":
        yield from _rnn_activation(fwd)
        return
    for i, stmt in enumerate(fwd.stmts):
        call = _activation_call(stmt)
        if call is None:
            continue
        name, current = _target_name(stmt), _src(call.func)
        uses = _derivative_uses(bwd, name)
        if not uses:
            continue
        for other, deriv in ACTIVATIONS.items():
            if other == current:
                continue
            new_value = _expr(f"{other}({_src(call.args[0])})") if other else call.args[0]
            new = _replace(stmt, call, new_value)
            more = {"step_backward": {j: _replace(line, node, _expr(f"{deriv}({_src(node.args[0])})"))
                                      for j, (line, node) in uses.items()}}
            yield _edit(fwd, i, "forward_mistake", stmt, new,
                        f"the forward computes {name} with {WORDS[other]} where {WORDS[current]} belongs "
                        f"({_src(stmt)} written {_src(new)}), and the backward follows it",
                        cost=COST["forward_mistake"], gates=name if name in "ifgorzn" and len(name) == 1 else "",
                        more=more)
    if cell == "lstm":
        yield from _forget_gate_without_offset(bwd)


def _activation_call(stmt):
    value = _value(stmt)
    if isinstance(stmt, ast.Assign) and isinstance(value, ast.Call) and _src(value.func) in ACTIVATIONS \
            and len(value.args) == 1:
        return value
    return None


def _derivative_uses(bwd, name):
    """{statement index: (statement, the derivative call on ``name``)} in step_backward."""
    out = {}
    for j, stmt in enumerate(bwd.stmts):
        value = _value(stmt)
        if value is None:
            continue
        for node in ast.walk(value):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACTIVATIONS.values() \
                    and len(node.args) == 1 and _src(node.args[0]) == name:
                out[j] = (stmt, node)
    return out


def _rnn_activation(fwd):
    """The RNN picks its activation and derivative together (``act, dact = ACTIVATIONS[...]``):
    a hard tanh in their place is one consistent forward mistake (the others are the declared
    activations, tried by the diagnosis as options)."""
    for i, stmt in enumerate(fwd.stmts):
        if isinstance(stmt, ast.Assign) and _src(stmt.value).startswith("ACTIVATIONS["):
            new = _replace(stmt, stmt.value, _expr("(hardtanh, dhardtanh)"))
            yield _edit(fwd, i, "forward_mistake", stmt, new,
                        "the forward uses a hard tanh (clip to [-1, 1]) where the declared activation belongs, and "
                        "the backward follows it")


def _forget_gate_without_offset(bwd):
    """The backward recomputes f from its pre-activation and forgets TF's forget_bias there."""
    reads = {}
    for j, stmt in enumerate(bwd.stmts):
        value = _value(stmt)
        if value is None or isinstance(getattr(stmt, "targets", [None])[0], ast.Tuple):
            continue
        nodes = [n for n in ast.walk(value) if isinstance(n, ast.Name) and n.id == "f"]
        if nodes:
            new = stmt
            for _ in nodes:
                node = next(n for n in ast.walk(_value(new)) if isinstance(n, ast.Name) and n.id == "f")
                new = _replace(new, node, _expr("sigmoid(cache['a_f'] - cache['forget_bias'])"))
            reads[j] = new
    if reads:
        first = min(reads)
        yield _edit(bwd, first, "forget_bias", bwd.stmts[first], reads[first],
                    "the backward recomputes f from its pre-activation without forget_bias (the forward adds it)",
                    extra=reads, gates="f")

"""When no single mistake reproduces the user's numbers: say where the mistake lives anyway.

From the localization (harness.guard.localize): the shortest sequence that goes wrong and,
for gated cells, which gate blocks are wrong there; then the textbook lines that compute
those gates' gradients, in the user's names, as the place to look.
"""

import ast
import inspect
import textwrap

from ..cells import GATES
from .mutants import MODULES
from .naming import render

CARRY_WORDS = {"rnn": "the hidden-state carry dh_next", "gru": "the hidden-state carry dh_next",
               "lstm": "the two carries, dh_next and dc_next"}


def narrow(probe, where, names):
    """Lines ("where: ...") narrowing the mistake down to gates, steps and carries."""
    cell, lines = probe.cell, []
    gates = GATES[cell]
    k = where.shortest
    if where.gates and len(gates) > 1 and len(where.gates) < len(gates):
        right = [g for g in gates if g not in where.gates]
        look = "; ".join(f"`{line}`" for line in gate_lines(cell, where.gates, names))
        lines.append(f"where: with {k} step(s), only the {names.gates(where.gates)} block(s) of the gradients are wrong "
                     f"({names.gates(right)} right): look at {look} and what feeds it")
    if k == 1:
        lines.append(f"where: wrong already with one step, so inside one step's backward "
                     f"({names.quantities(where.quantities)}), not in the recurrence")
    elif k > 1 and where.right_below:
        lines.append(f"where: right for {k - 1} step(s), wrong from {k} on ({names.quantities(where.quantities)}): "
                     f"look at what is carried from one step to the one before it ({names.state(CARRY_WORDS[cell])}) "
                     "and how the backward loop adds it")
    return lines


def gate_lines(cell, gate_letters, names):
    """The textbook step_backward lines computing the given gates' gradients, rendered."""
    module = MODULES[cell]
    tree = ast.parse(textwrap.dedent(inspect.getsource(module.step_backward)))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if getattr(module, "LINE_GATES", {}).get(node.targets[0].id, "") in gate_letters:
                out.append(render(ast.unparse(node), names, cell))
    return out

"""When no single mistake reproduces the user's numbers: say where the mistake lives anyway.

From the localization (harness.guard.localize): the shortest sequence that goes wrong and,
for gated cells, which gate blocks are wrong there; then the textbook lines that compute
those gates' gradients, in the user's names, as the place to look.
"""

import ast
import functools
import inspect
import textwrap

from ..cells import GATES
from .mutants import MODULES
from .naming import render

CARRY_WORDS = {"rnn": "the hidden-state carry dh_next", "gru": "the hidden-state carry dh_next",
               "lstm": "the two carries, dh_next and dc_next"}


def gate_line(probe, where, names):
    """"gates: ..." when the mistake touches only some gate blocks (one step isolated), else ""."""
    gates = GATES[probe.cell]
    if not where.gates or len(gates) < 2 or len(where.gates) == len(gates):
        return ""
    right = [g for g in gates if g not in where.gates]
    look = "; ".join(f"`{line}`" for line in gate_lines(probe.cell, where.gates, names, probe.options))
    weights = (tuple(w for w in ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh") if w in where.gate_quantities)
               or ("dweight_ih", "dweight_hh"))
    wrong, every = names.quantities(weights, where.gates), names.quantities(weights)
    fine = names.quantities(weights, "".join(right))
    if wrong != every and not set(wrong.split(", ")) & set(fine.split(", ")):   # one array per gate
        what = f"only {wrong} {'is' if ', ' not in wrong else 'are'} wrong ({fine} right)"
    else:
        what = f"only the {names.gates(where.gates)} block(s) of {every} are wrong ({names.gates(right)} right)"
    return (f"gates: with one step's gradient isolated, {what}"
            + (f": look at {look} and what feeds it" if look else ""))


def narrow(probe, where, names):
    """Lines ("where: ...") narrowing the mistake down to steps and carries."""
    cell, lines = probe.cell, []
    k = 0 if where.forward_wrong else where.shortest     # a different forward: fix that first
    if k == 1:
        lines.append(f"where: wrong already with one step, so inside one step's backward "
                     f"({names.quantities(where.quantities)}), not in the recurrence")
    elif k > 1 and where.right_below and set(where.quantities) <= {"dx"}:
        lines.append(f"where: right for {k - 1} step(s), wrong from {k} on, in {names.quantities(where.quantities)} "
                     "only (the weights' gradients and the carry are right): look at where each step's input "
                     "gradient is written (its step index)")
    elif k > 1 and where.right_below:
        lines.append(f"where: right for {k - 1} step(s), wrong from {k} on ({names.quantities(where.quantities)}): "
                     f"look at what is carried from one step to the one before it ({names.state(CARRY_WORDS[cell])}) "
                     "and how the backward loop adds it")
    return lines


def gate_lines(cell, gate_letters, names, options=None):
    """Where to look for a mistake that touches exactly the gates ``gate_letters``: the textbook
    step_backward lines whose value flows into those gates' pre-activation gradients and into
    no other gate's (for the LSTM's i, f, g: ``dc``), else the lines of those gates themselves;
    rendered in the user's names; only the lines of the branch ``options`` take (the GRU's reset)."""
    line_gates = getattr(MODULES[cell], "LINE_GATES", {})
    assigns, feeds = _assignments(cell, tuple(sorted((options or {}).items())))
    wanted = set(gate_letters)
    shared = [a for a in assigns if feeds.get(a.targets[0].id) == wanted and a.targets[0].id not in line_gates]
    own = [a for a in assigns if line_gates.get(a.targets[0].id) and line_gates[a.targets[0].id] in wanted]
    return [render(ast.unparse(a), names, cell) for a in (shared or own)]


@functools.lru_cache(maxsize=None)
def _assignments(cell, options=()):
    """The textbook step_backward's assignments to names on the branches ``options`` take (an
    ``if cache["reset_after"]:`` keeps its body when reset_after is true, else its orelse), and
    the gates each name feeds."""
    module = MODULES[cell]
    opts = dict(options)
    assigns = []

    def walk(body):
        for node in body:
            if isinstance(node, ast.If):
                flag = next((k for k in opts if k in ast.unparse(node.test)), None)
                if flag is None:
                    walk(node.body)
                    walk(node.orelse)
                else:
                    walk(node.body if opts[flag] else node.orelse)
            elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                assigns.append(node)
    walk(ast.parse(textwrap.dedent(inspect.getsource(module.step_backward))).body[0].body)
    return assigns, _gates_fed(assigns, getattr(module, "LINE_GATES", {}))


def _gates_fed(assigns, line_gates):
    """{local name: the set of gates whose gradient lines read it, directly or through others}."""
    reads = {}
    for a in assigns:
        name = a.targets[0].id
        reads.setdefault(name, set()).update(n.id for n in ast.walk(a.value) if isinstance(n, ast.Name))
    fed = {name: {g} for name, g in line_gates.items()}
    changed = True
    while changed:
        changed = False
        for name, sources in reads.items():
            for src in sources:
                if src != name and fed.get(name) and not fed[name] <= fed.setdefault(src, set()):
                    fed[src] |= fed[name]
                    changed = True
    return fed

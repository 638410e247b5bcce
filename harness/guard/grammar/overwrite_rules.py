"""Mistakes of the driver's accumulations: a weight's or bias's gradient assigned (=) where it
accumulates over the steps (+=), alone, in one gate's block, or several together where user
code keeps them in one array; and every accumulation at once, as a framework's one accumulate
method that writes over does it."""

import ast
import copy

from .ast_tools import _expr, _replace, _src, _target_name
from .context import _edit
from .tables import COST, Edit


FORWARD_LOOP = "a weights loop run forward"        # the family of the variants below: never fused with the rest
WEIGHTS_LOOP = "a weights loop whose range misses a step"


def _overwrite_rules(ctx, i, stmt):
    """``dW += step[...]`` written ``dW = step[...]``: only one step's contribution kept; for a
    gate-packed gradient also in one gate's block only (one array or line per gate); the same in
    a loop of the weight gradients' own run forward (the last step kept), or whose range misses
    step 0 or the last step."""
    from .gate_rules import _gates
    name = _target_name(stmt)
    new = ast.fix_missing_locations(ast.Assign([copy.deepcopy(stmt.target)], copy.deepcopy(stmt.value)))
    yield _edit(ctx, i, "carry_overwrites", stmt, new,
                f"{name} assigned (=) where it accumulates (+=) over the steps: only one step's contribution is kept")
    last = _expr(f"{_src(stmt.value)} if t == T - 1 else {name}")
    yield _edit(ctx, i, "carry_overwrites", stmt, ast.fix_missing_locations(ast.Assign([copy.deepcopy(stmt.target)],
                                                                                        last)),
                f"{name} assigned (=) where it accumulates (+=) in a loop over the steps run forward (after the "
                "backward's own): only the last step's contribution is kept", cost=COST["carry_overwrites"] + 0.05,
                family=FORWARD_LOOP)
    for skipped, which in (("t > 0", "step 0's"), ("t < T - 1", "the last step's")):
        if name == "dW_hh" and skipped == "t > 0":
            continue                                    # the h0 term's edit below, in the fused one too
        yield _edit(ctx, i, "loop_skips_step", stmt, _replace(stmt, stmt.value, _expr(f"{_src(stmt.value)} * ({skipped})")),
                    f"{which} contribution to {name} left out (the weight gradients summed in a loop of their own "
                    "whose range misses that step; the carries right)", cost=COST["loop_skips_step"] + 0.1,
                    also="term_dropped", family=WEIGHTS_LOOP + f" ({skipped})")
    if name == "dW_hh":                                 # `if t > 0: dW_hh += ...`: "there is no h_(t-1) at t = 0"
        yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, stmt.value, _expr(f"{_src(stmt.value)} * (t > 0)")),
                    f"the h0 term of {name} left out (step 0's contribution, da_0^T h0, skipped: `if t > 0:`; or a "
                    "weights loop of its own from t = 1)", family=WEIGHTS_LOOP + " (t > 0)", also="loop_skips_step")
    gates = _gates(ctx.cell)
    for k, gate in enumerate(gates):
        pick = _expr(f"_blockpick({name} + {_src(stmt.value)}, {_src(stmt.value)}, {k}, 0, {len(gates)})")
        yield _edit(ctx, i, "carry_overwrites", stmt, ast.fix_missing_locations(ast.Assign([copy.deepcopy(stmt.target)],
                                                                                            pick)),
                    f"{name} assigned (=) where it accumulates (+=), in the {gate} gate's block only",
                    cost=COST["carry_overwrites"] + 0.1, gates=gate)
    if len(gates) == 3:                                 # the GRU's r and z blocks in one array (U[:, :2H])
        value = _src(stmt.value)
        pick = _expr(f"_blockpick(_blockpick({name} + {value}, {value}, 0, 0, 3), {value}, 1, 0, 3)")
        yield _edit(ctx, i, "carry_overwrites", stmt, ast.fix_missing_locations(ast.Assign([copy.deepcopy(stmt.target)],
                                                                                            pick)),
                    f"{name} assigned (=) where it accumulates (+=), in the r and z gates' blocks only (one array for "
                    "both)", cost=COST["carry_overwrites"] + 0.15, gates="rz")


def _together(group, cause, says, cost, gates="", also="", tree=None):
    """One edit planting every edit of ``group`` at once."""
    tree = {k: v for e in group for k, v in e.tree.items()} if tree is None else tree
    first = group[0]
    return Edit("backward", first.index, cause, first.before, first.after, says, first.line, "", cost, gates, tree,
                also=also)


def _fused_overwrites(ctx, edits):
    """Overwrites of gradients that user code keeps in one array (TF's kernel: dW_ih and dW_hh; a
    single bias: db_ih and db_hh; the course's dWf: both weights' f blocks), planted together."""
    by_line = {}
    for e in edits:
        if (e.cause == "carry_overwrites" and e.target == "backward" and e.line.startswith(("dW", "db"))
                and not e.family):
            by_line.setdefault((e.line[:2], e.gates), []).append(e)
    out = []
    for (kind, gate), group in by_line.items():
        if len(group) > 1:
            out.append(_together(group, "carry_overwrites", f"{_lines(group)} assigned (=) where they accumulate (+=) "
                                 "over the steps" + (f", in the {gate} gate's block only" if gate else ""),
                                 max(e.cost for e in group) + 0.05, gate))
    every = [e for (kind, gate), group in by_line.items() if not gate for e in group]
    for side in ("_ih", "_hh"):                         # one side's kernel holding its bias (a ones row)
        pair = [e for e in every if e.line.endswith(side)]
        if len({e.line[:2] for e in pair}) == 2:
            out.append(_together(pair, "carry_overwrites", f"{_lines(pair)} assigned (=) where they accumulate (+=) "
                                 "over the steps (one array for the weight and its bias)", max(e.cost for e in pair) + 0.1))
    gated = {}
    for (kind, gate), group in by_line.items():
        if gate:
            gated.setdefault(gate, []).extend(group)
    for gate, group in gated.items():                    # one array per gate over [x, h, 1]: its weights and bias
        if len({e.line[:2] for e in group}) > 1:
            out.append(_together(group, "carry_overwrites", f"{_lines(group)} assigned (=) where they accumulate (+=) "
                                 f"over the steps, in the {gate} gate's block only (one array for the gate's weights "
                                 "and bias)", max(e.cost for e in group) + 0.1, gate))
    if len({e.line[:2] for e in every}) > 1:               # one kernel holding the bias too: [b; x; h]
        out.append(_together(every, "carry_overwrites", f"{_lines(every)} assigned (=) where they accumulate (+=) over "
                             "the steps (one array for weights and bias)", max(e.cost for e in every) + 0.1))
    return out + _every_accumulation_overwrites(ctx, every) + _weights_loop_misses(edits)


def _lines(group):
    return " and ".join(e.line for e in group)


def _weights_loop_misses(edits):
    """The weight gradients' own loop missing step 0 or the last step: every sum at once."""
    out = []
    for skipped, which in (("t > 0", "step 0's"), ("t < T - 1", "the last step's")):
        group = [e for e in edits if e.family == WEIGHTS_LOOP + f" ({skipped})"]
        if len(group) > 1:
            out.append(_together(group, "loop_skips_step", f"{which} contribution to every weight and bias gradient "
                                 "left out (they are summed in a loop of their own whose range misses that step; the "
                                 "carries right)", max(e.cost for e in group) + 0.05, also="term_dropped"))
    return out


def _every_accumulation_overwrites(ctx, every):
    """Every gradient assigned where it accumulates, as a framework does whose one accumulate
    method (``t.grad = g``) writes over: the weights' and biases' keep one step's contribution,
    and the carry into h_t writes over its upstream gradient (seeded first; the last step, which
    no carry reaches, keeps it)."""
    up = next(((j, st) for j, st in enumerate(ctx.stmts) if isinstance(st, ast.Assign)
               and _src(st.targets[0]) == "dh_total[:, t]" and _src(st.value) == "dh[:, t] + dnext_h"), None)
    if up is None or len({e.line[:2] for e in every}) < 2:
        return []
    tree = {k: v for e in every for k, v in e.tree.items()}
    tree[up[0]] = _replace(up[1], up[1].value, _expr("dnext_h if t < T - 1 else dh[:, t]"))
    return [_together(every, "carry_overwrites", "every gradient assigned (=) where it accumulates (+=), as one "
                      "accumulate method that writes over (`self.grad = g`): the weights and biases keep one step's "
                      "contribution (t = 0) and the carry from step t+1 writes over the upstream gradient of h_t (the "
                      "last step keeps its own)", max(e.cost for e in every) + 0.2, tree=tree)]

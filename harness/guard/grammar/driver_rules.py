"""Mistakes in a cell's ``backward`` (the loop over time: its range, the carries, the
accumulation of the weight gradients, the step a cached input is taken from) and in the
gradients after the loop (averaged instead of summed)."""

import ast
import copy

from .ast_tools import _expr, _names, _rebuild_sum, _replace, _src, _sum_terms, _target_name
from .context import _Context, _edit
from .tables import COST, Edit

def driver_edits(cell, fn_tree):
    """Mistakes in ``backward``, the loop over time: the loop's range, the carries, the
    accumulation of the weight gradients, the step a cached input is taken from."""
    ctx = _Context(cell, "backward", fn_tree)
    out = []
    for i, stmt in enumerate(ctx.stmts):
        if isinstance(stmt, ast.For):
            out.extend(_loop_rules(ctx, i, stmt))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add):
            new = ast.fix_missing_locations(ast.Assign([copy.deepcopy(stmt.target)], copy.deepcopy(stmt.value)))
            out.append(_edit(ctx, i, "carry_overwrites", stmt, new,
                             f"{_target_name(stmt)} assigned (=) where it accumulates (+=) over the steps: "
                             "only one step's contribution is kept"))
        elif isinstance(stmt, ast.Assign) and "dh_total" in _src(stmt.targets[0]):
            out.extend(_upstream_rules(ctx, i, stmt))
        elif isinstance(stmt, ast.Assign) and _src(stmt.value).startswith("step_backward("):
            out.extend(_call_rules(ctx, i, stmt))
    return out + _every_carry_dropped(ctx, out)


def _every_carry_dropped(ctx, edits):
    """Every carry dropped at once (the LSTM's h and c): no gradient flows back in time at all,
    a backward truncated to one step. As simple a mistake as dropping one of them."""
    dropped = {}
    for e in edits:
        if e.cause == "carry_dropped" and e.carry not in dropped:
            dropped[e.carry] = e
    if len(dropped) < 2:
        return []
    tree = {}
    for e in dropped.values():
        tree.update(e.tree)
    carries = " and ".join(sorted(dropped))
    first = next(iter(dropped.values()))
    return [Edit("backward", first.index, "carry_dropped", first.before, first.after,
                 f"no gradient carried back in time at all: the {carries} carries from step t+1 are both never "
                 "added (each step backpropagated alone)", first.line, "".join(sorted(dropped)),
                 COST["carry_dropped"], "", tree)]


def _loop_rules(ctx, i, stmt):
    for text, which in (("reversed(range(1, T))", "the first step (t = 0)"),
                        ("reversed(range(T - 1))", "the last step (t = T-1)")):
        new = copy.deepcopy(stmt)
        new.iter = _expr(text)
        yield _edit(ctx, i, "loop_skips_step", stmt, ast.fix_missing_locations(new),
                    f"the backward loop skips {which}: for t in {text}")


def _upstream_rules(ctx, i, stmt):
    terms = _sum_terms(stmt.value)
    for k, (term, _) in enumerate(terms or ()):
        rest = _rebuild_sum([t for j, t in enumerate(terms) if j != k])
        carry = next((c for n, c in ctx.table["carries"].items() if n in _names(term)), "")
        if carry:
            yield _edit(ctx, i, "carry_dropped", stmt, _replace(stmt, stmt.value, rest),
                        f"the {carry} carry from step t+1 never added to the upstream gradient dh_t", carry=carry)
        else:
            yield _edit(ctx, i, "carry_overwrites", stmt, _replace(stmt, stmt.value, rest),
                        "the carry from step t+1 replaces the upstream gradient dh_t instead of being added "
                        "to it (dh = dh_next)", carry="h")


def _call_rules(ctx, i, stmt):
    call = stmt.value
    for arg in call.args:
        if isinstance(arg, ast.Name) and arg.id in ctx.table["carries"]:
            carry = ctx.table["carries"][arg.id]
            yield _edit(ctx, i, "carry_dropped", stmt, _replace(stmt, arg, _expr(f"0 * {arg.id}")),
                        f"the {carry} carry from step t+1 never added (the step starts from dc = 0 + ...)",
                        carry=carry)
        if _src(arg) == "caches[t]":
            for name in ctx.table["shifted"]:
                for d, when in ((-1, "t-1"), (1, "t+1")):
                    new = _replace(stmt, arg, _expr(f"_shifted(caches, t, {name!r}, {d})"))
                    yield _edit(ctx, i, "wrong_time", stmt, new,
                                f"{name}_({when}) where {name}_t belongs (the weight gradients pair "
                                f"each step with another step's {name})")


def output_edits(cell, sizes, has_bias):
    """Gradients scaled after the loop: averaged over N, T or N*T instead of summed."""
    N, T = sizes["N"], sizes["T"]
    groups = {"dweight_ih": ("dweight_ih",), "dweight_hh": ("dweight_hh",)}
    if has_bias:
        groups["dbias"] = ("dbias_ih", "dbias_hh")
    groups["every weight and bias gradient"] = sum(groups.values(), ())
    divisors = {}
    for label, n in ((f"the batch size N={N}", N), (f"the number of steps T={T}", T), (f"N*T={N * T}", N * T)):
        divisors.setdefault(n, []).append(label)        # N == T: one mutant, both readings
    out = []
    for group, keys in groups.items():
        for n, labels in divisors.items():
            if n == 1:
                continue
            out.append(Edit("output", 0, "reduction_scaled", "", "", f"{group} divided by {' or '.join(labels)}",
                            group, "", COST["reduction_scaled"], "", {"scale": (keys, n)}))
    return out

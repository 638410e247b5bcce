"""Mistakes in a cell's ``backward`` (the loop over time: its range, the upstream gradient and
the carries, the accumulation of the weight gradients); the gradients' mistakes after the loop
are in output_rules."""

import ast
import copy
import dataclasses

from .ast_tools import _expr, _names, _rebuild_sum, _replace, _src, _sum_terms, _target_name
from .context import _Context, _edit, _step_call
from .overwrite_rules import _fused_overwrites, _overwrite_rules
from .time_rules import carries_swapped
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
            out.extend(_overwrite_rules(ctx, i, stmt))
        elif isinstance(stmt, ast.Assign) and "dh_total" in _src(stmt.targets[0]):
            out.extend(_upstream_rules(ctx, i, stmt))
        elif isinstance(stmt, ast.Assign) and _src(stmt.value).startswith("step_backward("):
            out.extend(_call_rules(ctx, i, stmt))
        elif isinstance(stmt, ast.Assign) and "step[" in _src(stmt.value) and "dprev_" in _src(stmt.value):
            out.extend(_carry_update_rules(ctx, i, stmt))
        elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict) and _target_name(stmt) == "grads":
            out.extend(_dx_after_loop_rules(ctx, i, stmt))
            out.extend(_dh0_rules(ctx, i, stmt))
    return (out + _every_carry_dropped(ctx, out) + _fused_overwrites(ctx, out) + list(_step_global_clip(ctx))
            + list(carries_swapped(ctx)))


def _step_global_clip(ctx):
    """Each step's weight and bias gradients rescaled together to a global norm of at most c, or
    clipped element by element, before they are added up (``clip_by_global_norm`` or ``np.clip``
    called inside the loop)."""
    lines = {i: s for i, s in enumerate(ctx.stmts) if isinstance(s, ast.AugAssign) and isinstance(s.op, ast.Add)
             and _target_name(s).startswith(("dW_", "db")) and _src(s.value).startswith("step[")}
    if not lines:
        return
    first, last = min(lines), max(lines)
    names = [_target_name(s) for s in lines.values()]
    summed = [n if i != last else f"{n} + {_src(lines[i].value)}" for i, n in zip(lines, names)]
    for c in CLIP_AT:
        tree = {i: _replace(s, s.value, _expr(f"{_src(s.value)} * _gscale(step, {c})")) for i, s in lines.items()}
        yield _edit(ctx, first, "gradient_clipped", lines[first], tree[first],
                    f"each step's weight and bias gradients rescaled together to a global norm of at most {c} "
                    "before they are added up", extra=tree)
        tree = {i: _replace(s, s.value, _expr(f"np.clip({_src(s.value)}, -{c}, {c})")) for i, s in lines.items()}
        yield _edit(ctx, first, "gradient_clipped", lines[first], tree[first],
                    f"each step's weight and bias gradients clipped element by element to [-{c}, {c}] before they "
                    "are added up", extra=tree)
        totals = ast.parse(f"{', '.join(names)} = _gclip(({', '.join(summed)},), {c})").body[0]
        yield _edit(ctx, last, "gradient_clipped", lines[last], totals,
                    f"the weight and bias gradients summed so far rescaled together to a global norm of at most {c} "
                    "at every step")


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
                 "added (each step backpropagated alone; equally, the loop run forward in time with each carry "
                 "written into a step already handled)", first.line, "".join(sorted(dropped)),
                 COST["carry_dropped"], "", tree, also="loop_direction")]


def _loop_rules(ctx, i, stmt):
    """The loop's range: a step (or several) missed at either end, only the last K steps
    backpropagated (a truncation written as the range), or the loop run forward in time (each
    step then receives the carry of the step before it, not of the step after)."""
    for text, which in (("reversed(range(1, T))", "the first step (t = 0)"),
                        ("reversed(range(T - 1))", "the last step (t = T-1)")):
        yield _loop(ctx, i, stmt, text, "loop_skips_step", f"the backward loop skips {which}: for t in {text}")
    for k in (2, 3):
        yield _loop(ctx, i, stmt, f"reversed(range({k}, T))", "loop_skips_step",
                    f"the backward loop skips the first {k} steps: for t in reversed(range({k}, T))", cost=1.05)
        yield _loop(ctx, i, stmt, f"reversed(range(T - {k}))", "loop_skips_step",
                    f"the backward loop skips the last {k} steps: for t in reversed(range(T - {k}))", cost=1.05)
        yield _loop(ctx, i, stmt, f"reversed(range(max(0, T - {k}), T))", "loop_skips_step",
                    f"the backward loop covers only the last {k} steps (truncated by its range): "
                    f"for t in reversed(range(max(0, T - {k}), T))", cost=1.05, also="truncated_bptt")
        zeroed = _grads_with(ctx, {s: f"(np.zeros_like({{0}}) if T > {k} else {{0}})"
                                   for s in (("dh0", "dc0") if ctx.cell == "lstm" else ("dh0",))})
        if zeroed:                      # a tape of the last k steps' ops only: nothing reaches the initial states
                                        # (unless the sequence is that short)
            edit = _loop(ctx, i, stmt, f"reversed(range(max(0, T - {k}), T))", "loop_skips_step",
                         f"only the last {k} steps are walked back (a tape or window of their ops) and nothing "
                         "reaches the initial states (their gradients zero)", cost=1.1, also="truncated_bptt")
            yield dataclasses.replace(edit, tree={**edit.tree, **zeroed})
    states = ("dh0", "dc0") if ctx.cell == "lstm" else ("dh0",)
    for zero in [states] + ([("dh0",), ("dc0",)] if len(states) > 1 else []):
        zeroed = _grads_with(ctx, {k: "np.zeros_like({})" for k in zero})
        if not zeroed:                  # step 0 never visited, so nothing reaches the initial states either (or
            break                       # one of them: h's carry added into a slot never read, c's returned as it is)
        which = ("the initial states' gradients are never formed (zero)" if len(zero) == len(states) else
                 f"{zero[0]} is never formed (zero; the carry into step 0 written where nothing reads it), "
                 f"{'dc0' if zero[0] == 'dh0' else 'dh0'} the carry that reaches step 0")
        edit = _loop(ctx, i, stmt, "reversed(range(1, T))", "loop_skips_step", "the backward loop skips the first step "
                     f"(t = 0) and {which}: for t in reversed(range(1, T))",
                     cost=1.05 if len(zero) == len(states) else 1.1)
        yield dataclasses.replace(edit, tree={**edit.tree, **zeroed})
    arriving = _grads_with(ctx, {"dh0": "{} + dh[:, 0]"})     # h_0, the first output, taken for h0
    if arriving:
        edit = _loop(ctx, i, stmt, "reversed(range(1, T))", "loop_skips_step", "the backward loop stops before the "
                     "first step (t = 0) and returns the gradient arriving at h_0 (its upstream plus the carry from "
                     "step 1) as dh0: the first output h_0 taken for the initial state", cost=1.1)
        yield dataclasses.replace(edit, tree={**edit.tree, **arriving})
    yield _loop(ctx, i, stmt, "reversed(range(1 if T > 1 else 0, T))", "loop_skips_step",
                "the backward loop stops before the first step (t = 0) when there is more than one (the last "
                "step is handled before the loop)", cost=1.05)
    yield _loop(ctx, i, stmt, "range(T)", "loop_direction",
                "for t in range(T) where for t in reversed(range(T)) belongs: each step receives the carry of "
                "the step before it instead of the step after it")


def _loop(ctx, i, stmt, text, cause, says, cost=None, also=""):
    new = copy.deepcopy(stmt)
    new.iter = _expr(text)
    return _edit(ctx, i, cause, stmt, ast.fix_missing_locations(new), says, cost=cost, also=also)


CLIP_AT = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0)   # round thresholds a probe's gradients reach (5 they do not)


def _upstream_rules(ctx, i, stmt):
    """dh_total = dh + dnext_h: either term dropped or negated; the upstream gradient only at the
    last step (as if only the last output had a loss)."""
    terms = _sum_terms(stmt.value) or ()
    upstream = None
    for k, (term, _) in enumerate(terms):
        rest = _rebuild_sum([t for j, t in enumerate(terms) if j != k])
        carry = next((c for n, c in ctx.table["carries"].items() if n in _names(term)), "")
        if carry:                       # or the upstream written over the carry (`buf[t + 1] = dh[t]`)
            yield _edit(ctx, i, "carry_dropped", stmt, _replace(stmt, stmt.value, rest),
                        f"the {carry} carry from step t+1 never added to the upstream gradient dh_t" + (
                            " (equally, the loop run forward in time with each carry written into a step already "
                            "handled)" if len(ctx.table["carries"]) == 1 else ""), carry=carry,
                        also="carry_overwrites" + (",loop_direction" if len(ctx.table["carries"]) == 1 else ""))
        else:
            upstream = (term, rest)
            yield from _upstream_shifted(ctx, i, stmt, term)
            yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, stmt.value, rest),
                        "the upstream gradient dh_t left out: each step gets only what step t+1 carries back "
                        "(dh = dh_next)", also="carry_overwrites")
        flipped = _rebuild_sum([(t, -s if j == k else s) for j, (t, s) in enumerate(terms)])
        yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, stmt.value, flipped),
                    f"{_src(term)} subtracted where it is added in dh_t = dh + dh_next")
    for c in CLIP_AT:                                   # an exploding-gradient guard inside the loop
        for when, where in (("", "each step's"), (" if t < T - 1 else " + _src(stmt.value), "each step's but the last")):
            clipped = _replace(stmt, stmt.value, _expr(f"np.clip({_src(stmt.value)}, -{c}, {c}){when}"))
            yield _edit(ctx, i, "gradient_clipped", stmt, clipped,
                        f"{where} incoming gradient dh_t (upstream plus carry) clipped to [-{c}, {c}]")
        for rows, what in ((False, "its norm"), (True, "each example's norm")):
            rescaled = _replace(stmt, stmt.value, _expr(f"_clipnorm({_src(stmt.value)}, {c}, {rows})"))
            yield _edit(ctx, i, "gradient_clipped", stmt, rescaled,
                        f"each step's incoming gradient dh_t (upstream plus carry) rescaled to keep {what} at most {c}")
        for k, (term, _) in enumerate(terms):
            if any(n in _names(term) for n in ctx.table["carries"]):
                new = _rebuild_sum([(_expr(f"np.clip({_src(t)}, -{c}, {c})") if j == k else t, s)
                                    for j, (t, s) in enumerate(terms)])
                yield _edit(ctx, i, "gradient_clipped", stmt, _replace(stmt, stmt.value, new),
                            f"the carry {_src(term)} clipped to [-{c}, {c}] before it is added")
    if upstream is not None:
        term, rest = upstream
        only_last = ast.IfExp(_expr("t == T - 1"), copy.deepcopy(term), rest)
        yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, stmt.value, only_last),
                    "the upstream gradient dh_t used at the last step only (as if only the last output had a "
                    "loss): the earlier steps get only the carry (dh = dh_next for t < T-1)",
                    cost=COST["term_dropped"] + 0.1, also="carry_overwrites")


def _upstream_shifted(ctx, i, stmt, term):
    """The upstream gradient read one step late (dh_(t+1) at step t, nothing at the last), as a
    (T+1)-slot gradient buffer filled one slot early does (``buf[:T] += dh`` where ``buf[1:]``
    belongs: dh_0 then lands in the slot dh0 is read from), or read one step early (nothing at the
    first step, or the last step's there: ``dh[t - 1]``)."""
    spilled = _grads_with(ctx, {"dh0": "{} + " + _src(term).replace("t]", "0]")})
    src = _src(term)
    late = _replace(stmt, term, _expr(f"({src.replace('t]', 't + 1]')} if t + 1 < T else 0 * {src})"))
    early = _replace(stmt, term, _expr(f"({src.replace('t]', 't - 1]')} if t > 0 else 0 * {src})"))
    yield _edit(ctx, i, "wrong_time", stmt, late, "the upstream gradient read one step late: step t gets dh_(t+1) "
                "(the last step none)", cost=COST["wrong_time"] + 0.05)
    yield _edit(ctx, i, "wrong_time", stmt, early, "the upstream gradient read one step early: step t gets dh_(t-1) "
                "(the first step none)", cost=COST["wrong_time"] + 0.05)
    wrapped = _replace(stmt, term, _expr(src.replace("t]", "t - 1]")))
    yield _edit(ctx, i, "wrong_time", stmt, wrapped, "the upstream gradient read one step early, dh[t - 1]: step t gets "
                "dh_(t-1) (the first step the last one's, Python's index -1)", cost=COST["wrong_time"] + 0.05)
    if spilled:
        yield _edit(ctx, i, "wrong_time", stmt, late, "the upstream gradient put into a (T+1)-slot gradient buffer one "
                    "slot early: step t gets dh_(t+1) (the last step none) and dh_0 lands in the initial state's slot "
                    "(added to dh0)", cost=COST["wrong_time"] + 0.1, extra=spilled)


def _grads_with(ctx, forms):
    """{index: the driver's ``grads = {...}`` with the entries named in ``forms`` rewritten
    (``"np.zeros_like({})"``: ``{}`` is the entry as it stands)}, or {} without such a line."""
    j, g = next(((j, s) for j, s in enumerate(ctx.stmts) if isinstance(s, ast.Assign)
                 and isinstance(s.value, ast.Dict) and _target_name(s) == "grads"), (None, None))
    if g is None:
        return {}
    new = copy.deepcopy(g)
    new.value.values = [_expr(forms[k.value].format(_src(v))) if getattr(k, "value", "") in forms else v
                        for k, v in zip(new.value.keys, new.value.values)]
    return {j: ast.fix_missing_locations(new)}


def _dx_after_loop_rules(ctx, i, stmt):
    """dx computed after the loop from every step's da, with the weight's whole gradient dW_ih in
    place of W_ih (code that vectorizes over time: ``dX = dA @ dW_xh.T``); or one gate's block of it."""
    from .gate_rules import _gates
    key = "da_x" if ctx.cell == "gru" else "da"
    dx = next((v for k, v in zip(stmt.value.keys, stmt.value.values) if isinstance(k, ast.Constant) and k.value == "dx"),
              None)
    if dx is None:
        return
    gates = _gates(ctx.cell)
    choices = [("dW_ih", "", "")] + [(f"_blockpick(caches[0]['W_ih'], dW_ih, {k}, 0, {len(gates)})", g,
                                      f" (the {g} block)") for k, g in enumerate(gates)]
    for w, gate, block in choices:
        yield _edit(ctx, i, "gradient_for_weight", stmt, _replace(stmt, dx, _expr(f"_dx_total(steps, {w}, {key!r})")),
                    f"dx computed after the loop with the whole gradient dW_ih{block} where the weight W_ih belongs",
                    cost=COST["gradient_for_weight"] + (0.1 if gate else 0), gates=gate)


def _dh0_rules(ctx, i, stmt):
    """The RNN's dh0 returned before its last product: step 0's da (N, H) where da_0 W_hh belongs."""
    if ctx.cell == "rnn":
        (j, new), = _grads_with(ctx, {"dh0": "steps[0]['da']"}).items()
        yield _edit(ctx, j, "wrong_value", stmt, new, "dh0 returned as step 0's pre-activation gradient da_0, "
                    "without its product with W_hh (da_0 where da_0 W_hh belongs)")


def _carry_update_rules(ctx, i, stmt):
    """``dnext_h = step["dprev_h"]`` never executed for one carry: it stays 0 all along."""
    targets = stmt.targets[0].elts if isinstance(stmt.targets[0], ast.Tuple) else [stmt.targets[0]]
    values = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
    for k, target in enumerate(targets):
        carry = ctx.table["carries"].get(getattr(target, "id", ""), "")
        if not carry:
            continue
        kept = [ast.Name(target.id, ast.Load()) if j == k else copy.deepcopy(v) for j, v in enumerate(values)]
        new = copy.deepcopy(stmt)
        new.value = ast.Tuple(kept, ast.Load()) if len(kept) > 1 else kept[0]
        yield _edit(ctx, i, "carry_dropped", stmt, ast.fix_missing_locations(new),
                    f"the {carry} carry never updated from the step (it stays 0: nothing flows back in time "
                    f"through {carry}, and d{carry}0 is 0)", carry=carry)
        for c in CLIP_AT:                                   # the carry clipped where it is taken from the step
            for form, what in ((f"np.clip({{}}, -{c}, {c})", f"clipped element by element to [-{c}, {c}]"),
                               (f"_clipnorm({{}}, {c}, True)", f"rescaled to a norm of at most {c} per example"),
                               (f"_clipnorm({{}}, {c}, False)", f"rescaled to a norm of at most {c}")):
                clipped = [_expr(form.format(_src(v))) if j == k else copy.deepcopy(v) for j, v in enumerate(values)]
                new = copy.deepcopy(stmt)
                new.value = ast.Tuple(clipped, ast.Load()) if len(clipped) > 1 else clipped[0]
                yield _edit(ctx, i, "gradient_clipped", stmt, ast.fix_missing_locations(new),
                            f"the {carry} carry {what} each step (d{carry}0 included)", carry=carry)


def _call_rules(ctx, i, stmt):
    call = stmt.value
    for arg in call.args:
        if isinstance(arg, ast.Name) and arg.id in ctx.table["carries"]:
            carry = ctx.table["carries"][arg.id]
            yield _edit(ctx, i, "carry_dropped", stmt, _replace(stmt, arg, _expr(f"0 * {arg.id}")),
                        f"the {carry} carry from step t+1 never added (the step starts from dc = 0 + ...)",
                        carry=carry)


def loop_only_variants(cell, driver_tree, step_edits):
    """A mistake in what a step carries back (dprev_h, dprev_c), or a value taken at another
    time, made inside the loop only, with step 0 computed apart and right (code that carries at
    the top of the next iteration and takes dh0 after the loop; ``if t > 0: ... else: ... c0``):
    step 0 runs the textbook's own step."""
    drive = _Context(cell, "backward", driver_tree)
    call = _step_call(drive)
    if call is None:
        return
    j, stmt = call
    new = copy.deepcopy(stmt)
    new.value.func = _expr("(step_backward if t > 0 else _textbook_step)")
    handed = {j: ast.fix_missing_locations(new)}
    last = copy.deepcopy(stmt)                          # the last step apart: `if t < T - 1: dc = dc_next`
    last.value.func = _expr("(step_backward if t < T - 1 else _textbook_step)")
    but_last = {j: ast.fix_missing_locations(last)}
    for e in step_edits:
        if e.target == "step_backward" and (e.line in ("dprev_h", "dprev_c") or e.cause == "wrong_time") and not e.more:
            where = ("the initial state's gradient is computed apart, right" if e.line in ("dprev_h", "dprev_c")
                     else "step 0 is computed apart, right")
            yield dataclasses.replace(e, says=f"{e.says}, inside the loop only ({where})", cost=e.cost + 0.15,
                                      more={"backward": handed})
        if e.target == "step_backward" and "carry_overwrites" in (e.cause, *e.also.split(",")) and not e.more:
            yield dataclasses.replace(e, says=f"{e.says}, on every step but the last (computed right there)",
                                      cost=e.cost + 0.15, more={"backward": but_last})

"""A value read from another step's cache, or another gate's value, in every line of the step
that reads it (``i, f, o, g = caches[t - 1]`` unpacks the step before's gates once; each line
then reads the wrong one), or in every line but its derivative's; a gate recomputed from another
gate's pre-activation block; a state read as the last step's (one array updated in place by
every step); the LSTM's two carries read for each other."""

import ast
import copy
import re

from .ast_tools import _expr, _is_derivative, _product_factors, _products, _replace, _src, _target_name
from .context import _Context, _edit, _mutable, _value
from .tables import COST, SAYS, plain


GATE_VALUES = set("ifgorzn")
# Other-step readings of a value named otherwise: h_(t-1) as caches[t - 1]'s h (``hs[t - 1]``),
# which wraps round to the last step's at t = 0, or as the step's own output h_t (``hs[t]``).
WHOLE_STEP = {"prev_h": ("h_prev_wrap", "next_h")}
# A state read as the last step's: one array updated in place by every step (in every read, the
# forward values too: run_candidates' cache candidates; here with the forward values cached right).
LAST_STATE = {"prev_h": "next_h_last"}                  # (the LSTM's step recomputes no forward value)
# A gate recomputed in the backward from another gate's pre-activation block (``o = sigmoid(a[:,
# 3H:])`` where 3H: is g's block): with two sigmoid gates that is the other gate itself (above);
# with the LSTM's tanh block it is a value of its own. (The forget gate's pre-activation in the
# cache holds forget_bias; the user recomputing f adds it, g's does not.)
OTHER_BLOCK = {"lstm": {
    **{gate: (f"sigmoid(cache['a_g']{fb})",) for gate, fb in (("i", ""), ("o", ""), ("f", " + cache['forget_bias']"))},
    "g": ("np.tanh(cache['a_i'])", "np.tanh(cache['a_o'])", "np.tanh(cache['a_f'] - cache['forget_bias'])")}}


def whole_step_wrong_time(ctx):
    """For each value with a neighbour-step alternative in the cell's table (``f_prev_wrap``...),
    or a gate with another gate to be confused with (``f = A[:, :H]``, the i block), every read of
    it in the step's lines replaced at once, when there is more than one."""
    choices = [("wrong_time", name, [a for a in alts if (a.startswith(f"{name}_") or a in WHOLE_STEP.get(name, ()))
                                     and not a.endswith("_prev_one")])      # (a carry's own line only)
               for name, alts in ctx.table["wrong_time"].items()]
    choices += [("wrong_value", name, [a for a in alts if a in GATE_VALUES])
                for name, alts in ctx.table["wrong_point"].items() if name in GATE_VALUES]
    choices += [("wrong_value", name, list(alts)) for name, alts in OTHER_BLOCK.get(ctx.cell, {}).items()]
    for cause, name, alts in choices:
        reads = {i: s for i, s in enumerate(ctx.stmts) if _mutable(s) and name in _read_names(s)}
        if not reads or (len(reads) < 2 and name not in OTHER_BLOCK.get(ctx.cell, {})):
            continue                                    # one line: name_rules plants it there
        forward = {i for i, s in reads.items() if not _target_name(s).startswith("d")}    # a_hn recomputed
        weights = {i for i, s in reads.items() if _target_name(s).startswith("dW")}   # from a cached r h_(t-1)
        for alt in alts:
            variants = [((), "", 0.1)] + ([(forward, " (the forward values it recomputes, cached right)", 0.15)]
                                          if forward and len(forward) < len(reads) else []) + (
                [(weights, " (the weight gradients, formed from cached products of it, right)", 0.15)]
                if weights and len(weights) < len(reads) else [])
            for kept, tail, extra_cost in variants:     # h0 aliased by the forward's in-place updates reads so too
                inplace = alt == "h_prev_wrap" and not kept and " (equally, h0 itself updated in place by the " \
                    "forward, `h = h0` without a copy: at t = 0 every read sees the final state)"
                overwritten = kept is not weights and (name, alt) in (("prev_h", "next_h"), ("prev_c", "next_c"))
                inplace = inplace or overwritten and (
                    f" (equally, the cached {SAYS[name]} overwritten in place by {SAYS[alt]} before the step reads it: "
                    "a recompute or check written into a view of the state array)")
                yield _every_read(ctx, cause, name, alt, {i: s for i, s in reads.items() if i not in kept},
                                  tail + (inplace or ""), COST[cause] + extra_cost,
                                  also="inplace_corruption" if inplace else "")
            if cause == "wrong_value":
                yield from _but_its_derivative(ctx, name, alt, reads)
        if name in LAST_STATE and forward and len(forward) < len(reads):
            yield _every_read(ctx, "inplace_corruption", name, LAST_STATE[name],
                              {i: s for i, s in reads.items() if i not in forward},
                              " (one array updated in place by every step, so each step saved the same array as "
                              "its own; a_hn, which the textbook recomputes from it, cached right)",
                              COST["inplace_corruption"],
                              also="wrong_time")


# Where a step's cache is read at another step, as the weight gradients' inputs may be.
NEIGHBOUR_STEPS = {"_next_clamp": "the next step's (the last step keeping its own)",
                   "_prev_wrap": "the step before's (at t = 0 the last step's)",
                   "_prev_clamp": "the step before's (the first step keeping its own)",
                   "_next_wrap": "the next step's (at the end the first step's)"}


def weight_inputs_of_another_step(ctx):
    """The weight gradients formed with both inputs of another step's cache (one concatenated
    ``[x, h]`` cached per step and read as ``caches[t + 1]["xh"]``): x_t and h_(t-1) read as
    that step's in every weight-gradient line, the rest of the step right."""
    lines = {i: s for i, s in enumerate(ctx.stmts) if _mutable(s) and _target_name(s).startswith("dW")
             and {"x", "prev_h"} & _read_names(s)}
    if not {"x", "prev_h"} <= set().union(*(_read_names(s) for s in lines.values())):
        return
    for suffix, whose in NEIGHBOUR_STEPS.items():
        swap = {"x": ctx.ref(f"x{suffix}"), "prev_h": ctx.ref(f"prev_h{suffix}")}
        tree = {i: _renamed(s, swap) for i, s in lines.items()}
        first, where = min(tree), ", ".join(_target_name(s) for s in lines.values())
        yield _edit(ctx, first, "wrong_time", lines[first], tree[first],
                    f"the weight gradients formed with {whose} inputs x and h_(t-1) (one [x, h] read from another "
                    f"step's cache) where the step's own x_t and h_(t-1) belong ({where})",
                    extra=tree, cost=COST["wrong_time"] + 0.1, gates="")


def _every_read(ctx, cause, name, alt, lines, tail, cost, also=""):
    """``name`` read as ``alt`` in every one of ``lines``."""
    tree = {i: _everywhere(s, name, ctx.ref(alt)) for i, s in lines.items()}
    first = min(tree)
    names = ", ".join(dict.fromkeys(_target_name(s) for s in lines.values()))
    return _edit(ctx, first, cause, lines[first], tree[first],
                 f"{_says(alt)} where {SAYS.get(name, name)} belongs, in every line that reads it ({names}){tail}",
                 extra=tree, cost=cost, also=also, gates=_all_gates_of(ctx, lines))


def _all_gates_of(ctx, lines):
    """The gates of the statements at ``lines``, or "" (all) when one of them is not a single
    gate's."""
    gates = [ctx.line_gates.get(_target_name(ctx.stmts[j]), "") for j in lines]
    return "" if "" in gates else "".join(dict.fromkeys("".join(gates)))


def _but_its_derivative(ctx, name, alt, reads):
    """A gate read for another in every line but its own derivative's (packed-gate code takes
    s'(g) over the packed array it sliced right, and the gate itself from the wrong rows)."""
    tree = {i: _renamed(s, {name: ctx.ref(alt)}, keep=ctx.derivs) for i, s in reads.items()}
    tree = {i: s for i, s in tree.items() if ast.dump(s) != ast.dump(reads[i])}
    if len(tree) in (0, len(reads)):
        return                                          # no derivative reads it, or nothing else does
    first = min(tree)
    yield _edit(ctx, first, "wrong_value", reads[first], tree[first],
                f"{_says(alt)} where {SAYS.get(name, name)} belongs, in every line that reads it "
                f"({', '.join(_target_name(reads[i]) for i in tree)}) but its derivative's", extra=tree,
                cost=COST["wrong_value"] + 0.15, gates="".join(dict.fromkeys("".join(
                    ctx.line_gates.get(_target_name(reads[i]), "") for i in tree))))


def _says(alt):
    """An alternative in words: its SAYS entry, or an expression on the cache with the cache's
    entries by name (``sigmoid(cache['a_g'])`` -> "sigmoid(a_g) (recomputed from g's pre-activation block)")."""
    if alt in SAYS:
        return SAYS[alt]
    words = plain(alt).replace("np.", "").replace(" - forget_bias", "")
    block = re.search(r"\ba_(\w)\b", words)
    return f"{words} (recomputed from {block[1]}'s pre-activation block)" if block else words


def _read_names(stmt):
    return {n.id for n in ast.walk(_value(stmt)) if isinstance(n, ast.Name)}


def _everywhere(stmt, name, expr):
    """A copy of ``stmt`` with every read of ``name`` replaced by ``expr``."""
    return _renamed(stmt, {name: expr})


def _renamed(stmt, exprs, keep=()):
    """A copy of ``stmt`` with every read of each name in ``exprs`` replaced by its expression, in
    one pass (an expression may read the name it replaces); not inside calls of the functions in
    ``keep``."""
    class Swap(ast.NodeTransformer):
        def visit_Name(self, node):
            return copy.deepcopy(exprs[node.id]) if node.id in exprs else node

        def visit_Call(self, node):
            return node if _is_derivative(node, keep) else self.generic_visit(node)
    new = copy.deepcopy(stmt)
    new.value = Swap().visit(new.value)
    return ast.fix_missing_locations(new)


def carries_swapped(ctx):
    """The LSTM's h and c carries swapped between steps (a packed [h, c] gradient split the other
    way round): where they are taken from the step (dh0 and dc0 swapped too), or where the next
    step reads them (dh0 and dc0 returned right)."""
    carries = list(ctx.table["carries"])
    if len(carries) != 2:
        return
    a, b = carries
    taken = [(i, s) for i, s in enumerate(ctx.stmts) if isinstance(s, ast.Assign)
             and isinstance(s.targets[0], ast.Tuple) and {getattr(t, "id", "") for t in s.targets[0].elts} == {a, b}]
    read = {i: s for i, s in enumerate(ctx.stmts) if isinstance(s, ast.Assign) and not isinstance(s.value, ast.Dict)
            and not isinstance(s.targets[0], ast.Tuple) and {a, b} & _read_names(s)}
    for i, s in taken:
        new = copy.deepcopy(s)
        new.value.elts.reverse()
        yield _edit(ctx, i, "wrong_value", s, ast.fix_missing_locations(new),
                    f"the two carries swapped as they are taken from the step ({a} gets what belongs in {b} and the "
                    "other way round; the initial states' gradients too)")
    if read:
        swap = {a: ast.Name(b, ast.Load()), b: ast.Name(a, ast.Load())}
        tree = {i: _renamed(s, swap) for i, s in read.items()}
        first = min(tree)
        yield _edit(ctx, first, "wrong_value", read[first], tree[first],
                    f"the two carries swapped where the next step reads them ({a} read for {b} and the other way "
                    "round; the initial states' gradients returned right)", extra=tree)


def stored_one_slot_early(cell, step_tree, driver_tree):
    """Each step's input-side pre-activation gradient stored one slot early (``dA_x[t - 1] = da``,
    the last slot at t = 0) in the (T, N, .) array that the input weight's gradient and dx are
    formed from after the loop: da_t meets x_(t-1) (da_0 meets x_(T-1)) and dx_t lands at t - 1."""
    step, drive = _Context(cell, "step_backward", step_tree), _Context(cell, "backward", driver_tree)
    weight = next(((i, s) for i, s in enumerate(step.stmts) if _mutable(s) and _target_name(s) == "dW_ih"), None)
    dx = next(((j, s) for j, s in enumerate(drive.stmts) if isinstance(s, ast.Assign)
               and _src(s.targets[0]) == "dx[:, t]"), None)
    if weight is None or dx is None:
        return
    (i, w), (j, d) = weight, dx
    early = copy.deepcopy(d)
    target = _expr("dx[:, t - 1]")
    target.ctx = ast.Store()
    early.targets = [target]
    yield _edit(step, i, "wrong_time", w, _renamed(w, {"x": step.ref("x_prev_wrap")}),
                "each step's input-side pre-activation gradient stored one slot early (at t - 1, the last slot at "
                "t = 0) in the array the input weight's gradient and dx are formed from after the loop: x_(t-1) "
                "paired with da_t (x_(T-1) with da_0), dx_t written at t - 1", gates="",
                more={"backward": {j: ast.fix_missing_locations(early)}})


def partners_swapped(ctx):
    """The two partners of a product swapped in its backward (a ``Mul`` op returning ``(dy * a,
    dy * b)``): d_a = G b and d_b = G a written d_a = G a and d_b = G b (``di = dc * i`` and
    ``dg = dc * g``), each line reading its own value where the other's belongs."""
    lines = {}
    for i, s in enumerate(ctx.stmts):
        if _mutable(s):
            lines.setdefault(_target_name(s), []).append((i, s))
    for i, s in enumerate(ctx.stmts):
        a = _target_name(s)[1:] if _mutable(s) and _target_name(s).startswith("d") else ""
        for product in _products(_value(s)) if a else ():
            names = [f for f in _product_factors(product) if isinstance(f, ast.Name)]
            grads = [f.id for f in names if f.id.startswith("d")]
            for b in [f for f in names if not f.id.startswith("d") and f.id != a]:
                other = _partner(lines.get("d" + b.id, ()), grads, a, i)
                if other is None:
                    continue
                j, stmt_b, node_a = other
                if j < i:
                    continue                            # the pair is planted once, from its first line
                tree = {i: _replace(s, b, ctx.ref(a)), j: _replace(stmt_b, node_a, ctx.ref(b.id))}
                sa, sb = (SAYS[v] if v in SAYS and "(" not in SAYS[v] else v for v in (a, b.id))
                yield _edit(ctx, i, "wrong_value", s, tree[i],
                            f"the partners of the product {sa} * {sb} swapped in its backward: d{a} reads {sa} where "
                            f"{sb} belongs and d{b.id} reads {sb} where {sa} belongs (a product's backward returning "
                            "(dy * a, dy * b))", extra=tree, cost=COST["wrong_value"] + 0.1,
                            gates="".join(dict.fromkeys(ctx.line_gates.get(n, "") for n in ("d" + a, "d" + b.id))))


def _partner(lines, grads, a, i):
    """(index, statement, the node ``a``) of the line among ``lines`` (those computing d_b) that
    multiplies one of the same gradients ``grads`` by ``a``; None if none does."""
    for j, stmt in lines:
        for product in _products(_value(stmt)) if j != i else ():
            factors = [f for f in _product_factors(product) if isinstance(f, ast.Name)]
            node = next((f for f in factors if f.id == a), None)
            if node is not None and any(f.id in grads for f in factors):
                return j, stmt, node
    return None

"""Mistakes planted into one line of a cell's ``step_backward``: derivatives, sums and
products, names (weights, values at another time) and the order of the gate blocks."""

import ast
import copy

from .ast_tools import (_expr, _is_derivative, _names, _product_factors, _products, _rebuild_product, _rebuild_sum,
                        _replace, _src, _sum_terms, _target_name)
from .context import _Context, _edit, _mutable, _value
from .gate_rules import (_gates, fused_block_swaps, fused_gate_terms, gate_term_dropped, unpacked_in_another_order,
                         one_block_only, order_rules, pre_derivative_swaps, recomputed_without_forget_bias,
                         product_buffer_reused, reset_dropped_in_weights, reset_factor_rules, weight_block_rules,
                         weights_split_wrong)
from .concat_rules import concat_slice_rules, one_unit_kept, ones_column_rules, split_both_wrong
from .op_rules import every_product_own_value
from .output_rules import averaged_in_step
from .inplace_rules import (inplace_derivatives_fused, inplace_forward_products, inplace_gradient_rules,
                            inplace_line_rules, inplace_product_rules, recomputed_inplace_rules)
from .tables import AT_PRE_ACTIVATION, COST, NEGATED_Z, SAYS, Edit
from .time_rules import partners_swapped, weight_inputs_of_another_step, whole_step_wrong_time
from .clip_rules import clipped_lines
from .derivative_rules import derivative_rules

def sum_rules(ctx, i, stmt):
    """Terms of a sum and factors of a product, at any depth of the line: dropped, sign flipped,
    a factor applied twice; a difference written the other way round; the whole line negated."""
    value = _value(stmt)
    name = _target_name(stmt)
    for node in _sums(value):
        terms = _sum_terms(node)
        for k, (term, sign) in enumerate(terms):
            rest = _rebuild_sum([t for j, t in enumerate(terms) if j != k])
            yield _dropped_term(ctx, i, stmt, node, rest, term, name)
            flipped = [(t, -s if j == k else s) for j, (t, s) in enumerate(terms)]
            yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, node, _rebuild_sum(flipped)),
                        f"the term {_src(term)} of {name} with the wrong sign")
    for node in _products(value):
        factors = _product_factors(node)
        for k, f in enumerate(factors):
            if _is_derivative(f, ctx.derivs):
                continue                                    # derivative_rules name that one
            rest = _rebuild_product([g for j, g in enumerate(factors) if j != k])
            forward = all(isinstance(g, ast.Name) and g.id in ctx.cached for g in factors)   # r * prev_h
            local = not any(n.id.startswith("d") for n in ast.walk(f) if isinstance(n, ast.Name))   # f in dc * f:
            yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, node, rest),        # d c_t / d c_(t-1)
                        f"the factor {_src(f)} dropped from {name}" + (
                            f" ({_src(rest)} read where the forward's {_src(node)} belongs)" if forward else ""),
                        also="wrong_value" if forward else "derivative_missing" if local else "")
            if isinstance(f, ast.Name) and not f.id.startswith("d"):
                twice = _rebuild_product(factors[:k + 1] + [copy.deepcopy(f)] + factors[k + 1:])
                yield _edit(ctx, i, "derivative_twice", stmt, _replace(stmt, node, twice),
                            f"the factor {f.id} applied twice in {name}")
    for node in ast.walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _sum_terms(node) and len(_sum_terms(node)) == 2:
            swapped = ast.BinOp(node.right, ast.Sub(), node.left)
            yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, node, swapped),
                        f"{_src(node)} written {_src(swapped)} in {name}")
    yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, value, ast.UnaryOp(ast.USub(), value)),
                f"{name} with the wrong sign")


def _sums(value):
    """Every maximal chain of + and - in an expression (the top one and those nested inside)."""
    out, inside = [], set()
    for node in ast.walk(value):
        if id(node) in inside:
            continue
        terms = _sum_terms(node)
        if terms and len(terms) > 1:
            out.append(node)
            inside |= {id(n) for n in ast.walk(node) if n is not node and _is_chain_link(n, node)}
    return out


def _is_chain_link(n, top):
    """Whether ``n`` is one of the +/- BinOps making up the chain ``top`` (not a sum inside a term)."""
    stack = [top]
    while stack:
        m = stack.pop()
        for side in (m.left, m.right):
            if side is n:
                return isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub))
            if isinstance(side, ast.BinOp) and isinstance(side.op, (ast.Add, ast.Sub)):
                stack.append(side)
    return False


def _dropped_term(ctx, i, stmt, node, rest, term, name):
    """A term left out of a sum, named for what it is: the cell-state carry from step t+1
    (carry_dropped), the line's own earlier value (``x = x + ...`` written ``x = ...``: an
    overwrite), or any other term."""
    new = _replace(stmt, node, rest)
    carry = next((c for n, c in ctx.table["step_carries"].items() if n in _names(term)), "")
    if carry:                                           # or dc = dc_next, then dc = (local) where += belongs
        return _edit(ctx, i, "carry_dropped", stmt, new, f"the {carry} carry ({_src(term)}) never added into {name}",
                     carry=carry, also="carry_overwrites")
    if isinstance(term, ast.Name) and term.id == name:
        return _edit(ctx, i, "term_dropped", stmt, new,
                     f"{name} assigned (=) where it accumulates (+=): what it held before is lost",
                     also="carry_overwrites")
    carried = set(ctx.table["step_carries"]) | set(ctx.table["carries"])
    if isinstance(rest, ast.Name) and rest.id in carried:       # dc = dc_next: the carry overwrites the rest
        return _edit(ctx, i, "term_dropped", stmt, new, f"the term {_src(term)} dropped from {name}, which is "
                     f"assigned the carry {rest.id} alone (`{name} = {rest.id}`, or `{name} =+ ...`)",
                     also="carry_overwrites")
    return _edit(ctx, i, "term_dropped", stmt, new, f"the term {_src(term)} dropped from {name}")


def consumer_rules(ctx, i, stmt):
    """A value computed once but written out again, wrongly, where one later line uses it: a sum
    (``dc = dnext_c + dnext_h * o * tanh'``, read by ``dg = dc * i``) with a term dropped or its
    sign flipped; a product (``da = dnext_h * dact(next_h)``, read by ``dprev_h = da @ W_hh``)
    with a factor left out or a derivative applied again. User code that writes each line in
    full makes the mistake in that line only."""
    value = _value(stmt)
    if isinstance(stmt, ast.Assign) and len(_product_factors(value)) > 1:
        yield from _product_consumers(ctx, i, stmt)
    terms = _sum_terms(value) if isinstance(stmt, ast.Assign) else None
    name = _target_name(stmt)
    if not terms or len(terms) < 2:
        return
    for j in range(i + 1, len(ctx.stmts)):
        other = ctx.stmts[j]
        if not _mutable(other) or name not in _names(_value(other)) or _target_name(other) == name:
            continue
        reads = [n for n in ast.walk(_value(other)) if isinstance(n, ast.Name) and n.id == name]
        if len(reads) != 1:
            continue
        for k, (term, _) in enumerate(terms):
            rest = _rebuild_sum([copy.deepcopy(t) for m, t in enumerate(terms) if m != k])
            flipped = _rebuild_sum([(copy.deepcopy(t), -s if m == k else s) for m, (t, s) in enumerate(terms)])
            for cause, expr, what in (("term_dropped", rest, "left out"), ("wrong_sign", flipped, "with the wrong sign")):
                new = _replace(other, reads[0], expr)
                yield _edit(ctx, j, cause, other, new, f"{name} written out again in {_target_name(other)} with "
                            f"the term {_src(term)} {what}", cost=COST[cause] + 0.15)


def _product_consumers(ctx, i, stmt):
    name = _target_name(stmt)
    factors = _product_factors(_value(stmt))
    yield from _fused_consumers(ctx, i, name, factors)
    for j, other, read in _single_reads(ctx, i, name):
        for k, f in enumerate(factors):
            rest = _rebuild_product([copy.deepcopy(g) for m, g in enumerate(factors) if m != k])
            derivative = _is_derivative(f, ctx.derivs)
            cause = "derivative_missing" if derivative else "term_dropped"
            yield _edit(ctx, j, cause, other, _replace(other, read, rest),
                        f"{name} written out again in {_target_name(other)} without the factor {_src(f)}",
                        cost=COST[cause] + 0.15)
            if derivative:
                again = ast.BinOp(ast.Name(name, ast.Load()), ast.Mult(), copy.deepcopy(f))
                yield _edit(ctx, j, "derivative_twice", other, _replace(other, read, again),
                            f"the derivative {_src(f)} applied again to {name} in {_target_name(other)}",
                            cost=COST["derivative_twice"] + 0.15)


def _fused_consumers(ctx, i, name, factors):
    """The factor left out where the lines user code writes as one read the value: the weight
    gradients (``dW_ih = da.T @ x``, ``dW_hh = da.T @ prev_h``: one ``concat.T @ da``) or the
    products with the weights (``dx = da @ W_ih``, ``dprev_h = da @ W_hh``)."""
    from .gate_rules import _packed_operand
    for transposed in (True, False):
        reads = {j: (other, node) for j, other in enumerate(ctx.stmts) if j > i and _mutable(other)
                 for node in [_packed_operand(other, name, transposed)] if node is not None}
        if len(reads) < 2:
            continue
        lines = " and ".join(_target_name(other) for other, _ in reads.values())
        for k, f in enumerate(factors):
            rest = _rebuild_product([copy.deepcopy(g) for m, g in enumerate(factors) if m != k])
            cause = "derivative_missing" if _is_derivative(f, ctx.derivs) else "term_dropped"
            extra = {j: _replace(other, node, rest) for j, (other, node) in reads.items()}
            first = min(extra)
            yield _edit(ctx, first, cause, reads[first][0], extra[first],
                        f"{name} written out again in {lines} (one product over [x, h]) without the factor {_src(f)}",
                        cost=COST[cause] + 0.2, extra=extra)


def _single_reads(ctx, i, name):
    """(index, statement, the Name node) of each later line that reads ``name`` exactly once."""
    for j in range(i + 1, len(ctx.stmts)):
        other = ctx.stmts[j]
        if not _mutable(other) or name not in _names(_value(other)) or _target_name(other) == name:
            continue
        reads = [n for n in ast.walk(_value(other)) if isinstance(n, ast.Name) and n.id == name]
        if len(reads) == 1:
            yield j, other, reads[0]


def name_rules(ctx, i, stmt):
    value = _value(stmt)
    name = _target_name(stmt)
    in_derivative = {id(a) for n in ast.walk(value) if _is_derivative(n, ctx.derivs) for a in n.args}
    in_matmul = {id(a) for n in ast.walk(value) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult)
                 for side in (n.left, n.right) for a in ast.walk(side)}
    for node in [n for n in ast.walk(value) if isinstance(n, ast.Name)]:
        local = id(node) not in in_matmul               # a factor of an elementwise product: its local derivative
        gate = node.id in ("i", "f", "g", "o", "r", "z", "n", "tanh_c")   # an activation's output
        for alt in () if id(node) in in_derivative else ctx.table["wrong_point"].get(node.id, ()):
            yield _edit(ctx, i, "wrong_value", stmt, _replace(stmt, node, ctx.ref(alt)),
                        f"{SAYS.get(alt, alt)} where {SAYS.get(node.id, node.id)} belongs in {name}" + (
                            f" (the local derivative of {name[1:] or name}'s product taken at the wrong value)"
                            if local else ""),
                        also=",".join(["derivative_wrong_point"] * (local and gate and alt not in ("prev_h", "next_h"))
                                      + ["inplace_corruption"] * (alt == "r * prev_h" and (name == "dr" or "r * prev_h"
                                                                                         in _src(value)))))
        for alt in ctx.table["wrong_time"].get(node.id, ()):
            if alt.endswith("_prev_one") and name not in ("dprev_c", "dprev_h"):
                continue                                # (the multiplication moved: the carry's own line only)
            yield _edit(ctx, i, "wrong_time", stmt, _replace(stmt, node, ctx.ref(alt)),
                        f"{SAYS.get(alt, alt)} where {SAYS.get(node.id, node.id)} belongs in {name}",
                        cost=COST["wrong_time"] + (0.05 if alt.endswith(("_wrap", "_clamp")) else 0),
                        also=",".join(["wrong_value"] * (alt == "h_prev_wrap")
                                      + ["derivative_wrong_point"] * (id(node) in in_derivative)))
        yield from gate_term_dropped(ctx, i, stmt, node, name)
        if node.id not in ctx.table["weights"]:
            continue
        w = node.id
        yield _edit(ctx, i, "weight_transposed", stmt, _replace(stmt, node, _expr(f"_blockT({w})")),
                    f"{w} used transposed in {name}" + ("" if ctx.cell == "rnn" else " (every gate block)"))
        if w in ("W_ih", "W_hh") and ctx.cell != "rnn":
            for k, gate in enumerate(_gates(ctx.cell)):
                yield _edit(ctx, i, "weight_transposed", stmt, _replace(stmt, node, _expr(f"_blockT({w}, {k})")),
                            f"the {gate} block of {w} used transposed in {name}", cost=COST["weight_transposed"] + 0.1,
                            gates=gate)
        for other in sorted({o for group in ctx.table["confused_weights"] if w in group for o in group} - {w}):
            per_gate = w.startswith("W_h") and len(w) == 4          # the GRU's W_hr, W_hz, W_hn
            yield _edit(ctx, i, "wrong_weight", stmt, _replace(stmt, node, ast.Name(other, ast.Load())),
                        f"{other} where {w} belongs in {name}", gates=w[-1] if per_gate else None,
                        family=f"block {other[-1]} for {w[-1]}" if per_gate else "")
            if per_gate and "z" in (w[-1], other[-1]):          # a layout storing z's weights negated (u = 1 - z)
                yield _edit(ctx, i, "wrong_weight", stmt, _replace(stmt, node, _expr(f"-{other}")),
                            f"{other} where {w} belongs in {name}, {NEGATED_Z}", gates=w[-1],
                            cost=COST["wrong_weight"] + 0.1)
        if "d" + w in ctx.defined[i]:
            yield _edit(ctx, i, "gradient_for_weight", stmt, _replace(stmt, node, ast.Name("d" + w, ast.Load())),
                        f"the gradient d{w} where the weight {w} belongs in {name}")
        if w in ("W_ih", "W_hh") and ctx.cell != "rnn":
            yield from weight_block_rules(ctx, i, stmt, node, name)


def early_derivative_rules(ctx, i, stmt):
    """The RNN's carry multiplied by the previous step's derivative as it is sent back
    (``dh_prev = W_hh^T da * act'(h_(t-1))``), which that step applies again."""
    if ctx.cell != "rnn" or _target_name(stmt) != "dprev_h" or "dact" not in ctx.derivs:
        return
    new = _replace(stmt, stmt.value, _expr(f"({_src(stmt.value)}) * dact(prev_h)"))
    yield _edit(ctx, i, "derivative_twice", stmt, new, "the carry dh_(t-1) multiplied by the derivative at h_(t-1) "
                "as it is sent back, which the step before applies again (one step early, then twice)",
                cost=COST["derivative_twice"] + 0.1)


STEP_RULES = (derivative_rules, early_derivative_rules, sum_rules, name_rules, order_rules, inplace_product_rules,
              inplace_gradient_rules, inplace_line_rules, consumer_rules, concat_slice_rules, ones_column_rules, one_unit_kept,
              recomputed_inplace_rules,
              reset_factor_rules, averaged_in_step)


def fused_derivatives(ctx, edits):
    """A derivative mistake made on every gate that shares the activation (user code that takes
    sigmoid' once over the packed [i, f, o] or [r, z] gates), or on every line that applies it (an
    activation's backward rule written once and used everywhere, as a framework's op): the edits
    of one kind planted in each line that applies that derivative, together."""
    groups = {}
    for e in edits:
        if e.family and set(e.tree) == {e.index} and not e.family.startswith("block "):
            groups.setdefault((e.cause, e.family), {}).setdefault(e.index, e)   # block swaps: fused_block_swaps
            if e.family.endswith(AT_PRE_ACTIVATION):     # every gate's derivative at its pre-activation, whatever
                groups.setdefault((e.cause, "the derivatives" + AT_PRE_ACTIVATION), {}).setdefault(e.index, e)
    for (cause, kind), by_line in groups.items():
        if len(by_line) < 2 or (kind.startswith("the derivatives") and len(by_line) == len(
                groups.get((cause, next(iter(by_line.values())).family), ()))):
            continue                                    # one gate, or no more than its own activation's group
        tree, gates, lines = {}, "", []
        for e in by_line.values():
            tree.update(e.tree)
            gates += e.gates
            lines.append(e.gates or e.line)
        first, every_gate = by_line[min(by_line)], all(e.gates for e in by_line.values())
        where = (f"every gate that uses it ({', '.join(gates)})" if every_gate else
                 f"every line that applies it ({', '.join(lines)}: one activation's backward rule, used everywhere)")
        yield Edit(ctx.target, first.index, cause, first.before, first.after, f"{kind} in {where}", first.line, "",
                   first.cost + 0.1, gates if every_gate else "", tree, also=first.also)


def identity_dropped(ctx):
    """The GRU written as an increment, h_t = h_(t-1) + (1 - z_t)(n_t - h_(t-1)) (the interpolation
    form, or an explicit Euler step h + f(h)), with the increment's own derivative carried back
    and the identity path left out: dh_(t-1) gets dh_t (z_t - 1) where dh_t z_t belongs."""
    line = next(((i, s) for i, s in enumerate(ctx.stmts) if ctx.cell == "gru" and _mutable(s)
                 and _target_name(s) == "dprev_h" and _src(_value(s)) == "dnext_h * z"), None)
    if line:
        i, s = line
        yield _edit(ctx, i, "term_dropped", s, _replace(s, _value(s), _expr("dnext_h * (z - 1)")),
                    "the identity path of h_t = h_(t-1) + (1 - z_t)(n_t - h_(t-1)) left out of the carry (an "
                    "increment's derivative carried back without the 1 of h_(t-1) itself): dh_(t-1) gets "
                    "dh_t (z_t - 1) where dh_t z_t belongs", cost=COST["term_dropped"] + 0.1, gates="")


def step_edits(cell, fn_tree, activation=None, line_gates=None):
    """Every mistake of the grammar planted into ``step_backward``: each rule on each line, the
    same mistakes made in one gate's block only (for lines computing gate-packed values), and
    a gate's term dropped from lines user code writes as one."""
    ctx = _Context(cell, "step_backward", fn_tree, activation, line_gates)
    out = []
    for i, stmt in enumerate(ctx.stmts):
        if _mutable(stmt):
            for rule in STEP_RULES:
                edits = list(rule(ctx, i, stmt))
                out.extend(edits)
                out.extend(one_block_only(ctx, i, stmt, edits))
    return (out + list(fused_gate_terms(ctx)) + list(fused_derivatives(ctx, out)) + list(fused_block_swaps(ctx, out))
            + list(clipped_lines(ctx)) + list(pre_derivative_swaps(ctx))
            + list(recomputed_without_forget_bias(ctx)) + list(whole_step_wrong_time(ctx))
            + list(inplace_forward_products(ctx)) + list(weights_split_wrong(ctx))
            + list(weight_inputs_of_another_step(ctx)) + list(inplace_derivatives_fused(ctx))
            + list(partners_swapped(ctx)) + list(reset_dropped_in_weights(ctx)) + list(product_buffer_reused(ctx))
            + list(identity_dropped(ctx)) + list(unpacked_in_another_order(ctx)) + list(every_product_own_value(ctx))
            + list(split_both_wrong(ctx, out)))

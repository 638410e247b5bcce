"""Mistakes planted into one line of a cell's ``step_backward``: derivatives, sums and
products, names (weights, values at another time) and the order of the gate blocks."""

import ast
import copy
from itertools import permutations

from .ast_tools import (_expr, _is_derivative, _names, _product_factors, _rebuild_product, _rebuild_sum, _replace,
                        _src, _sum_terms, _target_name)
from .context import _Context, _edit, _mutable, _value
from .tables import COST, DERIVATIVES, MISWRITTEN, SAYS, Edit

def derivative_rules(ctx, i, stmt):
    value = _value(stmt)
    for call in [n for n in ast.walk(value) if _is_derivative(n, ctx.derivs)]:
        y = call.args[0]
        yname = y.id if isinstance(y, ast.Name) else _src(y)
        d = ctx.deriv_of(call)
        here = f"in {_target_name(stmt)}"
        factors = _product_factors(value)
        if call in factors and len(factors) > 1:
            rest = _rebuild_product([f for f in factors if f is not call])
            yield _edit(ctx, i, "derivative_missing", stmt, _replace(stmt, value, rest),
                        f"the derivative {_src(call)} left out {here}")
        yield _edit(ctx, i, "derivative_twice", stmt, _replace(stmt, call, ast.BinOp(call, ast.Mult(), copy.deepcopy(call))),
                    f"the derivative {_src(call)} applied twice {here}")
        yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, call, ast.UnaryOp(ast.USub(), call)),
                    f"the derivative {_src(call)} with the wrong sign {here}")
        others = [o for o in ("dtanh", "dsigmoid") if o != d] + (["drelu"] if ctx.cell == "rnn" and d != "drelu" else [])
        for other in others:
            new = _replace(stmt, call, ast.Call(ast.Name(other, ast.Load()), [y], []))
            yield _edit(ctx, i, "derivative_wrong_function", stmt, new,
                        f"{other[1:]}'s derivative where {DERIVATIVES[d]}'s belongs {here}")
        for form, says in MISWRITTEN.get(d, ()):
            expr = _expr(form.replace("y", yname))
            yield _edit(ctx, i, "derivative_miswritten", stmt, _replace(stmt, call, expr),
                        f"{DERIVATIVES[d]}' written as {says.replace('y', yname)} {here}")
        for alt in ctx.table["wrong_point"].get(yname, ()):
            new = _replace(stmt, y, ctx.ref(alt))
            yield _edit(ctx, i, "derivative_wrong_point", stmt, new,
                        f"{DERIVATIVES[d]}' evaluated at {SAYS.get(alt, alt)} where {SAYS.get(yname, yname)} "
                        f"belongs ({_src(call)} -> {d}({alt})) {here}")
        yield from _inplace(ctx, i, stmt, call, yname)


def _inplace(ctx, i, stmt, call, yname):
    """The derivative computed in place into the cached ``yname`` (``i *= 1 - i``): every
    other read of it in this step then sees the derivative instead."""
    extra = {}
    for j, other in enumerate(ctx.stmts):
        if j == i or not _mutable(other) or yname not in _names(_value(other)):
            continue
        new = other
        for node in [n for n in ast.walk(_value(other)) if isinstance(n, ast.Name) and n.id == yname]:
            new = _replace(new, _find_same(new, node, other), copy.deepcopy(call))
        extra[j] = new
    if extra:
        where = ", ".join(sorted({_target_name(ctx.stmts[j]) for j in extra}))
        yield _edit(ctx, i, "inplace_corruption", stmt, stmt,
                    f"{yname} overwritten in place by its derivative {_src(call)} (e.g. `{yname} *= ...`) "
                    f"before {where} read it", extra=extra)


def _find_same(new_stmt, node, old_stmt):
    """The node in ``new_stmt`` (a modified copy of ``old_stmt``) at the place of ``node``:
    the k-th Name with the same id, in walk order."""
    same_old = [n for n in ast.walk(old_stmt) if isinstance(n, ast.Name) and n.id == node.id]
    k = same_old.index(node)
    remaining = [n for n in ast.walk(new_stmt) if isinstance(n, ast.Name) and n.id == node.id]
    return remaining[min(k, len(remaining) - 1)] if len(remaining) == len(same_old) else remaining[0]


def sum_rules(ctx, i, stmt):
    value = _value(stmt)
    name = _target_name(stmt)
    terms = _sum_terms(value)
    if terms and len(terms) > 1:
        for k, (term, sign) in enumerate(terms):
            carry = next((c for n, c in ctx.table["carries"].items() if n in _names(term)), "")
            rest = _rebuild_sum([t for j, t in enumerate(terms) if j != k])
            if carry:
                yield _edit(ctx, i, "carry_dropped", stmt, _replace(stmt, value, rest),
                            f"the {carry} carry ({_src(term)}) never added into {name}", carry=carry)
            else:
                yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, value, rest),
                            f"the term {_src(term)} dropped from {name}")
            flipped = [(t, -s if j == k else s) for j, (t, s) in enumerate(terms)]
            yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, value, _rebuild_sum(flipped)),
                        f"the term {_src(term)} of {name} with the wrong sign")
    factors = _product_factors(value)
    if len(factors) > 1:
        for k, f in enumerate(factors):
            if _is_derivative(f, ctx.derivs):
                continue                                    # derivative_rules name that one
            rest = _rebuild_product([g for j, g in enumerate(factors) if j != k])
            yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, value, rest),
                        f"the factor {_src(f)} dropped from {name}")
    for node in ast.walk(value):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and _sum_terms(node) and len(_sum_terms(node)) == 2:
            swapped = ast.BinOp(node.right, ast.Sub(), node.left)
            yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, node, swapped),
                        f"{_src(node)} written {_src(swapped)} in {name}")
    yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, value, ast.UnaryOp(ast.USub(), value)),
                f"{name} with the wrong sign")


def name_rules(ctx, i, stmt):
    value = _value(stmt)
    name = _target_name(stmt)
    for node in [n for n in ast.walk(value) if isinstance(n, ast.Name)]:
        for alt in ctx.table["wrong_time"].get(node.id, ()):
            yield _edit(ctx, i, "wrong_time", stmt, _replace(stmt, node, ctx.ref(alt)),
                        f"{SAYS.get(alt, alt)} where {SAYS.get(node.id, node.id)} belongs in {name}")
        yield from _gate_term_dropped(ctx, i, stmt, node, name)
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
            yield _edit(ctx, i, "wrong_weight", stmt, _replace(stmt, node, ast.Name(other, ast.Load())),
                        f"{other} where {w} belongs in {name}")
        if "d" + w in ctx.defined[i]:
            yield _edit(ctx, i, "gradient_for_weight", stmt, _replace(stmt, node, ast.Name("d" + w, ast.Load())),
                        f"the gradient d{w} where the weight {w} belongs in {name}")


def _gate_term_dropped(ctx, i, stmt, node, name):
    """One gate's part of a product over the packed gates left out: ``da @ W_hh`` written by hand
    as a sum over the gates (``da_f @ W_f + da_i @ W_i + ...``) with one term forgotten, or one
    gate's weight gradient never accumulated (``dW_ih = da.T @ x`` without the o block)."""
    axis = ctx.table.get("packed", {}).get(node.id, 0 if node.id in ("W_ih", "W_hh") else None)
    if axis is None or ctx.cell == "rnn" or not _is_matmul_operand(stmt, node):
        return
    G = len(_gates(ctx.cell))
    for k, gate in enumerate(_gates(ctx.cell)):
        yield _edit(ctx, i, "term_dropped", stmt, _replace(stmt, node, _expr(f"_gatezero({node.id}, {k}, {axis}, {G})")),
                    f"the {gate} gate's term left out of {name} (its block of {node.id} missing from the sum over "
                    "the gates)", cost=COST["term_dropped"] + 0.1, gates=gate)


def _is_matmul_operand(stmt, node):
    """Whether ``node`` is an operand (or a transposed operand) of a matrix product in ``stmt``."""
    for m in ast.walk(stmt):
        if isinstance(m, ast.BinOp) and isinstance(m.op, ast.MatMult):
            for side in (m.left, m.right):
                if side is node or (isinstance(side, ast.Attribute) and side.value is node):
                    return True
    return False


def _gates(cell):
    return {"lstm": "ifgo", "gru": "rzn"}.get(cell, "")


def _gate_lists(ctx):
    """{statement index: its np.concatenate([...]) list of the G gate gradients}."""
    out = {}
    for i, stmt in enumerate(ctx.stmts):
        value = _value(stmt)
        if (_mutable(stmt) and isinstance(value, ast.Call) and _src(value.func) == "np.concatenate" and value.args
                and isinstance(value.args[0], ast.List) and len(value.args[0].elts) == len(_gates(ctx.cell))):
            out[i] = value.args[0]
    return out


def order_rules(ctx, i, stmt):
    """np.concatenate([da_i, da_f, da_g, da_o]) with the blocks in another order: in this line, and
    in every such line at once (the GRU's da_x and da_h, which user code builds from one list)."""
    lists = _gate_lists(ctx)
    if i not in lists:
        return
    gates = _gates(ctx.cell)
    together = i == min(lists) and len(lists) > 1
    for perm in permutations(range(len(gates))):
        if perm == tuple(range(len(gates))):
            continue
        moved = "".join(g for k, g in zip(perm, gates) if gates[k] != g)
        swapped = {j: _replace(ctx.stmts[j], lst, ast.List([copy.deepcopy(lst.elts[k]) for k in perm], ast.Load()))
                   for j, lst in lists.items()}
        # {written} and {expected} are filled in the user's gate order and letters by the diagnosis
        for tree in [{i: swapped[i]}] + ([swapped] if together else []):
            lines = " and ".join(_target_name(ctx.stmts[j]) for j in tree)
            yield Edit(ctx.target, i, "gate_order", _src(stmt), _src(swapped[i]),
                       f"the gate gradients written into {lines} in the order {{written}} instead of {{expected}}",
                       _target_name(stmt), "", COST["gate_order"] + (0.05 if len(tree) > 1 else 0), moved, tree, perm)


STEP_RULES = (derivative_rules, sum_rules, name_rules, order_rules)


def step_edits(cell, fn_tree, activation=None, line_gates=None):
    """Every mistake of the grammar planted into one line of ``step_backward``."""
    ctx = _Context(cell, "step_backward", fn_tree, activation, line_gates)
    out = []
    for i, stmt in enumerate(ctx.stmts):
        if _mutable(stmt):
            for rule in STEP_RULES:
                out.extend(rule(ctx, i, stmt))
    return out + list(_fused_gate_terms(ctx))


def _fused_gate_terms(ctx):
    """A gate's term dropped from lines that user code often writes as one: ``dx = da @ W_ih`` and
    ``dprev_h = da @ W_hh`` are one product with [W_ih | W_hh] on concat([x, h]) (TF's kernel,
    the course's W_f); ``dW_ih = da.T @ x`` and ``dW_hh = da.T @ prev_h`` one weight gradient."""
    G = len(_gates(ctx.cell))
    for packed, axis in ctx.table.get("packed", {}).items():
        for transposed in (False, True):
            where = {}
            for j, stmt in enumerate(ctx.stmts):
                if _mutable(stmt):
                    node = _packed_operand(stmt, packed, transposed)
                    if node is not None:
                        where[j] = (stmt, node)
            if len(where) < 2:
                continue
            lines = " and ".join(_target_name(stmt) for stmt, _ in where.values())
            first = min(where)
            for k, gate in enumerate(_gates(ctx.cell)):
                extra = {j: _replace(stmt, node, _expr(f"_gatezero({packed}, {k}, {axis}, {G})"))
                         for j, (stmt, node) in where.items()}
                yield _edit(ctx, first, "term_dropped", where[first][0], extra[first],
                            f"the {gate} gate's term left out of {lines} (one product over the gates, written "
                            f"as a sum with the {gate} term forgotten)", cost=COST["term_dropped"] + 0.15,
                            extra=extra, gates=gate)


def _packed_operand(stmt, packed, transposed):
    """The Name node ``packed`` where it is a matrix-product operand (as ``packed.T`` when
    ``transposed``) in ``stmt``, or None."""
    for m in ast.walk(stmt):
        if isinstance(m, ast.BinOp) and isinstance(m.op, ast.MatMult):
            side = m.left
            if transposed and isinstance(side, ast.Attribute) and side.attr == "T" and isinstance(side.value, ast.Name) \
                    and side.value.id == packed:
                return side.value
            if not transposed and isinstance(side, ast.Name) and side.id == packed:
                return side
    return None

"""In-place writes people make in a step's backward: a derivative or a product computed into the
array of a value that is read again (``i *= 1 - i`` before ``dg = dc * i``; ``rh = r; rh *=
h_prev``; ``df = dc; df *= prev_c``), so the later reads see what was written there."""

import ast
import copy

from .ast_tools import _expr, _names, _product_factors, _replace, _src, _target_name
from .context import _edit, _mutable, _value
from .tables import COST


def _inplace(ctx, i, stmt, call, yname):
    """The derivative computed in place into the cached ``yname`` (``i *= 1 - i``), or the square
    it needs (``tc **= 2`` on the way to 1 - tanh^2): every other read of it in this step then
    sees that instead."""
    partial = {"dtanh": (_expr(f"{yname} * {yname}"), f"its square (`{yname} **= 2` on the way to 1 - {yname}**2)")}
    whole = (copy.deepcopy(_value(stmt)), f"this line's whole value {_target_name(stmt)} (built in {yname}'s array)")
    for written, what in [(call, f"its derivative {_src(call)} (e.g. `{yname} *= ...`)"), whole] + \
            ([partial[ctx.deriv_of(call)]] if ctx.deriv_of(call) in partial else []):
        extra = {}
        for j, other in enumerate(ctx.stmts):
            if j == i or not _mutable(other) or yname not in _names(_value(other)):
                continue
            new = other
            for node in [n for n in ast.walk(_value(other)) if isinstance(n, ast.Name) and n.id == yname]:
                new = _replace(new, _find_same(new, node, other), copy.deepcopy(written))
            extra[j] = new
        if extra:
            where = ", ".join(sorted({_target_name(ctx.stmts[j]) for j in extra}))
            yield _edit(ctx, i, "inplace_corruption", stmt, stmt,
                        f"{yname} overwritten in place by {what} before {where} read it", extra=extra)
        for j in extra if len(extra) > 1 else ():          # code ordered otherwise: one read after the write,
            yield _edit(ctx, i, "inplace_corruption", stmt, stmt,        # the others before it
                        f"{yname} overwritten in place by {what} before {_target_name(ctx.stmts[j])} read it (the "
                        "other reads come before the write)", extra={j: extra[j]}, cost=COST["inplace_corruption"] + 0.05)


def inplace_product_rules(ctx, i, stmt):
    """A product of a cached value computed in place into it (``rh = r; rh *= h_prev``), early in
    the step: every other read of that value in the step sees the product."""
    for product in _products_of(_value(stmt)):
        for f in _product_factors(product):
            if not (isinstance(f, ast.Name) and f.id in ctx.cached and not f.id.startswith(("d", "W_"))):
                continue
            extra = _reads_replaced(ctx, f.id, product, [j for j in range(len(ctx.stmts)) if j != i])
            if extra:
                where = ", ".join(sorted({_target_name(ctx.stmts[j]) for j in extra}))
                yield _edit(ctx, i, "inplace_corruption", stmt, stmt,
                            f"{_src(product)} computed in place into {f.id} (`{f.id} *= ...`), so {where} read "
                            f"the product where {f.id} belongs", extra=extra)


def inplace_gradient_rules(ctx, i, stmt):
    """A product computed in place into the gradient it starts from (``df = dc; df *= prev_c``
    aliases dc, ``dn = dnext_h; dn *= 1 - z`` aliases dnext_h): the later lines reading that
    gradient see the product."""
    for product in _products_of(_value(stmt)):
        factors = _product_factors(product)
        f = factors[0]
        if not (isinstance(f, ast.Name) and f.id.startswith("d") and len(factors) > 1 and f.id != _target_name(stmt)):
            continue
        defined = next((j for j, o in enumerate(ctx.stmts) if _target_name(o) == f.id), -1)
        passes = [(i + 1, 0.0)] + ([(defined + 1, 0.05)] if defined + 1 < i else [])   # the lines after it, or
        for first, cost in passes:                        # every reader (user code computing this line earlier)
            extra = _reads_replaced(ctx, f.id, product, [j for j in range(first, len(ctx.stmts))
                                                         if j != i and _target_name(ctx.stmts[j]) != f.id])
            if extra:
                where = ", ".join(sorted({_target_name(ctx.stmts[j]) for j in extra}))
                yield _edit(ctx, i, "inplace_corruption", stmt, stmt,
                            f"{_target_name(stmt)} computed in place in {f.id}'s array ({_target_name(stmt)} = {f.id}; "
                            f"{_target_name(stmt)} *= ...), so {where} read the product where {f.id} belongs",
                            extra=extra, cost=COST["inplace_corruption"] + cost, gates="")


def recomputed_inplace_rules(ctx, i, stmt):
    """A forward value the textbook recomputes in the backward (the GRU's a_hn = h_(t-1) W_hn^T +
    b_hn) that user code caches, after the forward multiplied it in place by a gate
    (``hn *= r`` on the way to r * hn): the backward reads the product."""
    name = _target_name(stmt)
    gates = {"lstm": "ifgo", "gru": "rzn"}.get(ctx.cell, "")
    if not gates or name.startswith("d") or name in ctx.cached or not _mutable(stmt):
        return
    if not any(isinstance(n, ast.Name) and n.id.startswith("W_") for n in ast.walk(_value(stmt))):
        return                                          # a forward product (h W^T + b), not a gradient's helper
    for gate in gates:
        if gate in ctx.cached:
            new = _replace(stmt, stmt.value, _expr(f"({_src(stmt.value)}) * {gate}"))
            yield _edit(ctx, i, "inplace_corruption", stmt, new,
                        f"{name} multiplied in place by {gate} in the forward (`{name} *= {gate}`) and cached so: "
                        f"the backward reads {gate} * {name} where {name} belongs", cost=COST["inplace_corruption"] + 0.05)


def _reads_replaced(ctx, name, value, lines):
    """{line index: that statement with every read of ``name`` replaced by ``value``} for the
    ``lines`` that read it (what an in-place write into ``name``'s array makes them see)."""
    extra = {}
    for j in lines:
        other = ctx.stmts[j]
        if not _mutable(other) or name not in _names(_value(other)):
            continue
        new = other
        for node in [n for n in ast.walk(_value(other)) if isinstance(n, ast.Name) and n.id == name]:
            new = _replace(new, _find_same(new, node, other), copy.deepcopy(value))
        extra[j] = new
    return extra


def _find_same(new_stmt, node, old_stmt):
    """The node in ``new_stmt`` (a modified copy of ``old_stmt``) at the place of ``node``:
    the k-th Name with the same id, in walk order."""
    same_old = [n for n in ast.walk(old_stmt) if isinstance(n, ast.Name) and n.id == node.id]
    k = same_old.index(node)
    remaining = [n for n in ast.walk(new_stmt) if isinstance(n, ast.Name) and n.id == node.id]
    return remaining[min(k, len(remaining) - 1)] if len(remaining) == len(same_old) else remaining[0]




def _products_of(value):
    from .ast_tools import _products
    return _products(value)


# Forward products whose factor user code multiplies in place into its cached partner on the way
# (``prev_c *= f; c = prev_c + i * g``). Only the state: the gates' in-place products (i *= g) are
# run_candidates' cache candidates, and a state that is an output (h) changes the forward too.
INPLACE_PRODUCTS = {"lstm": (("prev_c", "f"),)}


def inplace_forward_products(ctx):
    """A cached forward value scaled in place by the factor it meets in the forward (c_(t-1) by f_t
    on the way to f c_(t-1) + i g): every read of it in the step sees the product."""
    for name, factor in INPLACE_PRODUCTS.get(ctx.cell, ()):
        lines = [j for j, s in enumerate(ctx.stmts) if _mutable(s) and name in _names(_value(s))]
        extra = _reads_replaced(ctx, name, _expr(f"({factor} * {name})"), lines)
        if not extra:
            continue
        first = min(extra)
        yield _edit(ctx, first, "inplace_corruption", ctx.stmts[first], extra[first],
                    f"{name} multiplied in place by {factor} in the forward (`{name} *= {factor}` on the way to "
                    f"{factor} * {name}): the backward reads {factor} * {name} where {name} belongs",
                    extra=extra, cost=COST["inplace_corruption"] + 0.05)

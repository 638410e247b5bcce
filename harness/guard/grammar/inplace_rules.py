"""In-place writes people make in a step's backward: a derivative or a product computed into the
array of a value that is read again (``i *= 1 - i`` before ``dg = dc * i``; ``rh = r; rh *=
h_prev``; ``df = dc; df *= prev_c``), so the later reads see what was written there."""

import ast
import copy

from .ast_tools import _expr, _is_derivative, _names, _product_factors, _replace, _src, _target_name
from .context import _edit, _mutable, _value
from .tables import COST, plain
from .time_rules import _all_gates_of, _renamed


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


def inplace_line_rules(ctx, i, stmt):
    """A line's value built in the array of a cached value it reads (``dz = h_prev; dz -= n; dz
    *= dh`` for dz = dh (h_(t-1) - n)): the later gradient lines reading that value see the line's
    (the forward values the textbook recomputes from it, user code keeps cached)."""
    name = _target_name(stmt)
    if not name.startswith("d") or name.startswith(("dW", "db")) or not isinstance(_value(stmt), ast.BinOp) \
            or name in _names(_value(stmt)):
        return                                          # (a weight's sum, or a line adding to itself)
    for v in sorted({n.id for n in ast.walk(_value(stmt)) if isinstance(n, ast.Name)} & ctx.cached):
        if v.startswith(("d", "W_")) or v == name:
            continue
        later = [j for j in range(i + 1, len(ctx.stmts)) if _target_name(ctx.stmts[j]).startswith("d")]
        extra = _reads_replaced(ctx, v, ast.Name(name, ast.Load()), later)     # (forward values: cached right)
        if extra:
            where = ", ".join(sorted({_target_name(ctx.stmts[j]) for j in extra}))
            yield _edit(ctx, i, "inplace_corruption", stmt, stmt,
                        f"{name} computed in place in the cached {v}'s array (`{name} = {v}` and in-place operations "
                        f"on it), so {where} read {name} where {v} belongs", extra=extra,
                        cost=COST["inplace_corruption"] + 0.1,
                        gates="")


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
            subsets = [(extra, cost)] + ([({k: v for k, v in extra.items() if k != j}, cost + 0.05) for j in extra]
                                         if first < i and len(extra) > 2 else [])   # one reader before the write
            for tree, more in subsets:
                if tree:
                    where = ", ".join(sorted({_target_name(ctx.stmts[j]) for j in tree}))
                    yield _edit(ctx, i, "inplace_corruption", stmt, stmt,
                                f"{_target_name(stmt)} computed in place in {f.id}'s array ({_target_name(stmt)} = "
                                f"{f.id}; {_target_name(stmt)} *= ...), so {where} read the product where {f.id} "
                                "belongs", extra=tree, cost=COST["inplace_corruption"] + more, gates="")


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


def _activated_in_place(*sigmoids, tanh):
    """The gates' cached pre-activations overwritten in place by their activations (torch's
    ``sigmoid_`` on views of the saved gates, ``np.tanh(a, out=a)``), the backward recomputing the
    gates from them: it reads s(s(a)) for each sigmoid gate, and tanh(tanh(a)) where the tanh block
    was overwritten too, or for the tanh block alone (``np.tanh(a_g, out=a_g)``)."""
    reads = {g: f"sigmoid({g})" for g in sigmoids}
    says = ("the gates' cached pre-activations overwritten in place by their activations in the forward (`sigmoid_` "
            "on views of the saved gates{}), so the backward, recomputing the gates from them, reads {} where {} belong")
    seen = ", ".join(f"s({g})" for g in sigmoids)
    return ((says.format("", seen, ", ".join(sigmoids)), reads),
            (says.format(f", `tanh_` on {tanh}'s", f"{seen} and tanh({tanh})", ", ".join((*sigmoids, tanh))),
             {**reads, tanh: f"np.tanh({tanh})"}),
            (f"{tanh}'s cached pre-activation overwritten in place by {tanh} in the forward (`np.tanh(a, out=a)`), so "
             f"the backward, recomputing {tanh} from it, reads tanh({tanh}) where {tanh} belongs",
             {tanh: f"np.tanh({tanh})"}))


# Forward values user code overwrites in place on the way to the next forward value (``prev_c *=
# f`` before ``c = prev_c + i * g``; ``omz = z; omz *= -1; omz += 1`` for 1 - z), and what every
# read of the cached array then sees (a third element: only with reset_after True or False). Only arrays the forward does not read again as outputs (a
# state that is an output, h, changes the forward too); the gates' in-place products with each
# other (i *= g) are run_candidates' cache candidates.
INPLACE_FORWARD = {
    "lstm": (("prev_c multiplied in place by f in the forward (`prev_c *= f` on the way to f * prev_c): the backward "
              "reads f * prev_c where prev_c belongs", {"prev_c": "f * prev_c"}),
             ("c overwritten in place by tanh(c) in the forward (`np.tanh(c, out=c)`): the backward reads "
              "tanh(tanh(c_t)) where tanh(c_t) belongs and tanh(c_(t-1)) where c_(t-1) belongs",
              {"tanh_c": "np.tanh(tanh_c)", "prev_c": "np.tanh(prev_c)"}),
             *_activated_in_place("i", "f", "o", tanh="g")),
    "gru": (("z overwritten in place by 1 - z in the forward (`z *= -1; z += 1`): the backward reads 1 - z where z "
             "belongs", {"z": "1 - z"}),
            ("n overwritten in place by n - h_(t-1) in the forward (`n -= h_prev` on the way to n - h_(t-1)): the "
             "backward reads n - h_(t-1) where n belongs", {"n": "n - prev_h"}),
            ("a_hn turned into a_n in place in the forward (`a_n = a_hn; a_n *= r; a_n += a_xn`): the backward reads "
             "a_n where a_hn belongs", {"a_hn": "cache['a_n']"}, True),
            ("r multiplied in place by a_hn in the forward (`r *= a_hn` on the way to r * a_hn): the backward reads "
             "r * a_hn where r belongs", {"r": "r * cache['a_hn']"}, True),
            ("r multiplied in place by h_(t-1) in the forward (`r *= h_prev` on the way to r * h_(t-1)): the backward "
             "reads r * h_(t-1) where r belongs", {"r": "r * prev_h"}, False),
            *_activated_in_place("r", "z", tanh="n")),
}


def inplace_forward_products(ctx):
    """A cached forward value overwritten in place by the next value the forward builds from it
    (c_(t-1) scaled by f_t on the way to f c_(t-1) + i g, z turned into 1 - z): every read of it in
    the step sees that value; for one-value entries read in several lines, one of them only (the
    others read a copy or come before the write), named a value read for another first."""
    for says, seen, *reset_after in INPLACE_FORWARD.get(ctx.cell, ()):
        lines = [j for j, s in enumerate(ctx.stmts) if _mutable(s) and set(seen) & _names(_value(s))]
        reads = {k: _expr(f"({v})" if not reset_after else        # the GRU's products of one reset convention
                          f"(({v}) if {'' if reset_after[0] else 'not '}cache['reset_after'] else {k})")
                 for k, v in seen.items()}
        extra = {j: _renamed(ctx.stmts[j], reads) for j in lines}
        if extra:
            yield _edit(ctx, min(extra), "inplace_corruption", ctx.stmts[min(extra)], extra[min(extra)], says,
                        extra=extra, cost=COST["inplace_corruption"] + 0.05, gates=_gates_of(ctx, extra))
        if len(seen) > 1 or len(lines) < 2:
            continue                    # one read only sees it (the others read a copy or come before the write):
        (name, value), = seen.items()   # as much one value read for another in that line
        words = plain(value).replace("prev_h", "h_(t-1)")
        for j in lines:
            line = _target_name(ctx.stmts[j])
            at = any(_is_derivative(c, ctx.derivs) and name in _names(c) for c in ast.walk(_value(ctx.stmts[j])))
            yield _edit(ctx, j, "wrong_value", ctx.stmts[j], extra[j],
                        f"{words} read where {name} belongs, in {line} only (what {line} sees when the forward "
                        f"overwrote {name} in place and the other reads came before the write)",
                        cost=COST["wrong_value"] + 0.1, gates=_gates_of(ctx, {j: 0}),
                        also="inplace_corruption" + (",derivative_wrong_point" if at else ""))


def _gates_of(ctx, lines):
    return "".join(dict.fromkeys(ctx.line_gates.get(_target_name(ctx.stmts[j]), "") for j in lines))


def inplace_derivatives_fused(ctx):
    """The derivative of one activation computed in place over all its gates at once (``gates[:,
    :3H] *= 1 - gates[:, :3H]`` on the packed sigmoid gates): every later read of those gates,
    outside their own derivatives, sees the derivative."""
    calls = {}
    for s in ctx.stmts:
        for c in (n for n in ast.walk(_value(s)) if _is_derivative(n, ctx.derivs)) if _mutable(s) else ():
            if isinstance(c.args[0], ast.Name) and c.args[0].id in ctx.cached and c.args[0].id in set("ifgorzn"):
                calls.setdefault(ctx.deriv_of(c), {})[c.args[0].id] = c
    for d, by_value in calls.items():
        if len(by_value) < 2:
            continue                                    # one value: _inplace plants it
        swap = {y: copy.deepcopy(c) for y, c in by_value.items()}
        tree = {j: _renamed(s, swap, keep=ctx.derivs) for j, s in enumerate(ctx.stmts) if _mutable(s)}
        tree = {j: s for j, s in tree.items() if ast.dump(s) != ast.dump(ctx.stmts[j])}
        if tree:
            first = min(tree)
            names = ", ".join(by_value)
            yield _edit(ctx, first, "inplace_corruption", ctx.stmts[first], tree[first],
                        f"{names} overwritten in place by their derivatives (one `*= 1 - ...` over the packed gates) "
                        f"before {', '.join(dict.fromkeys(_target_name(ctx.stmts[j]) for j in tree))} read them",
                        extra=tree, cost=COST["inplace_corruption"] + 0.05, gates=_all_gates_of(ctx, tree))

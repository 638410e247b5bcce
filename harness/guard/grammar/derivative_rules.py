"""Mistakes in a line's local derivative: left out, applied twice, with the wrong sign, of
another function, written wrongly (a table of the ways each is miswritten), taken at another
value (the pre-activation, another gate, the step before's state), or the activation itself."""

import ast
import copy

from .ast_tools import _expr, _is_derivative, _product_factors, _products, _rebuild_product, _replace, _src, _target_name
from .context import _edit, _value
from .inplace_rules import _inplace
from .tables import COST, DERIVATIVES, MISWRITTEN, SAYS


# A derivative taken at the step before's state where the step's own belongs: also the wrong time.
EARLIER = {("next_h", "prev_h"): "wrong_time,wrong_value", ("tanh_c", "prev_c"): "wrong_time,wrong_value"}

# Another function's derivative written from the pre-activation a (recovered from y): tanh'(a)
# = sech^2(a) for a sigmoid gate, sigmoid'(a) for a tanh.
FROM_PRE_ACTIVATION = {"dsigmoid": ("dtanh", "1 - np.tanh({a}) ** 2"), "dtanh": ("dsigmoid", "dsigmoid(sigmoid({a}))")}


def derivative_rules(ctx, i, stmt):
    value = _value(stmt)
    for call in [n for n in ast.walk(value) if _is_derivative(n, ctx.derivs)]:
        y = call.args[0]
        yname = y.id if isinstance(y, ast.Name) else _src(y)
        d = ctx.deriv_of(call)
        here = f"in {_target_name(stmt)}"
        for product in _products(value):
            factors = _product_factors(product)
            if call in factors and len(factors) > 1:
                rest = _rebuild_product([f for f in factors if f is not call])
                yield _edit(ctx, i, "derivative_missing", stmt, _replace(stmt, product, rest),
                            f"the derivative {_src(call)} left out {here}", family=f"{DERIVATIVES[d]}' left out")
                forms = {"dsigmoid": (f"{_src(rest)} * {yname} - {yname}", f"{_src(rest)} * {yname} - {yname} * {yname}",
                                      f"{yname} * (1 - {yname} * {_src(rest)})"),
                         "dtanh": (f"{_src(rest)} * 1 - {yname} * {yname}", f"1 - {yname} * {yname} * {_src(rest)}")
                         }.get(d, ())
                for unbracketed in forms if product is value else ():
                    shape = unbracketed.replace(_src(rest), "d").replace(yname, "y")
                    yield _edit(ctx, i, "derivative_miswritten", stmt, _replace(stmt, value, _expr(unbracketed)),
                                f"{DERIVATIVES[d]}' written without its brackets in {_target_name(stmt)} "
                                f"(`{unbracketed}`)", family=f"{DERIVATIVES[d]}' written without its brackets (`{shape}`)")
        yield _edit(ctx, i, "derivative_twice", stmt, _replace(stmt, call, ast.BinOp(call, ast.Mult(), copy.deepcopy(call))),
                    f"the derivative {_src(call)} applied twice {here}", family=f"{DERIVATIVES[d]}' applied twice")
        yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, call, ast.UnaryOp(ast.USub(), call)),
                    f"the derivative {_src(call)} with the wrong sign {here}", family=f"{DERIVATIVES[d]}' with the wrong sign")
        others = [o for o in ("dtanh", "dsigmoid") if o != d] + (["drelu"] if ctx.cell == "rnn" and d != "drelu" else [])
        for other in others:
            new = _replace(stmt, call, ast.Call(ast.Name(other, ast.Load()), [y], []))
            yield _edit(ctx, i, "derivative_wrong_function", stmt, new,
                        f"{other[1:]}'s derivative where {DERIVATIVES[d]}'s belongs {here}",
                        family=f"{other[1:]}'s derivative where {DERIVATIVES[d]}'s belongs")
        pre = next((a for a in ctx.table["wrong_point"].get(yname, ()) if a.startswith("a")), None)
        if d in FROM_PRE_ACTIVATION and pre:
            other, form = FROM_PRE_ACTIVATION[d]
            yield _edit(ctx, i, "derivative_wrong_function", stmt,
                        _replace(stmt, call, _expr(form.format(a=_src(ctx.ref(pre))))),
                        f"{other[1:]}'s derivative of the pre-activation where {DERIVATIVES[d]}'s belongs {here} "
                        f"({other[1:]}'(a), a the pre-activation of {yname})",
                        family=f"{other[1:]}'s derivative of the pre-activation where {DERIVATIVES[d]}'s belongs",
                        cost=COST["derivative_wrong_function"] + 0.05)
        yield from _itself_rules(ctx, i, stmt, call, d, pre, here)
        for form, says in MISWRITTEN.get(d, ()):
            expr = _expr(form.replace("y", yname))
            yield _edit(ctx, i, "derivative_miswritten", stmt, _replace(stmt, call, expr),
                        f"{DERIVATIVES[d]}' written as {says.replace('y', yname)} {here}",
                        family=f"{DERIVATIVES[d]}' written as {says}")
        yield from _wrong_points(ctx, i, stmt, call, d, here)
        yield from _inplace(ctx, i, stmt, call, yname)


def _itself_rules(ctx, i, stmt, call, d, pre, here):
    """The activation's output itself where its derivative belongs (sigmoid' written ``s``: a
    formula written wrongly; relu's slope written ``relu(a)``: another function), and relu' as
    sign(a) (-1 on the negative side)."""
    y = call.args[0]
    yname = y.id if isinstance(y, ast.Name) else _src(y)
    cause, also = (("derivative_miswritten", "derivative_wrong_function") if d == "dsigmoid" else
                   ("derivative_wrong_function", "derivative_miswritten"))
    yield _edit(ctx, i, cause, stmt, _replace(stmt, call, copy.deepcopy(y)),
                f"the activation {DERIVATIVES[d]} itself ({yname}) where its derivative belongs {here}",
                family=f"{DERIVATIVES[d]} itself where its derivative belongs", also=also)
    if d == "drelu" and pre:                            # np.sign(a): -1 on the negative side where 0 belongs
        yield _edit(ctx, i, "derivative_miswritten", stmt, _replace(stmt, call, _expr(f"np.sign({_src(ctx.ref(pre))})")),
                    f"relu' written as sign(a) (-1 where the pre-activation is negative, where 0 belongs) {here}",
                    family="relu' written as sign(a)")


def _wrong_points(ctx, i, stmt, call, d, here):
    """The derivative ``call`` taken at another value: the table's (the pre-activation, another
    gate, h_(t-1)), the output put through the activation again (the formula for the
    pre-activation), and tanh' with the square inside the tanh."""
    y = call.args[0]
    yname = y.id if isinstance(y, ast.Name) else _src(y)
    for alt in ctx.table["wrong_point"].get(yname, ()):
        new = _replace(stmt, y, ctx.ref(alt))
        yield _edit(ctx, i, "derivative_wrong_point", stmt, new,
                    f"{DERIVATIVES[d]}' evaluated at {SAYS.get(alt, alt)} where {SAYS.get(yname, yname)} "
                    f"belongs ({_src(call)} -> {d}({alt})) {here}",
                    also=EARLIER.get((yname, alt), "wrong_value" if alt in ("prev_h", "prev_c") else ""),
                    family="the derivative evaluated at the pre-activation" if alt.startswith("a_") else "")
    act = {"dtanh": "np.tanh", "dsigmoid": "sigmoid"}.get(d)
    if act:                                             # 1 - tanh(h)^2: the formula for the pre-activation
        new = _replace(stmt, y, _expr(f"{act}({_src(y)})"))
        yield _edit(ctx, i, "derivative_wrong_point", stmt, new,
                    f"{DERIVATIVES[d]}' written for the pre-activation ({DERIVATIVES[d]}'(a) = "
                    f"{'1 - tanh(a)^2' if d == 'dtanh' else 's(a)(1 - s(a))'}) and evaluated at the output "
                    f"{SAYS.get(yname, yname)} {here} (or at the pre-activation after the forward overwrote it "
                    "with the output in place)", also="inplace_corruption")
    pre = next((a for a in ctx.table["wrong_point"].get(yname, ()) if a.startswith("a") or a == "next_c"), None)
    if d == "dtanh" and pre:                            # 1 - tanh(a ** 2): the square inside the tanh
        new = _replace(stmt, call, _expr(f"1 - np.tanh({_src(ctx.ref(pre))} ** 2)"))
        yield _edit(ctx, i, "derivative_miswritten", stmt, new,
                    f"tanh' written as 1 - tanh({SAYS.get(pre, pre)}**2) where 1 - tanh({SAYS.get(pre, pre)})**2 "
                    f"belongs {here}", family="tanh' written as 1 - tanh(a**2)")

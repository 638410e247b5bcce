"""Mistakes in a line's local derivative: left out, applied twice, with the wrong sign, of
another function, written wrongly (a table of the ways each is miswritten), taken at another
value (the pre-activation, another gate, the step before's state), or the activation itself;
and the RNN's derivative applied to one part of dh_t only (``outside_derivative_edits``)."""

import ast
import copy
import dataclasses

from .ast_tools import _expr, _is_derivative, _product_factors, _products, _rebuild_product, _replace, _src, _target_name
from .context import _Context, _edit, _value, _step_call
from .inplace_rules import _inplace
from .tables import AT_PRE_ACTIVATION, COST, DERIVATIVES, MISWRITTEN, SAYS, plain
from .time_rules import _renamed


# A derivative taken at the step before's state where the step's own belongs: also the wrong time.
EARLIER = {("next_h", "prev_h"): "wrong_time,wrong_value", ("tanh_c", "prev_c"): "wrong_time,wrong_value",
           ("next_h", "next_h_next_clamp"): "wrong_time"}

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
        yield from _left_out(ctx, i, stmt, value, call, d, yname, here)
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
            also, words = EQUAL_READINGS.get(("derivative_miswritten", form), ("", ""))
            yield _edit(ctx, i, "derivative_miswritten", stmt, _replace(stmt, call, expr),
                        f"{DERIVATIVES[d]}' written as {says.replace('y', yname)} {here}{words}",
                        family=f"{DERIVATIVES[d]}' written as {says}", also=also)
        yield from _wrong_points(ctx, i, stmt, call, d, here)
        yield from _inplace(ctx, i, stmt, call, yname)


# Readings the same edit gives equally, by (cause, derivative or form): (the other cause, words).
EQUAL_READINGS = {("derivative_missing", "drelu"): ("derivative_wrong_point", " (equally, relu' taken at h_t = "
                                                     "relu(a_t) >= 0 with relu'(0) = 1: 1 everywhere)"),
                  ("derivative_miswritten", "y * y"): ("wrong_value", " (equally, the intermediate y**2 read where "
                                                        "the finished derivative belongs, as in code that names its parts)")}


def _left_out(ctx, i, stmt, value, call, d, yname, here):
    """The derivative ``call`` left out of its product, or the product written without brackets."""
    for product in _products(value):
        factors = _product_factors(product)
        if call in factors and len(factors) > 1:
            rest = _rebuild_product([f for f in factors if f is not call])
            also, words = EQUAL_READINGS.get(("derivative_missing", d), ("", ""))
            yield _edit(ctx, i, "derivative_missing", stmt, _replace(stmt, product, rest),
                        f"the derivative {_src(call)} left out {here}{words}", family=f"{DERIVATIVES[d]}' left out",
                        also=also)
            forms = {"dsigmoid": (f"{_src(rest)} * {yname} - {yname}", f"{_src(rest)} * {yname} - {yname} * {yname}",
                                  f"{yname} * (1 - {yname} * {_src(rest)})"),
                     "dtanh": (f"{_src(rest)} * 1 - {yname} * {yname}", f"1 - {yname} * {yname} * {_src(rest)}")
                     }.get(d, ())
            for unbracketed in forms if product is value else ():
                shape = unbracketed.replace(_src(rest), "d").replace(yname, "y")
                yield _edit(ctx, i, "derivative_miswritten", stmt, _replace(stmt, value, _expr(unbracketed)),
                            f"{DERIVATIVES[d]}' written without its brackets in {_target_name(stmt)} "
                            f"(`{unbracketed}`)", family=f"{DERIVATIVES[d]}' written without its brackets (`{shape}`)")


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
                    f"belongs ({_src(call)} -> {d}({plain(alt)})) {here}",
                    also=EARLIER.get((yname, alt), "wrong_value" if alt in ("prev_h", "prev_c") else ""),
                    family=f"{DERIVATIVES[d]}'{AT_PRE_ACTIVATION}" if alt.startswith("a_") else "")
    act = {"dtanh": "np.tanh", "dsigmoid": "sigmoid"}.get(d)
    if act:                                             # 1 - tanh(h)^2: the formula for the pre-activation
        new = _replace(stmt, y, _expr(f"{act}({_src(y)})"))
        yield _edit(ctx, i, "derivative_wrong_point", stmt, new,
                    f"{DERIVATIVES[d]}' written for the pre-activation ({DERIVATIVES[d]}'(a) = "
                    f"{'1 - tanh(a)^2' if d == 'dtanh' else 's(a)(1 - s(a))'}) and evaluated at the output "
                    f"{SAYS.get(yname, yname)} {here} (or at the pre-activation after the forward overwrote it "
                    "with the output in place)", also="derivative_miswritten,inplace_corruption")
    pre = next((a for a in ctx.table["wrong_point"].get(yname, ()) if a.startswith("a") or a == "next_c"), None)
    if d == "dtanh" and pre and pre != "next_c":        # tanh = sinh / cosh: sinh's derivative cosh(a) for tanh'
        yield _edit(ctx, i, "derivative_wrong_function", stmt,
                    _replace(stmt, call, _expr(f"np.cosh({_src(ctx.ref(pre))})")),
                    f"sinh's derivative cosh(a) where tanh' = 1 / cosh(a)**2 belongs {here} (tanh written as "
                    "sinh / cosh)", family="cosh(a) for tanh'")
    if d == "dtanh" and pre and pre != "next_c":        # tanh = 2 s(2a) - 1, tanh' = 4 s(2a)(1 - s(2a)), s at a
        new = _replace(stmt, call, _expr(f"4 * dsigmoid(sigmoid({_src(ctx.ref(pre))}))"))
        yield _edit(ctx, i, "derivative_wrong_point", stmt, new,
                    f"tanh' written through the sigmoid (tanh(a) = 2 s(2a) - 1, tanh'(a) = 4 s(2a) (1 - s(2a))) with s "
                    f"taken at {SAYS.get(pre, pre)} where 2a belongs {here}", family="tanh' as 4 s(a)(1 - s(a))")
    if d == "dtanh" and pre:                            # 1 - tanh(a ** 2): the square inside the tanh
        new = _replace(stmt, call, _expr(f"1 - np.tanh({_src(ctx.ref(pre))} ** 2)"))
        yield _edit(ctx, i, "derivative_miswritten", stmt, new,
                    f"tanh' written as 1 - tanh({SAYS.get(pre, pre)}**2) where 1 - tanh({SAYS.get(pre, pre)})**2 "
                    f"belongs {here}", family="tanh' written as 1 - tanh(a**2)")


def outside_derivative_edits(cell, step_tree, driver_tree, step_edits=()):
    """The RNN's derivative applied to one part of dh_t only, the other added after it
    (``delta = dh_t * act'(h_t) + delta_next @ W_hh``, as the binary-adder tutorial writes):
    the driver hands the step that part apart, the step adds it to da."""
    if cell != "rnn":
        return
    step = _Context(cell, "step_backward", step_tree)
    drive = _Context(cell, "backward", driver_tree)
    call = _step_call(drive)
    line = next(((i, s) for i, s in enumerate(step.stmts) if _target_name(s) == "da"), None)
    if call is None or line is None:
        return
    (j, stmt), (i, da) = call, line
    wrong = [e for e in step_edits if e.target == "step_backward" and set(e.tree) == {i} and not e.more
             and (e.cause.startswith("derivative_") or e.cause == "wrong_sign")]
    for inside, outside, what in (("dh[:, t]", "dnext_h", "the carry from step t+1"),
                                  ("dnext_h", "dh[:, t]", "the upstream gradient dh_t")):
        new_call = copy.deepcopy(stmt)
        key = "carry" if outside == "dnext_h" else "upstream"
        new_call.value.args = [_expr(inside), _expr(f"dict(caches[t], {key}={outside})")]
        handed = {"backward": {j: ast.fix_missing_locations(new_call)}}
        new = _replace(da, da.value, ast.BinOp(copy.deepcopy(da.value), ast.Add(), _expr(f"cache[{key!r}]")))
        yield _edit(step, i, "derivative_missing", da, ast.fix_missing_locations(new),
                    f"{what} added to da after the derivative dact(next_h) instead of before it (the derivative "
                    f"left out of that part)", cost=COST["derivative_missing"] + 0.1, more=handed)
        right = _renamed(da, {"dnext_h": _expr(f"cache[{key!r}]")}).value     # that part's own derivative right
        part = "the upstream gradient dh_t" if key == "carry" else "the carry from step t+1"
        for e in wrong:                 # a loop per part (the tutorial's walk back): one of them written wrongly
            new = _replace(da, da.value, ast.BinOp(copy.deepcopy(e.tree[i].value), ast.Add(), copy.deepcopy(right)))
            yield dataclasses.replace(e, after=_src(new), says=f"{e.says}, on {part} only ({what} right)",
                                      cost=e.cost + 0.1, tree={i: ast.fix_missing_locations(new)}, more=handed,
                                      family=f"{e.family}, on one part" if e.family else "")
    yield from _one_path_only(step, i, wrong)


# Where the RNN's da goes: code that forms each path from its own da (Jacobians: ``dpre = D_t @
# delta`` for the weights, ``J.T @ delta`` for the carry, ``Jx.T @ delta`` for dx).
PATHS = ((("dprev_h",), "the carry dprev_h"), (("dW_ih", "dW_hh", "db"), "the weight and bias gradients"),
         (("dx",), "dx"), (("dW_ih", "dW_hh", "db", "dx"), "the weight, bias and input gradients (not the carry)"))


def _one_path_only(step, i, wrong):
    """Each derivative mistake of da made in one of its paths only (the carry, the weights and
    bias, or dx), the others formed from the right da."""
    for names, what in PATHS:
        lines = {k: s for k, s in enumerate(step.stmts) if k > i and _target_name(s) in names}
        if not lines:
            continue
        for e in wrong:
            tree = {k: _renamed(s, {"da": e.tree[i].value}) for k, s in lines.items()}
            first = min(tree)
            yield dataclasses.replace(e, index=first, before=_src(lines[first]), after=_src(tree[first]),
                                      line=_target_name(lines[first]), says=f"{e.says}, in {what} only (each path "
                                      "formed from its own da, the others right)", cost=e.cost + 0.15, tree=tree,
                                      family=f"{e.family}, in one path" if e.family else "")


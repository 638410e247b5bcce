"""The grammar of BPTT mistakes: what people get wrong in each line of a backward pass.

The diagnosis does not keep a list of known bugs. It reads the textbook cells'
``step_backward`` and ``backward`` (reference_impls/{rnn,lstm,gru}.py) as Python syntax
trees and plants every mistake of this grammar into every line where it can occur:

    term_dropped               a term of a sum, or a factor of a product, left out
    wrong_sign                 a term, a difference or a whole line negated
    derivative_missing         the local derivative left out (da = dh instead of dh * tanh'(h))
    derivative_twice           the local derivative applied twice
    derivative_wrong_function  another activation's derivative (tanh' for a sigmoid gate)
    derivative_miswritten      the derivative's formula written wrongly (1 - y for 1 - y^2)
    derivative_wrong_point     the derivative evaluated at another value (the pre-activation,
                               c_t for tanh(c_t), h_(t-1) for h_t)
    inplace_corruption         the derivative computed in place into the cached value, which
                               is read again (``i *= 1 - i`` before ``dg = dc * i``)
    wrong_time                 a factor taken at another step (c_t for c_(t-1), h_t for h_(t-1),
                               x_(t-1) or x_(t+1) for x_t)
    weight_transposed          a weight used transposed (block by block for gated weights)
    wrong_weight               another weight used in its place
    gradient_for_weight        the weight's own gradient used in its place
    carry_dropped              a carry across time (h or c) never added
    carry_overwrites           the carry replaces what it should be added to, or a gradient
                               accumulated with = instead of +=
    loop_skips_step            the backward loop misses its first or last step
    reduction_scaled           a gradient divided by N, T or N*T (averaged instead of summed)
    gate_order                 gate blocks written into the pre-activation gradient in another order

What is specific to a cell (which values can be confused with which) is one table per
cell, ``CELLS`` below: a new confusion is one line there. Each planted mistake is an
``Edit``: the statement it changes, how it reads before and after, its cause and how
simple it is (the diagnosis names the simplest mistake that reproduces the user's numbers).
"""

import ast
import copy
from dataclasses import dataclass, field

# Per cell: the cached values a derivative can wrongly be evaluated at, the values that
# are confused across time, the weights, the carries and what each reads as in words.
CELLS = {
    "rnn": {
        "wrong_point": {"next_h": ("a", "prev_h")},
        "wrong_time": {"prev_h": ("next_h",)},
        "weights": ("W_ih", "W_hh"),
        "confused_weights": (("W_ih", "W_hh"),),
        "carries": {"dnext_h": "h"},
        "shifted": ("x",),
    },
    "lstm": {
        "wrong_point": {"i": ("a_i",), "f": ("a_f",), "g": ("a_g",), "o": ("a_o",),
                        "tanh_c": ("next_c", "prev_c")},
        "wrong_time": {"prev_h": ("next_h",), "prev_c": ("next_c",)},
        "weights": ("W_ih", "W_hh"),
        "confused_weights": (("W_ih", "W_hh"),),
        "carries": {"dnext_h": "h", "dnext_c": "c"},
        "shifted": ("x",),
    },
    "gru": {
        "wrong_point": {"r": ("a_r",), "z": ("a_z",), "n": ("a_n", "prev_h")},
        "wrong_time": {"prev_h": ("next_h",)},
        "weights": ("W_ih", "W_hh", "W_hr", "W_hz", "W_hn"),
        "confused_weights": (("W_ih", "W_hh"), ("W_hr", "W_hz", "W_hn")),
        "carries": {"dnext_h": "h"},
        "shifted": ("x",),
    },
}

# How each value reads in words (for the cause's sentence).
SAYS = {"prev_h": "h_(t-1)", "next_h": "h_t", "prev_c": "c_(t-1)", "next_c": "c_t", "tanh_c": "tanh(c_t)",
        "a": "the pre-activation a_t", "x": "x_t", "dnext_h": "the carry dh_next", "dnext_c": "the carry dc_next"}
for _g in "ifgorzn":
    SAYS.setdefault(f"a_{_g}", f"the pre-activation of {_g}")
    SAYS.setdefault(_g, f"{_g}_t")

# The derivatives (from the activation's output) and the wrong ways they get written.
DERIVATIVES = {"dtanh": "tanh", "dsigmoid": "sigmoid", "drelu": "relu", "didentity": "identity"}
MISWRITTEN = {
    "dtanh": (("1 - y", "1 - y where 1 - y**2 belongs"), ("(1 - y) ** 2", "(1 - y)**2 where 1 - y**2 belongs"),
              ("1 + y * y", "1 + y**2 where 1 - y**2 belongs")),
    "dsigmoid": (("1 - y", "1 - y where y * (1 - y) belongs"), ("y", "y where y * (1 - y) belongs"),
                 ("y * (1 + y)", "y * (1 + y) where y * (1 - y) belongs")),
}

# Simplicity: the diagnosis prefers the mistake with the lowest cost among those that fit.
COST = {"carry_dropped": 1.0, "carry_overwrites": 1.2, "loop_skips_step": 1.0, "weight_transposed": 1.0,
        "reduction_scaled": 1.0, "derivative_missing": 1.0, "derivative_wrong_point": 1.3,
        "derivative_wrong_function": 1.3, "derivative_miswritten": 1.4, "derivative_twice": 1.5,
        "wrong_time": 1.1, "term_dropped": 1.2, "wrong_sign": 1.5, "wrong_weight": 1.6,
        "gradient_for_weight": 1.8, "inplace_corruption": 2.0, "gate_order": 1.1}


@dataclass(frozen=True)
class Edit:
    """One planted mistake: statement ``index`` of function ``target`` rewritten."""
    target: str                 # "step_backward" or "backward"
    index: int                  # the statement's position in a walk of the function (see statements())
    cause: str
    before: str                 # the textbook statement, as source
    after: str                  # the same statement with the mistake
    says: str                   # the mistake in words
    line: str = ""              # the local gradient the statement computes (its target name)
    carry: str = ""             # "h" or "c" for carry mistakes
    cost: float = 1.0
    gates: str = ""             # the gate blocks the mistake lives in, canonical letters ("" for all)
    tree: object = field(default=None, compare=False, repr=False)   # the mutated statement node


def statements(fn_tree):
    """Every simple statement of a function body, in source order (loops and ifs walked into)."""
    out = []

    def walk(body):
        for stmt in body:
            if isinstance(stmt, (ast.For, ast.While, ast.If)):
                out.append(stmt)
                walk(stmt.body)
                walk(stmt.orelse)
            else:
                out.append(stmt)
    walk(fn_tree.body)
    return out


def _target_name(stmt):
    t = stmt.targets[0] if isinstance(stmt, ast.Assign) else getattr(stmt, "target", None)
    if isinstance(t, ast.Name):
        return t.id
    if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name):
        return t.value.id
    return ""


def _src(node):
    return ast.unparse(node)


def _names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _replace(stmt, old, new):
    """A copy of ``stmt`` with the node ``old`` (found by identity in ``stmt``) replaced by ``new``."""
    path = _path_to(stmt, old)
    copied = copy.deepcopy(stmt)
    parent, attr, idx = _follow(copied, path)
    if idx is None:
        setattr(parent, attr, new)
    else:
        getattr(parent, attr)[idx] = new
    return ast.fix_missing_locations(copied)


def _path_to(root, target):
    for parent in ast.walk(root):
        for attr, value in ast.iter_fields(parent):
            if value is target:
                return _path_to_parent(root, parent) + [(attr, None)]
            if isinstance(value, list):
                for i, v in enumerate(value):
                    if v is target:
                        return _path_to_parent(root, parent) + [(attr, i)]
    raise ValueError("node not in statement")


def _path_to_parent(root, parent):
    if parent is root:
        return []
    return _path_to(root, parent)


def _follow(root, path):
    node = root
    for attr, idx in path[:-1]:
        node = getattr(node, attr) if idx is None else getattr(node, attr)[idx]
    attr, idx = path[-1]
    return node, attr, idx


def _expr(text):
    return ast.parse(text, mode="eval").body


def _sum_terms(node):
    """The operands of a top-level chain of + and - (with their signs), or None."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub))):
        return None
    terms = []

    def flat(n, sign):
        if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub)):
            flat(n.left, sign)
            flat(n.right, sign if isinstance(n.op, ast.Add) else -sign)
        else:
            terms.append((n, sign))
    flat(node, 1)
    return terms


def _rebuild_sum(terms):
    expr = terms[0][0] if terms[0][1] > 0 else ast.UnaryOp(ast.USub(), terms[0][0])
    for node, sign in terms[1:]:
        expr = ast.BinOp(expr, ast.Add() if sign > 0 else ast.Sub(), node)
    return expr


def _product_factors(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        return _product_factors(node.left) + _product_factors(node.right)
    return [node]


def _rebuild_product(factors):
    expr = factors[0]
    for f in factors[1:]:
        expr = ast.BinOp(expr, ast.Mult(), f)
    return expr


def _is_derivative(node, derivative_names):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in derivative_names
            and len(node.args) == 1)


# ---------------------------------------------------------------- the rules


class _Context:
    """What the rules need to know about the function being mutated."""

    def __init__(self, cell, target, fn_tree, activation=None, line_gates=None):
        self.cell, self.target, self.table = cell, target, CELLS[cell]
        self.line_gates = line_gates or {}
        self.stmts = statements(fn_tree)
        self.derivs = dict(DERIVATIVES)
        if activation:                                      # the RNN calls its derivative `dact`
            self.derivs["dact"] = {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "relu",
                                   "identity": "identity"}[activation]
        self.defined = []                                   # names assigned so far, statement by statement
        seen = set()
        for s in self.stmts:
            self.defined.append(set(seen))
            if isinstance(s, (ast.Assign, ast.AugAssign)):
                for t in (s.targets if isinstance(s, ast.Assign) else [s.target]):
                    seen |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        self.locals = seen

    def ref(self, name):
        """``name`` as an expression in the function: the local, or the cache's entry."""
        return ast.Name(name, ast.Load()) if name in self.locals else _expr(f"cache[{name!r}]")

    def deriv_of(self, call):
        return "d" + self.derivs[call.func.id] if call.func.id == "dact" else call.func.id


def _edit(ctx, index, cause, stmt, new, says, carry="", cost=None, extra=None, gates=None):
    tree = {index: new}
    tree.update(extra or {})
    line = _target_name(stmt)
    return Edit(ctx.target, index, cause, _src(stmt), _src(new), says, line, carry,
                COST[cause] if cost is None else cost, ctx.line_gates.get(line, "") if gates is None else gates, tree)


def _value(stmt):
    return stmt.value if isinstance(stmt, (ast.Assign, ast.AugAssign)) else None


def _mutable(stmt):
    """Statements the rules change: assignments of computed values (not unpacking the cache)."""
    if not isinstance(stmt, (ast.Assign, ast.AugAssign)):
        return False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    if any(isinstance(t, ast.Tuple) for t in targets):
        return False
    value = _src(stmt.value)
    return "cache[" not in value and not value.startswith(("np.zeros", "np.split", "[None]"))


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


def _gates(cell):
    return {"lstm": "ifgo", "gru": "rzn"}.get(cell, "")


def order_rules(ctx, i, stmt):
    """np.concatenate([da_i, da_f, da_g, da_o]) with the blocks in another order."""
    from itertools import permutations
    value = _value(stmt)
    if not (isinstance(value, ast.Call) and _src(value.func) == "np.concatenate" and value.args
            and isinstance(value.args[0], ast.List) and len(value.args[0].elts) == len(_gates(ctx.cell))):
        return
    elts = value.args[0].elts
    for perm in permutations(range(len(elts))):
        if perm == tuple(range(len(elts))):
            continue
        new_list = ast.List([copy.deepcopy(elts[k]) for k in perm], ast.Load())
        gates = _gates(ctx.cell)
        order = ", ".join(gates[k] for k in perm)
        moved = "".join(g for k, g in zip(perm, gates) if gates[k] != g)
        yield Edit(ctx.target, i, "gate_order", _src(stmt), _src(_replace(stmt, value.args[0], new_list)),
                   f"the gate gradients written into {_target_name(stmt)} in the order {order} "
                   f"instead of {', '.join(gates)}", _target_name(stmt), "", COST["gate_order"], moved,
                   {i: _replace(stmt, value.args[0], new_list)})


STEP_RULES = (derivative_rules, sum_rules, name_rules, order_rules)


def step_edits(cell, fn_tree, activation=None, line_gates=None):
    """Every mistake of the grammar planted into one line of ``step_backward``."""
    ctx = _Context(cell, "step_backward", fn_tree, activation, line_gates)
    out = []
    for i, stmt in enumerate(ctx.stmts):
        if _mutable(stmt):
            for rule in STEP_RULES:
                out.extend(rule(ctx, i, stmt))
    return out


# ---------------------------------------------------------------- the sequence driver


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
    return out


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

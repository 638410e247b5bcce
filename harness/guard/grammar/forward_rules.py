"""Mistakes in the forward that the backward follows consistently: a gate's or a state's
activation swapped for another (sigmoid for the candidate's tanh, h = o * c without tanh, a
hard tanh), and the forget gate recomputed in the backward without TF's forget_bias.

A forward mistake with a consistent backward passes finite differences of the user's own
forward; only an oracle with its own forward (the reference, a framework) sees it, and only
the forward's values tell it apart. Each edit changes ``step_forward`` and the matching
derivative in ``step_backward`` together.
"""

import ast
import copy
import dataclasses

from .ast_tools import _expr, _rebuild_sum, _replace, _src, _sum_terms, _target_name
from .concat_rules import concat_split
from .context import _Context, _edit, _mutable, _value
from .tables import COST

# activation in the forward (as called) -> the derivative from its output (as the textbook calls it)
ACTIVATIONS = {"sigmoid": "dsigmoid", "np.tanh": "dtanh", "hardtanh": "dhardtanh", "": "didentity"}
CALLED = ("sigmoid", "np.tanh", "hardtanh")
WORDS = {"sigmoid": "sigmoid", "np.tanh": "tanh", "hardtanh": "a hard tanh (clip to [-1, 1])", "": "no activation"}


def forward_edits(cell, forward_tree, backward_tree):
    """Every consistent forward activation swap of the cell, and the LSTM's forget gate without
    its offset in the backward."""
    fwd = _Context(cell, "step_forward", forward_tree)
    bwd = _Context(cell, "step_backward", backward_tree)
    if cell == "rnn":
        yield from _rnn_activation(fwd)
        return
    for i, stmt in enumerate(fwd.stmts):
        call = _activation_call(stmt)
        if call is None:
            continue
        name, current = _target_name(stmt), _src(call.func)
        uses = _derivative_uses(bwd, name)
        if not uses:
            continue
        for other, deriv in ACTIVATIONS.items():
            if other == current:
                continue
            new_value = _expr(f"{other}({_src(call.args[0])})") if other else call.args[0]
            new = _replace(stmt, call, new_value)
            more = {"step_backward": {j: _replace(line, node, _expr(f"{deriv}({_src(node.args[0])})"))
                                      for j, (line, node) in uses.items()}}
            yield _edit(fwd, i, "forward_mistake", stmt, new,
                        f"the forward computes {name} with {WORDS[other]} where {WORDS[current]} belongs "
                        f"({_src(stmt)} written {_src(new)}), and the backward follows it",
                        cost=COST["forward_mistake"], gates=name if name in "ifgorzn" and len(name) == 1 else "",
                        more=more)
    if cell == "lstm":
        yield from _forget_gate_without_offset(bwd)


def _activation_call(stmt):
    value = _value(stmt)
    if isinstance(stmt, ast.Assign) and isinstance(value, ast.Call) and _src(value.func) in CALLED \
            and len(value.args) == 1:
        return value
    return None


def _derivative_uses(bwd, name):
    """{statement index: (statement, the derivative call on ``name``)} in step_backward."""
    out = {}
    for j, stmt in enumerate(bwd.stmts):
        value = _value(stmt)
        if value is None:
            continue
        for node in ast.walk(value):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ACTIVATIONS.values() \
                    and len(node.args) == 1 and _src(node.args[0]) == name:
                out[j] = (stmt, node)
    return out


def _rnn_activation(fwd):
    """The RNN picks its activation and derivative together (``act, dact = ACTIVATIONS[...]``):
    a hard tanh in their place is one consistent forward mistake (the others are the declared
    activations, tried by the diagnosis as options)."""
    for i, stmt in enumerate(fwd.stmts):
        if isinstance(stmt, ast.Assign) and _src(stmt.value).startswith("ACTIVATIONS["):
            new = _replace(stmt, stmt.value, _expr("(hardtanh, dhardtanh)"))
            yield _edit(fwd, i, "forward_mistake", stmt, new,
                        "the forward uses a hard tanh (clip to [-1, 1]) where the declared activation belongs, and "
                        "the backward follows it")


def _forget_gate_without_offset(bwd):
    """The backward recomputes f from its pre-activation and forgets TF's forget_bias there."""
    reads = {}
    for j, stmt in enumerate(bwd.stmts):
        value = _value(stmt)
        if value is None or isinstance(getattr(stmt, "targets", [None])[0], ast.Tuple):
            continue
        nodes = [n for n in ast.walk(value) if isinstance(n, ast.Name) and n.id == "f"]
        if nodes:
            new = stmt
            for _ in nodes:
                node = next(n for n in ast.walk(_value(new)) if isinstance(n, ast.Name) and n.id == "f")
                new = _replace(new, node, _expr("sigmoid(cache['a_f'] - cache['forget_bias'])"))
            reads[j] = new
    if reads:
        first = min(reads)
        yield _edit(bwd, first, "forget_bias", bwd.stmts[first], reads[first],
                    "the backward recomputes f from its pre-activation without forget_bias (the forward adds it)",
                    extra=reads, gates="f")


# ---------------------------------------------------------------- any forward line, checked by the numbers

# Activations a forward may use by mistake (no derivative needed: the user's backward is checked
# against finite differences of the mistaken forward instead).
OTHER_ACTIVATIONS = {"sigmoid": "sigmoid", "np.tanh": "tanh", "hardtanh": "a hard tanh (clip to [-1, 1])",
                     "hard_sigmoid": "a hard sigmoid (clip(0.2 a + 0.5, 0, 1), Keras 2)",
                     "hard_sigmoid_k3": "a hard sigmoid (relu6(a + 3) / 6, Keras 3)", "": "no activation"}
GATE_VALUES = {"lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n"), "rnn": ()}


def forward_line_edits(cell, forward_tree):
    """Mistakes in any line of ``step_forward`` whose backward the user derived correctly from
    the mistaken forward: terms and factors dropped or negated, a weight transposed or another
    gate's block used, another gate's value used, another activation. They are matched on the
    user's h alone and then checked by finite differences of the mistaken forward, so no
    backward has to be written for them (``Edit.by_numbers``)."""
    from .step_rules import name_rules, sum_rules
    ctx = _Context(cell, "step_forward", forward_tree)
    out = []
    for i, stmt in enumerate(ctx.stmts):
        if not _mutable(stmt) or _target_name(stmt) in ("H", "has_bias") or ".shape" in _src(_value(stmt)):
            continue
        for e in list(sum_rules(ctx, i, stmt)) + list(name_rules(ctx, i, stmt)):
            if e.cause in ("term_dropped", "wrong_sign", "weight_transposed", "wrong_weight"):
                out.append(_numbers(e, f"in the forward, {e.says}", "forget_bias" if "forget_bias" in e.says else None))
        out.extend(_gate_value_rules(ctx, i, stmt))
        out.extend(_activation_rules(ctx, i, stmt))
        out.extend(_doubled_terms(ctx, i, stmt))
        out.extend(_both_blocks_swapped(ctx, i, stmt))
        out.extend(concat_split(ctx, i, stmt))
        out.extend(_update_forms(ctx, i, stmt))
    return out + list(_every_site(ctx, out)) + list(_every_bias_term(ctx)) + list(_forget_bias_on_every_gate(ctx))


def _both_blocks_swapped(ctx, i, stmt):
    """Another gate's block of both weights in one line (``i_t = s(W_f [h, x] + b_i)``: a
    copy-pasted gate on one kernel over [x, h])."""
    from .gate_rules import _gates
    names = {n.id for n in ast.walk(_value(stmt)) if isinstance(n, ast.Name)}
    if ctx.cell == "rnn" or not {"W_ih", "W_hh"} <= names:
        return
    gates = _gates(ctx.cell)
    for k, gate in enumerate(gates):
        for j, other in enumerate(gates):
            if j == k:
                continue
            new = stmt
            for w in ("W_ih", "W_hh"):
                node = next(n for n in ast.walk(_value(new)) if isinstance(n, ast.Name) and n.id == w)
                new = _replace(new, node, _expr(f"_blockswap({w}, {k}, {j}, {len(gates)})"))
            yield dataclasses.replace(
                _numbers(_edit(ctx, i, "forward_mistake", stmt, new, "", gates=gate),
                         f"in the forward, the {gate} gate computed with the {other} gate's weights (W_ih and W_hh)"),
                also="wrong_weight")


def _doubled_terms(ctx, i, stmt):
    """A term of a sum added twice (``a = x @ Wx + h @ Wh + b + b``)."""
    from .step_rules import _sums
    for node in _sums(_value(stmt)):
        terms = _sum_terms(node)
        for k, (term, sign) in enumerate(terms):
            twice = _rebuild_sum(terms[:k + 1] + [(copy.deepcopy(term), sign)] + terms[k + 1:])
            yield _numbers(_edit(ctx, i, "forward_mistake", stmt, _replace(stmt, node, twice), ""),
                           f"in the forward, the term {_src(term)} of {_target_name(stmt)} added twice")


def _every_bias_term(ctx):
    """Every bias term of the forward added twice, or left out (a user's one bias added twice or
    forgotten, which the textbook keeps as b_ih + b_hh or spreads over several lines)."""
    from .step_rules import _sums
    for twice in (True, False):
        tree, count = {}, 0
        for i, stmt in enumerate(ctx.stmts):
            node = next((n for n in _sums(_value(stmt)) if any(_is_bias(t) for t, _ in _sum_terms(n))), None) \
                if _mutable(stmt) else None
            if node is None:
                continue
            terms = _sum_terms(node)
            biases = [(copy.deepcopy(t), s) for t, s in terms if _is_bias(t)]
            count += len(biases)
            kept = terms + biases if twice else [(t, s) for t, s in terms if not _is_bias(t)]
            if not kept:
                continue
            tree[i] = _replace(stmt, node, _rebuild_sum(kept))
        if count > 1:                                   # one bias term alone is _doubled_terms' / sum_rules' edit
            first = min(tree)
            yield _numbers(_edit(ctx, first, "forward_mistake", ctx.stmts[first], tree[first], "", extra=tree),
                           "in the forward, the bias added twice (every bias term)" if twice else
                           "in the forward, the bias left out (every bias term)")


def _is_bias(term):
    return isinstance(term, ast.Name) and term.id.startswith("b_")


def _every_site(ctx, edits):
    """An activation swapped at every gate that uses it (a port whose gates share one ``act``)."""
    groups = {}
    for e in edits:
        if e.family.startswith("activation "):
            groups.setdefault(e.family, []).append(e)
    for family, group in groups.items():
        if len(group) < 2:
            continue
        tree = {}
        for e in group:
            tree.update(e.tree)
        first = group[0]
        yield dataclasses.replace(first, tree=tree, says=f"the forward computes every gate that uses "
                                  f"{family.split()[1]} with {OTHER_ACTIVATIONS[family.split()[2]]}", gates="",
                                  cost=first.cost + 0.05)


def _numbers(edit, says, cause=None):
    """A forward edit matched by the numbers (a mistake about TF's forget_bias is named so)."""
    cause = cause or "forward_mistake"
    return dataclasses.replace(edit, cause=cause, says=says, cost=COST["forward_mistake"] + 0.1,
                               by_numbers=True, also=edit.cause if edit.cause != "forward_mistake" else "")


# The GRU's update h_t = (1 - z) n + z h_(t-1) as code writes it otherwise (torch's fused cell:
# ``(hx - newgate) * inputgate + newgate``; the interpolation h + (1 - z)(n - h)).
UPDATE_FORMS = ("(prev_h - n) * z + n", "prev_h + (1 - z) * (n - prev_h)")


def _update_forms(ctx, i, stmt):
    """The GRU's update in another of its forms with one of its reads of n or h_(t-1) taken for
    the other (``(hx - newgate) * inputgate + hx``)."""
    if ctx.cell != "gru" or _target_name(stmt) != "next_h":
        return
    swap = {"n": "prev_h", "prev_h": "n"}
    for form in UPDATE_FORMS:
        tree = _expr(form)
        for node in [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in swap]:
            line = ast.Assign([copy.deepcopy(stmt.targets[0])], tree)
            new = _replace(line, node, ast.Name(swap[node.id], ast.Load()))
            if any(isinstance(d, ast.BinOp) and isinstance(d.op, ast.Sub) and _src(d.left) == _src(d.right)
                   for d in ast.walk(new.value)):
                continue                                # v - v: the update gone, not a form of it
            words = {"n": "n_t", "prev_h": "h_(t-1)"}
            yield _numbers(_edit(ctx, i, "forward_mistake", stmt, new, ""),
                           f"in the forward, the update written {plain_form(form)} with {words[swap[node.id]]} where "
                           f"{words[node.id]} belongs in one place ({plain_form(_src(new.value))})")


def plain_form(src):
    return src.replace("prev_h", "h_(t-1)").replace("n", "n_t").replace("n_t_t", "n_t")


def _forget_bias_on_every_gate(ctx):
    """TF's forget_bias added to the whole (N, 4H) pre-activation (``z = xh @ kernel + bias +
    1.0``), every gate's, where it belongs to f's alone."""
    lines = [(i, s) for i, s in enumerate(ctx.stmts) if _mutable(s)]
    a_lines = [(i, s) for i, s in lines if _target_name(s) == "a"]     # the first: the products, bias or not
    f_lines = [(i, s) for i, s in lines if _target_name(s) == "f"]
    if ctx.cell != "lstm" or not a_lines or not f_lines:
        return
    (first, a), (j, f) = a_lines[0], f_lines[0]
    every = _replace(a, a.value, _expr(f"{_src(a.value)} + forget_bias"))
    own = _replace(f, f.value, _expr(_src(f.value).replace(" + forget_bias", "")))
    edit = _edit(ctx, first, "forget_bias", a, every, "", extra={j: own})
    yield _numbers(edit, "in the forward, forget_bias added to every gate's pre-activation (i, f, g and o) where it "
                         "belongs to f's alone", "forget_bias")


def _gate_value_rules(ctx, i, stmt):
    gates = GATE_VALUES[ctx.cell]
    name = _target_name(stmt)
    if name not in ("next_c", "next_h"):
        return
    for node in [n for n in ast.walk(_value(stmt)) if isinstance(n, ast.Name) and n.id in gates]:
        for other in gates:
            if other != node.id:
                yield _numbers(_edit(ctx, i, "forward_mistake", stmt, _replace(stmt, node, ast.Name(other, ast.Load())),
                                     ""), f"the forward uses {other}_t where {node.id}_t belongs in {name}")


def _activation_rules(ctx, i, stmt):
    value = _value(stmt)
    if ctx.cell == "rnn" and isinstance(stmt, ast.Assign) and _src(value).startswith("ACTIVATIONS["):
        for act in ("hardtanh", "hard_sigmoid", "hard_sigmoid_k3"):
            new = _replace(stmt, value, _expr(f"({act}, None)"))
            yield _numbers(_edit(ctx, i, "forward_mistake", stmt, new, ""),
                           f"the forward uses {OTHER_ACTIVATIONS[act]} where the declared activation belongs")
        return
    call = _activation_call(stmt)
    if call is None:
        return
    current = _src(call.func)
    for other in ("hardtanh", "hard_sigmoid", "hard_sigmoid_k3"):
        if other != current:
            new = _replace(stmt, call, _expr(f"{other}({_src(call.args[0])})"))
            yield dataclasses.replace(
                _numbers(_edit(ctx, i, "forward_mistake", stmt, new, ""),
                         f"the forward computes {_target_name(stmt)} with {OTHER_ACTIVATIONS[other]} where "
                         f"{OTHER_ACTIVATIONS.get(current, current)} belongs"),
                family=f"activation {current} {other}")


def forward_driver_edits(cell, driver_tree):
    """Mistakes in the forward's loop, matched by the numbers: every step fed the initial state
    (h0, c0) where the previous step's belongs."""
    ctx = _Context(cell, "forward", driver_tree)
    for i, stmt in enumerate(ctx.stmts):
        if not (isinstance(stmt, ast.Assign) and _src(stmt.value).startswith("step_forward(")):
            continue
        states = [a for a in stmt.value.args if isinstance(a, ast.Name) and a.id in ("prev_h", "prev_c")]
        for chosen in [[a] for a in states] + ([states] if len(states) > 1 else []):
            new = stmt
            for a in chosen:
                node = next(n for n in new.value.args if isinstance(n, ast.Name) and n.id == a.id)
                new = _replace(new, node, ast.Name(a.id.replace("prev_", "") + "0", ast.Load()))
            which = " and ".join(f"{a.id[-1]}0" for a in chosen)
            yield _numbers(_edit(ctx, i, "forward_mistake", stmt, new, ""),
                           f"in the forward, every step fed the initial state {which} where the previous step's "
                           "belongs (the recurrence never carries)")


def bias_outside_activation(cell, forward_tree):
    """The RNN's bias added after its activation (h = act(x W_ih^T + h W_hh^T) + b), matched by
    the numbers."""
    if cell != "rnn":
        return
    ctx = _Context(cell, "step_forward", forward_tree)
    for i, stmt in enumerate(ctx.stmts):
        if isinstance(stmt, ast.Assign) and _src(stmt) == "next_h = act(a)":
            new = _replace(stmt, stmt.value, _expr("act(a - b_ih - b_hh) + b_ih + b_hh"))
            yield _numbers(_edit(ctx, i, "forward_mistake", stmt, new, ""),
                           "in the forward, the bias added after the activation (h_t = act(x_t W_ih^T + h_(t-1) "
                           "W_hh^T) + b) where it belongs inside")

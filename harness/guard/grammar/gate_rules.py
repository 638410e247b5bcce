"""Mistakes that live in one gate of a gated cell: a gate's block of a packed weight or
gradient wrong, a gate's term left out of a product over the gates, the gate blocks written
in another order, and any line's mistake made in one gate's block only."""

import ast
import copy
from itertools import combinations, permutations

from .ast_tools import _expr, _names, _src, _target_name, _replace
from .context import _edit, _mutable, _value
from .tables import COST, NEGATED_Z, Edit
from .inplace_rules import _find_same
from .time_rules import _renamed


def weight_block_rules(ctx, i, stmt, node, name):
    """One gate's block of a packed weight wrong, as code with one array or line per gate gets it:
    another gate's block used in its place, or that gate's block of the weight's gradient."""
    gates = _gates(ctx.cell)
    G, w = len(gates), node.id
    for k, gate in enumerate(gates):
        for j, other in enumerate(gates):
            if j != k:
                yield _edit(ctx, i, "wrong_weight", stmt, _replace(stmt, node, _expr(f"_blockswap({w}, {k}, {j}, {G})")),
                            f"the {other} block of {w} used for the {gate} gate in {name}",
                            cost=COST["wrong_weight"] + 0.1, gates=gate, family=f"block {other} for {gate}")
                if "z" in (gate, other):                    # a layout storing z's weights negated (u = 1 - z)
                    yield _edit(ctx, i, "wrong_weight", stmt,
                                _replace(stmt, node, _expr(f"_blockswap({w}, {k}, {j}, {G}, -1)")),
                                f"the {other} block of {w} used for the {gate} gate in {name}, {NEGATED_Z}",
                                cost=COST["wrong_weight"] + 0.2, gates=gate)
        if "d" + w in ctx.defined[i]:
            yield _edit(ctx, i, "gradient_for_weight", stmt,
                        _replace(stmt, node, _expr(f"_blockpick({w}, d{w}, {k}, 0, {G})")),
                        f"the {gate} block of the gradient d{w} where the weight belongs in {name}",
                        cost=COST["gradient_for_weight"] + 0.1, gates=gate)


def gate_term_dropped(ctx, i, stmt, node, name):
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
        yield _edit(ctx, i, "wrong_sign", stmt, _replace(stmt, node, _expr(f"_gateneg({node.id}, {k}, {axis}, {G})")),
                    f"the {gate} gate's term subtracted in {name} (its block of {node.id} with the wrong sign in the "
                    "sum over the gates)", cost=COST["wrong_sign"] + 0.1, gates=gate)
        if name in ("dx", "dprev_h") and node.id in ctx.table.get("packed", {}):
            kept = _expr(f"_blockpick(0 * {node.id}, {node.id}, {k}, {axis}, {G})")
            yield _edit(ctx, i, "carry_overwrites", stmt, _replace(stmt, node, kept),
                        f"{name} assigned (=) where it accumulates (+=) in a loop over the gates: only the {gate} gate's "
                        "share kept (the last gate of the loop)", cost=COST["carry_overwrites"] + 0.15, gates="")


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
    leading = _leading_lists(ctx, lists)
    if i == min(lists):                                 # one gate's gradient left out of every list (a loop
        for k, gate in enumerate(gates):                # over the gates that misses one: range(3))
            tree = {j: _replace(ctx.stmts[j], lst.elts[k], _expr(f"0 * {_src(lst.elts[k])}")) for j, lst in lists.items()}
            lines = " and ".join(_target_name(ctx.stmts[j]) for j in tree)
            yield _edit(ctx, i, "term_dropped", stmt, tree[i], f"the {gate} gate's gradient left out of {lines} (its "
                        "block stays 0: a loop over the gates that misses it)", cost=COST["term_dropped"] + 0.1,
                        gates=gate, extra=tree)
    for perm in permutations(range(len(gates))):
        if perm == tuple(range(len(gates))):
            continue
        moved = "".join(g for k, g in zip(perm, gates) if gates[k] != g)
        swapped = {j: _replace(ctx.stmts[j], lst, ast.List([copy.deepcopy(lst.elts[k]) for k in perm], ast.Load()))
                   for j, lst in lists.items()}
        for j, lst in leading.items():                  # [da_r, da_z] of the reset-before W_hh, where perm keeps it
            head = perm[:len(lst.elts)]
            if set(head) == set(range(len(head))):
                swapped[j] = _replace(ctx.stmts[j], lst, ast.List([copy.deepcopy(lst.elts[k]) for k in head], ast.Load()))
        # {written} and {expected} are filled in the user's gate order and letters by the diagnosis
        for tree in [{i: swapped[i]}] + ([swapped] if together else []):
            lines = " and ".join(_target_name(ctx.stmts[j]) for j in tree)
            yield Edit(ctx.target, i, "gate_order", _src(stmt), _src(swapped[i]),
                       f"the gate gradients written into {lines} in the order {{written}} instead of {{expected}}",
                       _target_name(stmt), "", COST["gate_order"] + (0.05 if len(tree) > 1 else 0), moved, tree, perm)
            right = _carry_per_gate(ctx, {j: lists[j] for j in tree if j in lists})
            if right:                   # the carry formed gate by gate (right), the packed array only for dW, dx
                packed = {_target_name(ctx.stmts[j]) for j in tree if j in lists}
                dx = any(_target_name(o) == "dx" and packed & _names(_value(o)) for o in ctx.stmts if _mutable(o))
                yield Edit(ctx.target, i, "gate_order", _src(stmt), _src(swapped[i]),
                           f"the gate gradients written into {lines} in the order {{written}} instead of {{expected}}, "
                           f"for the weights{' and dx' if dx else ''} (the carry dh_(t-1) formed gate by gate, right)",
                           _target_name(stmt), "", COST["gate_order"] + 0.1, moved, {**tree, **right}, perm)


def _leading_lists(ctx, lists):
    """{statement index: a np.concatenate([...]) list of the first k < G gate gradients of the
    lists in ``lists``} (the reset-before GRU's ``[da_r, da_z]`` for W_hh's r and z blocks)."""
    heads = {tuple(_src(e) for e in lst.elts) for lst in lists.values()}
    out = {}
    for i, stmt in enumerate(ctx.stmts):
        for node in ast.walk(_value(stmt)) if _mutable(stmt) and i not in lists else ():
            if (isinstance(node, ast.Call) and _src(node.func) == "np.concatenate" and node.args
                    and isinstance(node.args[0], ast.List) and 1 < len(node.args[0].elts) < len(_gates(ctx.cell))
                    and any(h[:len(node.args[0].elts)] == tuple(_src(e) for e in node.args[0].elts) for h in heads)):
                out[i] = node.args[0]
    return out


def _carry_per_gate(ctx, lists):
    """{index: the dprev_h line reading the packed gradients of ``lists`` from their gate
    gradients directly}: what code that carries gate by gate computes."""
    packed = {_target_name(ctx.stmts[j]): _expr(f"np.concatenate({_src(lst)}, axis=1)") for j, lst in lists.items()}
    return {j: _renamed(s, packed) for j, s in enumerate(ctx.stmts)
            if _mutable(s) and _target_name(s) == "dprev_h" and set(packed) & _names(_value(s))}


def one_block_only(ctx, i, stmt, edits):
    """``edits`` of a line computing gate-packed values (dW_ih, db, da ...) made in one gate's
    block only, as code that writes one line per gate makes them: the line's value with gate
    k's block taken from the mistaken value."""
    packed = ctx.table.get("packed_out", {})
    name = _target_name(stmt)
    if ctx.cell == "rnn" or name not in packed or not isinstance(stmt, ast.Assign):
        return
    gates, axis = _gates(ctx.cell), packed[name]
    for e in edits:
        if e.cause == "gate_order" or set(e.tree) != {i} or e.more:
            continue
        mistaken = _value(e.tree[i])
        for k, gate in enumerate(gates):
            pick = ast.Call(ast.Name("_blockpick", ast.Load()),
                            [copy.deepcopy(stmt.value), copy.deepcopy(mistaken), ast.Constant(k), ast.Constant(axis),
                             ast.Constant(len(gates))], [])
            new = _replace(stmt, stmt.value, pick)
            yield _edit(ctx, i, e.cause, stmt, new, f"{e.says}, in the {gate} gate's block only", carry=e.carry,
                        cost=e.cost + 0.1, gates=gate)


def fused_gate_terms(ctx):
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


def fused_block_swaps(ctx, edits):
    """Another gate's block used in every line that multiplies by the weights (dx and dprev_h
    from one kernel on [x, h]: ``dxc += Wf.T @ di`` for ``Wi``): the same swap planted together."""
    groups = {}
    for e in edits:
        if e.cause == "wrong_weight" and e.family.startswith("block ") and set(e.tree) == {e.index}:
            groups.setdefault(e.family, {}).setdefault(e.index, e)
    for family, by_line in groups.items():
        if len(by_line) < 2:
            continue
        tree = {}
        for e in by_line.values():
            tree.update(e.tree)
        first = by_line[min(by_line)]
        lines = " and ".join(e.line for e in by_line.values())
        yield Edit(ctx.target, first.index, "wrong_weight", first.before, first.after,
                   f"the {family.split()[1]} block of the weights used for the {first.gates} gate in {lines} (one "
                   "kernel on [x, h])", first.line, "", first.cost + 0.05, first.gates, tree)


def pre_derivative_swaps(ctx):
    """Two gates' gradients swapped before their shared derivative (``dvalue = [dz, dr]`` then
    ``dvalue * sigmoid'([r, z])``: code packing the upstream gradients of the sigmoid gates in
    another order than the gates it multiplies them with): ``da_r = dz * s'(r)``, ``da_z = dr * s'(z)``;
    with two functions, each block's own (the LSTM's ``da_f = dg * s'(f)``, ``da_g = df * tanh'(g)``)."""
    lines = {}
    for i, stmt in enumerate(ctx.stmts):
        name, value = _target_name(stmt), _value(stmt)
        gate = name[3:] if name.startswith("da_") else ""
        if gate and isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult) \
                and _src(value.left) == f"d{gate}" and isinstance(value.right, ast.Call):
            lines[gate] = (i, stmt, _src(value.right.func))
    for (g1, (i1, s1, f1)), (g2, (i2, s2, f2)) in [(a, b) for a in lines.items() for b in lines.items() if a[0] < b[0]]:
        tree = {i1: _replace(s1, s1.value.left, ast.Name(f"d{g2}", ast.Load())),
                i2: _replace(s2, s2.value.left, ast.Name(f"d{g1}", ast.Load()))}
        first = min(i1, i2)
        yield _edit(ctx, first, "gate_order", ctx.stmts[first], tree[first],
                    f"the gradients d{g1} and d{g2} swapped before the shared derivative (d{g1} multiplied by "
                    f"{f1}({g2}) and d{g2} by {f1}({g1}): the packed gate gradients in another order than the gates)"
                    if f1 == f2 else
                    f"the local gradients d{g1} and d{g2} swapped before each block's own derivative (d{g1} multiplied "
                    f"by {f2}({g2}) and d{g2} by {f1}({g1}): the local gradients listed in another order than the "
                    "gates they are paired with)", extra=tree, gates=g1 + g2, cost=COST["gate_order"] + 0.05)
        if f1 != f2:
            continue
        after = {i1: _replace(s1, s1.value, copy.deepcopy(s2.value)), i2: _replace(s2, s2.value, copy.deepcopy(s1.value))}
        yield _edit(ctx, first, "gate_order", ctx.stmts[first], after[first],
                    f"the pre-activation gradients da_{g1} and da_{g2} swapped (each computed right, stored in the "
                    f"other's block of every line that reads them: [da_{g2}, da_{g1}] for [da_{g1}, da_{g2}])",
                    extra=after, gates=g1 + g2, cost=COST["gate_order"] + 0.05)


def reset_factor_rules(ctx, i, stmt):
    """The GRU's n block of a line reading da_h (db_hh, dW_hh, dh_(t-1)) taken from da_x: da_n where
    da_hn = da_n * r belongs, the factor r left out in that line only (``dbh_n += da_n.sum(0)``);
    and the other way round, da_hn read in a line of da_x (``dbx_n += dhn.sum(0)``)."""
    if ctx.cell != "gru" or _target_name(stmt) in ("da_h", "da_x") or not _mutable(stmt):
        return
    name = _target_name(stmt)
    for packed, other in (("da_h", "da_x"), ("da_x", "da_h")):
        nodes = [n for n in ast.walk(_value(stmt)) if isinstance(n, ast.Name) and n.id == packed]
        if not nodes:
            continue
        new = _replace(stmt, nodes[0], _expr(f"_blockpick({packed}, {other}, 2, 1, 3)"))
        if packed == "da_h":
            yield _edit(ctx, i, "term_dropped", stmt, new, f"the factor r dropped from the n block of {name} "
                        "(da_n where da_hn = da_n * r belongs; equally, the input side's da_n read there)", gates="n",
                        cost=COST["term_dropped"] + 0.1, also="wrong_value,derivative_missing")
        else:
            yield _edit(ctx, i, "wrong_value", stmt, new, f"the recurrent side's da_hn = da_n * r read in the n block "
                        f"of {name} where da_n belongs", gates="n", cost=COST["wrong_value"] + 0.1)


def reset_dropped_in_weights(ctx):
    """The GRU's reset factor left out of the n block of every recurrent weight and bias gradient
    (``dW_hn += da_n.T @ h``, ``db_hn += da_n.sum(0)``), the carry right."""
    lines = {i: s for i, s in enumerate(ctx.stmts) if ctx.cell == "gru" and _mutable(s)
             and _target_name(s) in ("dW_hh", "db_hh") and "da_h" in {n.id for n in ast.walk(s.value)
                                                                        if isinstance(n, ast.Name)}}
    if len(lines) < 2:
        return
    from .time_rules import _renamed
    tree = {i: _renamed(s, {"da_h": _expr("_blockpick(da_h, da_x, 2, 1, 3)")}) for i, s in lines.items()}
    first = min(tree)
    yield _edit(ctx, first, "term_dropped", lines[first], tree[first],
                "the factor r dropped from the n block of every recurrent weight and bias gradient (dW_hh and db_hh "
                "take da_n where da_hn = da_n * r belongs; equally, the input side's da_n read there; the carry right)",
                extra=tree, gates="n", cost=COST["term_dropped"] + 0.15, also="wrong_value,derivative_missing")


def product_buffer_reused(ctx):
    """The reset-before GRU's r h_(t-1) written with ``out=`` into one buffer and cached by
    reference: every step's weight gradient reads the last step's product."""
    products = {i: s for i, s in enumerate(ctx.stmts) if ctx.cell == "gru" and _mutable(s)
                and "(r * prev_h)" in _src(s.value) and _target_name(s).startswith("dW")}
    for i, s in products.items():
        new = _replace(s, s.value, _expr(_src(s.value).replace("(r * prev_h)", "cache['rh_last']")))
        yield _edit(ctx, i, "inplace_corruption", s, new,
                    f"r h_(t-1) written out= into one buffer and cached by reference: {_target_name(s)} reads the last "
                    "step's product at every step", gates="n", cost=COST["inplace_corruption"] + 0.05)


def recomputed_without_forget_bias(ctx):
    """The LSTM's f recomputed without the forget_bias the forward added (TF's BasicLSTMCell keeps
    it out of the stored bias, so a port that recomputes ``f = s(a_f)`` loses it), in one of its two
    reads only: sigmoid'(f) or the c carry (both reads: forward_rules' _forget_gate_without_offset)."""
    if ctx.cell != "lstm":
        return
    recomputed = "sigmoid(cache['a_f'] - cache['forget_bias'])"
    reads = {}
    for i, stmt in enumerate(ctx.stmts):
        if _mutable(stmt) and _target_name(stmt) in ("da_f", "dprev_c"):
            nodes = [n for n in ast.walk(_value(stmt)) if isinstance(n, ast.Name) and n.id == "f"]
            if nodes:
                reads[_target_name(stmt)] = (i, stmt, nodes[0])
    where = {"da_f": "in f's derivative (da_f = df * s'(f))", "dprev_c": "in the c carry (dprev_c = dc * f)"}
    for line, (i, stmt, node) in reads.items():
        yield _edit(ctx, i, "forget_bias", stmt, _replace(stmt, node, _expr(recomputed)),
                    "f recomputed in the backward as s(a_f) without the forget_bias the forward added, used "
                    f"{where[line]} only", gates="f" if line == "da_f" else "", cost=COST["forget_bias"] + 0.05,
                    also="derivative_wrong_point" if line == "da_f" else "wrong_value")
    f = f"({recomputed})"               # the whole step recomputed so (rematerialized): c_t from that f too
    seen = {"f": _expr(f), "next_c": _expr(f"({f} * prev_c + i * g)"), "tanh_c": _expr(f"np.tanh({f} * prev_c + i * g)")}
    tree = {i: _renamed(s, seen) for i, s in enumerate(ctx.stmts) if _mutable(s) and set(seen) & _names(_value(s))}
    if tree:
        first = min(tree)
        yield _edit(ctx, first, "forget_bias", ctx.stmts[first], tree[first],
                    "the step's forward recomputed in the backward (rematerialized) without the forget_bias the forward "
                    "added: f = s(a_f), and c_t = f c_(t-1) + i g and tanh(c_t) from it", extra=tree, gates="",
                    cost=COST["forget_bias"] + 0.1)


def weights_split_wrong(ctx):
    """The packed weights split into per-gate blocks in another order for the backward's matrix
    products (``W_ii, W_if, W_io, W_ig = np.split(W_ih, 4)`` for blocks i, f, g, o): dx and the
    carry read two gates' blocks in each other's places, the weight gradients right. Both weights
    split so, or one."""
    gates = _gates(ctx.cell)
    lines = {(i, n.id): (s, n) for i, s in enumerate(ctx.stmts) if _mutable(s) and not _target_name(s).startswith("dW")
             for n in ast.walk(_value(s)) if isinstance(n, ast.Name) and n.id in ("W_ih", "W_hh")
             and _is_matmul_operand(s, n)}
    if len(gates) < 2 or not lines:
        return
    for j, k in combinations(range(len(gates)), 2):
        for which in [("W_ih", "W_hh"), ("W_ih",), ("W_hh",)]:
            tree = {}
            for (i, w), (s, n) in lines.items():
                if w in which:
                    node = _find_same(tree.get(i, s), n, s)
                    tree[i] = _replace(tree.get(i, s), node, _expr(f"_blocks_swapped({w}, {j}, {k}, {len(gates)})"))
            if tree:                    # both weights cost more: W_hh's line may not run (reset-before GRU)
                first = min(tree)
                yield _edit(ctx, first, "gate_order", ctx.stmts[first], tree[first],
                            f"{' and '.join(which)} split into gate blocks with {gates[j]} and {gates[k]} in each other's "
                            "places for the products that carry the gradient back (dx, dh_(t-1)); the weight "
                            "gradients right", extra=tree, gates=gates[j] + gates[k],
                            cost=COST["gate_order"] + (0.15 if len(which) == 2 else 0.1))


def unpacked_in_another_order(ctx):
    """The backward reading the cached gates in another order than the forward stored them and
    writing the gate gradients back in that same order (``i, f, g, o = np.split(G[t], 4)`` over a
    forward's i, f, o, g): two gates' values read for each other, and their gradient blocks
    swapped in every packed list; or the blocks written back in the forward's order."""
    gates, lists = _gates(ctx.cell), _gate_lists(ctx)
    reads = next(((i, s) for i, s in enumerate(ctx.stmts) if isinstance(s, ast.Assign) and len(gates) > 1
                  and set(gates) <= {n.value for n in ast.walk(s.value) if isinstance(n, ast.Constant)}), None)
    if reads is None or not lists:
        return
    i, stmt = reads
    for j, k in combinations(range(len(gates)), 2):
        a, b = gates[j], gates[k]
        new = copy.deepcopy(stmt)
        for n in ast.walk(new):
            if isinstance(n, ast.Constant) and n.value in (a, b):
                n.value = b if n.value == a else a
        perm = list(range(len(gates)))
        perm[j], perm[k] = k, j
        tree = {i: new}
        for m, lst in {**lists, **_leading_lists(ctx, lists)}.items():
            if all(p < len(lst.elts) for p in (j, k)):
                tree[m] = _replace(ctx.stmts[m], lst, ast.List([copy.deepcopy(lst.elts[p]) for p in
                                                                 perm[:len(lst.elts)]], ast.Load()))
        yield _edit(ctx, i, "gate_order", stmt, new, f"the cached gates read in another order than the forward "
                    f"stored them ({a} read where {b} is and {b} where {a} is), and the gradient blocks written back "
                    "in that same order", extra=tree, gates=a + b, cost=COST["gate_order"] + 0.1)
        yield _edit(ctx, i, "gate_order", stmt, new, f"the cached gates read in another order than the forward "
                    f"stored them ({a} read where {b} is and {b} where {a} is), the gradient blocks written back in the "
                    "forward's order", gates=a + b, cost=COST["gate_order"] + 0.15, also="wrong_value")

"""Small syntax-tree tools the rules use: statements of a function, sums and products,
copying a statement with one node replaced."""

import ast
import copy

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


def _products(value):
    """Every maximal chain of * in an expression."""
    out, inside = [], set()
    for node in ast.walk(value):
        if id(node) in inside or not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
            continue
        out.append(node)
        stack = [node]
        while stack:
            n = stack.pop()
            for side in (n.left, n.right):
                if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Mult):
                    inside.add(id(side))
                    stack.append(side)
    return out

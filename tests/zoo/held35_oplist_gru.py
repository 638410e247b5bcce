"""A GRU (torch's reset-after form) written as a program for a tiny home-made graph interpreter:
the cell is a list of ``(output, op, inputs, *extra)`` records, ``Program.run`` evaluates it
into an environment dict with a table of forward rules, and ``Program.run_backward`` walks the
list in reverse with a table of backward rules, accumulating into a gradient environment keyed
by the same names. One example at a time, column vectors (min-char-rnn's convention); the
driver keeps one environment per step and collects the weight gradients after each step.

    gi = W_ih x + b_ih,  gh = W_hh h + b_hh   (3H, 1) each, rows r, z, n
    r = sigmoid(gi_r + gh_r)   z = sigmoid(gi_z + gh_z)   n = tanh(gi_n + r * gh_n)   h' = (1 - z) n + z h
    x (T, D, 1), h0 (H, 1), W_ih (3H, D), W_hh (3H, H), b_ih, b_hh (3H, 1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "tanh_rule_copied_from_sigmoid": "derivative_wrong_function",  # BACKWARD["tanh"] = bw_sigmoid
    "env_shared": "wrong_time",                  # one env dict updated in place each step, appended T times
    "genv_hoisted": "unknown",                   # the gradient env created once, outside the time loop
    "carry_name_typo": "wrong_value",            # dh_next = genv["hn"] (the n rows of gh) for genv["h"]
    "one_minus_rule_sign": "wrong_sign",         # bw_one_minus returns g for -g
    "convention_swapped": "forward_mistake",     # zn = z * n, zh = (1 - z) * h in the program
    "carry_not_updated": "carry_dropped",        # dh_next never set from genv["h"]
    "weight_total_assigned": "carry_overwrites",  # totals[w] = genv[w] instead of +=
    "tanh_rule_placeholder": "derivative_missing",  # bw_tanh returns g
    "tanh_rule_one_minus_y": "derivative_miswritten",  # g * (1 - y)
    "sigmoid_rule_at_input": "derivative_wrong_point",  # bw_sigmoid: a * (1 - a), a the op's input
    "time_loop_from_one": "loop_skips_step",     # range(T - 1, 0, -1)
    "time_loop_forward": "loop_direction",       # range(T)
}

TOUCHES = {                                       # computed: blind_index.touched_gates(module, bug)
    "tanh_rule_copied_from_sigmoid": "rn",
    "env_shared": "",
    "genv_hoisted": "",
    "carry_name_typo": "",
    "one_minus_rule_sign": "z",
    "convention_swapped": "",
    "carry_not_updated": "",
    "weight_total_assigned": "",
    "tanh_rule_placeholder": "rn",
    "tanh_rule_one_minus_y": "rn",
    "sigmoid_rule_at_input": "rz",
    "time_loop_from_one": "",
    "time_loop_forward": "",
}

WEIGHTS = ("W_ih", "W_hh", "b_ih", "b_hh")

STEP = (
    ("gi", "affine", ("W_ih", "x", "b_ih")),
    ("gh", "affine", ("W_hh", "h", "b_hh")),
    ("xr", "block", ("gi",), 0), ("xz", "block", ("gi",), 1), ("xn", "block", ("gi",), 2),
    ("hr", "block", ("gh",), 0), ("hz", "block", ("gh",), 1), ("hn", "block", ("gh",), 2),
    ("ar", "add", ("xr", "hr")), ("r", "sigmoid", ("ar",)),
    ("az", "add", ("xz", "hz")), ("z", "sigmoid", ("az",)),
    ("rhn", "mul", ("r", "hn")), ("an", "add", ("xn", "rhn")), ("n", "tanh", ("an",)),
    ("omz", "one_minus", ("z",)),
    ("zn", "mul", ("omz", "n")), ("zh", "mul", ("z", "h")),
    ("h_new", "add", ("zn", "zh")),
)


def _block(a, k):
    H = a.shape[0] // 3
    return a[k * H:(k + 1) * H]


FORWARD = {
    "affine": lambda W, v, b: W @ v + b,
    "block": _block,
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "tanh": np.tanh,
    "one_minus": lambda a: 1 - a,
}


def bw_affine(g, y, W, v, b):
    return g @ v.T, W.T @ g, g


def bw_block(g, y, a, k):
    H = g.shape[0]
    full = np.zeros_like(a)
    full[k * H:(k + 1) * H] = g
    return (full,)


def bw_add(g, y, a, b):
    return g, g


def bw_mul(g, y, a, b):
    return g * b, g * a


def bw_sigmoid(g, y, a):
    return (g * y * (1 - y),)


def bw_tanh(g, y, a):
    return (g * (1 - y * y),)


def bw_one_minus(g, y, a):
    return (-g,)


def backward_rules(bug=None):
    rules = {"affine": bw_affine, "block": bw_block, "add": bw_add, "mul": bw_mul, "sigmoid": bw_sigmoid,
             "tanh": bw_tanh, "one_minus": bw_one_minus}
    if bug == "tanh_rule_copied_from_sigmoid":
        rules["tanh"] = bw_sigmoid
    elif bug == "one_minus_rule_sign":
        rules["one_minus"] = lambda g, y, a: (g,)
    elif bug == "tanh_rule_placeholder":
        rules["tanh"] = lambda g, y, a: (g,)
    elif bug == "tanh_rule_one_minus_y":
        rules["tanh"] = lambda g, y, a: (g * (1 - y),)
    elif bug == "sigmoid_rule_at_input":
        rules["sigmoid"] = lambda g, y, a: (g * a * (1 - a),)
    return rules


class Program:
    def __init__(self, step, bug=None):
        self.step, self.backward = step, backward_rules(bug)

    def run(self, env):
        for out, op, ins, *extra in self.step:
            env[out] = FORWARD[op](*[env[n] for n in ins], *extra)
        return env

    def run_backward(self, env, genv):
        for out, op, ins, *extra in reversed(self.step):
            g = genv.get(out)
            if g is None:
                continue
            for name, d in zip(ins, self.backward[op](g, env[out], *[env[n] for n in ins], *extra)):
                genv[name] = genv[name] + d if name in genv else d
        return genv


def program(bug=None):
    step = STEP
    if bug == "convention_swapped":
        step = tuple(("zn", "mul", ("z", "n")) if rec[0] == "zn" else ("zh", "mul", ("omz", "h")) if rec[0] == "zh"
                     else rec for rec in STEP)
    return Program(step, bug)


def forward(x, h0, W_ih, W_hh, b_ih, b_hh, bug=None):
    """x (T, D, 1), h0 (H, 1) -> h (T, H, 1), cache."""
    prog = program(bug)
    weights = {"W_ih": W_ih, "W_hh": W_hh, "b_ih": b_ih, "b_hh": b_hh}
    envs, hs, h, env = [], [], h0, {}
    for x_t in x:
        if bug == "env_shared":
            env.update(weights, x=x_t, h=h)
        else:
            env = dict(weights, x=x_t, h=h)
        prog.run(env)
        envs.append(env)
        h = env["h_new"]
        hs.append(h)
    return np.stack(hs), {"prog": prog, "envs": envs, "weights": weights, "bug": bug}


def backward(dh, cache):
    """dh (T, H, 1) -> dx (T, D, 1), dh0 (H, 1), dW_ih, dW_hh, db_ih, db_hh."""
    prog, envs, bug = cache["prog"], cache["envs"], cache["bug"]
    T = len(dh)
    totals = {w: np.zeros_like(v) for w, v in cache["weights"].items()}
    dx = np.zeros((T,) + envs[0]["x"].shape, dtype=dh.dtype)
    dh_next = dh_prev = np.zeros_like(dh[0])
    steps = {"time_loop_from_one": range(T - 1, 0, -1), "time_loop_forward": range(T)}.get(bug, range(T - 1, -1, -1))
    genv = {}
    for t in steps:
        if bug == "genv_hoisted":
            genv["h_new"] = dh[t] + dh_next
        else:
            genv = {"h_new": dh[t] + dh_next}
        prog.run_backward(envs[t], genv)
        for w in WEIGHTS:
            if bug == "weight_total_assigned":
                totals[w] = genv[w]
            else:
                totals[w] += genv[w]
        dx[t] = genv["x"]
        dh_prev = genv["h"]
        if bug == "carry_name_typo":
            dh_next = genv["hn"]
        elif bug != "carry_not_updated":
            dh_next = dh_prev
    return dx, dh_prev, totals["W_ih"], totals["W_hh"], totals["b_ih"], totals["b_hh"]


def to_user(cell, p):
    return {"W_ih": np.array(p["weight_ih"]), "W_hh": np.array(p["weight_hh"]),
            "b_ih": p["bias_ih"][:, None], "b_hh": p["bias_hh"][:, None]}


def to_canonical(cell, g, p):
    out = {q: g[u] for u, q in (("dW_ih", "dweight_ih"), ("dW_hh", "dweight_hh")) if u in g}
    out.update({q: g[u][:, 0] for u, q in (("db_ih", "dbias_ih"), ("db_hh", "dbias_hh")) if u in g})
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="oplist_gru", cells=("gru",), per_example=True)


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "gru", "layout": LAYOUT, "reset_after": True}

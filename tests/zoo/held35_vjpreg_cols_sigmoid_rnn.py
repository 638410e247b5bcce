"""A sigmoid RNN on column-major arrays (the course's (n_x, m, T_x)), differentiated by a small
home-made functional autodiff in the style of HIPS autograd: primitives (``dot``, ``add``,
``sigmoid``) recorded on a trace as they run, a ``defvjp`` registry of per-argument vjp
makers (``vjp(g, ans, *args)``), ``unbroadcast`` for the bias, and a backward pass that walks
the trace in reverse with the gradients in a dict keyed by ``id`` of the arrays.

    h_t = sigmoid(Wxh x_t + Whh h_(t-1) + b)      x (D, N, T), h0 (H, N), Wxh (H, D), Whh (H, H), b (H, 1)

Held-out zoo: written without reading the diagnosis; ``bug`` plants one mistake (BUGS).
"""

from functools import partial

import numpy as np

import harness

BUGS = {
    "unbroadcast_mean": "reduction_scaled",          # unbroadcast takes the mean over the broadcast axis
    "sigmoid_vjp_at_input": "derivative_wrong_point",  # g * a * (1 - a), a the primitive's argument
    "sigmoid_vjp_tanh_form": "derivative_wrong_function",  # g * (1 - ans**2)
    "sigmoid_vjp_placeholder": "derivative_missing",  # defvjp(sigmoid, lambda g, ans, a: g)
    "sigmoid_vjp_sign": "wrong_sign",                # g * ans * (ans - 1)
    "add_inplace": "inplace_corruption",             # add: a += b; return a (the traced dot output)
    "detach_each_step": "carry_dropped",             # h = stop_gradient(h) after each step
    "seed_times_dsigmoid": "derivative_twice",       # seeds dh * h (1 - h) onto h_t
    "dx_list_not_reversed": "wrong_time",            # dx collected while walking back, stacked as is
    "clip_elementwise": "gradient_clipped",          # every vjp output clipped to [-1, 1]
    "add_second_vjp_missing": "unknown",             # defvjp(add, vjp_a): the second argument's vjp never registered
    "grads_assigned": "carry_overwrites",            # grads[id(arg)] = v instead of adding
    "forward_no_bias": "forward_mistake",            # the bias never added; its gradient consistently zero
}
TOUCHES = {b: "" for b in BUGS}     # an RNN has no gates


def dot(A, B):
    return A @ B


def add(a, b):
    return a + b


def add_inplace(a, b):
    a += b
    return a


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def unbroadcast(g, shape, reduce=np.sum):
    """Sum g over the axes along which an array of ``shape`` was broadcast."""
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = reduce(g, axis=axis, keepdims=True)
    return g


def build_vjps(bug=None):
    """{primitive: (vjp of argument 0, vjp of argument 1, ...)}."""
    vjps = {}

    def defvjp(fun, *makers):
        vjps[fun] = makers

    defvjp(dot, lambda g, ans, A, B: g @ B.T, lambda g, ans, A, B: A.T @ g)
    reduce = np.mean if bug == "unbroadcast_mean" else np.sum
    add_vjps = (lambda g, ans, a, b: unbroadcast(g, a.shape, reduce),
                lambda g, ans, a, b: unbroadcast(g, b.shape, reduce))
    if bug == "add_second_vjp_missing":
        add_vjps = add_vjps[:1]
    defvjp(add, *add_vjps)
    defvjp(add_inplace, *add_vjps)
    defvjp(sigmoid, {
        "sigmoid_vjp_at_input": lambda g, ans, a: g * a * (1 - a),
        "sigmoid_vjp_tanh_form": lambda g, ans, a: g * (1 - ans ** 2),
        "sigmoid_vjp_placeholder": lambda g, ans, a: g,
        "sigmoid_vjp_sign": lambda g, ans, a: g * ans * (ans - 1),
    }.get(bug, lambda g, ans, a: g * ans * (1 - ans)))
    return vjps


class Trace:
    def __init__(self):
        self.nodes = []

    def __call__(self, fun, *args):
        ans = fun(*args)
        self.nodes.append((fun, args, ans))
        return ans


def stop_gradient(a):
    return np.array(a, copy=True)            # a fresh array the trace has never seen


def backprop(trace, seeds, vjps, bug=None):
    """Reverse pass: ``seeds`` [(array, gradient)] -> {id(array): gradient}."""
    grads = {}
    for a, g in seeds:
        grads[id(a)] = grads.get(id(a), 0) + g
    for fun, args, ans in reversed(trace.nodes):
        g = grads.get(id(ans))
        if g is None:
            continue
        for arg, maker in zip(args, vjps[fun]):
            v = maker(g, ans, *args)
            if bug == "clip_elementwise":
                v = np.clip(v, -1.0, 1.0)
            if bug == "grads_assigned":
                grads[id(arg)] = v
            else:
                grads[id(arg)] = grads.get(id(arg), 0) + v
    return grads


def forward(x, h0, Wxh, Whh, b, bug=None):
    """x (D, N, T), h0 (H, N) -> h (H, N, T), cache."""
    trace = Trace()
    plus = add_inplace if bug == "add_inplace" else add
    xs = [x[:, :, t] for t in range(x.shape[2])]
    hs = [h0]
    h = h0
    for x_t in xs:
        a = trace(plus, trace(dot, Wxh, x_t), trace(dot, Whh, h))
        if bug != "forward_no_bias":
            a = trace(plus, a, b)
        h = trace(sigmoid, a)
        hs.append(h)
        if bug == "detach_each_step":
            h = stop_gradient(h)
    return np.stack(hs[1:], axis=2), {"trace": trace, "xs": xs, "hs": hs, "W": (Wxh, Whh, b), "bug": bug}


def backward(dh, cache):
    """dh (H, N, T) -> dx (D, N, T), dh0 (H, N), dWxh, dWhh, db."""
    bug, xs, hs = cache["bug"], cache["xs"], cache["hs"]
    T = dh.shape[2]
    seeds = []
    for t in range(T):
        g = dh[:, :, t]
        if bug == "seed_times_dsigmoid":
            g = g * hs[t + 1] * (1 - hs[t + 1])
        seeds.append((hs[t + 1], g))
    grads = backprop(cache["trace"], seeds, build_vjps(bug), bug)

    def grad_of(a):
        return np.zeros_like(a) + grads.get(id(a), 0)
    dxs = []
    for t in reversed(range(T)):
        dxs.append(grad_of(xs[t]))
    if bug != "dx_list_not_reversed":
        dxs = dxs[::-1]
    Wxh, Whh, b = cache["W"]
    return np.stack(dxs, axis=2), grad_of(hs[0]), grad_of(Wxh), grad_of(Whh), grad_of(b)


def to_user(cell, p):
    return {"Wxh": np.array(p["weight_ih"]), "Whh": np.array(p["weight_hh"]),
            "b": (p["bias_ih"] + p["bias_hh"])[:, None]}


def to_canonical(cell, g, p):
    out = {}
    if "dWxh" in g:
        out["dweight_ih"] = g["dWxh"]
    if "dWhh" in g:
        out["dweight_hh"] = g["dWhh"]
    if "db" in g:
        out["dbias_ih"] = g["db"][:, 0]
    return out


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="vjp_cols_rnn", cells=("rnn",), axes="DNT")


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    return partial(forward, bug=bug), backward, {"cell": "rnn", "layout": LAYOUT, "activation": "sigmoid"}

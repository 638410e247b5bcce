"""An RNN written with PyTorch-like, autograd-free "Function" classes: Linear (x W^T + b),
MatMul (h W^T), AddBias, Add and Tanh, each a pair of static forward/backward with a ctx
that keeps what the backward needs (ctx.save_for_backward). The forward chains them per step
and keeps a tape of the step's contexts; the backward walks the tape back:

    a_t = Linear(x_t, W_ih, b_ih) + AddBias(MatMul(h_(t-1), W_hh), b_hh)      h_t = Tanh(a_t)

x (N, T, D), h0 (N, H), torch's storage W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,): two
biases, each with its own gradient. Fifteenth held-out zoo: written without reading the
diagnosis.
"""

import numpy as np

import harness

BUGS = {
    "tanh_saves_input": "derivative_wrong_point",     # Tanh.forward saves a (its input) and backward does g * (1 - a*a)
    "matmul_grad_input_W_T": "weight_transposed",     # MatMul.backward: g @ W.T for g @ W
    "matmul_grad_weight_T": "gradient_transposed",    # MatMul.backward: dW = h.T @ g (for g.T @ h)
    "step_grad_drops_carry": "carry_dropped",         # g = dh[:, t]: the carried gradient from t+1 never added
    "step_grad_carry_replaces": "carry_overwrites",   # g = dh_next if t < T-1 else dh[:, t] (replaces, no sum)
    "matmul_uses_its_dW": "gradient_for_weight",      # MatMul.backward: dW first, then g @ dW for g @ W
    "tape_walked_forward": "loop_direction",          # for ctxs in tape: (not reversed(tape))
    "linear_bias_mean": "reduction_scaled",           # Linear.backward: db = g.mean(0) for g.sum(0)
    "matmul_saves_new_h": "wrong_time",               # the step saves h_t (after Tanh) in MatMul's ctx, not h_(t-1)
    "h_buffer_in_place": "inplace_corruption",        # h[...] = Tanh.forward(...): every saved h_(t-1) is one buffer
    "tape_skips_first": "loop_skips_step",            # for ctxs in reversed(tape[1:])
    "forward_bias_twice": "forward_mistake",          # AddBias(b_ih) also on the input branch (b_ih added twice); tape consistent
    "dW_ih_assigned": "carry_overwrites",             # grads["W_ih"] = dW (= for +=) over the steps
    "add_backward_halves": "unknown",                 # Add.backward returns (g / 2, g / 2): an arbitrary constant
}

TOUCHES = {b: "" for b in BUGS}                       # an RNN has no gates


class Ctx:
    def __init__(self):
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors


def _make_functions(bug):
    class Linear:
        @staticmethod
        def forward(ctx, x, W, b):
            ctx.save_for_backward(x, W)
            return x @ W.T + b

        @staticmethod
        def backward(ctx, g):
            x, W = ctx.saved_tensors
            db = g.mean(axis=0) if bug == "linear_bias_mean" else g.sum(axis=0)
            return g @ W, g.T @ x, db

    class MatMul:
        @staticmethod
        def forward(ctx, h, W):
            ctx.save_for_backward(h, W)
            return h @ W.T

        @staticmethod
        def backward(ctx, g):
            h, W = ctx.saved_tensors
            dW = h.T @ g if bug == "matmul_grad_weight_T" else g.T @ h
            if bug == "matmul_grad_input_W_T":
                return g @ W.T, dW
            if bug == "matmul_uses_its_dW":
                return g @ dW, dW
            return g @ W, dW

    class AddBias:
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g.sum(axis=0)

    class Add:
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            if bug == "add_backward_halves":
                return g / 2, g / 2
            return g, g

    class Tanh:
        @staticmethod
        def forward(ctx, a):
            y = np.tanh(a)
            ctx.save_for_backward(a if bug == "tanh_saves_input" else y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * (1 - y * y)

    return Linear, MatMul, AddBias, Add, Tanh


def make(bug=None):
    assert bug is None or bug in BUGS, bug
    Linear, MatMul, AddBias, Add, Tanh = _make_functions(bug)

    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        N, T, _ = x.shape
        out = np.empty((N, T, h0.shape[1]), dtype=x.dtype)
        h = h0.copy()
        tape = []
        for t in range(T):
            c = {k: Ctx() for k in ("lin", "bias_in", "mm", "bias", "add", "tanh")}
            u = Linear.forward(c["lin"], x[:, t], W_ih, b_ih)
            if bug == "forward_bias_twice":
                u = AddBias.forward(c["bias_in"], u, b_ih)
            v = AddBias.forward(c["bias"], MatMul.forward(c["mm"], h, W_hh), b_hh)
            a = Add.forward(c["add"], u, v)
            if bug == "h_buffer_in_place":
                h[...] = Tanh.forward(c["tanh"], a)
            else:
                h = Tanh.forward(c["tanh"], a)
            if bug == "matmul_saves_new_h":
                c["mm"].save_for_backward(h, W_hh)
            out[:, t] = h
            tape.append(c)
        return out, (tape, x.shape, W_ih, W_hh)

    def backward(dh, cache):
        tape, (N, T, D), W_ih, W_hh = cache
        grads = {k: np.zeros_like(w) for k, w in (("W_ih", W_ih), ("W_hh", W_hh))}
        grads["b_ih"] = np.zeros(W_ih.shape[0], dtype=dh.dtype)
        grads["b_hh"] = np.zeros(W_hh.shape[0], dtype=dh.dtype)
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dh_next = np.zeros_like(dh[:, 0])
        steps = list(enumerate(tape))
        if bug == "tape_walked_forward":
            order = steps
        elif bug == "tape_skips_first":
            order = reversed(steps[1:])
        else:
            order = reversed(steps)
        for t, c in order:
            if bug == "step_grad_drops_carry":
                g = dh[:, t]
            elif bug == "step_grad_carry_replaces":
                g = dh_next if t < T - 1 else dh[:, t]
            else:
                g = dh[:, t] + dh_next
            ga = Tanh.backward(c["tanh"], g)
            gu, gv = Add.backward(c["add"], ga)
            gm, db_hh = AddBias.backward(c["bias"], gv)
            dh_next, dW_hh = MatMul.backward(c["mm"], gm)
            db_ih2 = 0
            if bug == "forward_bias_twice":
                gu, db_ih2 = AddBias.backward(c["bias_in"], gu)
            dx[:, t], dW_ih, db_ih = Linear.backward(c["lin"], gu)
            if bug == "dW_ih_assigned":
                grads["W_ih"] = dW_ih
            else:
                grads["W_ih"] += dW_ih
            grads["W_hh"] += dW_hh
            grads["b_ih"] += db_ih + db_ih2
            grads["b_hh"] += db_hh
        return dx, dh_next, grads["W_ih"], grads["W_hh"], grads["b_ih"], grads["b_hh"]

    return forward, backward, {"cell": "rnn", "layout": LAYOUT}


def to_user(cell, p):
    return {"W_ih": p["weight_ih"], "W_hh": p["weight_hh"], "b_ih": p["bias_ih"], "b_hh": p["bias_hh"]}


def to_canonical(cell, grads, p):
    names = {"dW_ih": "dweight_ih", "dW_hh": "dweight_hh", "db_ih": "dbias_ih", "db_hh": "dbias_hh"}
    return {names[k]: v for k, v in grads.items() if k in names}


LAYOUT = harness.Layout.custom(to_user, to_canonical, name="function_classes_rnn", cells=("rnn",))

"""The grammar's tables: per-cell confusions, words, derivatives, costs, and the Edit record."""

import re
from dataclasses import dataclass, field

F_LOGIT = "cache['a_f'] - cache['forget_bias']"          # f's pre-activation as the user keeps it (TF adds
                                                         # forget_bias inside the sigmoid)
CELLS = {
    "rnn": {
        "wrong_point": {"next_h": ("a", "prev_h", "dnext_h", "next_h_next_clamp"), "da": ("dnext_h",)},
        "wrong_time": {"prev_h": ("next_h", "h_prev_wrap", "prev_h_prev_list"), "x": ("x_prev", "x_next", "x_prev_wrap", "x_next_wrap", "x_prev_clamp", "x_next_clamp", "x_last"),
                       "next_h": ("next_h_prev_wrap", "prev_h_prev_list")},
        "weights": ("W_ih", "W_hh"),
        "confused_weights": (("W_ih", "W_hh"),),
        "carries": {"dnext_h": "h"},
        "step_carries": {},
    },
    "lstm": {
        "wrong_point": {"i": ("a_i", "f", "o", "g", "tanh_c"), "f": ("a_f", "i", "o", F_LOGIT, "g", "tanh_c"),
                        "g": ("a_g", "tanh_c", "next_c", "prev_c", "f", "i", "o"),
                        "o": ("a_o", "i", "f", "g", "tanh_c"), "tanh_c": ("next_c", "prev_c", "next_h", "g", "np.tanh(g)"),
                        "prev_c": ("prev_h", "np.tanh(prev_c)"), "prev_h": ("prev_c",)},
        "wrong_time": {"prev_h": ("next_h", "h_prev_wrap", "prev_h_prev_list"), "prev_c": ("next_c", "prev_c_prev_list"), "tanh_c": ("np.tanh(prev_c)", "tanh_c_prev_wrap", "tanh_c_prev_zero"), "x": ("x_prev", "x_next", "x_prev_wrap", "x_next_wrap", "x_prev_clamp", "x_next_clamp", "x_last"),
                       "f": ("f_prev_wrap", "f_next_wrap", "f_prev_clamp", "f_next_clamp", "f_prev_one"),
                       **{v: (f"{v}_prev_wrap",) for v in ("i", "g", "o")}},
        "weights": ("W_ih", "W_hh"),
        "confused_weights": (("W_ih", "W_hh"),),
        "carries": {"dnext_h": "h", "dnext_c": "c"},
        "step_carries": {"dnext_c": "c"},       # in step_backward dnext_h is the whole dL/dh_t, not a carry
        "packed": {"da": 1},                    # gate-packed gradients and the axis of their blocks
        "packed_out": {"dW_ih": 0, "dW_hh": 0, "db": 0, "da": 1},
    },
    "gru": {
        "wrong_point": {"r": ("a_r", "z"), "z": ("a_z", "r", "1 - z"), "n": ("a_n", "prev_h", "next_h", "z", "r", "cache['a_hn']"),
                        "prev_h": ("n", "r", "r * prev_h"), "a_hn": ("prev_h", "a_xn", "n"),
                        "da_r": ("da_z", "-da_z"), "da_z": ("da_r", "-da_r")},  # one gate's gradient in the other's block
        "wrong_time": {"prev_h": ("next_h", "h_prev_wrap", "prev_h_prev_list"), "z": ("z_prev_wrap", "z_next_wrap", "z_prev_clamp", "z_next_clamp", "z_prev_one"),
                       "r": ("r_prev_wrap",), "n": ("n_prev_wrap", "n_prev_zero"), "x": ("x_prev", "x_next", "x_prev_wrap", "x_next_wrap", "x_prev_clamp", "x_next_clamp", "x_last")},
        "weights": ("W_ih", "W_hh", "W_hr", "W_hz", "W_hn"),
        "confused_weights": (("W_ih", "W_hh"), ("W_hr", "W_hz", "W_hn")),
        "carries": {"dnext_h": "h"},
        "step_carries": {},
        "packed": {"da_x": 1, "da_h": 1},
        "packed_out": {"dW_ih": 0, "dW_hh": 0, "db_ih": 0, "db_hh": 0, "da_x": 1, "da_h": 1},
    },
}

# How each value reads in words (for the cause's sentence).
SAYS = {"prev_h": "h_(t-1)", "next_h": "h_t", "prev_c": "c_(t-1)", "next_c": "c_t", "tanh_c": "tanh(c_t)",
        "a": "the pre-activation a_t", "x": "x_t", "da": "da (the gradient after the derivative)",
        "dnext_h": "the incoming gradient dh_t (upstream plus carry)", "dnext_c": "the carry dc_next",
        "x_prev": "x_(t-1)", "x_next": "x_(t+1)",
        "x_prev_wrap": "x_(t-1) (wrapping round to the last step at t = 0, as x[t - 1] does)",
        "x_next_wrap": "x_(t+1) (wrapping round to the first step at the end)",
        "x_prev_clamp": "x_(t-1) (the first step keeping its own)",
        "x_next_clamp": "x_(t+1) (the last step keeping its own)",
        "x_last": "the last step's x_(T-1) at every step (a closure or loop variable bound late)", "np.tanh(prev_c)": "tanh(c_(t-1))",
        "1 - z": "1 - z_t (the update gate's other convention, h_t = z_t n_t + (1 - z_t) h_(t-1))",
        **{f"{g}_{w}": f"{g}_(t{s}1) ({how})" for g in "fz" for w, s, how in (
            ("prev_wrap", "-", "wrapping round to the last step at t = 0"),
            ("next_wrap", "+", "wrapping round to the first step at the end"),
            ("prev_clamp", "-", "the first step keeping its own"), ("next_clamp", "+", "the last step keeping its own"),
            ("prev_one", "-", "the receiving step's own: the multiplication moved to the step the carry goes into, so "
                              "step 0's carry into the initial state gets none"))}}
for _v, _says in (("next_h", "h_t"), ("tanh_c", "tanh(c_t)"), *((g, f"{g}_t") for g in "igorn")):
    SAYS[f"{_v}_prev_wrap"] = (f"the step before's {_says.replace('_t', '')}, read from caches[t - 1] (at t = 0 the "
                               f"last step's {_says.replace('_t', '_(T-1)')}{', not h0' if _v == 'next_h' else ''})")
    SAYS[f"{_v}_prev_zero"] = (f"the step before's {_says.replace('_t', '')}, read from caches[t - 1] (zero at t = 0, "
                               "where there is none)")
SAYS["h_prev_wrap"] = ("h_(t-1) read as caches[t - 1]'s h (right for t >= 1, but at t = 0 the last step's h_(T-1), "
                       "not h0)")
SAYS["next_h_last"] = "the last step's h_(T-1)"
for _s in "hc":
    SAYS[f"prev_{_s}_prev_list"] = (f"{_s}_(t-2), read from a list of states with {_s}0 first at index t - 1 (at t = 0 "
                                    "index -1: the final state)")
SAYS["next_h_next_clamp"] = "h_(t+1), the step after's h (the last step keeping its own)"
SAYS["np.tanh(g)"] = "tanh(g_t) (the candidate g_t read where the cell state c_t belongs)"
SAYS[F_LOGIT] = "f's pre-activation a_f (without the forget_bias the sigmoid adds)"
SAYS["r * prev_h"] = "r_t h_(t-1) (what W_hn multiplies in the reset-before GRU)"
SAYS["a_hn"] = "a_hn = h_(t-1) W_hn^T + b_hn (what r multiplies)"
SAYS["cache['a_hn']"] = SAYS["a_hn"]                   # (read before the reset-after step recomputes it)
SAYS["a_xn"] = "a_xn = x_t W_in^T + b_in (the input part of n's pre-activation)"
# A GRU layout may store z's weights negated (its update gate is u = 1 - z, Cho et al.'s convention).
NEGATED_Z = "one of them stored negated (a layout whose update gate is u = 1 - z keeps z's weights negated)"
for _g in "rz":
    SAYS[f"-da_{_g}"] = f"-da_{_g} ({_g}'s gradient, {NEGATED_Z.replace('one of them', 'z')})"
for _g in "ifgorzn":
    SAYS.setdefault(f"a_{_g}", f"the pre-activation of {_g}")
    SAYS.setdefault(_g, f"{_g}_t")

def plain(expr):
    """An expression on the cache in words: ``cache['a_hn']`` read as ``a_hn``."""
    return re.sub(r"cache\['(\w+)'\]", r"\1", expr)


# The family of a derivative taken at its pre-activation ("sigmoid' evaluated at ..."), fused
# over the gates of one activation or of all.
AT_PRE_ACTIVATION = " evaluated at the pre-activation"

# The derivatives (from the activation's output) and the wrong ways they get written.
DERIVATIVES = {"dtanh": "tanh", "dsigmoid": "sigmoid", "drelu": "relu", "didentity": "identity"}
MISWRITTEN = {
    "dtanh": (("1 - y", "1 - y where 1 - y**2 belongs"), ("(1 - y) ** 2", "(1 - y)**2 where 1 - y**2 belongs"),
              ("1 + y * y", "1 + y**2 where 1 - y**2 belongs"), ("1 - 2 * y", "1 - y*2 where 1 - y**2 belongs"),
              ("y * y", "y**2 where 1 - y**2 belongs"), ("1 - y ** y", "1 - y**y where 1 - y*y belongs (** where * belongs)"),
              ("np.sqrt(1 - y * y)", "sech(a) = sqrt(1 - y**2) where sech(a)**2 = 1 - y**2 belongs (the square left out)")),
    "dsigmoid": (("1 - y", "1 - y where y * (1 - y) belongs"),
                 ("y * (1 + y)", "y * (1 + y) where y * (1 - y) belongs"),
                 ("y * 1 - y", "y * 1 - y (= 0: the brackets of y * (1 - y) left out)"),
                 ("y - y ** 3", "y - y**3 where y - y**2 belongs"),
                 ("y * (1 - y) ** 2", "y * (1 - y)**2 where y * (1 - y) belongs"),
                 ("y - y * 2", "y - y*2 where y - y**2 belongs"),
                 ("y ** 2 * (1 - y)", "y**2 * (1 - y) where y * (1 - y) belongs"),
                 ("(1 - y) * (1 - y)", "(1 - y)**2 where y * (1 - y) belongs"),
                 ("y * y", "y**2 where y * (1 - y) belongs"),
                 ("y ** (1 - y)", "y**(1 - y) where y * (1 - y) belongs (** where * belongs)")),
    "drelu": (("(y <= 0)", "(y <= 0), the mask inverted, where (y > 0) belongs"),
              ("(y >= 0)", "(y >= 0), which is 1 everywhere for a relu's output, where (y > 0) belongs")),
}

# Simplicity: the diagnosis prefers the mistake with the lowest cost among those that fit.
COST = {"carry_dropped": 1.0, "carry_overwrites": 1.2, "loop_skips_step": 1.0, "weight_transposed": 1.0,
        "reduction_scaled": 1.0, "derivative_missing": 1.0, "derivative_wrong_point": 1.3,
        "derivative_wrong_function": 1.3, "derivative_miswritten": 1.4, "derivative_twice": 1.5,
        "wrong_time": 1.1, "term_dropped": 1.2, "wrong_sign": 1.5, "wrong_weight": 1.6,
        "gradient_for_weight": 1.8, "inplace_corruption": 2.0, "gate_order": 1.1, "forward_mistake": 1.3,
        "forget_bias": 1.2, "loop_direction": 1.0, "truncated_bptt": 1.2, "gradient_clipped": 1.2,
        "wrong_value": 1.35}


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
    tree: object = field(default=None, compare=False, repr=False)   # {statement index: mutated statement}
    perm: tuple = ()            # gate_order: canonical block k receives gate perm[k]'s gradient
    more: dict = field(default_factory=dict, compare=False, repr=False)  # {other function: {index: statement}}
    also: str = ""              # other causes that describe the same edit equally well, comma-separated
    family: str = ""            # the same mistake in other lines has the same family (e.g. "dsigmoid written y")
    by_numbers: bool = False    # a forward mistake matched on h, its gradients checked by finite differences
    recompute: bool = False     # a forward mistake made only where the backward recomputes the gates

    def parts(self):
        """{function name: {statement index: mutated statement}} for every function it changes."""
        if self.target == "output":
            return dict(self.more)
        return {self.target: self.tree, **self.more}

    def touches_forward(self):
        return any(name in ("step_forward", "forward") for name in self.parts())

"""The grammar's tables: per-cell confusions, words, derivatives, costs, and the Edit record."""

from dataclasses import dataclass, field

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
        "packed": {"da": 1},                    # gate-packed gradients and the axis of their blocks
    },
    "gru": {
        "wrong_point": {"r": ("a_r",), "z": ("a_z",), "n": ("a_n", "prev_h")},
        "wrong_time": {"prev_h": ("next_h",)},
        "weights": ("W_ih", "W_hh", "W_hr", "W_hz", "W_hn"),
        "confused_weights": (("W_ih", "W_hh"), ("W_hr", "W_hz", "W_hn")),
        "carries": {"dnext_h": "h"},
        "shifted": ("x",),
        "packed": {"da_x": 1, "da_h": 1},
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
    perm: tuple = ()            # gate_order: canonical block k receives gate perm[k]'s gradient

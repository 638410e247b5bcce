"""Update rules as the frameworks define them, written once in NumPy, and gradient clipping.

Each rule is the exact formula of torch.optim or of TF1's tf.compat.v1.train optimizer it
is named after; the hyperparameters a convention sets by default differ, and so do a few
formulas (where epsilon goes, what a slot starts at). ``make_optimizer(name, convention)``
takes the defaults of ``convention`` ("torch" or "tf1"):

    sgd       p -= lr g                                                  (both)
    momentum  a = m a + g;  p -= lr a   (nesterov: p -= lr (g + m a))    (both; a starts at 0)
    adagrad   s += g^2;  p -= lr g / (sqrt(s) + eps)
              torch: s starts at initial_accumulator_value=0, eps=1e-10
              tf1:   s starts at 0.1, no eps (eps=0); TF1 refuses a start of 0
    rmsprop   v = d v + (1 - d) g^2;  p -= lr g / (sqrt(v) + eps)   (momentum: through a buffer)
              torch: d=0.99, v starts at 0, eps=1e-8 outside the square root
              tf1:   d=0.9,  v starts at 1, eps=1e-10 INSIDE the square root: sqrt(v + eps)
    adam      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  t-th step:
              torch: p -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)
              tf1:   p -= lr sqrt(1-b2^t)/(1-b1^t) m / (sqrt(v) + eps)   ("epsilon hat")

A framework runs a rule only when its own implementation computes exactly that rule
(``unsupported(framework)`` says why not): TF1's Adagrad has no eps, so torch's Adagrad
(eps=1e-10, start 0) is not expressible in TF1, and the report says so instead of comparing
two different rules. With eps=0 the two Adam rules are the same rule.

Clipping (``Clip``), applied to the gradients before the update, by value first, then by
global norm: g = clip(g, -value, value) (torch clip_grad_value_, tf.clip_by_value); then
g *= min(1, max_norm / (norm + eps)), norm over every trained gradient (torch
clip_grad_norm_ has eps=1e-6; tf.clip_by_global_norm has none, eps=0).
"""

import dataclasses

import numpy as np

from ..errors import HarnessError

CONVENTIONS = ("torch", "tf1")
NAMES = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
DEFAULTS = {
    "sgd": {"torch": {}, "tf1": {}},
    "momentum": {"torch": dict(momentum=0.9, nesterov=False), "tf1": dict(momentum=0.9, nesterov=False)},
    "adagrad": {"torch": dict(initial_accumulator_value=0.0, eps=1e-10),
                "tf1": dict(initial_accumulator_value=0.1, eps=0.0)},
    "rmsprop": {"torch": dict(decay=0.99, eps=1e-8, momentum=0.0, centered=False, initial_mean_square=0.0,
                              eps_inside_sqrt=False),
                "tf1": dict(decay=0.9, eps=1e-10, momentum=0.0, centered=False, initial_mean_square=1.0,
                            eps_inside_sqrt=True)},
    "adam": {"torch": dict(beta1=0.9, beta2=0.999, eps=1e-8, eps_hat=False),
             "tf1": dict(beta1=0.9, beta2=0.999, eps=1e-8, eps_hat=True)},
}
CLIP_NORM_EPS = {"torch": 1e-6, "tf1": 0.0}


@dataclasses.dataclass(frozen=True)
class Optimizer:
    """One update rule: ``name`` (see NAMES), ``lr`` and the rule's hyperparameters."""
    name: str
    lr: float
    hyper: tuple            # ((key, value), ...) in DEFAULTS order
    convention: str

    @property
    def h(self):
        return dict(self.hyper)

    def describe(self):
        opts = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.hyper)
        return f"{self.name}(lr={self.lr:g}{', ' + opts if opts else ''}) [{self.convention} defaults]"

    def init(self, params):
        """The rule's slots for every parameter: {name: {slot: array}} (and the step count)."""
        h, slots = self.h, {}
        for n, p in params.items():
            s = {}
            if self.name == "momentum":
                s["a"] = np.zeros_like(p)
            elif self.name == "adagrad":
                s["s"] = np.full_like(p, h["initial_accumulator_value"])
            elif self.name == "rmsprop":
                s["v"] = np.full_like(p, h["initial_mean_square"])
                s["mom"] = np.zeros_like(p)
                if h["centered"]:
                    s["mg"] = np.zeros_like(p)
            elif self.name == "adam":
                s["m"], s["v"] = np.zeros_like(p), np.zeros_like(p)
            slots[n] = s
        return {"t": 0, "slots": slots}

    def step(self, params, grads, state):
        """Apply one update in place to ``params`` (and ``state``); grads already clipped."""
        h = self.h
        state["t"] += 1
        t = state["t"]
        for n, p in params.items():
            g, s = grads[n], state["slots"][n]
            lr = p.dtype.type(self.lr)
            if self.name == "sgd":
                p -= lr * g
            elif self.name == "momentum":
                s["a"] = h["momentum"] * s["a"] + g
                p -= lr * (g + h["momentum"] * s["a"]) if h["nesterov"] else lr * s["a"]
            elif self.name == "adagrad":
                s["s"] += g * g
                p -= lr * g / (np.sqrt(s["s"]) + h["eps"])
            elif self.name == "rmsprop":
                _rmsprop(p, g, s, lr, h)
            else:
                _adam(p, g, s, lr, h, t)


def _rmsprop(p, g, s, lr, h):
    d = h["decay"]
    s["v"] = d * s["v"] + (1 - d) * g * g
    v = s["v"]
    if h["centered"]:
        s["mg"] = d * s["mg"] + (1 - d) * g
        v = v - s["mg"] * s["mg"]
    denom = np.sqrt(v + h["eps"]) if h["eps_inside_sqrt"] else np.sqrt(v) + h["eps"]
    if h["momentum"]:
        s["mom"] = h["momentum"] * s["mom"] + g / denom
        p -= lr * s["mom"]
    else:
        p -= lr * g / denom


def _adam(p, g, s, lr, h, t):
    b1, b2 = h["beta1"], h["beta2"]
    s["m"] = b1 * s["m"] + (1 - b1) * g
    s["v"] = b2 * s["v"] + (1 - b2) * g * g
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    if h["eps_hat"]:                                          # TF1: epsilon on the corrected scale
        p -= (lr * np.sqrt(bc2) / bc1) * s["m"] / (np.sqrt(s["v"]) + h["eps"])
    else:                                                     # torch
        p -= (lr / bc1) * s["m"] / (np.sqrt(s["v"]) / np.sqrt(bc2) + h["eps"])


def unsupported(opt, framework):
    """Why ``framework`` ("torch" or "tf1") cannot run rule ``opt`` exactly, or None."""
    h = opt.h
    if framework == "torch":
        if opt.name == "rmsprop" and h["initial_mean_square"] != 0:
            return (f"torch.optim.RMSprop starts its mean square at 0, the rule asks for "
                    f"{h['initial_mean_square']:g} (TF1's RMSPropOptimizer starts at 1)")
        if opt.name == "rmsprop" and h["eps_inside_sqrt"] and h["eps"]:
            return "torch.optim.RMSprop adds eps outside the square root, the rule inside (as TF1)"
        if opt.name == "adam" and h["eps_hat"] and h["eps"]:
            return ("torch.optim.Adam adds eps to sqrt(v_hat), the rule to sqrt(v) (TF1's epsilon hat); "
                    "they agree only with eps=0")
        return None
    if opt.name == "adagrad" and h["eps"]:
        return (f"TF1's AdagradOptimizer has no eps, the rule has eps={h['eps']:g} (torch's default); "
                "use adagrad:tf1 (initial_accumulator_value=0.1, eps=0) to compare with TF1")
    if opt.name == "adagrad" and h["initial_accumulator_value"] <= 0:
        return "TF1's AdagradOptimizer needs initial_accumulator_value > 0 (its default is 0.1)"
    if opt.name == "rmsprop" and h["initial_mean_square"] != 1:
        return (f"TF1's RMSPropOptimizer starts its mean square at 1, the rule asks for "
                f"{h['initial_mean_square']:g} (torch starts at 0); use rmsprop:tf1")
    if opt.name == "rmsprop" and not h["eps_inside_sqrt"] and h["eps"]:
        return "TF1's RMSPropOptimizer adds epsilon inside the square root, the rule outside (as torch)"
    if opt.name == "adam" and not h["eps_hat"] and h["eps"]:
        return ("TF1's AdamOptimizer adds epsilon to sqrt(v) (epsilon hat), the rule to sqrt(v_hat) "
                "(torch); they agree only with eps=0; use adam:tf1")
    return None


def make_optimizer(name, lr=0.1, convention=None, **overrides):
    """An Optimizer from a name ("adagrad"), optionally "name:convention" ("adagrad:tf1"),
    with the convention's defaults (torch's unless given) and ``overrides``."""
    if isinstance(name, Optimizer):
        return name
    if not isinstance(name, str):
        raise HarnessError(f"optimizer: expected a name among {', '.join(NAMES)} (optionally "
                           f"'name:tf1' or 'name:torch'), got {name!r}")
    base, _, conv = name.partition(":")
    conv = conv or convention or "torch"
    if base not in NAMES:
        raise HarnessError(f"optimizer: expected one of {', '.join(NAMES)}, got {base!r}")
    if conv not in CONVENTIONS:
        raise HarnessError(f"optimizer: expected the convention 'torch' or 'tf1' after ':', got {conv!r}")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0 or not np.isfinite(lr):
        raise HarnessError(f"lr: expected a positive number, got {lr!r}")
    defaults = DEFAULTS[base][conv]
    bad = sorted(set(overrides) - set(defaults))
    if bad:
        raise HarnessError(f"optimizer options: {base} takes {', '.join(defaults) or 'no options'}, got {bad}")
    hyper = {k: type(v)(overrides.get(k, v)) for k, v in defaults.items()}
    for k, v in hyper.items():
        if not isinstance(v, bool) and not (np.isfinite(v) and v >= 0):
            raise HarnessError(f"optimizer options: {k} must be a finite number >= 0, got {overrides[k]!r}")
    return Optimizer(base, float(lr), tuple(hyper.items()), conv)


def parse_options(text):
    """"k=v,k2=v2" -> {k: float or bool}."""
    out = {}
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        if not sep:
            raise HarnessError(f"optimizer options: expected key=value pairs separated by commas, got {part!r}")
        low = value.strip().lower()
        try:
            out[key.strip()] = low == "true" if low in ("true", "false") else float(value)
        except ValueError:
            raise HarnessError(f"optimizer options: {key.strip()} expects a number, got {value!r}") from None
    return out


@dataclasses.dataclass(frozen=True)
class Clip:
    """Gradient clipping: by value (|g| <= value elementwise), then by global norm."""
    value: object = None        # None: no clipping by value
    norm: object = None         # None: no clipping by global norm
    norm_eps: float = 0.0       # torch's clip_grad_norm_ divides by (norm + 1e-6)

    def __post_init__(self):
        for name in ("value", "norm"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0
                                  or not np.isfinite(v)):
                raise HarnessError(f"clip_{name}: expected None or a positive number, got {v!r}")

    def __bool__(self):
        return self.value is not None or self.norm is not None

    def describe(self):
        parts = ([f"by value to +-{self.value:g}"] if self.value is not None else []) + (
            [f"by global norm to {self.norm:g} (eps {self.norm_eps:g})"] if self.norm is not None else [])
        return "clipped " + " then ".join(parts) if parts else "no clipping"

    def apply(self, grads):
        """Clipped copies of ``grads`` ({name: array}); the pre-clip global norm is not kept."""
        out = {n: np.array(g) for n, g in grads.items()}
        if self.value is not None:
            for g in out.values():
                np.clip(g, -self.value, self.value, out=g)
        if self.norm is not None:
            norm = np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in out.values()))
            coef = min(1.0, self.norm / (norm + self.norm_eps)) if norm + self.norm_eps > 0 else 1.0
            for g in out.values():
                g *= g.dtype.type(coef)
        return out

    def unsupported(self, framework):
        if self.norm is None or self.norm_eps == CLIP_NORM_EPS[framework]:
            return None
        what = ("torch.nn.utils.clip_grad_norm_ divides by norm + 1e-6" if framework == "torch"
                else "tf.clip_by_global_norm divides by the norm itself (no eps)")
        return f"{what}; the rule uses eps={self.norm_eps:g}"

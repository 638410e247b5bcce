"""Everything a user hands gradharness is checked here, in one place: the CLI, the API
(compare, check_backward, check_model), the pytest plugin and convert all call it.

An error is one ``HarnessError`` line: the argument, what was expected, what came, and
the fix. The rules (the README's "Validation" lists them):

- numbers finite and in range: tolerances >= 0 (a negative or infinite tolerance would
  pass everything, NaN would fail everything), sizes positive integers, seeds
  non-negative integers (numpy's rule), forget_bias finite;
- sizes checked against the memory the probe would need before anything is allocated;
- names from their list; flags real booleans (a string "no" is truthy);
- every option applicable to the chosen cell (activation: RNN only, forget_bias: LSTM
  only, the reset-before variant: GRU only), else refused naming the cell;
- user-supplied arrays finite unless the user says otherwise (``allow_nonfinite=True``);
- a reference whose gradients are all within atol of zero (a saturated or dead probe:
  code returning zeros would pass) is refused with the reason.
"""

import math
import os
from collections.abc import Mapping

import numpy as np

from .errors import HarnessError

CELLS = ("rnn", "lstm", "gru")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")
GATE_COUNT = {"rnn": 1, "lstm": 4, "gru": 3}
DEFAULT_SIZES = {"layers": 1, "batch": 3, "steps": 5, "input_size": 4, "hidden_size": 6}


def show(value, limit=60):
    """A value for a one-line message: arrays by shape and dtype, the rest by a short repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fail(name, expected, value, fix=""):
    raise HarnessError(f"{name}: expected {expected}, got {show(value)}" + (f"; {fix}" if fix else ""))


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def positive_int(name, value):
    if not _is_int(value) or value < 1:
        fail(name, "a positive integer", value)
    return int(value)


def flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        fail(name, "True or False", value, "a string such as 'no' would read as True")
    return bool(value)


def finite(name, value, fix=""):
    if not _is_real(value) or not math.isfinite(float(value)):
        fail(name, "a finite number", value, fix)
    return float(value)


def tolerance(name, value):
    """None (the dtype's default) or a finite number >= 0."""
    if value is None:
        return None
    if not _is_real(value) or not float(value) >= 0 or not math.isfinite(float(value)):
        fail(name, "a finite number >= 0 (or None for the dtype's default)", value,
             "a negative or infinite tolerance would pass every comparison and NaN would fail them all")
    return float(value)


def seed(value):
    if not _is_int(value) or value < 0:
        fail("seed", "a non-negative integer (numpy.random.default_rng's rule)", value, "for example seed=0")
    return int(value)


def choice(name, value, allowed, fix=""):
    try:
        ok = value in allowed
    except TypeError:                                   # unhashable: a list where a name was expected
        ok = False
    if not ok:
        fail(name, f"one of {', '.join(map(str, allowed))}", value, fix)
    return value


def cell(value):
    return choice("cell", value, CELLS)


def names(name, value, allowed, what):
    """A tuple/list of names or a comma-separated string, each from ``allowed``."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        items = None
    if not items or any(v not in allowed for v in items):
        fail(name, f"{what} among {', '.join(allowed)} (a tuple or a comma-separated string)", value)
    return items


def backends(value):
    """A tuple/list of backend names or a comma-separated string (the names are resolved later)."""
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        items = None
    if not items:
        fail("backends", "torch, tf, keras, all or backend names (a tuple or a comma-separated string)", value)
    return items


def cell_options(cell, activation="tanh", forget_bias=0.0, reset_after=True, flags=None):
    """The options that apply to ``cell``; one that does not apply is refused naming the cell.
    ``flags``: how the CLI spells them ({"activation": "--activation", ...})."""
    flags = flags or {}
    act = choice(flags.get("activation", "activation"), activation, ACTIVATIONS)
    fb = finite(flags.get("forget_bias", "forget_bias"), forget_bias)
    ra = flag("reset_after", reset_after)
    if cell != "rnn" and act != "tanh":
        raise HarnessError(f"{flags.get('activation', 'activation')}: {act!r} applies to the RNN only, not to "
                           f"cell {cell!r} (its nonlinearities are fixed); drop it or use cell 'rnn'")
    if cell != "lstm" and fb != 0.0:
        raise HarnessError(f"{flags.get('forget_bias', 'forget_bias')}: the forget-gate offset applies to the "
                           f"LSTM only, not to cell {cell!r}; drop it or use cell 'lstm'")
    if cell != "gru" and not ra:
        raise HarnessError(f"{flags.get('reset_after', 'reset_after')}: the reset-before variant "
                           f"(reset_after=False) applies to the GRU only, not to cell {cell!r}; drop it")
    return {"rnn": {"activation": act}, "lstm": {"forget_bias": fb}, "gru": {"reset_after": ra}}[cell]


def dtype(value):
    name = np.dtype(value).name if isinstance(value, (type, np.dtype)) and _dtype_ok(value) else value
    if not isinstance(name, str) or name not in ("float64", "float32"):
        fail("dtype", "'float64' or 'float32'", value)
    return name


def _dtype_ok(value):
    try:
        np.dtype(value)
        return True
    except TypeError:
        return False


def probe_args(*, cell, layers, batch, steps, input_size, hidden_size, dtype, seed, activation="tanh",
               forget_bias=0.0, reset_after=True, bias=True, atol=None, rtol=None, head_size=0,
               flags=None):
    """Validate the arguments shared by compare, check_backward and check_model, the memory
    the probe would need included, before anything is allocated. Returns the cell options."""
    _cell(cell)
    sizes = {k: positive_int(k, v) for k, v in (("layers", layers), ("batch", batch), ("steps", steps),
                                                ("input_size", input_size), ("hidden_size", hidden_size))}
    name = _dtype(dtype)
    _seed(seed)
    flag("bias", bias)
    tolerance("atol", atol)
    tolerance("rtol", rtol)
    if atol is not None and rtol is not None and float(atol) == 0 and float(rtol) == 0:
        fail("atol", "atol or rtol above 0 (both 0 asks for bit-identical results, which two correct "
             "implementations summing in another order never give)", "atol=0 with rtol=0",
             "leave one at its default, or give a few ulps")
    options = cell_options(cell, activation, forget_bias, reset_after, flags)
    memory(cell, sizes, name, head_size)
    return options


def user_functions(**fns):
    """The user's functions: callables."""
    for name, fn in fns.items():
        if not callable(fn):
            fail(name, "a function (your own, or module:function on the command line)", fn)


def numeric_mode(value, oracles):
    """'directional' or 'full'; 'full' only when finite differences are among the oracles."""
    if not isinstance(value, str) or value not in ("directional", "full"):
        fail("numeric", "'directional' or 'full'", value)
    if value == "full" and "numeric" not in oracles:
        raise HarnessError(f"numeric: 'full' applies to the finite-difference oracle only, and against is "
                           f"{', '.join(oracles)}; add 'numeric' to against or drop numeric='full'")
    return value


_cell, _dtype, _seed = cell, dtype, seed          # the names probe_args' arguments shadow


# ---------------------------------------------------------------- memory


def probe_bytes(cell, sizes, dtype="float64", head_size=0):
    """About how many bytes a check holds at its peak: the per-step weight-gradient contributions
    (weights untied per step) and every state, gate and adjoint at every step and layer, in the
    reference and in a backend or the user's code at once, with the framework's own copies."""
    G, S = GATE_COUNT[cell], 2 if cell == "lstm" else 1
    L, N, T, D, H = (sizes[k] for k in ("layers", "batch", "steps", "input_size", "hidden_size"))
    per_step = G * H * (D + H + 2) + (L - 1) * G * H * (2 * H + 2)
    states = L * N * (G * H + 2 * S * H) + N * D
    weights = per_step + head_size * (H + 1)
    return 4 * np.dtype(dtype).itemsize * (T * (per_step + states) + weights)


def available_bytes():
    """The memory available now (MemAvailable), else the physical memory, else 8 GiB."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


def gib(n):
    """Bytes in MiB, GiB, TiB or PiB."""
    for unit, power in (("PiB", 50), ("TiB", 40), ("GiB", 30)):
        if n >= 2 ** power:
            return f"{n / 2 ** power:.3g} {unit}"
    return f"{n / 2 ** 20:.3g} MiB"


def memory(cell, sizes, dtype="float64", head_size=0):
    need, have = probe_bytes(cell, sizes, dtype, head_size), available_bytes()
    if need > have:
        big = sorted((k for k in sizes if sizes[k] > DEFAULT_SIZES[k]), key=lambda k: -sizes[k])[:2] \
            or ["hidden_size", "steps"]
        given = ", ".join(f"{k}={sizes[k]}" for k in big)
        raise HarnessError(f"{given}: expected sizes whose probe fits in memory, got sizes needing about "
                           f"{gib(need)} (L={sizes['layers']}, N={sizes['batch']}, T={sizes['steps']}, "
                           f"D={sizes['input_size']}, H={sizes['hidden_size']}, {dtype}) with {gib(have)} "
                           f"available; use smaller {' or '.join(big)}")


# ---------------------------------------------------------------- arrays


def as_array(name, value):
    """``np.asarray(value)`` or one line saying why it is not an array (a tensor that requires
    grad, a ragged list, ...)."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and getattr(value, "requires_grad", False):
        raise HarnessError(f"{name}: expected an array, got a {type(value).__name__} that requires grad; "
                           "pass value.detach().numpy() (or from_torch(model) for a whole module)")
    try:
        return np.asarray(value)
    except Exception as exc:                                    # ragged lists, objects refusing __array__
        raise HarnessError(f"{name}: expected an array, got {show(value)} "
                           f"({type(exc).__name__}: {' '.join(str(exc).split())})") from None


def params(value, allow_nonfinite=False, name="params"):
    """A mapping of name -> floating array, finite unless ``allow_nonfinite``. The arrays are
    not copied and never modified."""
    if not isinstance(value, Mapping):
        fail(name, "a dict of canonical name -> array (such as from_torch(model))", value)
    out = {}
    for key, v in value.items():
        if not isinstance(key, str):
            fail(name, "string keys such as 'weight_ih_l0'", key)
        arr = as_array(f"{name}[{key!r}]", v)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.floating):
            fail(f"{name}[{key!r}]", "a floating-point array", arr)
        if not allow_nonfinite and not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.isfinite(arr).sum())
            raise HarnessError(f"{name}[{key!r}]: expected finite values, got {bad} NaN/Inf element(s); a "
                               "non-finite weight saturates or poisons every unit (pass allow_nonfinite=True "
                               "to check it anyway)")
        out[key] = arr
    return out


# ---------------------------------------------------------------- degenerate references


def degenerate_layers(grads_by_layer, atol):
    """The layers whose every reference gradient is within atol of zero: there a backward
    returning zeros would pass. ``grads_by_layer``: {layer: {name: array}}."""
    bad = []
    for layer, grads in sorted(grads_by_layer.items()):
        values = [np.asarray(v) for v in grads.values()]
        if values and all(np.all(np.abs(v) <= atol) for v in values):
            bad.append((layer, max(float(np.max(np.abs(v), initial=0.0)) for v in values)))
    return bad


DEFAULT_ATOL_MAX = 1e-4                           # float32's default atol, the larger of the two


def refuse_degenerate(grads_by_layer, weights_by_layer, atol, what="params"):
    """A one-line refusal when the reference is degenerate (see ``degenerate_layers``)."""
    bad = degenerate_layers(grads_by_layer, atol)
    if not bad:
        return
    layer, largest = bad[0]
    w = weights_by_layer.get(layer, {})
    big = max((float(np.max(np.abs(v), initial=0.0)) for v in w.values()), default=float("nan"))
    blame_atol = atol > DEFAULT_ATOL_MAX          # a tolerance raised above every dtype's default
    why = (f"atol={atol:g} is larger than the gradients themselves; give a smaller atol" if blame_atol else
           f"its units are saturated or dead (largest |weight| {big:.3g}); use weights of moderate size")
    raise HarnessError(f"{'atol' if blame_atol else what}: expected a probe whose gradients are not all zero, "
                       f"got a reference in which every gradient of layer {layer} is within atol={atol:g} of "
                       f"zero (largest {largest:.3g}), so code returning zeros would pass: {why}")

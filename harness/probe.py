"""The probe: one seeded set of weights, inputs, initial states and upstream gradients.

A weak probe hides bugs: with a batch of 1 a bias gradient averaged over the batch
looks right; with a constant input, pairing dW_ih with x_{t-1} looks right; with a
zero initial state dh0 and the h_{t-1} of step 0 are never exercised; with a
symmetric W_hh a missing transpose is invisible. So by default everything is random
(Gaussian inputs, states and cotangents; uniform, non-symmetric weights), batch > 1,
and the loss is <outputs, G> + <final states, G_n>, so every output element of every
step, and the final state of every layer, carries its own random weight.
"""

from dataclasses import dataclass, field

import numpy as np

from . import cells
from .errors import HarnessError

DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Probe:
    """Everything a backend needs to run one case. Arrays are never modified."""
    cell: str
    layers: int
    bias: bool
    options: dict                      # cell options: activation / forget_bias / reset_after
    dtype: str
    seed: int
    x: np.ndarray                      # (N, T, D)
    state0: dict                       # state name -> (L, N, H)
    params: dict                       # canonical name -> array (see harness.cells)
    dout: np.ndarray                   # (N, T, H): dL/d(top layer output) of every step
    dstate_n: dict                     # state name -> (L, N, H): dL/d(final state) of every layer
    notes: tuple = field(default=())
    # Extended probes (harness.cells.Structure, variable lengths): state0 and dstate_n are then
    # (L*Dn, N, size) with index k*Dn + d (torch's h_0 order), dout (N, T, M) is 0 at padded steps.
    structure: cells.Structure = field(default=cells.Structure())
    lengths: object = None             # (N,) ints: each sequence's length (None: all T)
    hidden: int = 0                    # H when it differs from what dout's width says (projection, merge)

    @property
    def extended(self):
        """Anything beyond a plain full-length unidirectional stack: these run through
        reference_impls.bidirectional and the backends' sequence modules."""
        return not self.structure.plain or self.lengths is not None or any(
            k in self.options for k in ("cell_clip", "proj_clip"))

    @property
    def directions(self):
        return self.structure.directions

    @property
    def sizes(self):
        N, T, D = self.x.shape
        H = self.hidden or self.dout.shape[2]
        return {"N": N, "T": T, "D": D, "H": H, "L": self.layers, "P": self.structure.state_size(H),
                "M": self.dout.shape[2]}

    def layer_params(self, layer, direction=0):
        return cells.split_layer(self.params, layer, direction)

    def describe(self):
        s = self.sizes
        opts = ", ".join(f"{k}={v}" for k, v in self.options.items())
        more = self.structure.describe()
        if self.lengths is not None:
            more += (", " if more else "") + (f"sequence lengths {list(map(int, self.lengths))} (padded steps "
                                              "carry no cotangent: frameworks define different outputs there)")
        if more:
            opts += f"; {more}"
        zero = [f"{k}0" for k, v in self.state0.items() if not np.any(v)]
        final = any(np.any(v) for v in self.dstate_n.values())
        return (f"{self.cell} ({opts}), L={s['L']} layers, bias={self.bias}, N={s['N']} batch, "
                f"T={s['T']} steps, D={s['D']} inputs, H={s['H']} hidden, {self.dtype}, seed={self.seed}; "
                "random non-symmetric weights, random inputs and initial states"
                + (f" ({', '.join(zero)} = 0)" if zero else "")
                + ", random cotangent on every output of every step"
                + (" and on every final state" if final else ""))


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise HarnessError(f"{name}: expected a positive integer, got {value!r}")
    return int(value)


def check_dtype(dtype):
    name = np.dtype(dtype).name if isinstance(dtype, type) or isinstance(dtype, np.dtype) else dtype
    if name not in DTYPES:
        raise HarnessError(f"dtype: expected 'float64' or 'float32', got {dtype!r}")
    return name


def check_lengths(lengths, N, T, seed=0):
    """None, "random" (seeded: each in 1..T, one of them T) or N integers in 1..T -> (N,) array."""
    if lengths is None:
        return None
    if isinstance(lengths, str) and lengths == "random":
        rng = np.random.default_rng([seed, 13])          # its own stream: the probe's draws stay as they are
        out = rng.integers(1, T + 1, size=N)
        out[rng.integers(N)] = T
        return out
    arr = np.asarray(lengths)
    if arr.shape != (N,) or not np.issubdtype(arr.dtype, np.integer) or arr.min() < 1 or arr.max() > T:
        raise HarnessError(f"lengths: expected 'random' or {N} integers (one per sequence) in 1..{T} "
                           f"(the probe's steps), got {lengths!r}")
    return arr.astype(np.int64)


def make_probe(cell="rnn", *, layers=1, bias=True, batch=3, steps=10, input_size=4,
               hidden_size=5, dtype="float64", seed=0, params=None, bidirectional=False, merge="concat",
               stacking="interleaved", proj_size=0, peepholes=False, lengths=None, **options):
    """Build a seeded probe. ``params`` (canonical names) replaces the random weights.

    bidirectional, merge, stacking, proj_size, peepholes: see harness.cells.Structure;
    lengths: None, "random" or one length per sequence (padded batch, post-padding)."""
    cells.check_cell(cell)
    L = _positive_int("layers", layers)
    N, T = _positive_int("batch", batch), _positive_int("steps", steps)
    D, H = _positive_int("input_size", input_size), _positive_int("hidden_size", hidden_size)
    dtype = check_dtype(dtype)
    options = cells.cell_options(cell, **options)
    structure = cells.check_structure(cell, bidirectional, merge, stacking, proj_size, peepholes)
    if "proj_clip" in options and not structure.proj_size:
        raise HarnessError("proj_clip: clips the projected output (TF1 LSTMCell num_proj), so it needs "
                           f"proj_size > 0, got proj_size={structure.proj_size}")
    lengths = check_lengths(lengths, N, T, seed)
    if not structure.plain or lengths is not None or set(options) & {"cell_clip", "proj_clip"}:
        return _extended_probe(cell, L, bias, N, T, D, H, dtype, seed, params, options, structure, lengths)
    rng = np.random.default_rng(seed)
    shapes = cells.param_shapes(cell, L, D, H, bias)
    scale = 1.0 / np.sqrt(H)
    weights = {name: rng.uniform(-scale, scale, size=shape) for name, shape in shapes.items()}
    if params is not None:
        weights = check_params(params, shapes)
    states = cells.STATES[cell]
    return Probe(
        cell=cell, layers=L, bias=bool(bias), options=options, dtype=dtype, seed=seed,
        x=rng.standard_normal((N, T, D)).astype(dtype, copy=False),
        state0={s: (0.5 * rng.standard_normal((L, N, H))).astype(dtype) for s in states},
        params={k: np.array(v, dtype=dtype) for k, v in weights.items()},
        dout=rng.standard_normal((N, T, H)).astype(dtype, copy=False),
        dstate_n={s: rng.standard_normal((L, N, H)).astype(dtype) for s in states},
    )


def _extended_probe(cell, L, bias, N, T, D, H, dtype, seed, params, options, structure, lengths):
    """A probe with directions, lengths, a projection or peepholes (see Probe's fields)."""
    rng = np.random.default_rng(seed)
    shapes = cells.param_shapes(cell, L, D, H, bias, structure)
    scale = 1.0 / np.sqrt(H)
    weights = {name: rng.uniform(-scale, scale, size=shape) for name, shape in shapes.items()}
    if params is not None:
        weights = check_params(params, shapes)
    sizes = {"h": structure.state_size(H), "c": H}
    LD = L * structure.directions
    state0 = {s: (0.5 * rng.standard_normal((LD, N, sizes[s]))).astype(dtype) for s in cells.STATES[cell]}
    x = rng.standard_normal((N, T, D)).astype(dtype)
    dout = rng.standard_normal((N, T, structure.output_size(H)))
    if lengths is not None:
        dout[np.arange(T)[None] >= lengths[:, None]] = 0.0
    return Probe(
        cell=cell, layers=L, bias=bool(bias), options=options, dtype=dtype, seed=seed, x=x, state0=state0,
        params={k: np.array(v, dtype=dtype) for k, v in weights.items()}, dout=dout.astype(dtype),
        dstate_n={s: rng.standard_normal((LD, N, sizes[s])).astype(dtype) for s in cells.STATES[cell]},
        structure=structure, lengths=lengths, hidden=H)


def check_params(params, shapes):
    """Check user-supplied canonical weights: every name present, every shape right."""
    missing = sorted(set(shapes) - set(params))
    extra = sorted(set(params) - set(shapes))
    if missing or extra:
        raise HarnessError(f"params: expected the names {sorted(shapes)}, "
                           f"missing {missing}, unexpected {extra}")
    out = {}
    for name, shape in shapes.items():
        arr = np.asarray(params[name])
        if arr.shape != shape:
            hint = " (that is the transpose: the canonical layout is (out, in))" if arr.shape == shape[::-1] else ""
            raise HarnessError(f"params[{name!r}]: expected shape {shape}, got {arr.shape}{hint}")
        if not np.issubdtype(arr.dtype, np.floating):
            raise HarnessError(f"params[{name!r}]: expected a floating-point array, got dtype {arr.dtype}")
        out[name] = arr
    return out

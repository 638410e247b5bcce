"""TF1 legacy cells (tf.compat.v1.nn.rnn_cell) <-> canonical weights: one table, written once.

Every TF1 cell multiplies ``concat([x, h], 1)`` by a kernel whose rows are x first (D),
then h (H), and whose columns are gate blocks of width H; each kernel has one bias:

    BasicRNNCell            kernel [D+H, H]              bias [H]
    BasicLSTMCell/LSTMCell  kernel [D+H, 4H] cols i, j(=g), f, o; bias [4H]
    GRUCell                 gates/kernel [D+H, 2H] cols r, u(=z); gates/bias [2H]
                            candidate/kernel [D+H, H] (n);        candidate/bias [H]

So a kernel block b is ``[weight_ih[b].T; weight_hh[b].T]`` and its bias is
``bias_ih[b] + bias_hh[b]``. The sum is exact: for the RNN and LSTM only the sum
matters, and TF's GRU applies the reset gate BEFORE the candidate matmul
(n = tanh(x Wn + (r*h) Un + b)), so b_hh_n lies outside r*(...) as in the canonical
reset_after=False GRU. A reset_after=True GRU has no exact GRUCell form and is refused.
Without biases (bias=False) the TF bias is loaded as zeros (exact; TF cells always have one).

TF1's ``LSTMCell`` may also hold peepholes and a projection, created after the bias in
this order: ``w_f_diag``, ``w_i_diag``, ``w_o_diag`` [H] (canonical weight_cf, weight_ci,
weight_co) and ``projection/kernel`` [H, P] (canonical weight_hr = its transpose); h then
has P units, so the kernel is [D+P, 4H]. Its ``cell_clip`` and ``proj_clip`` are options.

The LSTM's ``forget_bias`` is not a weight: TF adds it to the f pre-activation at call
time, so it goes to the cell's constructor (``cell_kwargs``), always explicitly because
TF's default is 1.0. Reading weights back returns it separately (``from_tf``), with
bias_ih = the TF bias and bias_hh = 0. Gradients come back through the adjoint
(``grads_from_tf``): a summed bias passes its gradient to both bias_ih and bias_hh.
"""

import numpy as np

from ..cells import layer_param_shapes, num_gates, split_layer
from ..errors import LayoutError
from . import expect_shape

# cell -> [(TF variable name suffix, "kernel" or "bias", canonical gate blocks in its columns)]
# Canonical (torch) blocks: LSTM i=0, f=1, g=2, o=3; GRU r=0, z=1, n=2.
TABLE = {
    "rnn": [("kernel", "kernel", (0,)), ("bias", "bias", (0,))],
    "lstm": [("kernel", "kernel", (0, 2, 1, 3)), ("bias", "bias", (0, 2, 1, 3))],     # i, j, f, o
    "gru": [("gates/kernel", "kernel", (0, 1)), ("gates/bias", "bias", (0, 1)),       # r, u
            ("candidate/kernel", "kernel", (2,)), ("candidate/bias", "bias", (2,))],
}
# LSTMCell's extra variables, in the order TF creates them: (TF name, canonical name, transposed)
EXTRAS = [("w_f_diag", "weight_cf", False), ("w_i_diag", "weight_ci", False), ("w_o_diag", "weight_co", False),
          ("projection/kernel", "weight_hr", True)]
# TF activation function name -> canonical activation ("linear" is tf_keras's identity)
ACTIVATION_OF = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "linear": "identity",
                 "identity": "identity"}
CELL_OF_CLASS = {"BasicRNNCell": "rnn", "BasicLSTMCell": "lstm", "LSTMCell": "lstm", "GRUCell": "gru"}


def check_options(cell, options):
    """Refuse what no TF1 cell computes exactly."""
    if cell == "gru" and options.get("reset_after", True):
        raise LayoutError("reset_after=True: TF1 GRUCell applies the reset gate before the candidate "
                          "matmul, n = tanh(x Wn + (r*h) Un + b); a reset-after GRU (torch, Keras "
                          "default) has no exact GRUCell form; use reset_after=False")


def cell_kwargs(cell, options, peepholes=False, proj_size=0):
    """Constructor arguments the conversion needs: the LSTM's call-time forget_bias (always
    passed: TF's default is 1.0, the canonical default 0.0); for LSTMCell's extras,
    use_peepholes, num_proj and the clips."""
    check_options(cell, options)
    if cell != "lstm":
        return {}
    kw = {"forget_bias": float(options.get("forget_bias", 0.0))}
    if peepholes:
        kw["use_peepholes"] = True
    if proj_size:
        kw["num_proj"] = int(proj_size)
    kw.update({k: options[k] for k in ("cell_clip", "proj_clip") if k in options})
    return kw


def extras_of(p):
    """The EXTRAS a canonical layer holds (TF's order)."""
    return [e for e in EXTRAS if e[1] in p]


def tf_shapes(cell, input_size, hidden_size, proj_size=0, peepholes=False):
    """Shapes of the cell's variables, in the order of ``cell.weights``."""
    D, H, P = input_size, hidden_size, proj_size or hidden_size
    shapes = [(D + P, len(b) * H) if kind == "kernel" else (len(b) * H,) for _, kind, b in TABLE[cell]]
    return shapes + [(H,)] * (3 if peepholes else 0) + ([(H, P)] if proj_size else [])


def _canonical_sizes(cell, p):
    """(D, H, bias) of one canonical layer, every shape checked."""
    from ..cells import Structure
    if any(np.ndim(p.get(n)) != 2 for n in ("weight_ih", "weight_hh")):
        raise LayoutError(f"layer params: expected 2-D weight_ih and weight_hh, got {sorted(p)}")
    proj = int(np.shape(p["weight_hr"])[0]) if "weight_hr" in p else 0
    H = np.shape(p["weight_hh"])[0] // num_gates(cell) if proj else np.shape(p["weight_hh"])[1]
    wih = np.shape(p["weight_ih"])
    D = wih[0] if wih[1] == num_gates(cell) * H != wih[0] else wih[1]     # name a transposed weight_ih as such
    has = [n for n in ("bias_ih", "bias_hh") if n in p]
    if len(has) == 1:
        raise LayoutError(f"layer params: expected both bias_ih and bias_hh or neither, got only {has[0]}")
    structure = Structure(proj_size=proj, peepholes="weight_ci" in p)
    for name, shape in layer_param_shapes(cell, 0, D, H, bool(has), structure).items():
        expect_shape(name, shape, np.shape(p.get(name)), f"the canonical {cell} layout")
    return D, H, bool(has)


def _rows(a, block, H):
    return np.asarray(a)[block * H:(block + 1) * H]


def to_tf_weights(cell, layer_params, options):
    """One canonical layer -> the arrays of the TF1 cell's variables, in ``cell.weights`` order."""
    check_options(cell, options)
    p = layer_params
    D, H, bias = _canonical_sizes(cell, p)
    out = []
    for _, kind, blocks in TABLE[cell]:
        if kind == "kernel":
            out.append(np.concatenate([np.concatenate([_rows(p["weight_ih"], b, H).T,
                                                       _rows(p["weight_hh"], b, H).T]) for b in blocks], axis=1))
        elif bias:
            out.append(np.concatenate([_rows(p["bias_ih"], b, H) + _rows(p["bias_hh"], b, H) for b in blocks]))
        else:
            out.append(np.zeros(len(blocks) * H, dtype=np.asarray(p["weight_ih"]).dtype))
    out += [np.asarray(p[canonical]).T if transposed else np.asarray(p[canonical])
            for _, canonical, transposed in extras_of(p)]
    out = [np.ascontiguousarray(a) for a in out]
    names = [n for n, _, _ in TABLE[cell]] + [n for n, _, _ in extras_of(p)]
    shapes = tf_shapes(cell, D, H, np.shape(p["weight_hr"])[0] if "weight_hr" in p else 0, "weight_ci" in p)
    for name, expected, a in zip(names, shapes, out):
        expect_shape(name, expected, a.shape, f"TF1 {cell} cell")
    return out


def _read(cell, arrays, input_size, bias, adjoint, peepholes=False, proj=False):
    """TF arrays -> one canonical layer. adjoint=False: weights (bias_ih = TF bias,
    bias_hh = 0); adjoint=True: gradients (the bias gradient goes to both)."""
    arrays = [np.asarray(a) for a in arrays]
    extras = [e for e in EXTRAS if (proj if e[1] == "weight_hr" else peepholes)]
    names = [n for n, _, _ in TABLE[cell]] + [n for n, _, _ in extras]
    if len(arrays) != len(names) or arrays[0].ndim != 2:
        raise LayoutError(f"TF1 {cell} cell: expected {len(names)} arrays {names}, "
                          f"got shapes {[a.shape for a in arrays]}")
    D = input_size
    P = arrays[0].shape[0] - D
    H = arrays[-1].shape[0] if proj else P
    for name, expected, a in zip(names, tf_shapes(cell, D, H, P if proj else 0, peepholes), arrays):
        expect_shape(name, expected, a.shape, f"TF1 {cell} cell (D={D})")
    extra = {canonical: a.T if transposed else a
             for (_, canonical, transposed), a in zip(extras, arrays[len(TABLE[cell]):])}
    arrays = arrays[:len(TABLE[cell])]
    G = num_gates(cell)
    blocks = {n: [None] * G for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    for (_, kind, order), a in zip(TABLE[cell], arrays):
        for j, b in enumerate(order):
            part = a[..., j * H:(j + 1) * H]
            if kind == "kernel":
                blocks["weight_ih"][b], blocks["weight_hh"][b] = part[:D].T, part[D:].T
            else:
                blocks["bias_ih"][b] = part
                blocks["bias_hh"][b] = part if adjoint else np.zeros_like(part)
    names = ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if bias else ())
    out = {n: np.ascontiguousarray(np.concatenate(blocks[n])) for n in names}
    out.update({n: np.ascontiguousarray(v) for n, v in extra.items()})
    return out


def from_tf_weights(cell, arrays, input_size, peepholes=False, proj=False):
    """The arrays of a TF1 cell's variables -> one canonical layer (bias_hh = 0). The LSTM's
    forget_bias is not among them: read it from the cell (``from_tf`` does)."""
    return _read(cell, arrays, input_size, True, adjoint=False, peepholes=peepholes, proj=proj)


def grads_from_tf(cell, grads, input_size, bias=True, peepholes=False, proj=False):
    """Gradients of the cell's variables -> canonical gradients: the adjoint of
    ``to_tf_weights`` (bias=False drops the gradients of the zero TF bias)."""
    return _read(cell, grads, input_size, bias, adjoint=True, peepholes=peepholes, proj=proj)


def cell_extras(target):
    """(peepholes, proj) of a TF1 cell: whether it holds w_*_diag and projection/kernel."""
    return bool(getattr(target, "_use_peepholes", False)), bool(getattr(target, "_num_proj", None))


def variable_names(cell, peepholes=False, proj=False):
    """The TF names of a cell's variables, in ``cell.weights`` order."""
    return [n for n, _, _ in TABLE[cell]] + [n for n, c, _ in EXTRAS if (proj if c == "weight_hr" else peepholes)]


def _check_variables(target, cell):
    variables = list(target.weights)
    names = variable_names(cell, *cell_extras(target))
    if not target.built or len(variables) != len(names) or not all(
            v.name.split(":")[0].endswith("/" + n) or v.name.split(":")[0] == n for v, n in zip(variables, names)):
        raise LayoutError(f"{type(target).__name__}: expected the built variables {names}, got "
                          f"{[v.name for v in variables]} (build the cell first)")
    return variables


def load_weights(target, cell, layer_params, options):
    """Assign one canonical layer to a built TF1 cell, checking every shape."""
    arrays = to_tf_weights(cell, layer_params, options)
    for v, a in zip(_check_variables(target, cell), arrays):
        if tuple(v.shape) != a.shape:
            raise LayoutError(f"{v.name}: TF1 {type(target).__name__} expects shape {tuple(v.shape)}, "
                              f"the converted canonical weight has {a.shape}")
        v.assign(a.astype(v.dtype.as_numpy_dtype))
    return target


def _cells_of(target):
    cells = list(getattr(target, "_cells", [target]))          # MultiRNNCell keeps its layers in _cells
    kinds = {CELL_OF_CLASS.get(type(c).__name__) for c in cells}
    if None in kinds or len(kinds) != 1:
        raise LayoutError(f"expected a TF1 BasicRNNCell, BasicLSTMCell, LSTMCell or GRUCell, or a "
                          f"MultiRNNCell of one kind, got {[type(c).__name__ for c in cells]}")
    cell = kinds.pop()
    for c in cells:
        if cell != "rnn" and c._activation.__name__ != "tanh":
            raise LayoutError(f"{type(c).__name__}: activation={c._activation.__name__} has no canonical form")
    return cells, cell


def to_tf(params, target, options=None):
    """Load canonical stack parameters (``weight_ih_l0`` ...) into a built TF1 cell or
    MultiRNNCell. For the LSTM, the cell's own forget_bias must equal options["forget_bias"]."""
    cells, cell = _cells_of(target)
    options = dict({"gru": {"reset_after": False}}.get(cell, {}), **(options or {}))
    for k, c in enumerate(cells):
        if cell == "lstm" and float(c._forget_bias) != cell_kwargs(cell, options)["forget_bias"]:
            raise LayoutError(f"forget_bias: the cell adds {c._forget_bias} at call time, the canonical "
                              f"model expects {options.get('forget_bias', 0.0)}")
        for clip in ("cell_clip", "proj_clip"):
            if cell == "lstm" and getattr(c, f"_{clip}", None) != options.get(clip):
                raise LayoutError(f"{clip}: the cell clips at {getattr(c, f'_{clip}', None)}, the canonical "
                                  f"model expects {options.get(clip)}")
        load_weights(c, cell, split_layer(params, k), options)
    return target


def from_tf(target):
    """(canonical stack parameters, options) from a built TF1 cell or MultiRNNCell.

    options are what ``harness.compare`` needs to reproduce the cell: the LSTM's forget_bias
    (added at call time, so not in the weights) and reset_after=False for the GRU.
    """
    cells, cell = _cells_of(target)
    params = {}
    for k, c in enumerate(cells):
        arrays = [v.numpy().astype(np.float64) for v in _check_variables(c, cell)]
        peep, proj = cell_extras(c)
        P = arrays[-1].shape[1] if proj else arrays[0].shape[1] // len(TABLE[cell][0][2])
        layer = from_tf_weights(cell, arrays, arrays[0].shape[0] - P, peep, proj)
        params.update({f"{n}_l{k}": v for n, v in layer.items()})
    options = _options_of(cells, cell)
    if cell == "lstm":
        options.update({k: getattr(cells[0], f"_{k}") for k in ("cell_clip", "proj_clip")
                        if getattr(cells[0], f"_{k}", None) is not None})
    return params, options


def _options_of(cells, cell):
    if cell == "gru":
        return {"reset_after": False}
    key = "forget_bias" if cell == "lstm" else "activation"
    values = {float(c._forget_bias) if cell == "lstm" else ACTIVATION_OF.get(c._activation.__name__)
              for c in cells}
    if len(values) != 1 or None in values:
        raise LayoutError(f"{key}: expected one canonical value for all layers "
                          f"({', '.join(ACTIVATION_OF) if key == 'activation' else 'a float'}), got {values}")
    return {key: values.pop()}

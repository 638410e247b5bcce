"""The ``gradharness`` command line. Exit status: 0 all match, 1 mismatch or incomplete,
2 usage or input error, 3 an error inside gradharness itself, 130 interrupted.

What it prints (progress, summary, last line, help) is harness.terminal's; parallel runs are
harness.sweep's.
"""

import argparse
import os
import sys
import time

from . import terminal
from .errors import HarnessError

DESCRIPTION = """\
Check backpropagation through time (BPTT) layer by layer and step by step: the NumPy
reference cells against PyTorch, TensorFlow and Keras (compare), your own forward and
backward (check), and convert saved weights between frameworks (convert).

Exit status: 0 everything matches, 1 a mismatch (or an incomplete check), 2 a usage or
input error, 3 an error inside gradharness, 130 interrupted."""

EPILOG = """\
examples:
  gradharness compare
  gradharness compare --cell all --layers 1,2,3 --backends all -j 2
  gradharness check mymod:rnn_forward mymod:rnn_backward --layout cs231n
  gradharness convert model.pt model.npz

shell completion (bash; zsh alike), e.g. in ~/.bashrc:
  eval "$(gradharness --print-completion bash)"
"""

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
HARNESS_DIR = os.path.dirname(os.path.abspath(__file__))


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (exit 2)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def _int_list(text):
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _jobs(text):
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected a number of worker processes (0: one per CPU), got {text!r}")
    import os
    return jobs or os.cpu_count() or 1


def _output_options():
    """-q, -v, -x: shared by the subcommands that compare."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("output")
    g.add_argument("-q", "--quiet", action="count", default=0,
                   help="print only the last line (and the cause of a mismatch); no progress bar")
    g.add_argument("-v", "--verbose", action="count", default=0,
                   help="print every backend of every case and every failing group")
    g.add_argument("-x", "--exitfirst", action="store_true", help="stop after the first case that is not OK")
    return p



def _add_compare(sub, parents):
    p = sub.add_parser("compare", help="compare the NumPy reference cells with framework autograd",
                       parents=parents, formatter_class=terminal.HelpFormatter,
                       description="Compare the NumPy reference BPTT with framework autograd, layer "
                                   "by layer and step by step, and write CSV and HTML reports.")
    p.add_argument("--cell", default="rnn", help="rnn, lstm, gru, comma-separated for several, or all")
    p.add_argument("--layers", default="1", type=_int_list, help="number of layers, e.g. 3 or 1,2,3")
    p.add_argument("--activation", default="tanh", help="RNN nonlinearity: tanh, relu, sigmoid, identity")
    p.add_argument("--no-bias", dest="bias", action="store_false", help="layers without biases")
    p.add_argument("--input-size", type=int, default=4, help="D, the input size")
    p.add_argument("--hidden-size", type=int, default=5, help="H, the hidden size")
    p.add_argument("--steps", type=int, default=10, help="T, the sequence length")
    p.add_argument("--batch", type=int, default=3, help="N, the batch size")
    p.add_argument("--dtype", default="float64", help="float64 or float32, comma-separated for both")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, inputs and cotangents")
    p.add_argument("--forget-bias", type=float, default=0.0, help="LSTM forget-gate offset (TF's forget_bias)")
    p.add_argument("--reset-before", dest="reset_after", action="store_false",
                   help="GRU with the reset gate before the recurrent matmul (TF1 GRUCell)")
    p.add_argument("--backends", default="torch", help="torch, tf, keras, all, or backend names, comma-separated")
    _add_structure(p)
    p.add_argument("--atol", type=float, default=None, help="override the dtype's default atol")
    p.add_argument("--rtol", type=float, default=None, help="override the dtype's default rtol")
    p.add_argument("--csv", default="reports/gradharness.csv", help="CSV report path ('' to skip)")
    p.add_argument("--html", default="reports/gradharness.html", help="HTML report path ('' to skip)")
    p.add_argument("--plot-dir", default="", help="also write every figure as PNG into this folder")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, metavar="N",
                   help="run the cases in N worker processes (0: one per CPU)")
    _add_common(p)
    p.set_defaults(func=_run_compare)


def _add_common(p):
    p.add_argument("--traceback", action="store_true",
                   help="on an error, also print the traceback (to report a bug in gradharness)")


def _lengths(text):
    if text == "random":
        return text
    return _int_list(text)


def _add_structure(p):
    """Bidirectional layers, padded batches, the LSTM's projection, peepholes and clips."""
    p.add_argument("--bidirectional", action="store_true", help="a reverse direction in every layer")
    p.add_argument("--merge", default="concat",
                   help="how two directions make a layer's output: concat (default), sum, mul, ave, none")
    p.add_argument("--stacking", default="interleaved",
                   help="interleaved (default: each layer reads both directions below, as torch) or separate "
                        "(two stacks merged at the top, as TF1 bidirectional_dynamic_rnn with MultiRNNCells)")
    p.add_argument("--lengths", type=_lengths, default=None,
                   help="a padded batch: one length per sequence, comma-separated (e.g. 10,7,3), or random")
    p.add_argument("--proj-size", type=int, default=0, help="LSTM projection size (torch proj_size, TF1 num_proj)")
    p.add_argument("--peepholes", action="store_true", help="LSTM peepholes (TF1 LSTMCell use_peepholes)")
    p.add_argument("--cell-clip", type=float, default=None, help="LSTM cell-state clip (TF1 LSTMCell cell_clip)")
    p.add_argument("--proj-clip", type=float, default=None, help="LSTM projection clip (TF1 LSTMCell proj_clip)")


def _structure(args, cell):
    """The structure options for one cell of the matrix: the LSTM's own only for the LSTM."""
    kw = {"bidirectional": args.bidirectional, "merge": args.merge, "stacking": args.stacking,
          "lengths": args.lengths}
    if cell == "lstm":
        kw.update(proj_size=args.proj_size, peepholes=args.peepholes, cell_clip=args.cell_clip,
                  proj_clip=args.proj_clip)
    return kw


def _compare_cases(args):
    from . import validate
    cells = ["rnn", "lstm", "gru"] if args.cell == "all" else [c.strip() for c in args.cell.split(",") if c.strip()]
    dtypes = [validate.dtype(d.strip()) for d in args.dtype.split(",")]
    lstm_only = [f"--{n.replace('_', '-')}" for n in ("proj_size", "peepholes", "cell_clip", "proj_clip")
                 if getattr(args, n)]
    if lstm_only and "lstm" not in cells:
        raise HarnessError(f"{', '.join(lstm_only)}: LSTM options, but --cell is {args.cell!r}; add lstm to --cell")
    cases = [dict(cell=cell, backends=args.backends, layers=layers, activation=args.activation,
                  bias=args.bias, batch=args.batch, steps=args.steps, input_size=args.input_size,
                  hidden_size=args.hidden_size, dtype=dtype, seed=args.seed, forget_bias=args.forget_bias,
                  reset_after=args.reset_after, atol=args.atol, rtol=args.rtol, **_structure(args, cell))
             for cell in cells or [""] for dtype in dtypes for layers in args.layers]
    for case in cases:                           # every case checked before anything runs
        validate.probe_args(**{k: v for k, v in case.items() if k in _PROBE_ARGS}, flags=_FLAGS)
    return cases


_PROBE_ARGS = ("cell", "layers", "batch", "steps", "input_size", "hidden_size", "dtype", "seed", "activation",
               "forget_bias", "reset_after", "atol", "rtol")


def _run_compare(args):
    from .report import Report
    from .sweep import run_cases
    cases = _compare_cases(args)
    with terminal.Progress(len(cases), enabled=not args.quiet) as progress:
        reports, stopped = run_cases(cases, jobs=args.jobs, exitfirst=args.exitfirst, progress=progress,
                                     quiet_tf=args.quiet_tf)
    return _finish(Report.concat(reports), args, stopped)


_FLAGS = {"activation": "--activation", "forget_bias": "--forget-bias", "reset_after": "--reset-before"}


def _finish(report, args, stopped=None):
    """Write the reports (together, and every figure as PNG with --plot-dir), print the summary
    and the last line, return the exit status (1 unless OK)."""
    written = list(report.save(args.csv, args.html, names=("--csv", "--html")))
    if getattr(args, "plot_dir", ""):
        from .plots import save_pngs
        written += save_pngs(report, args.plot_dir)
    verbosity = -1 if args.quiet else args.verbose
    seconds = time.perf_counter() - args.started
    print("\n".join(terminal.report_lines(report, verbosity, seconds, written, stopped)))
    return EXIT_OK if report.ok else EXIT_MISMATCH


def _add_check(sub, parents):
    p = sub.add_parser("check", help="check your own forward/backward functions",
                       parents=parents, formatter_class=terminal.HelpFormatter,
                       description="Check your hand-written forward and backward (module:function) against "
                                   "framework autograd, finite differences and the reference; locate and "
                                   "diagnose a mismatch.")
    p.add_argument("forward", help="your forward, as module:function (the module is imported from the current folder)")
    p.add_argument("backward", help="your backward, as module:function")
    p.add_argument("--layout", default="cs231n",
                   help="cs231n, tf_kernel, karpathy, or module:NAME of your own harness.Layout")
    p.add_argument("--cell", default="rnn", help="rnn, lstm or gru")
    p.add_argument("--against", default="torch,numeric", help="torch, tf, keras, numeric, reference (comma-separated)")
    p.add_argument("--activation", default="tanh", help="RNN nonlinearity your cell uses")
    p.add_argument("--no-bias", dest="bias", action="store_false", help="your cell has no bias")
    p.add_argument("--forget-bias", type=float, default=0.0, help="the forget-gate offset your LSTM adds")
    p.add_argument("--reset-before", dest="reset_after", action="store_false",
                   help="your GRU applies the reset gate before the recurrent matmul (TF1 GRUCell)")
    p.add_argument("--batch", type=int, default=3, help="the probe's N")
    p.add_argument("--steps", type=int, default=5, help="the probe's T")
    p.add_argument("--input-size", type=int, default=4, help="the probe's D")
    p.add_argument("--hidden-size", type=int, default=6, help="the probe's H")
    p.add_argument("--dtype", default="float64", help="float64 or float32")
    p.add_argument("--seed", type=int, default=0, help="seed of the probe")
    p.add_argument("--numeric", default="directional", help="finite differences: directional or full")
    p.add_argument("--skip", default="", help="gradients your backward does not compute (returns as None), "
                                              "comma-separated, e.g. dh0: not compared instead of INCOMPLETE")
    p.add_argument("--atol", type=float, default=None, help="override the dtype's default atol")
    p.add_argument("--rtol", type=float, default=None, help="override the dtype's default rtol")
    p.add_argument("--lengths", type=_lengths, default=None,
                   help="a padded batch (your layout takes lengths): one length per sequence, or random")
    p.add_argument("--proj-size", type=int, default=0, help="your LSTM's projection size (a Layout.custom layout)")
    p.add_argument("--peepholes", action="store_true", help="your LSTM has peepholes (a Layout.custom layout)")
    p.add_argument("--cell-clip", type=float, default=None, help="your LSTM clips its cell state")
    p.add_argument("--proj-clip", type=float, default=None, help="your LSTM clips its projected output")
    p.add_argument("--csv", default="reports/check.csv", help="CSV report path ('' to skip)")
    p.add_argument("--html", default="reports/check.html", help="HTML report path ('' to skip)")
    p.add_argument("--plot-dir", default="", help="also write every figure as PNG into this folder")
    _add_common(p)
    p.set_defaults(func=_run_check)


def load_layout(spec):
    """A built-in layout name, or ``module:NAME`` of a harness.Layout (see Layout.custom)."""
    if ":" not in spec:
        return spec
    from .guard.layouts import Layout
    return load_function(spec, "layout", want=lambda v: isinstance(v, Layout), kind="Layout")


def load_function(spec, what, want=callable, kind="function"):
    """Import ``module:function`` (the current folder first on the path, as pytest does)."""
    import importlib
    import os
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise HarnessError(f"{what}: expected module:{kind}, got {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    from .guard.usercode import UserCodeError
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):             # the module itself, not an import in it
            raise HarnessError(f"{what}: expected module:{kind} with a module importable from "
                               f"{os.getcwd()!r}, got {spec!r} (no module named {exc.name!r})") from None
        raise UserCodeError(f"{what}: importing your module {module_name!r} raised {type(exc).__name__}: "
                            f"{exc}") from exc
    except Exception as exc:                                       # a syntax error or a raise in the user's module
        raise UserCodeError(f"{what}: importing your module {module_name!r} raised {type(exc).__name__}: "
                            f"{exc}") from exc
    fn = getattr(module, attr, None)
    if not want(fn):
        what_it_is = "" if fn is None else f" ({attr} is a {type(fn).__name__})"
        raise HarnessError(f"{what}: module {module_name!r} has no {kind} {attr!r}{what_it_is}")
    return fn


def _run_check(args):
    from .guard.check import check_backward
    with terminal.Progress(1, enabled=not args.quiet, unit="checks") as progress:
        progress.update(f"checking {args.backward}")
        report = check_backward(
            load_function(args.forward, "forward"), load_function(args.backward, "backward"),
            cell=args.cell, layout=load_layout(args.layout), against=args.against, batch=args.batch,
            steps=args.steps, input_size=args.input_size, hidden_size=args.hidden_size, dtype=args.dtype,
            seed=args.seed, activation=args.activation, bias=args.bias, forget_bias=args.forget_bias,
            reset_after=args.reset_after, numeric=args.numeric, atol=args.atol, rtol=args.rtol, skip=args.skip,
            lengths=args.lengths, proj_size=args.proj_size, peepholes=args.peepholes,
            cell_clip=args.cell_clip, proj_clip=args.proj_clip)
    return _finish(report, args)


def _add_convert(sub):
    p = sub.add_parser("convert", help="convert saved weights: torch .pt <-> canonical .npz <-> Keras .weights.h5 "
                                       "<-> TF1/TF2 checkpoints",
                       formatter_class=terminal.HelpFormatter,
                       description="Convert saved RNN/LSTM/GRU weights between a torch state_dict (.pt/.pth), "
                                   "the canonical layout (.npz), a Keras 3 weights file (.weights.h5), a TF1 Saver "
                                   "checkpoint (.ckpt prefix) and a TF2 object checkpoint (--to tf2).")
    p.add_argument("input", help="file to read (.pt, .pth, .weights.h5, .npz, or a checkpoint prefix such as "
                                 "model.ckpt)")
    p.add_argument("output", help="file to write (.pt, .pth, .weights.h5, .npz or .ckpt)")
    p.add_argument("--to", default=None, help="the output kind, when its name does not say: torch, keras, npz, "
                                              "tf1, tf2")
    p.add_argument("--cell", default=None, help="rnn, lstm or gru (default: from the weights)")
    p.add_argument("--reset-before", dest="reset_after", action="store_const", const=False, default=None,
                   help="the GRU applies its reset gate before the recurrent matmul (TF1 GRUCell)")
    p.add_argument("--allow-nonfinite", action="store_true", help="convert weights holding NaN or Inf too")
    p.add_argument("--scope", default=None, help="which recurrent model of a TF1 checkpoint (its variable scope)")
    p.add_argument("--forget-bias", type=float, default=None,
                   help="the LSTM forget_bias the TF1 cells add at call time (a TF1 checkpoint does not store "
                        "it; default 1.0 there, TF1's own default)")
    p.add_argument("--merge", default=None, help="Keras Bidirectional merge mode of the weights (concat, sum, "
                                                 "mul, ave, none)")
    p.add_argument("--stacking", default=None, help="interleaved or separate (two directions' stacks)")
    p.add_argument("--cell-clip", type=float, default=None, help="TF1 LSTMCell cell_clip (not in checkpoints)")
    p.add_argument("--proj-clip", type=float, default=None, help="TF1 LSTMCell proj_clip (not in checkpoints)")
    _add_common(p)
    p.set_defaults(func=_run_convert)


def _run_convert(args):
    from .convert import convert
    from .errors import LayoutError
    given = {k: getattr(args, k) for k in ("scope", "forget_bias", "merge", "stacking", "cell_clip", "proj_clip")}
    try:
        params, meta = convert(args.input, args.output, cell=args.cell, reset_after=args.reset_after,
                               allow_nonfinite=args.allow_nonfinite, to=args.to, **given)
    except LayoutError as exc:
        raise HarnessError(f"convert: {exc}") from exc
    print(f"wrote {args.output}: {meta['cell']}, {len(params)} arrays "
          f"({', '.join(f'{k} {tuple(v.shape)}' for k, v in list(params.items())[:4])}{', ...' if len(params) > 4 else ''})")
    from .convert import kind_of
    if meta["cell"] == "lstm" and kind_of(args.output, "output", args.to) == "tf1":
        fb = float(meta.get("forget_bias", 0.0))
        print(f"note: build the TF1 cells with forget_bias={fb:g}: the checkpoint's forget-gate biases leave it "
              f"out{' (TF1 cells default to 1.0)' if fb != 1.0 else ''}")
    elif meta["cell"] == "lstm" and meta.get("forget_bias", 0.0):
        print(f"note: the LSTM adds forget_bias={meta['forget_bias']} at call time (TF1 cells); torch and Keras "
              "files hold it folded into the forget gate's bias, TF1 checkpoints need cells built with it")
    return EXIT_OK


def build_parser():
    from . import __version__
    parser = _Parser(prog="gradharness", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=terminal.HelpFormatter)
    parser.add_argument("--version", action="version", version=f"gradharness {__version__}")
    _add_completion(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    output = [_output_options()]
    _add_compare(sub, output)
    _add_check(sub, output)
    from .cli_train import add_train
    add_train(sub, output)
    _add_convert(sub)
    return parser


def _add_completion(parser):
    """--print-completion {bash,zsh,tcsh}: a shell completion script (shtab)."""
    try:
        import shtab
    except ImportError:                                        # pragma: no cover - a dependency
        return
    shtab.add_argument_to(parser, ["--print-completion"], help="print a shell completion script and exit")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)   # usage errors: one line, exit 2
    args.started = time.perf_counter()
    args.quiet_tf = terminal.quiet_tensorflow()
    try:
        return args.func(args)
    except HarnessError as exc:
        return _error(f"{exc}", args, exc, EXIT_USAGE)
    except MemoryError as exc:
        return _error(f"out of memory ({exc or 'MemoryError'}); use smaller sizes (--batch, --steps, "
                      "--hidden-size, --layers)", args, exc, EXIT_USAGE)
    except KeyboardInterrupt:
        print("gradharness: interrupted; reports are published only when complete, so none was half-written",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:                            # the reader of our output went away (| head)
        _silence_stdout()
        return EXIT_MISMATCH
    except Exception as exc:                           # anything else is ours: exit 3, never a user's fault
        return _error(f"internal error: {type(exc).__name__}: {exc}; this is a bug in gradharness (run again "
                      "with --traceback to see it, and please report it)", args, exc, EXIT_BUG)


def _error(message, args, exc, code):
    """One line on stderr; then the user's own exception as the cause (their frames only),
    or with --traceback everything."""
    print(f"gradharness: error: {' '.join(message.split())}", file=sys.stderr)
    import traceback
    if getattr(args, "traceback", False):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    elif exc.__cause__ is not None and type(exc).__name__ == "UserCodeError":
        cause = traceback.TracebackException.from_exception(exc.__cause__)
        cause.stack = traceback.StackSummary.from_list([f for f in cause.stack if not _ours(f.filename)])
        print("the cause, in your code:", file=sys.stderr)
        sys.stderr.write("".join(cause.format()))
    return code


def _ours(filename):
    """gradharness's frames and the import machinery's, hidden from the user's traceback."""
    import importlib
    path = os.path.abspath(filename)
    return filename.startswith("<frozen importlib") or path.startswith(HARNESS_DIR + os.sep) or \
        path.startswith(os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep)


def _silence_stdout():
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass

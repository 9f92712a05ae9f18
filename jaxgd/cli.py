"""Command line: ``jaxgd compare | train | parity | claims | sweep`` (also ``python -m jaxgd``)."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

TUTORIAL_N, TUTORIAL_LR, TUTORIAL_EPOCHS, TUTORIAL_BATCH = 1000, 0.02, 50, 50


class UsageError(Exception):
    """A command-line mistake: reported in one line with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise UsageError(f"{self.prog}: error: {message}")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _positive_floats(text):
    """Comma-separated finite numbers > 0."""
    try:
        return [_positive_float(t.strip()) for t in str(text).split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers > 0, got {text!r}") from None


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _output_path(text, figure):
    import os

    path = os.path.expanduser(text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text} is a directory; give a file name")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        why = "is not a directory" if os.path.exists(folder) else "does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {text}: the directory {folder} {why}")
    if figure:
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext not in formats:
            known = ", ".join(f".{e}" for e in sorted(formats))
            what = f"the extension .{ext}" if ext else "no extension"
            raise argparse.ArgumentTypeError(f"{text} has {what}; matplotlib writes {known}")
    try:  # the one sure test of writability (permissions, read-only file systems, root)
        if os.path.exists(path):
            open(path, "ab").close()  # appends nothing: the file is left as it is
        else:
            open(path, "xb").close()
            os.remove(path)
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write {text}: {e.strerror}") from None
    return path


def figure_path(text):
    """An output figure path, checked before any work: not a directory, in an existing writable
    directory, with an extension matplotlib can write."""
    return _output_path(text, figure=True)


def csv_path(text):
    """An output file path, checked before any work: not a directory, in an existing writable directory."""
    return _output_path(text, figure=False)


def _batch_sizes(text):
    """Comma-separated batch sizes: positive integers, or 'n' (full batch) as None."""
    tokens = [t.strip() for t in str(text).split(",")]
    try:
        values = [None if t.lower() in ("n", "gd", "full") else int(t) for t in tokens]
    except ValueError:
        values = None
    if values is None or any(v is not None and v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated batch sizes (positive integers, or 'n' for full batch), got {text!r}"
        )
    return values


def check_batch_size(batch_size, n, loaded=None, flag="--batch-size"):
    """The one check of a batch size against the data: names the flag and where n came from."""
    if batch_size is None or batch_size <= n:
        return
    if loaded is not None:
        raise ValueError(f"{loaded.source} has {n} rows, fewer than {flag} {batch_size}")
    raise ValueError(f"{flag} {batch_size} is larger than --n {n}")


def _timed_train(X, y, repeats=5, **kwargs):
    """Returns (result, median steady-state wall time, first call's time including compilation).

    A diverging run is timed like any other; the commands report its divergence themselves,
    so train's warning about it is not repeated.
    """
    import warnings

    import jax

    from ._train import train

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="training diverged", category=RuntimeWarning)
        t0 = time.perf_counter()
        result = jax.block_until_ready(train(X, y, **kwargs))
        first = time.perf_counter() - t0
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(train(X, y, **kwargs))
            times.append(time.perf_counter() - t0)
    return result, float(np.median(times)), first


def table(header, rows):
    """A text table: the first column left-aligned, the others right-aligned, a rule under the header."""
    cells = [[str(c) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(cells[0]), "-" * len(line(cells[0])), *map(line, cells[1:])])


def _print_table(rows, header):
    print(table(header, rows))


def _fmt_vec(a):
    a = np.asarray(a).ravel()
    return f"{a[0]:.4f}" if a.size == 1 else "[" + ", ".join(f"{v:.3f}" for v in a[:3]) + (", …]" if a.size > 3 else "]")


def _tutorial_data(args):
    import jaxgd

    from ._data import tutorial_weights

    true_w = tutorial_weights(args.d)
    return jaxgd.synthetic_data(true_w, 4.0, args.n, seed=args.data_seed)


def _training_data(args):
    """(X, y, true_w, true_b, loaded): a data file from --data, else the tutorial's synthetic data."""
    from ._cli_data import data_from_args, describe

    loaded = data_from_args(args)
    if loaded is None:
        data = _tutorial_data(args)
        return data.X, data.y, data.true_w, data.true_b, None
    print(describe(loaded))
    return loaded.X, loaded.y, None, None, loaded


def cmd_compare(args):
    from . import plots
    from ._cli_data import report_parameters
    from ._train import variant_name

    X, y, true_w, true_b, loaded = _training_data(args)
    n = X.shape[0]
    check_batch_size(args.batch_size, n, loaded)
    results, rows = {}, []
    for batch_size in dict.fromkeys((n, args.batch_size, 1)):  # --batch-size 1 or n: each variant once
        label = f"{variant_name(batch_size, n)} (batch {batch_size})"
        r, wall, first = _timed_train(X, y, batch_size=batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed)
        results[label] = r
        if r.diverged_at is None:
            outcome = [f"{float(r.epoch_loss[-1]):.5f}", _fmt_vec(r.w), _fmt_vec(r.b)]
        else:
            outcome = [f"diverged at epoch {r.diverged_at}", "-", "-"]
        rows.append([r.config.variant, batch_size, r.updates, *outcome, f"{wall * 1e3:.2f}", f"{first:.2f}"])
    if loaded is None:
        print(f"Linear regression y = Xw + b + N(0, 0.5²): n={n}, d={X.shape[1]}, true w={_fmt_vec(true_w)}, "
              f"b={float(true_b):g}; lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    else:
        print(f"lr={args.lr}, epochs={args.epochs}, seed={args.seed}\n")
    _print_table(rows, ["variant", "batch", "updates", "final loss", "w", "b", "wall ms", "first call s"])
    print("\nwall ms: one whole training run, median of 5 after the first call;"
          " first call s: the first call, compilation included.")
    if any(r.diverged_at is not None for r in results.values()):
        print(f"diverged: the loss is non-finite or above 1000x the initial loss; try a smaller --lr than {args.lr:g}")
    if loaded is not None and loaded.standardized:
        for label, r in results.items():
            if r.diverged_at is not None:
                continue
            print(f"\n{label}:\n{report_parameters(loaded, np.asarray(r.w), np.asarray(r.b))}")
    path = plots.compare_figure(X, y, true_w, true_b, results, args.out)
    print(f"figure: {path}")
    return 0


def cmd_train(args):
    from ._cli_data import report_parameters

    X, y, _, _, loaded = _training_data(args)
    check_batch_size(args.batch_size, X.shape[0], loaded)
    r, wall, first = _timed_train(X, y, batch_size=args.batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed)
    loss = np.asarray(r.epoch_loss)
    every = max(1, args.epochs // 10)
    for e in range(0, args.epochs + 1):
        if e % every == 0 or e == args.epochs:
            print(f"epoch {e:4d}  loss {loss[e]:.6f}")
    if r.diverged_at is not None:
        outcome = (f"diverged at epoch {r.diverged_at} (the loss is non-finite or above 1000x the initial loss; "
                   f"try a smaller --lr than {args.lr:g})")
    else:
        outcome = f"w={_fmt_vec(r.w)}, b={_fmt_vec(r.b)}, final loss {loss[-1]:.6f}"
    print(f"{r.config.variant}: batch {r.config.batch_size}, {r.updates} updates, {outcome}, "
          f"{wall * 1e3:.2f} ms ({first:.2f} s first call, with compilation)")
    if loaded is not None and r.diverged_at is None:
        print(report_parameters(loaded, np.asarray(r.w), np.asarray(r.b)))
    return 0


def cmd_parity(args):
    from . import parity
    from ._train import variant_name

    try:
        import torch  # noqa: F401
    except ImportError:
        raise UsageError("parity needs torch: pip install 'jaxgd[dev]'") from None
    batch_sizes = [args.n if bs is None else bs for bs in args.batch_sizes]
    for bs in batch_sizes:
        check_batch_size(bs, args.n, flag="--batch-sizes")
    X, y, init, order = parity.tutorial_problem(args.n, args.d, args.epochs, args.seed, args.dtype)
    rtol, atol = parity.TOLERANCES[args.dtype]
    print(f"torchref vs jaxgd, {args.dtype}: n={args.n}, d={args.d}, lr={args.lr}, epochs={args.epochs}; "
          f"tolerance |jax - torch| <= {atol:g} + {rtol:g}·|torch|\n")
    rows, notes, ok = [], [], True
    for bs in batch_sizes:
        rep = parity.compare(X, y, batch_size=bs, lr=args.lr, epochs=args.epochs, init=init,
                             order=order, dtype=args.dtype)
        ok &= rep.ok
        name = f"{variant_name(bs, args.n)} (batch {bs})"
        if rep.same_divergence and rep.jax_diverged_at is not None:
            div = f"epoch {rep.jax_diverged_at}"
            compared = ("epoch 0 (the initial loss)" if rep.compared_epochs == 1 else
                        f"epochs 0-{rep.compared_epochs - 1} and the updates up to them")
            notes.append(f"{name}: both runs diverged at epoch {rep.jax_diverged_at}; compared {compared}")
        elif not rep.same_divergence:
            div = " ".join(f"{who} {'never' if e is None else e}"
                           for who, e in (("jax", rep.jax_diverged_at), ("torch", rep.torch_diverged_at)))
            notes.append(f"{name}: only one run diverged or they diverged at different epochs "
                         f"(jaxgd: {_never(rep.jax_diverged_at)}, torchref: {_never(rep.torch_diverged_at)})")
        else:
            div = "no"
        rows.append([variant_name(bs, args.n), bs, f"{rep.max_param_diff:.2e}", f"{rep.max_epoch_loss_diff:.2e}",
                     f"{rep.max_step_loss_diff:.2e}", f"{rep.max_violation:.3f}", div, "ok" if rep.ok else "FAIL"])
    _print_table(rows, ["variant", "batch", "max |Δparam|", "max |Δepoch loss|", "max |Δstep loss|",
                        "worst / tol", "diverged", "parity"])
    if notes:
        print("\ndiverged: the loss is non-finite or above 1000x the initial loss; differences are "
              "taken before the first divergence of either run")
        for line in notes:
            print(f"  {line}")
    print(("\nparity holds" + (" up to the divergence, which both frameworks reach at the same epoch" if notes else ""))
          if ok else "\nparity BROKEN: a difference exceeds the tolerance or the runs diverge differently")
    return 0 if ok else 1


def _never(epoch):
    return "never diverged" if epoch is None else f"diverged at epoch {epoch}"


def build_parser():
    from ._cli_data import add_data_arguments
    from ._cli_sweep import add_claims_parser, add_sweep_parser

    parser = _Parser(prog="jaxgd", description="GD, SGD and mini-batch SGD as one compiled JAX program.")
    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND", parser_class=_Parser)

    def common(p, epochs=TUTORIAL_EPOCHS):
        p.add_argument("--n", type=_positive_int, default=TUTORIAL_N, help="number of examples (default: %(default)s)")
        p.add_argument("--d", type=_positive_int, default=1,
                       help="number of features of the synthetic data (default: %(default)s)")
        p.add_argument("--lr", type=_positive_float, default=TUTORIAL_LR, help="learning rate (default: %(default)s)")
        p.add_argument("--epochs", type=_positive_int, default=epochs, help="epochs (default: %(default)s)")
        p.add_argument("--seed", type=int, default=0, help="random seed of the initial parameters and the epoch orders (default: %(default)s)")
        p.add_argument("--data-seed", type=int, default=0, help="random seed of the synthetic data (default: %(default)s)")

    p = sub.add_parser("compare", help="the tutorial's experiment: GD, mini-batch and SGD side by side, with a figure",
                       description="Train GD (batch n), mini-batch SGD and SGD (batch 1) on the tutorial's data and "
                                   "hyperparameters; print a table and write a PNG figure.")
    common(p)
    p.add_argument("--batch-size", type=_positive_int, default=TUTORIAL_BATCH, help="mini-batch size (default: %(default)s)")
    p.add_argument("--out", type=figure_path, default="jaxgd_compare.png", help="figure path (default: %(default)s)")
    add_data_arguments(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("train", help="train one variant", description="Train one variant on the tutorial's synthetic data.")
    common(p)
    p.add_argument("--batch-size", type=_positive_int, default=None,
                   help="1 = SGD, n or omitted = full-batch GD, between = mini-batch (default: full batch)")
    add_data_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("parity", help="check jaxgd against the PyTorch reference",
                       description="Replay identical runs (same data, init and orders) in torchref and jaxgd; print "
                                   "the largest differences over all epochs; exit 1 if a tolerance is broken.")
    common(p)
    p.add_argument("--batch-sizes", type=_batch_sizes, default=f"n,{TUTORIAL_BATCH},1",
                   help="comma-separated batch sizes, 'n' = full batch (default: %(default)s)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of both runs (default: %(default)s)")
    p.set_defaults(func=cmd_parity)

    add_claims_parser(sub)
    add_data_arguments(add_sweep_parser(sub))
    return parser


def main(argv=None):
    import warnings

    # Divergence warnings from train: one plain line, not a Python warning dump.
    warnings.simplefilter("once", RuntimeWarning)
    warnings.showwarning = lambda message, *_, **__: print(f"jaxgd: warning: {message}", file=sys.stderr)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:  # bare `jaxgd`: what there is to run
            print(parser.format_help(), end="", file=sys.stderr)
            return 2
        return args.func(args)
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2
    except (ValueError, OSError) as e:
        print(f"jaxgd: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jaxgd: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

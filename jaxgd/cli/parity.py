"""``jaxgd parity``: replay identical runs in torchref and jaxgd and print the largest differences."""

from __future__ import annotations

from . import _common as c


def add_parser(subparsers):
    p = subparsers.add_parser(
        "parity", help="check jaxgd against the PyTorch reference",
        description="Replay identical runs (same data, init and orders) in torchref and jaxgd; print the "
                    "largest differences over all epochs; exit 1 if a tolerance is broken or only one "
                    "framework diverges.")
    c.add_common(p, data_seed=False)
    p.add_argument("--batch-sizes", type=c.batch_sizes, default=f"n,{c.TUTORIAL_BATCH},1",
                   help="comma-separated batch sizes, 'n' = full batch (default: %(default)s)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="floating-point type of both runs (default: %(default)s)")
    p.set_defaults(func=run)
    return p


def _never(epoch):
    return "never diverged" if epoch is None else f"diverged at epoch {epoch}"


def run(args):
    from .. import parity
    from .._train import variant_name

    import importlib.util

    if importlib.util.find_spec("torch") is None:  # only jaxgd.parity imports torch
        raise c.UsageError("jaxgd parity: error: parity needs torch: pip install 'jaxgd[dev]'")
    batch_sizes = [args.n if bs is None else bs for bs in args.batch_sizes]
    for bs in batch_sizes:
        c.check_batch_size(bs, args.n, flag="--batch-sizes")
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
            notes.append(f"{name}: the runs diverge differently "
                         f"(jaxgd: {_never(rep.jax_diverged_at)}, torchref: {_never(rep.torch_diverged_at)})")
        else:
            div = "no"
        rows.append([variant_name(bs, args.n), bs, f"{rep.max_param_diff:.2e}", f"{rep.max_epoch_loss_diff:.2e}",
                     f"{rep.max_step_loss_diff:.2e}", f"{rep.max_violation:.3f}", div, "ok" if rep.ok else "FAIL"])
    c.print_table(["variant", "batch", "max |Δparam|", "max |Δepoch loss|", "max |Δstep loss|",
                   "worst / tol", "diverged", "parity"], rows)
    if notes:
        print(f"\ndiverged: {c.DIVERGED}; differences are taken before the first divergence of either run")
        for line in notes:
            print(f"  {line}")
    if ok:
        print("\nparity holds" + (" up to the divergence, which both frameworks reach at the same epoch" if notes else ""))
    else:
        print("\nparity BROKEN: a difference exceeds the tolerance or the runs diverge differently")
    return 0 if ok else 1

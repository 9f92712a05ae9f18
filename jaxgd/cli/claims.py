"""``jaxgd claims``: the tutorial's three conclusions, checked over many random seeds."""

from __future__ import annotations

from . import _common as c


def add_parser(subparsers):
    p = subparsers.add_parser(
        "claims",
        help="check the tutorial's conclusions about GD, SGD and mini-batch SGD over many seeds",
        description="Runs GD (batch n), mini-batch (batch 50) and SGD (batch 1) at the tutorial's "
        "settings over several random seeds, prints each of the tutorial's claims with the figures "
        "behind it (median and 90% interval across seeds) and whether the data support it, and "
        "writes a 2x2 figure of the excess loss against epochs, updates, samples and wall time.",
    )
    p.add_argument("--seeds", type=c.int_at_least(2), default=20,
                   help="number of random seeds, at least 2 for an interval (default: %(default)s)")
    p.add_argument("--epochs", type=c.positive_int, default=c.TUTORIAL_EPOCHS, help="epochs (default: %(default)s)")
    p.add_argument("--lr", type=c.positive_float, default=c.TUTORIAL_LR, help="learning rate (default: %(default)s)")
    p.add_argument("--n", type=c.int_at_least(3), default=c.TUTORIAL_N,
                   help="number of examples, at least 3 (default: %(default)s)")
    p.add_argument("--batch-size", type=c.int_at_least(2), default=c.TUTORIAL_BATCH,
                   help="mini-batch size, between 2 and n - 1 (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_claims.png", help="figure path (default: %(default)s)")
    c.add_json(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from .._claims import check_claims

    if args.batch_size >= args.n:  # the one check that needs two flags
        raise ValueError(f"--batch-size {args.batch_size} must be smaller than --n {args.n} for a "
                         f"mini-batch variant between SGD and GD")
    report = check_claims(seeds=args.seeds, epochs=args.epochs, lr=args.lr, n=args.n,
                          batch_size=args.batch_size, out=args.out)
    print(report.text)
    c.write_json(args.json, _json(report.evaluation, args))
    return 0


def _json(ev, args):
    """The report's two tables, one object per variant keyed by the printed columns (a 'median
    [5%, 95%]' cell as an object, times in seconds), and each claim's verdict."""
    from .._claims import NAMES

    d, m = ev.diverged, ev.metrics
    rows = []
    for i, name in enumerate(NAMES):
        cell = lambda key: c.spread_json(m[key][i], d[i])  # noqa: E731
        rows.append({
            "variant": name, "batch": int(ev.batch_sizes[i]), "updates/epoch": int(ev.updates_per_epoch[i]),
            f"updates in {ev.epochs} ep.": int(ev.updates_per_epoch[i]) * ev.epochs,
            "ms/epoch (1 run)": float(ev.seconds_per_epoch[i]) * 1e3,
            "epochs to target": cell("epochs"), "updates to target": cell("updates"),
            "samples to target": cell("samples"), "time to target (s)": cell("seconds"),
            "final excess loss": cell("final_excess"), "epoch-loss spread (std)": cell("tail_spread"),
            "mean excess": cell("tail_excess"), "per-update loss std": cell("step_spread"),
            "diverged": int(d[i].sum()),
            "diverged at epoch": [int(e) for e in ev.diverged_epoch[i][d[i]]],
        })
    claims = [{"number": cl.number, "claim": cl.text, "verdict": cl.verdict, "reason": cl.reason} for cl in ev.claims]
    return {"rows": rows, "claims": claims, "optimum_loss": ev.optimum_loss, "target_rel": ev.rel, "tail": ev.tail,
            "config": c.run_config(args)}

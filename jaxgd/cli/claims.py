"""``jaxgd claims``: the tutorial's five conclusions, each checked by measurement."""

from __future__ import annotations

import argparse

from jaxgd.cli import _common as c


def add_parser(subparsers):
    p = subparsers.add_parser(
        "claims",
        help="check the tutorial's five conclusions about GD, SGD and mini-batch SGD by measurement",
        description="Claims 1-3 (GD converges slowly, SGD fluctuates, mini-batch is fast and stable): GD "
        "(batch n), mini-batch (batch 50) and SGD (batch 1) at the tutorial's settings over several random "
        "seeds (median and 90% interval across seeds), with a 2x2 figure of the excess loss against epochs, updates, samples and wall time. Claim 4 "
        "(GD easily over-fits): the generalisation gap on held-out data over independent data draws, in the "
        "tutorial's regime and an over-parameterised one. Claim 5 (the right batch size): the batch-size "
        "study of `jaxgd batch-size` (its table; its figure with that command). Each claim is printed with "
        "the figures behind it and a verdict.",
    )
    p.add_argument("--claims", type=claim_numbers, default="1,2,3,4,5",
                   help="which claims to check, comma-separated; 1, 2 and 3 come from one run (default: %(default)s)")
    p.add_argument("--seeds", type=c.int_at_least(2), default=20,
                   help="number of random seeds (claims 1-3) and of data draws (claim 4), at least 2 for an "
                        "interval (default: %(default)s)")
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


def claim_numbers(text):
    try:
        numbers = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        numbers = []
    if not numbers or any(k not in range(1, 6) for k in numbers):
        raise argparse.ArgumentTypeError(f"must be claim numbers from 1 to 5, comma-separated, got {text!r}")
    return numbers


def run(args) -> int:
    from jaxgd import claims

    if args.batch_size >= args.n:  # the one check that needs two flags
        raise c.InputError(f"--batch-size {args.batch_size} must be smaller than --n {args.n} for a "
                           f"mini-batch variant between SGD and GD")
    chosen, verdicts, doc = args.claims, [], {"rows": [], "claims": []}
    if set(chosen) & {1, 2, 3}:
        report = claims.check_claims(seeds=args.seeds, epochs=args.epochs, lr=args.lr, n=args.n,
                                     batch_size=args.batch_size, out=args.out)
        print(report.text)
        doc = _json(report.evaluation, args)
        verdicts += [cl for cl in report.claims if cl.number in chosen]
        doc["claims"] = [d for d in doc["claims"] if d["number"] in chosen]
    if 4 in chosen:
        over = claims.check_overfitting(seeds=args.seeds)
        print("\n" + over.text)
        verdicts.append(over.claim)
        doc["claims"].append(_claim_json(over.claim))
    if 5 in chosen:
        study, text = claims.batch_size_study(out=None)
        print("\nClaim 5: " + study.claim.text + "\n" + text)
        verdicts.append(study.claim)
        doc["claims"].append(_claim_json(study.claim))
    print("\nVerdicts:")
    for cl in verdicts:
        print(f"  {cl.number}. {cl.verdict}: {cl.text}")
    doc["config"] = c.run_config(args)
    c.write_json(args.json, doc)
    return 0


def _claim_json(cl):
    return {"number": cl.number, "claim": cl.text, "verdict": cl.verdict, "reason": cl.reason}


def _json(ev, args):
    """The report's two tables, one object per variant keyed by the printed columns (a 'median
    [5%, 95%]' cell as an object, times in seconds), and each claim's verdict."""
    from jaxgd.studies._claims import NAMES

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
    claims = [_claim_json(cl) for cl in ev.claims]
    return {"rows": rows, "claims": claims, "optimum_loss": ev.optimum_loss, "target_rel": ev.rel, "tail": ev.tail,
            "config": c.run_config(args)}

"""``jaxgd batch-size``: updates and examples to a target against the batch size (claim 5)."""

from __future__ import annotations

import argparse

from jaxgd.cli import _common as c

PROBLEMS = ("tutorial", "ill-conditioned")


def fractions(text):
    """Comma-separated numbers strictly between 0 and 1."""
    try:
        values = [float(t) for t in str(text).split(",")]
    except ValueError:
        values = None
    if not values or any(not 0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated fractions in (0, 1) such as 1e-2,1e-3, got {text!r}")
    return values


def problem_names(text):
    names = [t.strip() for t in str(text).split(",")]
    bad = [t for t in names if t not in PROBLEMS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names from {', '.join(PROBLEMS)}, got {text!r}")
    return list(dict.fromkeys(names))


def condition_number(text):
    value = c.positive_float(text)
    if value <= 1:
        raise argparse.ArgumentTypeError(f"expected a condition number > 1, got {text!r}")
    return value


def add_parser(subparsers):
    from jaxgd.cli._facts import facts

    DEFAULT_LRS, DEFAULT_TARGETS = facts()["batch_size_lrs"], facts()["batch_size_targets"]  # studies._batch_size's

    p = subparsers.add_parser(
        "batch-size",
        help="the batch size against the epochs: updates and examples to a target per batch size, fitted with "
             "McCandlish et al.'s critical-batch-size model",
        description="For batch sizes 1, 2, 4, ... up to n (with the tutorial's 50 and n), each at its own best "
        "learning rate from a vmapped sweep over a log grid, measures the updates S and examples E to reach each "
        "target (a fraction of the initial excess loss) at sample resolution over several seeds, on the tutorial's "
        "data and on an ill-conditioned problem; fits S = S_min + E_min / B (McCandlish et al. 2018) with bootstrap "
        "intervals, compares B_crit = E_min / S_min with the gradient noise scale B_simple, and prints claim 1 at "
        "the tuned rates and claim 5's verdict, which rests on S and E alone (deterministic at fixed seeds). Beside "
        "it, as information about this machine, it times one update per batch size and prints the batch size with "
        "the shortest wall time to each target. Writes a figure of S against E and of the wall time to the target.",
    )
    p.add_argument("--seeds", type=c.int_at_least(2), default=4,
                   help="random seeds per (batch size, rate), at least 2 for intervals (default: %(default)s)")
    p.add_argument("--targets", type=fractions, default=",".join(f"{t:g}" for t in DEFAULT_TARGETS),
                   help="targets as fractions of the initial excess loss over the optimum (default: %(default)s)")
    p.add_argument("--lrs", type=c.positive_floats, default=None,
                   help=f"comma-separated learning rates to choose from (default: {len(DEFAULT_LRS)} rates from "
                        f"{min(DEFAULT_LRS):.3g} to {max(DEFAULT_LRS):.3g}, ratio sqrt(2))")
    p.add_argument("--batch-sizes", type=c.batch_sizes, default=None,
                   help="comma-separated batch sizes, 'n' for full batch (default: 1, 2, 4, ... below n, 50 and n)")
    p.add_argument("--problems", type=problem_names, default=",".join(PROBLEMS),
                   help="which problems: tutorial (d=1) and/or ill-conditioned (default: %(default)s)")
    p.add_argument("--n", type=c.int_at_least(4), default=c.TUTORIAL_N,
                   help="examples of each problem (default: %(default)s)")
    p.add_argument("--d", type=c.int_at_least(2), default=8,
                   help="features of the ill-conditioned problem (default: %(default)s)")
    p.add_argument("--condition", type=condition_number, default=100.0,
                   help="the ill-conditioned problem's Hessian condition number, about (default: %(default)g)")
    p.add_argument("--data-seed", type=c.random_seed, default=0,
                   help="random seed of the synthetic data (default: %(default)s)")
    p.add_argument("--budget", type=c.positive_float, default=1.0,
                   help="multiplies each batch size's training budget (at least 2 epochs and 50 updates on the "
                        "tutorial's problem, 20 epochs and 600 updates on the ill-conditioned one; default: "
                        "%(default)g)")
    p.add_argument("--bootstrap", type=c.int_at_least(0), default=1000,
                   help="bootstrap resamples of the seeds for the fit's intervals (default: %(default)s)")
    p.add_argument("--out", type=c.figure_path, default="jaxgd_batch_size.png",
                   help="figure path (default: %(default)s)")
    c.add_json(p)
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from jaxgd.studies import _batch_size as bsz

    budget = args.budget
    problems = []
    for name in args.problems:
        if name == "tutorial":
            problems.append(bsz.tutorial_problem(args.n, args.data_seed, epochs_min=max(1, round(2 * budget)),
                                                 updates_min=max(1, round(50 * budget))))
        else:
            problems.append(bsz.ill_conditioned_problem(args.n, args.d, args.condition, args.data_seed,
                                                        epochs_min=max(1, round(20 * budget)),
                                                        updates_min=max(1, round(600 * budget))))
    kwargs = dict(seeds=args.seeds, targets=args.targets, bootstrap=args.bootstrap)
    if args.lrs is not None:
        kwargs["lrs"] = sorted(set(args.lrs))
    if args.batch_sizes is not None:
        sizes = [args.n if b is None else b for b in args.batch_sizes]
        if max(sizes) > args.n:
            raise c.InputError(f"--batch-sizes {max(sizes)} is larger than --n {args.n}")
        if len(set(sizes)) < 2:
            raise c.InputError("--batch-sizes needs at least 2 different batch sizes for the trade-off")
        kwargs["batch_sizes"] = sizes
    study, text = bsz.run_study(problems, out=args.out, **kwargs)
    print(text)
    if c.write_json(args.json, {
            "config": c.run_config(args, targets=args.targets, problems=args.problems, condition=args.condition,
                                   budget=args.budget, bootstrap=args.bootstrap),
            "verdict": study.verdict, "reason": study.reason,
            "rows": [r for p in study.problems for r in bsz.rows(p)],
            "fits": [r for p in study.problems for r in bsz.fit_rows(p)]}):
        print(f"json: {args.json}")
    return 0

"""``jaxgd parity``: replay identical runs in torchref and jaxgd and print the largest differences."""

from __future__ import annotations

from jaxgd.cli import _common as c


def add_parser(subparsers):
    p = subparsers.add_parser(
        "parity", help="check jaxgd against the PyTorch reference",
        description="Replay identical runs (same data, init and orders) in torchref and jaxgd, for each "
                    "optimizer, variant and floating-point type; print the largest difference over all "
                    "epochs and updates divided by its tolerance; exit 1 if a tolerance is broken or only "
                    "one framework diverges.")
    c.add_common(p, data_seed=False)
    p.add_argument("--batch-sizes", type=c.batch_sizes, default=f"n,{c.TUTORIAL_BATCH},1",
                   help="comma-separated batch sizes, 'n' = full batch (default: %(default)s)")
    p.add_argument("--dtype", choices=["float32", "float64", "both"], default="both",
                   help="floating-point type of both runs (default: %(default)s)")
    p.add_argument("--workers", type=c.int_at_least(0), default=None, metavar="N",
                   help="worker processes that run the PyTorch side beside the JAX runs "
                        "(default: one per CPU core when the torch runs make 20,000 updates or more; 0: everything in this process)")
    c.add_json(p)
    c.add_optimizer_arguments(p, allow_all=True)
    p.set_defaults(func=run)
    return p


def _never(epoch):
    return "never diverged" if epoch is None else f"diverged at epoch {epoch}"


def _diverged_cell(rep):
    if rep.same_divergence:
        return "no" if rep.jax_diverged_at is None else f"both at {rep.jax_diverged_at}"
    return " ".join(f"{who} {'never' if e is None else e}"
                    for who, e in (("jax", rep.jax_diverged_at), ("torch", rep.torch_diverged_at)))


def run(args):
    from jaxgd import parity
    from jaxgd.core._plan import variant_name

    import importlib.util

    specs = c.optimizer_from_args(args, "jaxgd parity")
    specs = specs if isinstance(specs, list) else [specs]
    if importlib.util.find_spec("torch") is None:  # only jaxgd.parity imports torch
        raise c.usage_error(args, "parity needs torch: pip install 'jaxgd[dev]'")
    batch_sizes = [args.n if bs is None else bs for bs in args.batch_sizes]
    for bs in batch_sizes:
        c.check_batch_size(bs, args.n, flag="--batch-sizes")
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    problems = {dt: parity.tutorial_problem(args.n, args.d, args.epochs, args.seed, dt) for dt in dtypes}

    which = "each at torch's defaults" if len(specs) > 1 else c.describe_optimizer(specs[0], args.schedule)
    print(f"torchref vs jaxgd: n={args.n}, d={args.d}, lr={args.lr}, epochs={args.epochs}, seed={args.seed}; "
          f"{which}" + (f"; schedule {c.describe_optimizer(specs[0], args.schedule).split('; schedule ')[1]}"
                        if len(specs) > 1 else ""))
    plain = [parity.is_plain_sgd(s, args.schedule) for s in specs]
    print("worst / tol: the largest |jax - torch| over every epoch's w, b and loss and every update's loss, "
          "divided by its tolerance (<= 1 passes):")
    if any(plain):
        print("  plain SGD against the tutorial's loop (torchref.tutorial): "
              + "; ".join(f"{dt} {parity.tolerance_text(dt, True)}" for dt in dtypes))
    if not all(plain):
        print("  otherwise against the loop driven by torch.optim (torchref.optim): "
              + "; ".join(f"{dt} {parity.tolerance_text(dt, False)}" for dt in dtypes))
    print()
    header = ["optimizer", "variant", "batch"]
    for dt in dtypes:
        header += [f"{dt} max |Δ|", f"{dt} worst / tol"]
    header += ["diverged", "parity"]
    cases = [dict(zip(("X", "y", "init", "order"), problems[dt]), batch_size=bs, lr=args.lr, epochs=args.epochs, dtype=dt, optimizer=spec, schedule=args.schedule)
             for spec in specs for bs in batch_sizes for dt in dtypes]
    all_reports = parity.compare_many(cases, workers=args.workers)  # the command line holds reference_cache
    directory = parity.reference_directory()
    reports = iter(all_reports)
    reused = sum(r.torch_kept for r in all_reports)
    rows, records, notes, ok = [], [], [], True
    for spec in specs:
        for bs in batch_sizes:
            name = (f"{spec.name} " if len(specs) > 1 else "") + f"{variant_name(bs, args.n)} (batch {bs})"
            row = [spec.name, variant_name(bs, args.n), bs]
            record = row[:]
            divs, fine = [], True
            for dt in dtypes:
                rep = next(reports)
                fine &= rep.ok
                worst_diff = max(rep.max_param_diff, rep.max_epoch_loss_diff, rep.max_step_loss_diff)
                row += [f"{worst_diff:.2e}", f"{rep.max_violation:.3g}"]
                record += [worst_diff, rep.max_violation]
                divs.append((dt, rep))
                if rep.same_divergence and rep.jax_diverged_at is not None:
                    compared = ("epoch 0 (the initial loss)" if rep.compared_epochs == 1 else
                                f"epochs 0-{rep.compared_epochs - 1} and the updates up to them")
                    notes.append(f"{name}: both runs diverged at epoch {rep.jax_diverged_at}; "
                                 f"compared {compared} ({dt})")
                elif not rep.same_divergence:
                    notes.append(f"{name}: the runs diverge differently "
                                 f"(jaxgd: {_never(rep.jax_diverged_at)}, torchref: {_never(rep.torch_diverged_at)}; {dt})")
            cells = {_diverged_cell(rep) for _, rep in divs}
            row.append(cells.pop() if len(cells) == 1 else "; ".join(f"{dt}: {_diverged_cell(r)}" for dt, r in divs))
            row.append("ok" if fine else "FAIL")
            ok &= fine
            rows.append(row)
            record += row[-2:]
            records.append(dict(zip(header, record), **{
                f"{dt} {who} diverged at epoch": getattr(rep, f"{who}_diverged_at")
                for dt, rep in divs for who in ("jax", "torch")}))
    c.print_table(header, rows)
    if reused:
        print(f"\ntorch's side: {reused} of {len(all_reports)} runs read from {directory}, where an earlier "
              "parity run kept them (filed under the same inputs, torch, numpy, torchref source and CPU); "
              "--no-cache runs them again")
    if notes:
        print(f"\ndiverged: {c.DIVERGED}; differences are taken before the first divergence of either run")
        for line in notes:
            print(f"  {line}")
    worst = max(float(r[4 + 2 * i]) for r in rows for i in range(len(dtypes))) if rows else 0.0
    if ok:
        print("\nparity holds"
              + (" up to the divergence, which both frameworks reach at the same epoch" if notes else "")
              + f" (worst / tol {worst:.3g})")
    else:
        print("\nparity BROKEN: a difference exceeds the tolerance or the runs diverge differently")
    config = c.run_config(args, specs[0])
    if len(specs) > 1:  # --optimizer all: each at torch's defaults, named in the rows
        config["optimizer"] = {"name": "all"}
    c.write_json(args.json, {"rows": records, "ok": bool(ok), "notes": notes, "config": config,
                              "torch_runs_read_from_cache": int(reused)})
    return 0 if ok else 1

"""Claim 5's verdict and the batch-size study's text: tables, fits, claim 1 at tuned rates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from jaxgd import analysis
from jaxgd.analysis import QS
from jaxgd.studies._claims import (
    CANNOT_JUDGE,
    NOT_SUPPORTED,
    SUPPORTED,
    WEAKLY,
    Claim,
)
from jaxgd.studies._table import table

if TYPE_CHECKING:
    from jaxgd.studies._batch_size import ProblemResult

TUTORIAL_BATCH = 50

CLAIM5 = ("Mini-batch needs the right batch size: batch size and epochs are weighed against each other "
          "for the best result and speed.")


def _crit_inside(fit, n) -> bool:
    lo, hi = fit.intervals["B_crit"]
    if not (np.isfinite(lo) and np.isfinite(hi)):  # no interval (one seed): the point estimate
        lo = hi = fit.B_crit
    return bool(1 < lo and hi < n)


def _b_crit(fit) -> str:
    lo, hi = fit.intervals["B_crit"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"B_crit {fit.B_crit:.3g}, no interval"
    return f"B_crit {fit.B_crit:.3g} [{lo:.3g}, {hi:.3g}]"


def evaluate_claim5(problems) -> tuple[str, str]:
    """Claim 5's verdict from ``ProblemResult``s: ``(verdict, reason)``; it reads the fits of
    updates S against examples E and nothing else (no wall time).

    The claim holds for a (problem, target) when the trade-off between the batch size and the
    epochs has its critical batch size inside the range studied: B_crit = E_min / S_min with
    its 90% bootstrap interval inside (1, n) (the point estimate where there is no interval).
    Then the batch size B_crit, strictly between SGD and GD, reaches the target in 2 S_min
    updates and 2 E_min examples: within twice the fewest updates and twice the fewest examples
    that any batch size needs, where SGD spends more updates and GD more examples. SUPPORTED
    when it holds for every (problem, target) with a fit, WEAKLY SUPPORTED for some, NOT
    SUPPORTED for none, CANNOT JUDGE when no target was fitted.

    S and E are deterministic for fixed seeds and the bootstrap's seed is fixed, so the verdict
    does not move between runs. The batch size fastest in wall time (``ProblemResult.fastest``)
    depends on this machine's per-update costs and its load; the report gives it beside the
    verdict, and this function does not read it.
    """
    held, failed = [], []
    for p in problems:
        for t, fit in enumerate(p.fits):
            if fit is None:
                continue
            label = f"{p.name} {p.targets[t]:g} ({_b_crit(fit)}"
            if _crit_inside(fit, p.n):
                held.append(label + ")")
            else:
                failed.append(label + f" not inside (1, {p.n}))")
    total = len(held) + len(failed)
    if not total:
        return CANNOT_JUDGE, "no target was reached by at least 2 batch sizes in every seed."
    verdict = SUPPORTED if not failed else WEAKLY if held else NOT_SUPPORTED
    reason = (f"{len(held)} of {total} (problem, target) pairs have a critical batch size B_crit = E_min / S_min "
              f"whose 90% interval lies inside (1, n), so a batch size strictly between SGD and GD reaches the "
              f"target within twice the fewest updates and twice the fewest examples (from updates and "
              f"examples at fixed seeds; wall time is not used)")
    reason += f": {', '.join(held)}." if held else "."
    if failed:
        reason += f" Not: {', '.join(failed)}."
    return verdict, reason


def claim5(problems) -> Claim:
    """``evaluate_claim5`` as a ``_claims.Claim`` (number 5), for ``jaxgd claims``."""
    return Claim(5, CLAIM5, *evaluate_claim5(problems))


def _fmt(v, digits=3):
    v = float(v)
    if not np.isfinite(v):
        return "never" if v > 0 else "-"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:.{digits}g}"


def _secs(v):
    if not np.isfinite(v):
        return "never"
    return f"{v * 1e3:.3g} ms" if v < 1 else f"{v:.3g} s"


def _interval(values):
    lo, mid, hi = analysis.quantiles(np.asarray(values, np.float64), QS)
    return f"{_fmt(mid)} [{_fmt(lo)}, {_fmt(hi)}]"


def rows(p: ProblemResult) -> list[dict]:
    """The table's rows as dicts (one per target and batch size), for JSON."""
    out = []
    wall = p.wall_seconds
    for t, rel in enumerate(p.targets):
        for i, bs in enumerate(p.batch_sizes):
            reached = bool(np.isfinite(p.steps[t, i]).all())
            out.append({
                "problem": p.name, "target": float(rel), "batch_size": int(bs),
                "lr": float(p.lr[t, i]) if np.isfinite(p.lr[t, i]) else None,
                "epochs_run": int(p.epochs[i]), "record_every": int(p.record_every[i]),
                "steps": [float(v) if np.isfinite(v) else None for v in p.steps[t, i]],
                "samples": [float(v) if np.isfinite(v) else None for v in p.samples[t, i]],
                "median_steps": float(p.median_steps[t, i]) if reached else None,
                "median_samples": float(p.median_samples[t, i]) if reached else None,
                "seconds_per_update": float(p.seconds_per_update[i]),
                "seconds_per_update_rounds": (None if p.update_seconds is None
                                              else [float(v) for v in p.update_seconds[i]]),
                "wall_seconds": float(wall[t, i]) if np.isfinite(wall[t, i]) else None,
            })
    return out


def fit_rows(p: ProblemResult) -> list[dict]:
    out = []
    for t, fit in enumerate(p.fits):
        row = {"problem": p.name, "target": float(p.targets[t]), "b_simple_initial": p.b_simple_initial,
               "b_simple_target": float(p.b_simple_target[t]), "b_noise_initial": p.b_noise_initial,
               "b_noise_target": float(p.b_noise_target[t]), "fastest_batch_size": int(p.fastest[t]) or None,
               "mid_speedup": float(p.mid_speedup[t]) if np.isfinite(p.mid_speedup[t]) else None,
               "b_crit_inside": None}
        if fit is not None:
            row["b_crit_inside"] = _crit_inside(fit, p.n)
            row.update({k: float(getattr(fit, k)) for k in ("S_min", "E_min", "B_crit")})
            row["intervals"] = {k: [float(a), float(b)] for k, (a, b) in fit.intervals.items()}
        out.append(row)
    return out


def _claim1(p: ProblemResult) -> list[str]:
    """Claim 1 ("GD converges slowly") at the tuned rates, in words, per target."""
    lines = []
    gd = p.index(p.n) if p.n in p.batch_sizes else None
    if gd is None:
        return lines
    for t, rel in enumerate(p.targets):
        ep = p.median_samples[t] / p.n
        gd_ep, gd_up = ep[gd], p.median_steps[t, gd]
        others = [(int(b), ep[i], p.median_steps[t, i]) for i, b in enumerate(p.batch_sizes) if i != gd]
        reach = [o for o in others if np.isfinite(o[1])]
        if not np.isfinite(gd_ep):
            lines.append(f"  target {rel:g}: GD does not reach it in {p.epochs[gd]} epochs at any stable rate.")
            continue
        if not reach:
            lines.append(f"  target {rel:g}: GD needs {_fmt(gd_up)} updates; no other batch size reaches it.")
            continue
        best = min(reach, key=lambda o: o[1])
        mb = next((o for o in others if o[0] == TUTORIAL_BATCH), None)
        sgd = next((o for o in others if o[0] == 1), None)
        parts = [f"GD needs {_fmt(gd_up)} updates = {_fmt(gd_ep)} epochs"]
        for name, o in (("mini-batch 50", mb), ("SGD", sgd)):
            if o is not None:
                parts.append(f"{name} {_fmt(o[1], 2)} epochs ({_fmt(o[2])} updates)" if np.isfinite(o[1])
                             else f"{name} never")
        slower = gd_ep / best[1]
        word = (f"GD takes {slower:.3g}x the epochs of the best (batch {best[0]}, {_fmt(best[1], 2)} epochs)"
                if slower > 1 else "GD needs no more epochs than any other batch size")
        lines.append(f"  target {rel:g}: {', '.join(parts)}; {word}.".replace(" 1 updates", " 1 update")
                     .replace(" 1 epochs", " 1 epoch"))
    return lines


def _ratio(v) -> str:
    return "-" if not np.isfinite(v) else f"{v:.2g}"


def _timing_words(p: ProblemResult) -> str:
    if p.update_seconds is None:
        return "timed"
    rounds = p.update_seconds.shape[-1]
    words = f"median of {rounds} interleaved round{'s' if rounds != 1 else ''}"
    if np.isfinite(p.timing_spread):
        words += f"; within a batch size the rounds differed by up to {p.timing_spread:.2g}x"
    return words


def _wall_summary(problems) -> str:
    """Where the fastest batch size in wall time lies, per (problem, target) with a fit."""
    parts, mid, total = [], 0, 0
    for p in problems:
        for t, fit in enumerate(p.fits):
            if fit is None or not p.fastest[t]:
                continue
            total += 1
            fastest = int(p.fastest[t])
            mid += fastest not in (1, p.n)
            parts.append(f"{p.name} {p.targets[t]:g}: {fastest} (edge/mid {_ratio(p.mid_speedup[t])})")
    if not total:
        return "no fitted target."
    return (f"the fastest batch size lies strictly between SGD and GD for {mid} of {total}: "
            f"{', '.join(parts)}.")


def _rates(lrs) -> str:
    if len(lrs) == 1:
        return f"1, {lrs[0]:.3g}"
    return f"{len(lrs)}, {lrs.min():.3g} to {lrs.max():.3g} (ratio {lrs[1] / lrs[0]:.3g})"


def format_report(problems, verdict, reason, figure=None, total=None) -> str:
    first = problems[0]
    lines = [
        f"jaxgd batch-size: updates S and examples E to a target against the batch size, each batch size at its "
        f"own best learning rate; median [5%, 95%] over {len(first.seeds)} seeds",
        f"learning rates tried: {_rates(first.lrs)}; per batch size and target the one with the fewest median updates "
        "among those where every seed reached the target, settled below it (median of the last tenth of the run) and none diverged",
        "target: excess loss over the least-squares optimum <= target x the initial excess; S read from the loss "
        "recorded every R samples (exact where R <= batch size, else at most R/B updates late); "
        "E = examples those S updates processed",
    ]
    for p in problems:
        lines += ["", f"== {p.name}: n={p.n}, d={p.d}, Hessian condition number {p.condition:.3g}; optimum loss "
                      f"{p.optimum_loss:.5f}; at the initial parameters B_simple {_fmt(p.b_simple_initial)}, "
                      f"B_noise {_fmt(p.b_noise_initial)}"]
        body = []
        for t, rel in enumerate(p.targets):
            for i, bs in enumerate(p.batch_sizes):
                ok = np.isfinite(p.lr[t, i])
                body.append([f"{rel:g}", int(bs), int(p.epochs[i]), int(p.record_every[i]),
                             f"{p.lr[t, i]:.3g}" if ok else "none",
                             _interval(p.steps[t, i]) if ok else "never",
                             _interval(p.samples[t, i]) if ok else "never",
                             _fmt(p.median_samples[t, i] / p.n, 3) if ok else "never",
                             f"{p.seconds_per_update[i] * 1e6:.3g}", _secs(p.wall_seconds[t, i])])
        lines.append(table(["target", "batch", "epochs run", "R", "best lr", "updates S", "examples E",
                            "epochs", "us/update", "time to target"], body))
        lines.append("")
        fit_body = []
        for t, rel in enumerate(p.targets):
            fit = p.fits[t]
            wall = [int(p.fastest[t]) or "none", _ratio(p.mid_speedup[t])]
            if fit is None:
                fit_body.append([f"{rel:g}", "-", "-", "-", "-", _fmt(p.b_simple_target[t]),
                                 _fmt(p.b_noise_target[t]), "-", *wall])
                continue
            iv = fit.intervals
            fit_body.append([
                f"{rel:g}", f"{_fmt(fit.S_min)} [{_fmt(iv['S_min'][0])}, {_fmt(iv['S_min'][1])}]",
                f"{_fmt(fit.E_min)} [{_fmt(iv['E_min'][0])}, {_fmt(iv['E_min'][1])}]",
                f"{_fmt(fit.B_crit)} [{_fmt(iv['B_crit'][0])}, {_fmt(iv['B_crit'][1])}]",
                "yes" if _crit_inside(fit, p.n) else "no",
                _fmt(p.b_simple_target[t]), _fmt(p.b_noise_target[t]),
                f"{len(fit.batch_sizes)}/{len(p.batch_sizes)}", *wall])
        lines.append(table(["target", "S_min", "E_min", "B_crit", "in (1, n)", "B_simple at target",
                            "B_noise at target", "fitted on", "fastest (wall)", "edge/mid (wall)"], fit_body))
        lines.append(f"Claim 1 (GD converges slowly) at the tuned rates, {p.name}:")
        lines += _claim1(p)
    lines += [
        "",
        "model: S(B) = S_min + E_min / B (McCandlish et al. 2018), least squares on relative errors over the batch "
        "sizes every seed reached; [5%, 95%] by bootstrap over seeds. B_crit = E_min / S_min: below it a larger "
        "batch saves updates at little cost in examples, above it it costs examples and saves few updates.",
        "B_simple = tr(Sigma)/|G|^2, the gradient noise scale, and B_noise = tr(H Sigma)/(G^T H G), its "
        "curvature-weighted form (closed forms); at the target: at the parameters full-batch GD holds when it "
        "first reaches the target (median over seeds).",
        f"time to target: median S x one update's time on this machine (jaxgd.train at that batch size, "
        f"{_timing_words(first)}). fastest (wall): the batch size with the shortest time to the target; "
        "edge/mid: the faster of SGD and GD's time over that of the fastest batch size between them (> 1: a "
        "mid-size batch is fastest, by that factor). Both describe this machine and its load, not the method, "
        "and are not part of claim 5's verdict.",
        "",
        f"Claim 5: {CLAIM5}",
        f"  -> {verdict}: {reason}",
        f"  wall time on this machine (information, not part of the verdict): {_wall_summary(problems)}",
    ]
    if figure:
        lines.append(f"figure: {figure}")
    if total is not None:
        lines.append(f"total time {total:.1f} s (compilation included)")
    return "\n".join(lines)
